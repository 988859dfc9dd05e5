// /bin/sh end to end: each test boots a fresh machine and runs `sh -c` (or a
// script) through /sbin/init, checking stdout, stderr and the exit status as
// dash would give them.

import { describe, expect, it } from "vitest";
import { Machine, type RunResult } from "../../apps/machine.ts";
import { type Libc, type Main, O_CREAT, O_TRUNC, O_WRONLY } from "../../libc/libc.ts";

const ENV = ["PATH=/bin", "HOME=/root"];

/** A program that stores through a null pointer. */
const segv: Main = (_argv, _envp, libc) => {
  libc.mem.write32(0, 1);
  return 0;
};

/** A program that calls abort(). */
const abrt: Main = (_argv, _envp, libc) => libc.abort();

/** writefile PATH MODE TEXT: create a file (for scripts). */
const writefile: Main = (argv, _envp, libc) => {
  const fd = libc.open(argv[1], O_WRONLY | O_CREAT | O_TRUNC, parseInt(argv[2], 8));
  if (fd < 0) return 1;
  libc.writeString(fd, argv[3]);
  libc.close(fd);
  return 0;
};

/** argv: print each argument in brackets, to show word splitting. */
const args: Main = (argv, _envp, libc: Libc) => {
  libc.printf("%s\n", argv.slice(1).map((a) => `[${a}]`).join(""));
  return 0;
};

function machine(): Machine {
  const m = new Machine({ memMiB: 32 });
  m.install("segv", segv);
  m.install("abrt", abrt);
  m.install("writefile", writefile);
  m.install("args", args);
  return m;
}

function sh(cmd: string, opts: { uid?: number; env?: string[]; stdin?: string } = {}): RunResult {
  const m = machine();
  if (opts.stdin !== undefined) m.k.stdin.data = new TextEncoder().encode(opts.stdin);
  return m.run(["sh", "-c", cmd], { uid: opts.uid, env: opts.env ?? ENV });
}

/** Write `text` as a file (mode 0755) in a fresh machine, then run argv there. */
function withFile(path: string, text: string, argv: string[]): RunResult {
  const m = machine();
  m.k.vfs.writeFile(path, text, 0o755);
  return m.run(argv, { env: ENV });
}

describe("sh: command lists", () => {
  it("runs every command of a ; list, and $? is the last status", () => {
    const r = sh("echo a; false; echo $?; true; echo $?");
    expect(r.stdout).toBe("a\n1\n0\n");
    expect(r.exitCode).toBe(0);
  });

  it("&& runs the right side only after success, || only after failure", () => {
    const r = sh("true && echo a; false && echo b; false || echo c; true || echo d; false && echo e || echo f");
    expect(r.stdout).toBe("a\nc\nf\n");
  });

  it("a list's status is its last command's; the shell exits with it", () => {
    expect(sh("true; false").exitCode).toBe(1);
    expect(sh("false; true").exitCode).toBe(0);
    expect(sh("false || true").exitCode).toBe(0);
    expect(sh("true && false").exitCode).toBe(1);
    expect(sh("! true").exitCode).toBe(1);
    expect(sh("! false").exitCode).toBe(0);
  });

  it("newlines separate commands; && and || continue over a newline", () => {
    const r = sh("echo one\necho two &&\necho three\n\nfalse ||\n  echo four");
    expect(r.stdout).toBe("one\ntwo\nthree\nfour\n");
  });

  it("exit N ends the shell with N; exit alone with $?", () => {
    const r = sh("echo before; exit 3; echo after");
    expect(r.stdout).toBe("before\n");
    expect(r.exitCode).toBe(3);
    expect(sh("false; exit").exitCode).toBe(1);
    expect(sh("exit 256").exitCode).toBe(0);
  });

  it("exit with a bad number is an error (2)", () => {
    const r = sh("exit abc");
    expect(r.stderr).toBe("sh: 1: exit: Illegal number: abc\n");
    expect(r.exitCode).toBe(2);
  });

  it("groups and subshells: a subshell's exit and variables stay inside it", () => {
    const r = sh("X=1; (X=2; echo in $X; exit 4); echo st=$? X=$X; { echo g1; echo g2; } > /tmp/g; cat /tmp/g");
    expect(r.stdout).toBe("in 2\nst=4 X=1\ng1\ng2\n");
  });

  it("if/elif/else, while and for", () => {
    const r = sh(
      "if false; then echo no; elif true; then echo yes; else echo never; fi\n" +
        "for i in a b c; do echo $i; done\n" +
        "while false; do echo never; done; echo done $?\n" +
        "until true; do echo never; done\n" +
        "for w in 1 2 3; do if true; then continue; fi; echo no; done; echo end\n" +
        "for w in 1 2 3; do echo w$w; break; done",
    );
    expect(r.stdout).toBe("yes\na\nb\nc\ndone 0\nend\nw1\n");
  });
});

describe("sh: variables and the environment", () => {
  it("VAR=value before a command reaches only that command's environment", () => {
    const r = sh("FOO=bar env; echo ---; env; echo \"[$FOO]\"");
    const [first, rest] = r.stdout.split("---\n");
    expect(first.split("\n")).toContain("FOO=bar");
    expect(rest).not.toContain("FOO=");
    expect(rest).toContain("[]\n");
  });

  it("a prefix assignment overrides an inherited variable for one command", () => {
    const r = sh("HOME=/tmp env | cat; echo $HOME");
    expect(r.stdout.split("\n")).toContain("HOME=/tmp");
    expect(r.stdout.endsWith("/root\n")).toBe(true);
  });

  it("a bare assignment is a shell variable; export puts it in the environment", () => {
    const r = sh("X=1; env; echo ---; export X; env; echo ---; export Y=2; echo $X$Y");
    const [before, after, last] = r.stdout.split("---\n");
    expect(before).not.toContain("X=1");
    expect(after.split("\n")).toContain("X=1");
    expect(last).toBe("12\n");
  });

  it("assigning an inherited (exported) variable changes the children's environment", () => {
    const r = sh("HOME=/home/alice; env");
    expect(r.stdout.split("\n")).toContain("HOME=/home/alice");
  });

  it("expands $VAR, ${VAR}, ${VAR:-default}, ${#VAR}, $? and $$", () => {
    const r = sh('A=hello; echo $A ${A}world ${B:-dflt} ${A:+set} ${#A}; false; echo $?; echo $$ | cat');
    const lines = r.stdout.split("\n");
    expect(lines[0]).toBe("hello helloworld dflt set 5");
    expect(lines[1]).toBe("1");
    expect(lines[2]).toMatch(/^[0-9]+$/);
  });

  it("$$ is the shell's pid, also in a subshell", () => {
    const r = sh("echo $$; (echo $$)");
    const [a, b] = r.stdout.trim().split("\n");
    expect(a).toBe(b);
  });

  it("positional parameters: sh -c CMD NAME ARGS", () => {
    const m = machine();
    const r = m.run(["sh", "-c", 'echo $0 $# $1 "$2"; args "$@"; args $*', "myname", "a b", "c"], { env: ENV });
    expect(r.stdout).toBe("myname 2 a b c\n[a b][c]\n[a][b][c]\n");
  });
});

describe("sh: quoting and expansion", () => {
  it("single quotes keep everything; double quotes expand $; backslash escapes", () => {
    const r = sh("X=v; echo 'a  $X' \"b  $X\" \\$X c\\ d \"e\\\"f\" 'g'\"h\"i");
    expect(r.stdout).toBe('a  $X b  v $X c d e"f ghi\n');
  });

  it("unquoted expansions split into fields; quoted ones do not", () => {
    const r = sh('V="1  2 3"; args $V; args "$V"; E=; args $E; args "$E"; args \'\' ""');
    expect(r.stdout).toBe("[1][2][3]\n[1  2 3]\n\n[]\n[][]\n");
  });

  it("echo -n and echo's escapes (dash's built-in)", () => {
    const r = sh("echo -n a; echo b; echo 'x\\ty'; echo 'one\\ctwo'; echo end");
    expect(r.stdout).toBe("ab\nx\ty\noneend\n");
  });

  it("~ expands to HOME", () => {
    expect(sh("echo ~ ~/x '~'").stdout).toBe("/root /root/x ~\n");
  });

  it("command substitution $(...) and `...`", () => {
    const r = sh('X=$(echo hi; echo there); echo "$X"; echo `id -u`; echo $(echo  a   b )');
    expect(r.stdout).toBe("hi\nthere\n0\na b\n");
  });

  it("an unterminated quote is a syntax error (2) and nothing on that line runs", () => {
    const r = sh("echo a; echo 'b");
    expect(r.stdout).toBe("");
    expect(r.stderr).toBe("sh: 1: Syntax error: Unterminated quoted string\n");
    expect(r.exitCode).toBe(2);
  });

  it("a syntax error on a later line stops the shell after running the earlier ones", () => {
    const r = sh("echo first\necho second &&\n&& echo third");
    expect(r.stdout).toBe("first\n");
    expect(r.stderr).toBe('sh: 3: Syntax error: "&&" unexpected\n');
    expect(r.exitCode).toBe(2);
  });
});

describe("sh: redirections", () => {
  it("> creates (or truncates) a file that cat reads back", () => {
    const r = sh("echo first > /tmp/out; echo second > /tmp/out; cat /tmp/out");
    expect(r.stdout).toBe("second\n");
  });

  it(">> appends", () => {
    const r = sh("echo one > /tmp/out; echo two >> /tmp/out; env >> /tmp/out; cat /tmp/out");
    expect(r.stdout).toBe("one\ntwo\nPATH=/bin\nHOME=/root\n");
  });

  it("2> sends stderr to a file; stdout is untouched", () => {
    const r = sh("cat /nope 2> /tmp/err; echo status=$?; cat /tmp/err");
    expect(r.stdout).toBe("status=1\ncat: /nope: No such file or directory\n");
    expect(r.stderr).toBe("");
  });

  it("2>&1 after > sends both to the file; the order matters", () => {
    const r = sh("cat /nope > /tmp/both 2>&1; cat /tmp/both; cat /nope 2>&1 > /tmp/none; echo [$(cat /tmp/none)]");
    // The second cat's stderr went where stdout pointed before "> /tmp/none": the console's stdout.
    expect(r.stdout).toBe("cat: /nope: No such file or directory\ncat: /nope: No such file or directory\n[]\n");
    expect(r.stderr).toBe("");
  });

  it("a built-in's redirection is undone afterwards", () => {
    const r = sh("echo to-file > /tmp/f; echo to-stdout; echo err >&2; cat /tmp/f");
    expect(r.stdout).toBe("to-stdout\nto-file\n");
    expect(r.stderr).toBe("err\n");
  });

  it("< reads a file as standard input", () => {
    expect(sh("echo data > /tmp/in; cat < /tmp/in").stdout).toBe("data\n");
  });

  it("a redirection that fails is reported and the command does not run (2)", () => {
    const r = sh("echo x > /nonexistent/f; echo st=$?; cat < /nope; echo st=$?");
    expect(r.stderr).toBe("sh: 1: cannot create /nonexistent/f: Directory nonexistent\nsh: 1: cannot open /nope: No such file\n");
    expect(r.stdout).toBe("st=2\nst=2\n");
  });

  it("a user cannot redirect into a file it may not write", () => {
    const r = sh("echo x > /etc/passwd", { uid: 1000 });
    expect(r.stderr).toBe("sh: 1: cannot create /etc/passwd: Permission denied\n");
    expect(r.exitCode).toBe(2);
  });

  it("pipelines pass output along (through temporary files) and leave none behind", () => {
    const r = sh("echo hello | cat | cat; ls /bin | cat -n | cat > /tmp/n; cat /tmp/n | (nosuch 2>/dev/null; cat) | cat; ls /tmp");
    const lines = r.stdout.split("\n");
    expect(lines[0]).toBe("hello");
    expect(lines).toContain("     1\tabrt");
    expect(lines.filter((l) => l.startsWith("sh-"))).toEqual([]);
    expect(lines[lines.length - 2]).toBe("n");
  });
});

describe("sh: commands that fail", () => {
  it("an unknown command: 'sh: 1: NAME: not found' and 127, and the list goes on", () => {
    const r = sh("nosuchcmd; echo $?");
    expect(r.stderr).toBe("sh: 1: nosuchcmd: not found\n");
    expect(r.stdout).toBe("127\n");
    expect(sh("nosuchcmd").exitCode).toBe(127);
  });

  it("the message carries the line number", () => {
    expect(sh("true\n\nmissing").stderr).toBe("sh: 3: missing: not found\n");
  });

  it("a segfaulting command prints 'Segmentation fault'; the next command runs with $? = 139", () => {
    const r = sh("segv; echo after $?");
    expect(r.stderr).toBe("Segmentation fault\n");
    expect(r.stdout).toBe("after 139\n");
    expect(r.exitCode).toBe(0);
  });

  it("an aborting command prints 'Aborted'; $? = 134", () => {
    const r = sh("abrt; echo after $?");
    expect(r.stderr).toBe("Aborted\n");
    expect(r.stdout).toBe("after 134\n");
  });

  it("a command that eats all memory is OOM-killed ('Killed', $? = 137); the next one runs", () => {
    const r = sh("memhog -p 20000; echo after $?; echo still here");
    expect(r.stderr).toBe("Killed\n");
    expect(r.stdout).toBe("after 137\nstill here\n");
    expect(r.exitCode).toBe(0);
  });

  it("a crash as the last command is the shell's status (128+signal)", () => {
    const r = sh("echo start; segv");
    expect(r.stdout).toBe("start\n");
    expect(r.stderr).toBe("Segmentation fault\n");
    expect(r.exitCode).toBe(139);
    expect(r.signal).toBe(11);
  });

  it("crashes and failures inside && / || lists", () => {
    const r = sh("segv && echo no || echo recovered $?");
    expect(r.stdout).toBe("recovered 139\n");
  });

  it("a file that is not executable: Permission denied, 126", () => {
    const m = machine();
    m.k.vfs.writeFile("/tmp/plain", "echo hi\n", 0o644);
    const r = m.run(["sh", "-c", "/tmp/plain; echo $?"], { env: ENV });
    expect(r.stderr).toBe("sh: 1: /tmp/plain: Permission denied\n");
    expect(r.stdout).toBe("126\n");
  });
});

describe("sh: scripts", () => {
  it("sh SCRIPT runs the file's lines; $0 and $1; status of the last command", () => {
    const r = withFile("/tmp/s.sh", "echo $0 $1\nfalse\n", ["sh", "/tmp/s.sh", "arg"]);
    expect(r.stdout).toBe("/tmp/s.sh arg\n");
    expect(r.exitCode).toBe(1);
  });

  it("errors in a script name the script and the line", () => {
    const r = withFile("/tmp/s.sh", "echo one\nnope\necho two\n", ["sh", "/tmp/s.sh"]);
    expect(r.stdout).toBe("one\ntwo\n");
    expect(r.stderr).toBe("/tmp/s.sh: 2: nope: not found\n");
  });

  it("a script with #! runs through the kernel; one without it through a child shell", () => {
    const m = machine();
    m.k.vfs.writeFile("/tmp/a", "#!/bin/sh\necho bang $1\n", 0o755);
    m.k.vfs.writeFile("/tmp/b", "echo plain $1\nexit 5\n", 0o755);
    const r = m.run(["sh", "-c", "/tmp/a x; /tmp/b y; echo $?"], { env: ENV });
    expect(r.stdout).toBe("bang x\nplain y\n5\n");
  });

  it("a missing script: 'cannot open', 2", () => {
    const m = machine();
    const r = m.run(["sh", "/nope.sh"], { env: ENV });
    expect(r.stderr).toBe("sh: 0: cannot open /nope.sh: No such file\n");
    expect(r.exitCode).toBe(2);
  });

  it("sh with no arguments reads its commands from standard input", () => {
    const m = machine();
    m.k.stdin.data = new TextEncoder().encode("echo from stdin\nexit 7\n");
    const r = m.run(["sh"], { env: ENV });
    expect(r.stdout).toBe("from stdin\n");
    expect(r.exitCode).toBe(7);
  });

  it("set -e stops at the first failing command; -x traces", () => {
    const r = sh("set -e; echo a; false; echo b");
    expect(r.stdout).toBe("a\n");
    expect(r.exitCode).toBe(1);
    expect(sh("set -e; false || echo ok; echo b").stdout).toBe("ok\nb\n");
    expect(sh("set -x; echo hi").stderr).toBe("+ echo hi\n");
  });
});

describe("sh: built-ins", () => {
  it("cd changes directory (HOME by default, - goes back) and pwd shows it", () => {
    const r = sh("cd /tmp; pwd; cd; pwd; cd -; echo $PWD; cd /nope; echo $?");
    expect(r.stdout).toBe("/tmp\n/root\n/tmp\n/tmp\n2\n");
    expect(r.stderr).toBe("sh: 1: cd: can't cd to /nope\n");
  });

  it("relative paths resolve against the directory cd chose, for children too", () => {
    expect(sh("cd /etc; cat passwd | cat > /tmp/p; cd /tmp; ls").stdout).toBe("p\n");
  });

  it("true, false and : built-ins; unset", () => {
    expect(sh(": ; true; echo $?; false; echo $?; X=1; unset X; echo [$X]").stdout).toBe("0\n1\n[]\n");
  });
});
