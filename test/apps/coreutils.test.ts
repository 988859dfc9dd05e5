// su, env, cat, echo, true, false, id, ls, sleep and kill end to end: each
// test boots a fresh machine and runs the command through /sbin/init.

import { describe, expect, it } from "vitest";
import { Machine, type RunResult } from "../../apps/machine.ts";
import { type Main, WIFSIGNALED, WTERMSIG } from "../../libc/libc.ts";

const ENV = ["PATH=/bin", "HOME=/root"];

function run(argv: string[], opts: { uid?: number; env?: string[]; setup?: (m: Machine) => void } = {}): RunResult {
  const m = new Machine({ memMiB: 32 });
  opts.setup?.(m);
  return m.run(argv, { uid: opts.uid, env: opts.env ?? ENV });
}

describe("su", () => {
  it("root runs a command as alice", () => {
    const r = run(["su", "alice", "-c", "id"]);
    expect(r.stdout).toBe("uid=1000(alice) gid=1000(alice) groups=1000(alice)\n");
    expect(r.exitCode).toBe(0);
  });

  it("sets HOME, SHELL, USER and LOGNAME and keeps the rest of the environment", () => {
    const r = run(["su", "alice", "-c", "env"], { env: ["PATH=/bin", "HOME=/root", "KEEP=1"] });
    expect(r.stdout.split("\n").filter(Boolean).sort()).toEqual(
      ["HOME=/home/alice", "KEEP=1", "LOGNAME=alice", "PATH=/bin", "SHELL=/bin/sh", "USER=alice"],
    );
  });

  it("-c before the user works too; the command's status is su's", () => {
    const r = run(["su", "-c", "id -un; exit 3", "bob"]);
    expect(r.stdout).toBe("bob\n");
    expect(r.exitCode).toBe(3);
  });

  it("a login shell (-) starts in the home directory with a clean environment", () => {
    const r = run(["su", "-", "alice", "-c", "pwd; env"], { env: ["PATH=/bin", "HOME=/root", "SECRET=x"] });
    const lines = r.stdout.split("\n");
    expect(lines[0]).toBe("/home/alice");
    expect(r.stdout).not.toContain("SECRET");
    expect(lines).toContain("USER=alice");
  });

  it("su USER with no command runs the shell, which reads standard input", () => {
    const r = run(["su", "alice"], {
      setup: (m) => {
        m.k.stdin.data = new TextEncoder().encode("id -u\n");
      },
    });
    expect(r.stdout).toBe("1000\n");
  });

  it("only root may use it: alice gets an authentication failure", () => {
    const r = run(["su", "root", "-c", "id"], { uid: 1000 });
    expect(r.stderr).toBe("su: Authentication failure\n");
    expect(r.stdout).toBe("");
    expect(r.exitCode).toBe(1);
  });

  it("an unknown user", () => {
    const r = run(["su", "nobody", "-c", "id"]);
    expect(r.stderr).toBe("su: user nobody does not exist\n");
    expect(r.exitCode).toBe(1);
  });

  it("through the shell: root's command runs as alice, and alice cannot read root's home", () => {
    const r = run(["sh", "-c", "su alice -c 'id -u; ls /root'; echo st=$?"]);
    expect(r.stdout).toBe("1000\nst=2\n");
    expect(r.stderr).toBe("ls: cannot open directory '/root': Permission denied\n");
  });
});

describe("env", () => {
  it("prints the environment, one variable a line", () => {
    const r = run(["env"], { env: ["FOO=bar"] });
    expect(r.stdout).toBe("FOO=bar\n");
  });

  it("NAME=VALUE adds or replaces; -u removes; -i starts empty", () => {
    expect(run(["env", "A=1", "FOO=baz"], { env: ["FOO=bar", "PATH=/bin"] }).stdout).toBe("PATH=/bin\nA=1\nFOO=baz\n");
    expect(run(["env", "-u", "FOO"], { env: ["FOO=bar", "PATH=/bin"] }).stdout).toBe("PATH=/bin\n");
    expect(run(["env", "-i", "X=1"], { env: ["FOO=bar"] }).stdout).toBe("X=1\n");
  });

  it("runs a command in the modified environment", () => {
    const r = run(["env", "-i", "PATH=/bin", "ONLY=me", "env"], { env: ENV });
    expect(r.stdout).toBe("PATH=/bin\nONLY=me\n");
    // No PATH at all: execvp's default path still finds /bin/echo.
    expect(run(["env", "-i", "echo", "hi"]).stdout).toBe("hi\n");
  });

  it("a command that does not exist: 127; a bad option: 125", () => {
    const r = run(["env", "nosuch"]);
    expect(r.stderr).toBe("env: 'nosuch': No such file or directory\n");
    expect(r.exitCode).toBe(127);
    const b = run(["env", "-z"]);
    expect(b.stderr).toBe("env: invalid option -- 'z'\nTry 'env --help' for more information.\n");
    expect(b.exitCode).toBe(125);
  });
});

describe("cat", () => {
  it("copies files in order, and standard input for - or no file", () => {
    const r = run(["cat", "/etc/hostname", "-", "/etc/hostname"], {
      setup: (m) => {
        m.k.stdin.data = new TextEncoder().encode("from stdin\n");
      },
    });
    expect(r.stdout).toBe("nozero\nfrom stdin\nnozero\n");
  });

  it("a missing file is reported, the others are still copied, status 1", () => {
    const r = run(["cat", "/nope", "/etc/hostname"]);
    expect(r.stderr).toBe("cat: /nope: No such file or directory\n");
    expect(r.stdout).toBe("nozero\n");
    expect(r.exitCode).toBe(1);
  });

  it("a directory and an unreadable file", () => {
    const r = run(["cat", "/etc", "/root/x"], { uid: 1000 });
    expect(r.stderr).toBe("cat: /etc: Is a directory\ncat: /root/x: Permission denied\n");
    expect(r.exitCode).toBe(1);
  });

  it("-n numbers lines; an unknown option is a usage error", () => {
    expect(run(["sh", "-c", "echo a > /tmp/f; echo b >> /tmp/f; cat -n /tmp/f"]).stdout).toBe("     1\ta\n     2\tb\n");
    const r = run(["cat", "-z"]);
    expect(r.stderr).toBe("cat: invalid option -- 'z'\nTry 'cat --help' for more information.\n");
    expect(r.exitCode).toBe(1);
  });

  it("copies a file larger than its buffer exactly", () => {
    const big = Array.from({ length: 20000 }, (_, i) => `line ${i}\n`).join("");
    const r = run(["cat", "/tmp/big"], { setup: (m) => m.k.vfs.writeFile("/tmp/big", big, 0o644) });
    expect(r.stdout).toBe(big);
  });
});

describe("echo, true, false", () => {
  it("echo joins its arguments; -n; -e escapes; other dashes are text", () => {
    expect(run(["echo", "a", "b  c"]).stdout).toBe("a b  c\n");
    expect(run(["echo", "-n", "x"]).stdout).toBe("x");
    expect(run(["echo", "-e", "1\\t2\\x41\\0101\\c", "gone"]).stdout).toBe("1\t2AA");
    expect(run(["echo", "a\\tb"]).stdout).toBe("a\\tb\n");
    expect(run(["echo", "-x", "-n"]).stdout).toBe("-x -n\n");
    expect(run(["echo"]).stdout).toBe("\n");
  });

  it("true exits 0 and false 1, whatever the arguments", () => {
    expect(run(["true", "--bogus"]).exitCode).toBe(0);
    expect(run(["false", "x"]).exitCode).toBe(1);
  });
});

describe("id", () => {
  it("root, and alice", () => {
    expect(run(["id"]).stdout).toBe("uid=0(root) gid=0(root) groups=0(root)\n");
    expect(run(["id"], { uid: 1000 }).stdout).toBe("uid=1000(alice) gid=1000(alice) groups=1000(alice)\n");
  });

  it("-u, -g, -G, -n and a user operand", () => {
    expect(run(["id", "-u"], { uid: 1001 }).stdout).toBe("1001\n");
    expect(run(["id", "-un"], { uid: 1001 }).stdout).toBe("bob\n");
    expect(run(["id", "-gn", "mallory"]).stdout).toBe("mallory\n");
    expect(run(["id", "alice"]).stdout).toBe("uid=1000(alice) gid=1000(alice) groups=1000(alice)\n");
    expect(run(["id", "-G"], { uid: 1000 }).stdout).toBe("1000\n");
  });

  it("errors: unknown user, conflicting options", () => {
    const r = run(["id", "ghost"]);
    expect(r.stderr).toBe("id: 'ghost': no such user\n");
    expect(r.exitCode).toBe(1);
    expect(run(["id", "-u", "-g"]).exitCode).toBe(1);
    expect(run(["id", "-n"]).stderr).toBe("id: cannot print only names or real IDs in default format\nTry 'id --help' for more information.\n");
  });

  it("a setuid-root program that runs id shows euid=0(root) for alice", () => {
    const suidId: Main = (_argv, envp, libc) => {
      libc.execve("/bin/id", ["id"], envp);
      return 127;
    };
    const r = run(["suid-id"], { uid: 1000, setup: (m) => m.install("suid-id", { main: suidId, setuid: true, owner: 0 }) });
    expect(r.stdout).toBe("uid=1000(alice) gid=1000(alice) euid=0(root) groups=1000(alice)\n");
    const u = run(["sh", "-c", "suid-id; id -u; id -ru"], { uid: 1000, setup: (m) => m.install("suid-id", { main: suidId, setuid: true, owner: 0 }) });
    expect(u.stdout).toBe("uid=1000(alice) gid=1000(alice) euid=0(root) groups=1000(alice)\n1000\n1000\n");
  });
});

describe("ls", () => {
  it("lists /bin: every installed program, sorted, one a line", () => {
    const m = new Machine({ memMiB: 32 });
    const r = m.run(["ls", "/bin"], { env: ENV });
    const names = r.stdout.split("\n").filter(Boolean);
    for (const p of ["cat", "echo", "env", "false", "id", "kill", "ls", "sh", "sleep", "su", "true"]) expect(names).toContain(p);
    expect(names).toEqual([...names].sort());
    expect(names).not.toContain("init");
  });

  it("a program installed later shows up", () => {
    const r = run(["ls", "/bin"], { setup: (m) => m.install("zzz", () => 0) });
    expect(r.stdout.trim().split("\n").pop()).toBe("zzz");
  });

  it("hidden names need -a or -A; the current directory by default", () => {
    const setup = (m: Machine) => {
      m.k.vfs.writeFile("/tmp/d/.hidden", "", 0o644);
      m.k.vfs.writeFile("/tmp/d/b", "", 0o644);
      m.k.vfs.writeFile("/tmp/d/a", "", 0o644);
    };
    expect(run(["ls", "/tmp/d"], { setup }).stdout).toBe("a\nb\n");
    expect(run(["ls", "-A", "/tmp/d"], { setup }).stdout).toBe(".hidden\na\nb\n");
    expect(run(["ls", "-a", "/tmp/d"], { setup }).stdout).toBe(".\n..\n.hidden\na\nb\n");
    expect(run(["sh", "-c", "cd /tmp/d; ls -r"], { setup }).stdout).toBe("b\na\n");
  });

  it("-l: mode, links, owner, group, size, date and name", () => {
    const r = run(["ls", "-l", "/etc/passwd", "/home"]);
    expect(r.stdout).toMatch(/^-rw-r--r-- 1 root root \d+ Jun 28 00:00 \/etc\/passwd\n\n\/home:\ntotal \d+\n/);
    expect(r.stdout).toMatch(/\ndrwxr-xr-x 2 alice +alice +4096 Jun 28 00:00 alice\n/);
    const dev = run(["ls", "-l", "/dev/null"]);
    expect(dev.stdout).toMatch(/^crw-rw-rw- 1 root root 1, 3 Jun 28 00:00 \/dev\/null\n$/);
    expect(run(["ls", "-ld", "/tmp"]).stdout).toMatch(/^drwxrwxrwt /);
    expect(run(["ls", "-l", "/bin/su"]).stdout).toMatch(/^-rwxr-xr-x 1 root root /);
  });

  it("a missing operand: 2; an unreadable directory", () => {
    const r = run(["ls", "/nope"]);
    expect(r.stderr).toBe("ls: cannot access '/nope': No such file or directory\n");
    expect(r.exitCode).toBe(2);
    const u = run(["ls", "/root"], { uid: 1000 });
    expect(u.stderr).toBe("ls: cannot open directory '/root': Permission denied\n");
    expect(u.exitCode).toBe(2);
  });
});

describe("sleep", () => {
  it("sleeps in simulated time (sum of the operands, with suffixes)", () => {
    const r = run(["sleep", "2", "0.5", "1m"]);
    expect(r.exitCode).toBe(0);
    expect(r.simulatedSeconds).toBeGreaterThanOrEqual(62.5);
    expect(r.simulatedSeconds).toBeLessThan(63);
  });

  it("usage errors", () => {
    const r = run(["sleep"]);
    expect(r.stderr).toBe("sleep: missing operand\nTry 'sleep --help' for more information.\n");
    expect(r.exitCode).toBe(1);
    const b = run(["sleep", "x"]);
    expect(b.stderr).toBe("sleep: invalid time interval 'x'\nTry 'sleep --help' for more information.\n");
    expect(b.exitCode).toBe(1);
  });
});

describe("kill", () => {
  /**
   * Fork a child that arranges for `kill ARGS... <its pid>` to run and then
   * execs `sleep 100`: the kill runs while the child sleeps (a child runs when
   * its parent blocks). Prints how the child ended.
   */
  const killSleeper = (killArgs: string[]): Main => (_argv, envp, libc) => {
    const pid = libc.fork((c) => {
      c.spawn("/bin/kill", ["kill", ...killArgs, String(c.getpid())], envp);
      c.execve("/bin/sleep", ["sleep", "100"], envp);
      return 127;
    });
    const w = libc.waitpid(pid);
    if (w === null) return 1;
    libc.printf("%s\n", WIFSIGNALED(w.status) ? `signal ${WTERMSIG(w.status)}` : `exit ${w.status >> 8}`);
    return 0;
  };

  it("kills a sleeping child with TERM by default; the sleep ends there", () => {
    const r = run(["killsleeper"], { setup: (m) => m.install("killsleeper", killSleeper([])) });
    expect(r.stdout).toBe("signal 15\n");
    expect(r.simulatedSeconds).toBeLessThan(1);
  });

  it("-9, -KILL, -s SIGKILL and -s 9 all send SIGKILL", () => {
    for (const args of [["-9"], ["-KILL"], ["-s", "SIGKILL"], ["-s", "9"], ["-kill"]]) {
      const r = run(["killsleeper"], { setup: (m) => m.install("killsleeper", killSleeper(args)) });
      expect(r.stdout).toBe("signal 9\n");
    }
  });

  it("the shell reports a sleeping command killed by a signal", () => {
    const selfKill: Main = (_argv, envp, libc) => {
      libc.spawn("/bin/kill", ["kill", "-KILL", String(libc.getpid())], envp);
      libc.execve("/bin/sleep", ["sleep", "100"], envp);
      return 127;
    };
    const r = run(["sh", "-c", "napper; echo st=$?"], { setup: (m) => m.install("napper", selfKill) });
    expect(r.stderr).toBe("Killed\n");
    expect(r.stdout).toBe("st=137\n");
  });

  it("no such process; alice may not signal root's processes", () => {
    const r = run(["kill", "31999"]);
    expect(r.stderr).toBe("kill: (31999): No such process\n");
    expect(r.exitCode).toBe(1);
    const a = run(["kill", "-0", "1"], { uid: 1000 });
    expect(a.stderr).toBe("kill: (1): Operation not permitted\n");
    expect(a.exitCode).toBe(1);
    expect(run(["kill", "-0", "1"]).exitCode).toBe(0);
  });

  it("-l lists and translates signal names; bad signals and no pid are errors", () => {
    expect(run(["kill", "-l"]).stdout.startsWith("HUP INT QUIT ILL TRAP ABRT BUS FPE KILL USR1 SEGV")).toBe(true);
    expect(run(["kill", "-l", "11"]).stdout).toBe("SEGV\n");
    expect(run(["kill", "-l", "SIGTERM"]).stdout).toBe("15\n");
    const b = run(["kill", "-FOO", "1"]);
    expect(b.stderr).toBe("kill: unknown signal name FOO\n");
    expect(b.exitCode).toBe(1);
    expect(run(["kill"]).exitCode).toBe(1);
  });
});

describe("rm", () => {
  const tree = (m: Machine) => {
    m.k.vfs.mkdirs("/tmp/d/e");
    m.k.vfs.writeFile("/tmp/d/a", "a");
    m.k.vfs.writeFile("/tmp/d/e/b", "b");
    m.k.vfs.writeFile("/tmp/f", "f");
  };

  it("removes files; a directory needs -r; a missing file is an error without -f", () => {
    const r = run(["sh", "-c", "rm /tmp/f /tmp/d /tmp/none; echo $?; ls /tmp"], { setup: tree });
    expect(r.stderr).toBe("rm: cannot remove '/tmp/d': Is a directory\nrm: cannot remove '/tmp/none': No such file or directory\n");
    expect(r.stdout).toBe("1\nd\n");
  });

  it("-r empties and removes a tree depth first; -f ignores what is missing", () => {
    const r = run(["sh", "-c", "rm -rf /tmp/d /tmp/none && ls /tmp && rm -f; echo $?"], { setup: tree });
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe("f\n0\n");
  });

  it("is refused what the user may not remove (sticky /tmp too), and goes on with the rest", () => {
    const r = run(["sh", "-c", "rm /etc/passwd /tmp/f /tmp/mine; ls /tmp"], {
      uid: 1000,
      setup: (m) => {
        tree(m);
        m.k.vfs.writeFile("/tmp/mine", "x", 0o644, 1000, 1000);
      },
    });
    expect(r.stderr).toBe("rm: cannot remove '/etc/passwd': Permission denied\nrm: cannot remove '/tmp/f': Operation not permitted\n");
    expect(r.stdout).toBe("d\nf\n");
  });
});
