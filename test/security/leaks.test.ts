// The security model, tested: no identity receives another identity's bytes
// through an uncleared page under the nozero policy, and every scenario's
// control run under `uninitialized` proves the leak it guards against is real.

import { describe, expect, it } from "vitest";
import { Machine } from "../../apps/machine.ts";
import type { ZeroPolicyName } from "../../kernel/zero_policy.ts";
import { WEXITSTATUS } from "../../libc/libc.ts";
import { attach, euidStatus, fill, marker, probe, seenBy, sleeper } from "./programs.ts";

const ALICE = 1000;
const BOB = 1001;

function machine(policy: ZeroPolicyName): Machine {
  const m = new Machine({ memMiB: 32, policy });
  m.install("fill", fill);
  m.install("probe", probe);
  m.install("sleeper", sleeper);
  m.install("euid", euidStatus);
  m.install("secret", { main: fill, setuid: true, owner: 0 });
  m.install("euid-root", { main: euidStatus, setuid: true, owner: 0 });
  return m;
}

describe("memhog as alice, then smiffy as bob", () => {
  const scene = (policy: ZeroPolicyName) => {
    const m = machine(policy);
    expect(m.run(["memhog", "-p", "256", "-N"], { uid: ALICE }).exitCode).toBe(0);
    return m.run(["smiffy", "-s", "256", "-n", "4"], { uid: BOB });
  };

  it("nozero: bob's MAP_NOZERO pages are all zero", () => {
    const r = scene("nozero");
    expect(r.stdout).toBe("");
    expect(r.exitCode).toBe(0);
  });

  it("control, uninitialized: bob sees alice's bytes", () => {
    const r = scene("uninitialized");
    expect(r.stdout).toMatch(/^mapping had \d+ non-zero pages$/m);
    expect(r.exitCode).toBe(1);
  });

  it("nozero: alice herself does get her own MAP_NOZERO frames back (the point of the patch)", () => {
    const m = machine("nozero");
    m.run(["fill", "64"], { uid: ALICE });
    const seen = seenBy(m.run(["probe", "64"], { uid: ALICE }).stdout);
    expect(seen.get(ALICE) ?? 0).toBeGreaterThan(0);
  });
});

describe("a setuid-root program writes a secret; its caller probes", () => {
  const scene = (policy: ZeroPolicyName) => {
    const m = machine(policy);
    expect(m.run(["secret", "64"], { uid: ALICE }).exitCode).toBe(0);
    return seenBy(m.run(["probe", "64"], { uid: ALICE }).stdout);
  };

  it("nozero: alice sees none of root's bytes", () => {
    const seen = scene("nozero");
    expect(seen.has(0)).toBe(false);
  });

  it("control, uninitialized: alice reads the setuid program's secret", () => {
    expect(scene("uninitialized").get(0) ?? 0).toBeGreaterThan(0);
  });

  it("the setuid bit really changes the effective uid", () => {
    const m = machine("nozero");
    expect(m.run(["euid-root"], { uid: ALICE }).exitCode).toBe(0);
    expect(m.run(["euid"], { uid: ALICE }).exitCode).toBe(ALICE & 0xff);
  });
});

describe("ptrace across users", () => {
  /**
   * Root forks a victim that becomes `victimUid` and execs a sleeper (exec
   * makes it dumpable again: a setuid() alone leaves a task non-dumpable, as
   * in Linux), and an attacker that becomes `attackerUid` and attaches.
   */
  const scene = (victimUid: number, attackerUid: number) => {
    const m = machine("nozero");
    m.install("scene", (_argv, envp, libc) => {
      const victim = libc.fork((c) => {
        c.setuid(victimUid);
        c.execve("/bin/sleeper", ["sleeper", "5"], envp);
        return 127;
      });
      libc.fork((c) => {
        c.setuid(attackerUid);
        c.printf("%s\n", attach(c, victim));
        return 0;
      });
      while (libc.waitpid(-1) !== null);
      return 0;
    });
    return m.run(["scene"]).stdout.trim();
  };

  it("a different user may not attach (EPERM)", () => {
    expect(scene(BOB, ALICE)).toBe("1");
  });

  it("control: the same user may attach", () => {
    expect(scene(ALICE, ALICE)).toBe("ok");
  });

  it("a setuid program may not be attached by its caller", () => {
    const m = machine("nozero");
    m.install("sleeper-root", { main: sleeper, setuid: true, owner: 0 });
    m.install("scene", (_argv, envp, libc) => {
      const victim = libc.fork((c) => {
        c.setuid(ALICE);
        c.execve("/bin/sleeper-root", ["sleeper-root", "5"], envp);
        return 127;
      });
      libc.fork((c) => {
        c.setuid(ALICE);
        c.printf("%s\n", attach(c, victim));
        return 0;
      });
      while (libc.waitpid(-1) !== null);
      return 0;
    });
    expect(m.run(["scene"]).stdout.trim()).toBe("1");
  });

  it("a task that only called setuid() is not dumpable: even its new user may not attach", () => {
    const m = machine("nozero");
    m.install("scene", (_argv, _envp, libc) => {
      const victim = libc.fork((c) => {
        c.setuid(ALICE);
        c.sleep(5);
        return 0;
      });
      libc.fork((c) => {
        c.setuid(ALICE);
        c.printf("%s\n", attach(c, victim));
        return 0;
      });
      while (libc.waitpid(-1) !== null);
      return 0;
    });
    expect(m.run(["scene"]).stdout.trim()).toBe("1");
  });

  it("a traced process that execs a setuid program does not gain its privileges", () => {
    const m = machine("nozero");
    m.install("scene", (_argv, envp, libc) => {
      const child = libc.fork((c) => {
        c.sleep(1); // let the parent attach first
        c.execve("/bin/euid-root", ["euid-root"], envp);
        return 127;
      });
      libc.printf("%s\n", attach(libc, child));
      const w = libc.waitpid(child);
      libc.printf("%d\n", WEXITSTATUS(w!.status));
      return 0;
    });
    expect(m.run(["scene"], { uid: ALICE }).stdout.trim().split("\n")).toEqual(["ok", String(ALICE & 0xff)]);
  });
});

describe("fork chains across a credential change", () => {
  /** Root fills MAP_NOZERO pages, forks a child that drops to alice and dirties half, both exit; alice probes. */
  const scene = (policy: ZeroPolicyName, exec: boolean) => {
    const m = machine(policy);
    m.install("chain", (_argv, envp, libc) => {
      const pages = 64;
      const p = libc.mmap(0, pages * 4096, 3, 0x22 | 0x04000000);
      for (let a = p; a < p + pages * 4096; a += 4) libc.mem.write32(a, marker(0));
      const pid = libc.fork((c) => {
        c.setuid(ALICE);
        if (exec) c.execve("/bin/fill", ["fill", "32"], envp);
        for (let a = p; a < p + (pages / 2) * 4096; a += 4096) c.mem.write32(a, marker(ALICE));
        return 0;
      });
      libc.waitpid(pid);
      return 0;
    });
    expect(m.run(["chain"]).exitCode).toBe(0);
    return seenBy(m.run(["probe", "128"], { uid: ALICE }).stdout);
  };

  for (const exec of [false, true]) {
    const how = exec ? "setuid then exec" : "setuid, keep running";
    it(`nozero (${how}): alice never sees root's bytes`, () => {
      expect(scene("nozero", exec).has(0)).toBe(false);
    });
    it(`control, uninitialized (${how}): root's bytes reach alice`, () => {
      expect(scene("uninitialized", exec).get(0) ?? 0).toBeGreaterThan(0);
    });
  }
});
