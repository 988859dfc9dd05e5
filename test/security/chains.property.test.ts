// Property: whatever sequence of runs, users, setuid programs, credential
// changes, forks, execs and ptrace pokes happens on one machine, a probe run
// by any user under the nozero policy only ever finds that user's own
// markers. The same sequences under `uninitialized` must leak at least once,
// or the property would prove nothing.

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Machine } from "../../apps/machine.ts";
import type { ZeroPolicyName } from "../../kernel/zero_policy.ts";
import { PTRACE_ATTACH, PTRACE_POKEDATA, fill, fillwait, marker, probe, seenBy } from "./programs.ts";

const USERS = [0, 1000, 1001] as const;

type Action =
  | { kind: "fill"; uid: number; pages: number; plain: boolean }
  | { kind: "secret"; uid: number; pages: number }
  | { kind: "drop"; to: number; exec: boolean }
  | { kind: "poke"; victim: number }
  | { kind: "probe"; uid: number; pages: number };

const action: fc.Arbitrary<Action> = fc.oneof(
  fc.record({ kind: fc.constant("fill" as const), uid: fc.constantFrom(...USERS), pages: fc.integer({ min: 1, max: 48 }), plain: fc.boolean() }),
  fc.record({ kind: fc.constant("secret" as const), uid: fc.constantFrom(1000, 1001), pages: fc.integer({ min: 1, max: 48 }) }),
  fc.record({ kind: fc.constant("drop" as const), to: fc.constantFrom(1000, 1001), exec: fc.boolean() }),
  fc.record({ kind: fc.constant("poke" as const), victim: fc.constantFrom(1000, 1001) }),
  fc.record({ kind: fc.constant("probe" as const), uid: fc.constantFrom(...USERS), pages: fc.integer({ min: 8, max: 96 }) }),
);

function machine(policy: ZeroPolicyName): Machine {
  const m = new Machine({ memMiB: 16, policy });
  m.install("fill", fill);
  m.install("probe", probe);
  m.install("fillwait", fillwait);
  m.install("secret", { main: fill, setuid: true, owner: 0 });
  // Root fills pages, forks a child that drops to `to` (and maybe execs fill), which dirties some.
  m.install("drop", (argv, envp, libc) => {
    const to = Number(argv[1]);
    const p = libc.mmap(0, 32 * 4096, 3, 0x22 | 0x04000000);
    for (let a = p; a < p + 32 * 4096; a += 4) libc.mem.write32(a, marker(0));
    const pid = libc.fork((c) => {
      c.setuid(to);
      if (argv[2] === "exec") c.execve("/bin/fill", ["fill", "16"], envp);
      for (let a = p; a < p + 16 * 4096; a += 4096) c.mem.write32(a, marker(to));
      return 0;
    });
    libc.waitpid(pid);
    return 0;
  });
  // Root starts a victim of uid `victim` that fills pages and sleeps, then pokes root's marker into them.
  m.install("poke", (argv, envp, libc) => {
    const victim = Number(argv[1]);
    const pid = libc.fork((c) => {
      c.setuid(victim);
      c.execve("/bin/fillwait", ["fillwait", "16"], envp);
      return 127;
    });
    libc.fork((c) => {
      c.sleep(1);
      const [vpid, addr] = (c.readFile("/tmp/victim") ?? "0 0").trim().split(" ").map(Number);
      if (c.syscall(26, PTRACE_ATTACH, vpid, 0, 0) < 0) return 1;
      for (let a = addr; a < addr + 16 * 4096; a += 4096) c.syscall(26, PTRACE_POKEDATA, vpid, a + 8, marker(0));
      return 0;
    });
    while (libc.waitpid(-1) !== null);
    return pid > 0 ? 0 : 1;
  });
  return m;
}

/** Play the actions; returns every (prober, seen euid) pair where the euid was not the prober's. */
function play(policy: ZeroPolicyName, actions: Action[]): [number, number][] {
  const m = machine(policy);
  const foreign: [number, number][] = [];
  for (const a of actions) {
    switch (a.kind) {
      case "fill":
        m.run(["fill", String(a.pages), a.plain ? "plain" : "nozero"], { uid: a.uid });
        break;
      case "secret":
        m.run(["secret", String(a.pages)], { uid: a.uid });
        break;
      case "drop":
        m.run(["drop", String(a.to), a.exec ? "exec" : "stay"]);
        break;
      case "poke":
        m.run(["poke", String(a.victim)]);
        break;
      case "probe": {
        const r = m.run(["probe", String(a.pages)], { uid: a.uid });
        for (const euid of seenBy(r.stdout).keys()) if (euid !== a.uid) foreign.push([a.uid, euid]);
        break;
      }
    }
  }
  return foreign;
}

const sequences = fc.array(action, { minLength: 1, maxLength: 6 }).map((xs) => [...xs, { kind: "probe", uid: 1000, pages: 96 } as Action]);

describe("no identity receives another's bytes", () => {
  it("nozero: probes only ever see their own user's markers", () => {
    fc.assert(
      fc.property(sequences, (actions) => {
        expect(play("nozero", actions)).toEqual([]);
      }),
      { seed: 2007, numRuns: 40 },
    );
  });

  it("control, uninitialized: the same kind of sequences do leak", () => {
    const samples = fc.sample(sequences, { seed: 2007, numRuns: 40 });
    const leaks = samples.map((s) => play("uninitialized", s).length).filter((n) => n > 0).length;
    expect(leaks).toBeGreaterThan(samples.length / 4);
  });

  it("the ptrace poke really writes into the victim (the poke scene is live)", () => {
    const m = machine("uninitialized");
    m.run(["poke", "1000"]);
    const seen = seenBy(m.run(["probe", "96"], { uid: 1000 }).stdout);
    expect(seen.get(0) ?? 0).toBeGreaterThan(0);
  });
});
