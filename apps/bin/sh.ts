// /bin/sh: a small POSIX shell in the manner of dash.
//
//   sh -c COMMAND [NAME [ARG...]]   run COMMAND ($0 = NAME, or argv[0])
//   sh SCRIPT [ARG...]              run the commands in SCRIPT ($0 = SCRIPT)
//   sh [-s] [ARG...]                run the commands on standard input
//   options -e (errexit) and -x (xtrace), also through `set`.
//
// Grammar: complete commands separated by newlines; lists with `;` and `&`
// (background jobs are started and not waited for: with this kernel a child
// runs when its parent blocks or ends); `&&`, `||` and `!`; pipelines `|`;
// ( subshells ), { groups; }, if/elif/else/fi, while/until/do/done,
// for NAME [in WORDS]; do ... done; `VAR=value` prefixes and assignments;
// redirections `<`, `>`, `>|`, `>>`, `<>`, `N>&M`, `N>&-`, `N<&M`; comments.
// Words: 'single' and "double" quotes, backslash escapes, ~ at the start of a
// word, $NAME ${NAME} ${#NAME} ${NAME:-w} ${NAME-w} ${NAME:=w} ${NAME:+w}
// ${NAME:?w} (and the colon-less forms), $? $$ $! $# $- $0..$9 $@ $*,
// $(command) and `command`, and field splitting of unquoted expansions.
//
// There is no pipe(2) here, so a pipeline runs its stages one after another
// through temporary files in /tmp (each stage to its end, then the next
// reads what it wrote), and command substitution captures output the same
// way. For the finite, non-interactive commands this machine runs, the
// bytes are the same.
//
// Built-ins: : true false echo (dash's: -n, backslash escapes) printf-free,
// cd [-|DIR], pwd, exit [N], export [-p] [NAME[=V]...], unset NAME...,
// set [-ex|+ex] [-- ARG...], shift [N], exec [CMD [ARG...]], wait, read-free.
// External commands are found on PATH and run with fork + execve + waitpid;
// a file execve refuses as ENOEXEC is run as a script by a child shell, as
// dash does. Messages follow dash: "sh: 1: foo: not found" (127), the
// signal's text for a child a signal killed ("Segmentation fault") and
// $? = 128+signal, "sh: 1: Syntax error: ..." (2).
//
// Not supported: here-documents, case, functions, globbing (pathname
// expansion), arithmetic $((...)), `read`, aliases, job control.

import { signalMessage } from "../../kernel/signal.ts";
import { strerror } from "../../kernel/errno.ts";
import { MAP_ANONYMOUS, MAP_FAILED, MAP_PRIVATE, PROT_READ, PROT_WRITE } from "../../kernel/mman.ts";
import {
  type Libc, O_APPEND, O_CREAT, O_RDONLY, O_RDWR, O_TRUNC, O_WRONLY, WEXITSTATUS, WIFSIGNALED, WTERMSIG,
} from "../../libc/libc.ts";
import { findCommand } from "./path.ts";
import { echoEscapes } from "./echo.ts";

const ENOENT = 2;
const EACCES = 13;
const ENOEXEC = 8;
const ENOTDIR = 20;
const EISDIR = 21;
const EBADF = 9;

// ---- syntax tree ---------------------------------------------------------------------

type Part =
  | { t: "lit"; s: string; q: boolean }
  | { t: "param"; name: string; op: string; arg: Word | null; q: boolean }
  | { t: "cmdsub"; body: Program; q: boolean }
  | { t: "tilde"; user: string };
type Word = Part[];

interface Redir {
  fd: number;
  op: string;
  target: Word;
}

interface Assign {
  name: string;
  value: Word;
}

type Command =
  | { k: "simple"; assigns: Assign[]; words: Word[]; redirs: Redir[]; line: number }
  | { k: "subshell"; body: List; redirs: Redir[]; line: number }
  | { k: "group"; body: List; redirs: Redir[]; line: number }
  | { k: "if"; arms: { cond: List; body: List }[]; otherwise: List | null; redirs: Redir[]; line: number }
  | { k: "loop"; until: boolean; cond: List; body: List; redirs: Redir[]; line: number }
  | { k: "for"; name: string; items: Word[] | null; body: List; redirs: Redir[]; line: number };

interface Pipeline {
  bang: boolean;
  cmds: Command[];
}
interface AndOr {
  first: Pipeline;
  rest: { op: "&&" | "||"; p: Pipeline }[];
  background: boolean;
}
type List = AndOr[];
/** A whole parsed source: its complete commands in order. */
type Program = List[];

// ---- lexer ------------------------------------------------------------------------------

class SyntaxError_ {
  constructor(
    readonly message: string,
    readonly line: number,
  ) {}
}

type Token =
  | { k: "op"; v: string; line: number }
  | { k: "word"; w: Word; plain: string | null; line: number }
  | { k: "io"; fd: number; line: number }
  | { k: "eof"; line: number };

const OPERATORS = ["&&", "||", ";;", "<<-", "<<", ">>", ">&", ">|", "<&", "<>", ";", "&", "|", "(", ")", "<", ">", "\n"];
const META = " \t\n;&|<>()";
const NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;
const ASSIGN_RE = /^([A-Za-z_][A-Za-z0-9_]*)=/;
const SPECIAL_PARAMS = "?$!#-*@0123456789";

class Lexer {
  pos = 0;
  line = 1;
  private peeked: Token | null = null;

  constructor(
    readonly src: string,
    /** The `)` that ends a $( ... ) body, when lexing one. */
    readonly inSubst = false,
  ) {}

  peek(): Token {
    if (this.peeked === null) this.peeked = this.lex();
    return this.peeked;
  }

  next(): Token {
    const t = this.peek();
    this.peeked = null;
    return t;
  }

  private err(msg: string): never {
    throw new SyntaxError_(msg, this.line);
  }

  private skipBlanks(): void {
    for (;;) {
      const c = this.src[this.pos];
      if (c === " " || c === "\t") this.pos++;
      else if (c === "\\" && this.src[this.pos + 1] === "\n") {
        this.pos += 2;
        this.line++;
      } else if (c === "#") {
        while (this.pos < this.src.length && this.src[this.pos] !== "\n") this.pos++;
      } else return;
    }
  }

  private lex(): Token {
    this.skipBlanks();
    const line = this.line;
    if (this.pos >= this.src.length) return { k: "eof", line };
    for (const op of OPERATORS) {
      if (this.src.startsWith(op, this.pos)) {
        this.pos += op.length;
        if (op === "\n") this.line++;
        return { k: "op", v: op, line };
      }
    }
    // IO_NUMBER: digits directly followed by < or >.
    const m = /^[0-9]+(?=[<>])/.exec(this.src.slice(this.pos, this.pos + 12));
    if (m) {
      this.pos += m[0].length;
      return { k: "io", fd: Number(m[0]), line };
    }
    const start = this.pos;
    const w = this.readWord();
    const raw = this.src.slice(start, this.pos);
    const plain = w.length === 1 && w[0].t === "lit" && !w[0].q ? w[0].s : w.length === 0 ? "" : null;
    return { k: "word", w, plain: plain === raw ? plain : null, line };
  }

  /** A word up to the next unquoted metacharacter. */
  private readWord(): Word {
    const parts: Word = [];
    const lit = (s: string, q: boolean) => {
      const last = parts[parts.length - 1];
      if (last !== undefined && last.t === "lit" && last.q === q) last.s += s;
      else parts.push({ t: "lit", s, q });
    };
    if (this.src[this.pos] === "~") {
      let end = this.pos + 1;
      while (end < this.src.length && /[A-Za-z0-9_.-]/.test(this.src[end])) end++;
      if (end >= this.src.length || this.src[end] === "/" || META.includes(this.src[end])) {
        parts.push({ t: "tilde", user: this.src.slice(this.pos + 1, end) });
        this.pos = end;
      }
    }
    while (this.pos < this.src.length) {
      const c = this.src[this.pos];
      if (META.includes(c)) break;
      if (c === ")" && this.inSubst) break;
      if (c === "\\") {
        const n = this.src[this.pos + 1];
        if (n === undefined) {
          this.pos++;
          lit("\\", false);
        } else if (n === "\n") {
          this.pos += 2;
          this.line++;
        } else {
          this.pos += 2;
          lit(n, true);
        }
      } else if (c === "'") {
        const end = this.src.indexOf("'", this.pos + 1);
        if (end < 0) this.err("Unterminated quoted string");
        const s = this.src.slice(this.pos + 1, end);
        this.line += countNewlines(s);
        lit(s, true);
        this.pos = end + 1;
      } else if (c === '"') {
        this.pos++;
        this.readDouble(parts, lit);
      } else if (c === "$") {
        this.readDollar(parts, false, lit);
      } else if (c === "`") {
        parts.push({ t: "cmdsub", body: this.readBackquote(), q: false });
      } else {
        lit(c, false);
        this.pos++;
        if (c === "\n") this.line++;
      }
    }
    return parts;
  }

  private readDouble(parts: Word, lit: (s: string, q: boolean) => void): void {
    const startLine = this.line;
    const startLen = parts.length;
    for (;;) {
      if (this.pos >= this.src.length) {
        this.line = startLine;
        this.err("Unterminated quoted string");
      }
      const c = this.src[this.pos];
      if (c === '"') {
        this.pos++;
        // An empty "" still makes a (quoted, empty) word.
        if (parts.length === startLen) lit("", true);
        return;
      }
      if (c === "\\") {
        const n = this.src[this.pos + 1];
        if (n === "\n") {
          this.pos += 2;
          this.line++;
        } else if (n !== undefined && "$`\"\\".includes(n)) {
          lit(n, true);
          this.pos += 2;
        } else {
          lit("\\", true);
          this.pos++;
        }
      } else if (c === "$") {
        this.readDollar(parts, true, lit);
      } else if (c === "`") {
        parts.push({ t: "cmdsub", body: this.readBackquote(), q: true });
      } else {
        if (c === "\n") this.line++;
        lit(c, true);
        this.pos++;
      }
    }
  }

  private readDollar(parts: Word, q: boolean, lit: (s: string, q: boolean) => void): void {
    const s = this.src;
    const n = s[this.pos + 1];
    if (n === "(") {
      if (s[this.pos + 2] === "(") this.err("arithmetic expansion $((...)) is not supported");
      this.pos += 2;
      const sub = new Lexer(s, true);
      sub.pos = this.pos;
      sub.line = this.line;
      const body = new Parser(sub).parseSubstBody();
      const close = sub.next();
      if (close.k !== "op" || close.v !== ")") this.err(`"${tokenText(close)}" unexpected (expecting ")")`);
      this.pos = sub.pos;
      this.line = sub.line;
      parts.push({ t: "cmdsub", body, q });
      return;
    }
    if (n === "{") {
      let i = this.pos + 2;
      let name = "";
      let op = "";
      if (s[i] === "#" && s[i + 1] !== "}" && s[i + 1] !== undefined) {
        op = "#";
        i++;
      }
      if (s[i] !== undefined && SPECIAL_PARAMS.includes(s[i])) name = s[i++];
      else while (i < s.length && /[A-Za-z0-9_]/.test(s[i])) name += s[i++];
      if (name === "" || (!NAME_RE.test(name) && !SPECIAL_PARAMS.includes(name) && !/^[0-9]+$/.test(name))) this.err("Bad substitution");
      let arg: Word | null = null;
      if (op === "") {
        const m = /^:?[-=+?]/.exec(s.slice(i, i + 2));
        if (m) {
          op = m[0];
          i += op.length;
          this.pos = i;
          arg = this.readBraceArg(q);
          i = this.pos;
        }
      }
      if (s[i] !== "}") this.err(i >= s.length ? "Missing '}'" : "Bad substitution");
      this.pos = i + 1;
      parts.push({ t: "param", name, op, arg, q });
      return;
    }
    if (n !== undefined && SPECIAL_PARAMS.includes(n)) {
      parts.push({ t: "param", name: n, op: "", arg: null, q });
      this.pos += 2;
      return;
    }
    const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(s.slice(this.pos + 1, this.pos + 256));
    if (m) {
      parts.push({ t: "param", name: m[0], op: "", arg: null, q });
      this.pos += 1 + m[0].length;
      return;
    }
    lit("$", q);
    this.pos++;
  }

  /** The word of ${NAME:-word}, up to the matching `}` (quotes and expansions allowed). */
  private readBraceArg(outerQ: boolean): Word {
    const parts: Word = [];
    const lit = (str: string, q: boolean) => {
      const last = parts[parts.length - 1];
      if (last !== undefined && last.t === "lit" && last.q === q) last.s += str;
      else parts.push({ t: "lit", s: str, q });
    };
    lit("", true);
    while (this.pos < this.src.length && this.src[this.pos] !== "}") {
      const c = this.src[this.pos];
      if (c === "\\" && this.src[this.pos + 1] !== undefined) {
        lit(this.src[this.pos + 1], true);
        this.pos += 2;
      } else if (c === "'" && !outerQ) {
        const end = this.src.indexOf("'", this.pos + 1);
        if (end < 0) this.err("Unterminated quoted string");
        lit(this.src.slice(this.pos + 1, end), true);
        this.pos = end + 1;
      } else if (c === '"') {
        this.pos++;
        if (outerQ) continue;
        this.readDouble(parts, lit);
      } else if (c === "$") this.readDollar(parts, outerQ, lit);
      else if (c === "`") parts.push({ t: "cmdsub", body: this.readBackquote(), q: outerQ });
      else {
        if (c === "\n") this.line++;
        lit(c, outerQ);
        this.pos++;
      }
    }
    return parts;
  }

  private readBackquote(): Program {
    let body = "";
    let i = this.pos + 1;
    for (;;) {
      if (i >= this.src.length) this.err('EOF in backquote substitution');
      const c = this.src[i];
      if (c === "`") break;
      if (c === "\\" && "$`\\".includes(this.src[i + 1] ?? "")) {
        body += this.src[i + 1];
        i += 2;
        continue;
      }
      body += c;
      i++;
    }
    const startLine = this.line;
    this.line += countNewlines(body);
    this.pos = i + 1;
    const sub = new Lexer(body);
    sub.line = startLine;
    return new Parser(sub).parseAll();
  }
}

function countNewlines(s: string): number {
  let n = 0;
  for (const c of s) if (c === "\n") n++;
  return n;
}

function tokenText(t: Token): string {
  if (t.k === "eof") return "end of file";
  if (t.k === "op") return t.v === "\n" ? "newline" : t.v;
  if (t.k === "io") return String(t.fd);
  return t.plain ?? "word";
}

// ---- parser -------------------------------------------------------------------------------

const REDIR_OPS = new Set([">", ">>", ">|", "<", "<>", ">&", "<&", "<<", "<<-"]);
const LIST_END_WORDS = new Set(["then", "else", "elif", "fi", "do", "done", "}"]);

class Parser {
  constructor(readonly lx: Lexer) {}

  private err(t: Token, expecting?: string): never {
    const what = t.k === "eof" || (t.k === "op" && t.v === "\n") ? tokenText(t) : `"${tokenText(t)}"`;
    throw new SyntaxError_(`${what} unexpected${expecting ? ` (expecting "${expecting}")` : ""}`, t.line);
  }

  private isOp(t: Token, v: string): boolean {
    return t.k === "op" && t.v === v;
  }

  private isWord(t: Token, w: string): boolean {
    return t.k === "word" && t.plain === w;
  }

  private skipNewlines(): void {
    while (this.isOp(this.lx.peek(), "\n")) this.lx.next();
  }

  /** The next complete command (a list ended by a newline), or null at the end of the source. */
  parseComplete(): List | null {
    this.skipNewlines();
    if (this.lx.peek().k === "eof") return null;
    const list: List = [];
    for (;;) {
      const ao = this.parseAndOr();
      list.push(ao);
      const t = this.lx.peek();
      if (this.isOp(t, ";") || this.isOp(t, "&")) {
        this.lx.next();
        ao.background = t.k === "op" && t.v === "&";
        const u = this.lx.peek();
        if (u.k === "eof") break;
        if (this.isOp(u, "\n")) {
          this.lx.next();
          break;
        }
        continue;
      }
      if (this.isOp(t, "\n")) {
        this.lx.next();
        break;
      }
      if (t.k === "eof") break;
      this.err(t);
    }
    return list;
  }

  parseAll(): Program {
    const prog: Program = [];
    for (let l = this.parseComplete(); l !== null; l = this.parseComplete()) prog.push(l);
    return prog;
  }

  /** The body of $( ... ): complete commands up to the closing `)` (left unread). */
  parseSubstBody(): Program {
    this.skipNewlines();
    if (this.isOp(this.lx.peek(), ")")) return [];
    return [this.parseCompound((t) => this.isOp(t, ")") || t.k === "eof")];
  }

  /** A compound list: and-or lists separated by ; & or newlines, up to a token `end` accepts. */
  private parseCompound(end: (t: Token) => boolean): List {
    const list: List = [];
    this.skipNewlines();
    while (!end(this.lx.peek())) {
      const ao = this.parseAndOr();
      list.push(ao);
      const t = this.lx.peek();
      if (this.isOp(t, ";") || this.isOp(t, "&") || this.isOp(t, "\n")) {
        this.lx.next();
        ao.background = this.isOp(t, "&");
        this.skipNewlines();
      } else if (!end(t)) this.err(t);
    }
    if (list.length === 0) this.err(this.lx.peek());
    return list;
  }

  private parseAndOr(): AndOr {
    const first = this.parsePipeline();
    const rest: AndOr["rest"] = [];
    for (;;) {
      const t = this.lx.peek();
      if (!this.isOp(t, "&&") && !this.isOp(t, "||")) break;
      this.lx.next();
      this.skipNewlines();
      rest.push({ op: (t as { v: "&&" | "||" }).v, p: this.parsePipeline() });
    }
    return { first, rest, background: false };
  }

  private parsePipeline(): Pipeline {
    let bang = false;
    if (this.isWord(this.lx.peek(), "!")) {
      this.lx.next();
      bang = true;
    }
    const cmds = [this.parseCommand()];
    while (this.isOp(this.lx.peek(), "|")) {
      this.lx.next();
      this.skipNewlines();
      cmds.push(this.parseCommand());
    }
    return { bang, cmds };
  }

  private expectWord(w: string): void {
    const t = this.lx.next();
    if (!this.isWord(t, w)) this.err(t, w);
  }

  private parseCommand(): Command {
    const t = this.lx.peek();
    const line = t.line;
    if (this.isOp(t, "(")) {
      this.lx.next();
      const body = this.parseCompound((u) => this.isOp(u, ")"));
      this.lx.next();
      return { k: "subshell", body, redirs: this.parseRedirs(), line };
    }
    if (t.k === "word" && t.plain !== null) {
      const atWord = (w: string) => (u: Token) => this.isWord(u, w);
      switch (t.plain) {
        case "{": {
          this.lx.next();
          const body = this.parseCompound(atWord("}"));
          this.lx.next();
          return { k: "group", body, redirs: this.parseRedirs(), line };
        }
        case "if": {
          this.lx.next();
          const arms: { cond: List; body: List }[] = [];
          let otherwise: List | null = null;
          for (;;) {
            const cond = this.parseCompound(atWord("then"));
            this.expectWord("then");
            const body = this.parseCompound((u) => this.isWord(u, "elif") || this.isWord(u, "else") || this.isWord(u, "fi"));
            arms.push({ cond, body });
            const e = this.lx.next();
            if (this.isWord(e, "elif")) continue;
            if (this.isWord(e, "else")) {
              otherwise = this.parseCompound(atWord("fi"));
              this.expectWord("fi");
            }
            break;
          }
          return { k: "if", arms, otherwise, redirs: this.parseRedirs(), line };
        }
        case "while":
        case "until": {
          this.lx.next();
          const cond = this.parseCompound(atWord("do"));
          this.expectWord("do");
          const body = this.parseCompound(atWord("done"));
          this.expectWord("done");
          return { k: "loop", until: t.plain === "until", cond, body, redirs: this.parseRedirs(), line };
        }
        case "for": {
          this.lx.next();
          const n = this.lx.next();
          if (n.k !== "word" || n.plain === null || !NAME_RE.test(n.plain)) throw new SyntaxError_(`Bad for loop variable`, n.line);
          let items: Word[] | null = null;
          this.skipNewlines();
          if (this.isWord(this.lx.peek(), "in")) {
            this.lx.next();
            items = [];
            for (let u = this.lx.peek(); u.k === "word"; u = this.lx.peek()) items.push((this.lx.next() as { w: Word }).w);
            const sep = this.lx.peek();
            if (!this.isOp(sep, ";") && !this.isOp(sep, "\n")) this.err(sep);
            this.lx.next();
          } else if (this.isOp(this.lx.peek(), ";")) this.lx.next();
          this.skipNewlines();
          this.expectWord("do");
          const body = this.parseCompound(atWord("done"));
          this.expectWord("done");
          return { k: "for", name: n.plain, items, body, redirs: this.parseRedirs(), line };
        }
        case "case":
          throw new SyntaxError_("case is not supported", line);
        default:
          if (LIST_END_WORDS.has(t.plain)) this.err(t);
      }
    }
    return this.parseSimple();
  }

  private parseRedir(): Redir {
    let fd = -1;
    let t = this.lx.next();
    if (t.k === "io") {
      fd = t.fd;
      t = this.lx.next();
    }
    if (t.k !== "op" || !REDIR_OPS.has(t.v)) this.err(t);
    const op = t.v;
    if (op === "<<" || op === "<<-") throw new SyntaxError_("here-documents are not supported", t.line);
    const target = this.lx.next();
    if (target.k !== "word") this.err(target);
    if (fd < 0) fd = op[0] === "<" ? 0 : 1;
    return { fd, op, target: target.w };
  }

  private atRedir(t: Token): boolean {
    return t.k === "io" || (t.k === "op" && REDIR_OPS.has(t.v));
  }

  private parseRedirs(): Redir[] {
    const r: Redir[] = [];
    while (this.atRedir(this.lx.peek())) r.push(this.parseRedir());
    return r;
  }

  private parseSimple(): Command {
    const line = this.lx.peek().line;
    const assigns: Assign[] = [];
    const words: Word[] = [];
    const redirs: Redir[] = [];
    for (;;) {
      const t = this.lx.peek();
      if (this.atRedir(t)) redirs.push(this.parseRedir());
      else if (t.k === "word") {
        this.lx.next();
        const first = t.w[0];
        const head = words.length === 0 && first?.t === "lit" && !first.q ? first.s : null;
        const m = head === null ? null : ASSIGN_RE.exec(head);
        if (head !== null && m) {
          const rest = head.slice(m[0].length);
          const value: Word = [...(rest ? [{ t: "lit" as const, s: rest, q: false }] : []), ...t.w.slice(1)];
          assigns.push({ name: m[1], value });
        } else words.push(t.w);
      } else break;
    }
    if (assigns.length === 0 && words.length === 0 && redirs.length === 0) this.err(this.lx.peek());
    return { k: "simple", assigns, words, redirs, line };
  }
}

// ---- execution ------------------------------------------------------------------------------

/** `exit` (or a fatal error) unwinding to the shell's top level. */
class ShellExit {
  constructor(readonly status: number) {}
}

/** break/continue unwinding to the loop `levels` up. */
class LoopJump {
  constructor(
    readonly kind: "break" | "continue",
    public levels: number,
  ) {}
}

interface Var {
  value: string;
  exported: boolean;
}

const SPECIAL_BUILTINS = new Set([":", "exit", "export", "unset", "set", "shift", "exec", "break", "continue", "readonly"]);
const BUILTINS = new Set([...SPECIAL_BUILTINS, "true", "false", "echo", "cd", "pwd", "wait"]);

/** First fd the shell uses to keep its own descriptors while a built-in's are redirected (as dash's 10). */
const SAVE_FD_BASE = 10;

export class Shell {
  vars = new Map<string, Var>();
  status = 0;
  positional: string[] = [];
  lineno = 0;
  lastBg = 0;
  errexit = false;
  xtrace = false;
  /** Nesting of conditions (if/while tests, && || left sides, !): errexit does not apply there. */
  private condDepth = 0;
  private loopDepth = 0;
  private nextSaveFd = SAVE_FD_BASE;
  private tmpSeq = 0;
  /** Status of the last command substitution in the command being expanded (an assignment-only command's status). */
  private substStatus: number | null = null;
  readonly rootPid: number;

  constructor(
    public libc: Libc,
    /** $0, and the prefix of every message. */
    public arg0: string,
    envp: readonly string[],
    rootPid?: number,
  ) {
    for (const e of envp) {
      const eq = e.indexOf("=");
      if (eq > 0 && NAME_RE.test(e.slice(0, eq))) this.vars.set(e.slice(0, eq), { value: e.slice(eq + 1), exported: true });
    }
    this.rootPid = rootPid ?? libc.getpid();
  }

  /**
   * A copy of the shell's state for a forked child, taken in the parent at
   * fork time (the child runs later, when the parent blocks); the child sets
   * its own libc.
   */
  private forkCopy(): Shell {
    const s = new Shell(this.libc, this.arg0, [], this.rootPid);
    for (const [k, v] of this.vars) s.vars.set(k, { ...v });
    s.status = this.status;
    s.positional = [...this.positional];
    s.lineno = this.lineno;
    s.lastBg = this.lastBg;
    s.errexit = this.errexit;
    s.xtrace = this.xtrace;
    s.nextSaveFd = this.nextSaveFd;
    return s;
  }

  /** This snapshot, running in the child whose libc is c. */
  private in(c: Libc): Shell {
    this.libc = c;
    return this;
  }

  // ---- messages ----

  /** "sh: LINE: text" on stderr, as dash prints its errors. */
  error(text: string): void {
    this.libc.eprintf("%s: %d: %s\n", this.arg0, this.lineno, text);
  }

  // ---- running source ----

  /** Parse and run `src` one complete command at a time; the last status. */
  runSource(src: string): number {
    const parser = new Parser(new Lexer(src));
    try {
      for (;;) {
        let list: List | null;
        try {
          list = parser.parseComplete();
        } catch (e) {
          if (!(e instanceof SyntaxError_)) throw e;
          this.lineno = e.line;
          this.error(`Syntax error: ${e.message}`);
          this.status = 2;
          return 2;
        }
        if (list === null) return this.status;
        this.runList(list);
      }
    } catch (e) {
      if (e instanceof ShellExit) return e.status;
      if (e instanceof LoopJump) return this.status;
      throw e;
    }
  }

  private runList(list: List): number {
    for (const ao of list) {
      if (ao.background) this.runBackground(ao);
      else this.runAndOr(ao);
    }
    return this.status;
  }

  private runBackground(ao: AndOr): void {
    this.libc.fflush();
    const snap = this.forkCopy();
    const pid = this.libc.fork((c) => {
      const sh = snap.in(c);
      try {
        return sh.runAndOr(ao);
      } catch (e) {
        if (e instanceof ShellExit) return e.status;
        throw e;
      }
    });
    if (pid < 0) {
      this.error(`Cannot fork`);
      this.status = 2;
      return;
    }
    this.lastBg = pid;
    this.status = 0;
  }

  private runAndOr(ao: AndOr): number {
    const n = ao.rest.length;
    let st = 0;
    for (let i = 0; i <= n; i++) {
      if (i > 0) {
        const op = ao.rest[i - 1].op;
        if ((op === "&&") !== (st === 0)) continue;
      }
      // Every pipeline but the last is a condition: errexit does not apply to it.
      const cond = i < n;
      if (cond) this.condDepth++;
      try {
        st = this.runPipeline(i === 0 ? ao.first : ao.rest[i - 1].p);
      } finally {
        if (cond) this.condDepth--;
      }
    }
    return st;
  }

  private runPipeline(p: Pipeline): number {
    if (p.bang) this.condDepth++;
    let st = p.cmds.length === 1 ? this.runCommand(p.cmds[0]) : this.runStaged(p.cmds);
    if (p.bang) {
      this.condDepth--;
      st = st === 0 ? 1 : 0;
    }
    this.status = st;
    if (st !== 0 && this.errexit && this.condDepth === 0 && !p.bang) throw new ShellExit(st);
    return st;
  }

  /**
   * A pipeline without pipe(2): each stage runs to its end in a child with its
   * output in a temporary file, which the next stage reads as its input.
   */
  private runStaged(cmds: Command[]): number {
    let input: string | null = null;
    let st = 0;
    for (let i = 0; i < cmds.length; i++) {
      const last = i === cmds.length - 1;
      const output = last ? null : this.tempName();
      if (output !== null && !this.createTemp(output)) {
        if (input !== null) this.libc.unlink(input);
        return 2;
      }
      const inFile = input;
      this.libc.fflush();
      const snap = this.forkCopy();
      const pid = this.libc.fork((c) => {
        const sh = snap.in(c);
        if (inFile !== null && !sh.redirectFile(0, inFile, O_RDONLY)) return 2;
        if (output !== null && !sh.redirectFile(1, output, O_WRONLY | O_TRUNC)) return 2;
        try {
          return sh.runCommand(cmds[i]);
        } catch (e) {
          if (e instanceof ShellExit) return e.status;
          throw e;
        }
      });
      st = pid < 0 ? 2 : this.waitFor(pid);
      if (input !== null) this.libc.unlink(input);
      input = output;
    }
    return st;
  }

  private tempName(): string {
    return `/tmp/sh-${this.rootPid}-${this.libc.getpid()}-${this.tmpSeq++}`;
  }

  private createTemp(path: string): boolean {
    const fd = this.libc.open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600);
    if (fd < 0) {
      this.error(`cannot create ${path}: ${createError(this.libc.errno)}`);
      return false;
    }
    this.libc.close(fd);
    return true;
  }

  /** Open path on fd in this (child) process; false after printing the error. */
  private redirectFile(fd: number, path: string, flags: number): boolean {
    const f = this.libc.open(path, flags, 0o666);
    if (f < 0) {
      this.error(`cannot open ${path}: ${openError(this.libc.errno)}`);
      return false;
    }
    if (f !== fd) {
      this.libc.dup2(f, fd);
      this.libc.close(f);
    }
    return true;
  }

  /** Wait for a child; its status as $? (128+signal, with the signal's message, like dash). */
  waitFor(pid: number): number {
    const w = this.libc.waitpid(pid);
    if (w === null) return 127;
    if (WIFSIGNALED(w.status)) {
      const sig = WTERMSIG(w.status);
      const msg = signalMessage(sig);
      if (msg) this.libc.eprintf("%s\n", msg);
      return 128 + sig;
    }
    return WEXITSTATUS(w.status);
  }

  private runCommand(cmd: Command): number {
    this.lineno = cmd.line;
    switch (cmd.k) {
      case "simple":
        return this.runSimple(cmd);
      case "subshell": {
        this.libc.fflush();
        const snap = this.forkCopy();
        const pid = this.libc.fork((c) => {
          const sh = snap.in(c);
          if (sh.applyRedirs(cmd.redirs, null) === null) return 2;
          try {
            return sh.runList(cmd.body);
          } catch (e) {
            if (e instanceof ShellExit) return e.status;
            if (e instanceof LoopJump) return sh.status;
            throw e;
          }
        });
        return pid < 0 ? 2 : this.waitFor(pid);
      }
      default:
        return this.withRedirs(cmd.redirs, () => this.runCompound(cmd));
    }
  }

  private runCompound(cmd: Command): number {
    switch (cmd.k) {
      case "group":
        return this.runList(cmd.body);
      case "if": {
        for (const arm of cmd.arms) {
          if (this.runCondition(arm.cond) === 0) return this.runList(arm.body);
        }
        if (cmd.otherwise !== null) return this.runList(cmd.otherwise);
        return (this.status = 0);
      }
      case "loop": {
        let st = 0;
        this.loopDepth++;
        try {
          for (;;) {
            const c = this.runCondition(cmd.cond);
            if ((c === 0) === cmd.until) break;
            const r = this.loopBody(cmd.body);
            st = this.status;
            if (r === "break") break;
          }
        } finally {
          this.loopDepth--;
        }
        return (this.status = st);
      }
      case "for": {
        const items = cmd.items === null ? [...this.positional] : cmd.items.flatMap((w) => this.expandFields(w));
        let st = 0;
        this.loopDepth++;
        try {
          for (const item of items) {
            this.setVar(cmd.name, item);
            const r = this.loopBody(cmd.body);
            st = this.status;
            if (r === "break") break;
          }
        } finally {
          this.loopDepth--;
        }
        return (this.status = st);
      }
      default:
        throw new Error("unreachable");
    }
  }

  private runCondition(list: List): number {
    this.condDepth++;
    try {
      return this.runList(list);
    } finally {
      this.condDepth--;
    }
  }

  /** One iteration; "break" when the loop must end. */
  private loopBody(body: List): "break" | "next" {
    try {
      this.runList(body);
      return "next";
    } catch (e) {
      if (!(e instanceof LoopJump)) throw e;
      if (e.levels > 1) {
        e.levels--;
        throw e;
      }
      return e.kind === "break" ? "break" : "next";
    }
  }

  // ---- simple commands ----

  private runSimple(cmd: Extract<Command, { k: "simple" }>): number {
    this.substStatus = null;
    const argv = cmd.words.flatMap((w) => this.expandFields(w));
    const assigns = cmd.assigns.map((a) => ({ name: a.name, value: this.expandString(a.value) }));
    if (this.xtrace) {
      const shown = [...assigns.map((a) => `${a.name}=${a.value}`), ...argv];
      this.libc.eprintf("+ %s\n", shown.join(" "));
    }
    if (argv.length === 0) {
      // Assignments only: they stay in the shell. Redirections are still made (and undone).
      for (const a of assigns) this.setVar(a.name, a.value);
      const st = this.substStatus ?? 0;
      return this.withRedirs(cmd.redirs, () => st);
    }
    const name = argv[0];
    if (BUILTINS.has(name)) {
      if (SPECIAL_BUILTINS.has(name)) {
        for (const a of assigns) this.setVar(a.name, a.value);
        if (name === "exec") return this.builtinExec(argv, cmd.redirs);
        return this.withRedirs(cmd.redirs, () => this.runBuiltin(argv));
      }
      const saved = assigns.map((a) => [a.name, this.vars.get(a.name)] as const);
      for (const a of assigns) this.setVar(a.name, a.value);
      try {
        return this.withRedirs(cmd.redirs, () => this.runBuiltin(argv));
      } finally {
        for (const [n, v] of saved) {
          if (v === undefined) this.vars.delete(n);
          else this.vars.set(n, v);
        }
      }
    }
    const env = this.childEnv(assigns);
    const path = findCommand(this.libc, name, env);
    if (path === null) {
      this.error(`${name}: not found`);
      return 127;
    }
    this.libc.fflush();
    const snap = this.forkCopy();
    const pid = this.libc.fork((c) => {
      const sh = snap.in(c);
      if (sh.applyRedirs(cmd.redirs, null) === null) return 2;
      return sh.execOrScript(path, argv, env);
    });
    if (pid < 0) {
      this.error("Cannot fork");
      return 2;
    }
    return this.waitFor(pid);
  }

  /** In a child: execve, or run the file as a script if the kernel does not know its format. */
  private execOrScript(path: string, argv: string[], env: string[]): number {
    this.libc.execve(path, argv, env);
    const e = this.libc.errno;
    if (e === ENOEXEC) {
      const src = this.libc.readFile(path);
      if (src === null) {
        this.error(`${argv[0]}: ${strerror(this.libc.errno)}`);
        return 126;
      }
      const sh = new Shell(this.libc, path, env, this.libc.getpid());
      sh.positional = argv.slice(1);
      return sh.runSource(src);
    }
    this.error(`${argv[0]}: ${e === ENOENT ? "not found" : e === EACCES || e === EISDIR ? "Permission denied" : strerror(e)}`);
    return e === ENOENT ? 127 : 126;
  }

  /** The environment of a child: exported variables, with the command's own assignments. */
  childEnv(assigns: { name: string; value: string }[] = []): string[] {
    const out: string[] = [];
    const over = new Map(assigns.map((a) => [a.name, a.value]));
    for (const [k, v] of this.vars) {
      if (over.has(k)) {
        out.push(`${k}=${over.get(k)}`);
        over.delete(k);
      } else if (v.exported) out.push(`${k}=${v.value}`);
    }
    for (const [k, v] of over) out.push(`${k}=${v}`);
    return out;
  }

  setVar(name: string, value: string, exported = false): void {
    const v = this.vars.get(name);
    if (v) {
      v.value = value;
      if (exported) v.exported = true;
    } else this.vars.set(name, { value, exported });
  }

  // ---- redirections ----

  /**
   * Run fn with cmd's redirections made in this process, then put the
   * descriptors back; 2 if a redirection fails.
   */
  private withRedirs(redirs: Redir[], fn: () => number): number {
    if (redirs.length === 0) return fn();
    const undo = this.applyRedirs(redirs, []);
    if (undo === null) return (this.status = 2);
    try {
      return fn();
    } finally {
      this.libc.fflush();
      for (let i = undo.length - 1; i >= 0; i--) {
        const [fd, saved] = undo[i];
        if (saved < 0) this.libc.close(fd);
        else {
          this.libc.dup2(saved, fd);
          this.libc.close(saved);
          this.nextSaveFd--;
        }
      }
    }
  }

  /**
   * Make the redirections; with `undo`, record how to restore each fd
   * (saved copies at fds >= 10). null after printing the error (and undoing).
   */
  applyRedirs(redirs: Redir[], undo: [number, number][] | null): [number, number][] | null {
    const l = this.libc;
    const fail = (msg: string) => {
      this.error(msg);
      if (undo !== null) {
        for (let i = undo.length - 1; i >= 0; i--) {
          const [fd, saved] = undo[i];
          if (saved < 0) l.close(fd);
          else {
            l.dup2(saved, fd);
            l.close(saved);
            this.nextSaveFd--;
          }
        }
      }
      return null;
    };
    for (const r of redirs) {
      const target = this.expandString(r.target);
      let src = -1;
      let close = false;
      if (r.op === ">&" || r.op === "<&") {
        if (target === "-") close = true;
        else if (/^[0-9]+$/.test(target)) src = Number(target);
        else return fail(`Syntax error: Bad fd number`);
      }
      if (undo !== null && r.fd !== src) {
        l.fflush();
        const keep = this.nextSaveFd;
        if (l.dup2(r.fd, keep) >= 0) {
          this.nextSaveFd++;
          undo.push([r.fd, keep]);
        } else undo.push([r.fd, -1]);
      }
      if (close) {
        l.close(r.fd);
        continue;
      }
      if (src >= 0) {
        if (src !== r.fd && l.dup2(src, r.fd) < 0) return fail(`${src}: Bad file descriptor`);
        continue;
      }
      const flags =
        r.op === "<" ? O_RDONLY
        : r.op === "<>" ? O_RDWR | O_CREAT
        : r.op === ">>" ? O_WRONLY | O_CREAT | O_APPEND
        : O_WRONLY | O_CREAT | O_TRUNC;
      const fd = l.open(target, flags, 0o666);
      if (fd < 0) {
        return fail(flags & O_CREAT ? `cannot create ${target}: ${createError(l.errno)}` : `cannot open ${target}: ${openError(l.errno)}`);
      }
      if (fd !== r.fd) {
        l.dup2(fd, r.fd);
        l.close(fd);
      }
    }
    return undo ?? [];
  }

  // ---- expansion ----

  private param(name: string): string | null {
    switch (name) {
      case "?":
        return String(this.status);
      case "$":
        return String(this.rootPid);
      case "!":
        return this.lastBg === 0 ? "" : String(this.lastBg);
      case "#":
        return String(this.positional.length);
      case "-":
        return (this.errexit ? "e" : "") + (this.xtrace ? "x" : "");
      case "*":
      case "@":
        return this.positional.join(" ");
      case "0":
        return this.arg0;
    }
    if (/^[0-9]+$/.test(name)) return this.positional[Number(name) - 1] ?? null;
    return this.vars.get(name)?.value ?? null;
  }

  /** ${NAME op word}: the value, after the operator's effect. */
  private paramValue(p: Extract<Part, { t: "param" }>): string {
    let v = this.param(p.name);
    if (p.op === "#") return String((v ?? "").length);
    if (p.op === "") return v ?? "";
    const colon = p.op.startsWith(":");
    const unset = v === null || (colon && v === "");
    const arg = () => (p.arg === null ? "" : this.expandString(p.arg));
    switch (p.op.slice(-1)) {
      case "-":
        return unset ? arg() : v!;
      case "+":
        return unset ? "" : arg();
      case "=":
        if (unset) {
          v = arg();
          if (!NAME_RE.test(p.name)) {
            this.error(`${p.name}: bad variable name`);
            throw new ShellExit(2);
          }
          this.setVar(p.name, v);
        }
        return v!;
      case "?":
        if (unset) {
          const msg = arg();
          this.error(`${p.name}: ${msg || (v === null ? "parameter not set" : "parameter null or not set")}`);
          throw new ShellExit(2);
        }
        return v!;
    }
    return v ?? "";
  }

  /** A word as fields: quoted text stays whole, unquoted expansions split on blanks. */
  expandFields(w: Word): string[] {
    const fields: string[] = [];
    let cur = "";
    let have = false;
    const addSplit = (value: string) => {
      const pieces = value.split(/[ \t\n]+/);
      pieces.forEach((piece, i) => {
        if (i > 0) {
          if (have) fields.push(cur);
          cur = "";
          have = false;
        }
        cur += piece;
        if (piece !== "") have = true;
      });
    };
    for (const p of w) {
      switch (p.t) {
        case "lit":
          cur += p.s;
          if (p.q || p.s !== "") have = true;
          break;
        case "tilde":
          cur += this.tilde(p.user);
          have = true;
          break;
        case "param":
          if (p.name === "@" && p.q && p.op === "") {
            // "$@": one field per parameter.
            this.positional.forEach((a, i) => {
              if (i > 0) {
                fields.push(cur);
                cur = "";
              }
              cur += a;
              have = true;
            });
          } else if (p.q) {
            cur += this.paramValue(p);
            have = true;
          } else addSplit(this.paramValue(p));
          break;
        case "cmdsub": {
          const out = this.substitute(p.body);
          if (p.q) {
            cur += out;
            have = true;
          } else addSplit(out);
          break;
        }
      }
    }
    if (have) fields.push(cur);
    return fields;
  }

  /** A word as one string (assignments, redirection targets, ${...} words). */
  expandString(w: Word): string {
    let s = "";
    for (const p of w) {
      if (p.t === "lit") s += p.s;
      else if (p.t === "tilde") s += this.tilde(p.user);
      else if (p.t === "param") s += this.paramValue(p);
      else s += this.substitute(p.body);
    }
    return s;
  }

  private tilde(user: string): string {
    if (user === "") return this.vars.get("HOME")?.value ?? "~";
    const pw = this.libc.readFile("/etc/passwd");
    for (const line of (pw ?? "").split("\n")) {
      const f = line.split(":");
      if (f[0] === user && f.length >= 6) return f[5];
    }
    return `~${user}`;
  }

  /** $(...): run the commands in a child with its output in a temporary file; that output, less trailing newlines. */
  private substitute(body: Program): string {
    const tmp = this.tempName();
    if (!this.createTemp(tmp)) return "";
    this.libc.fflush();
    const snap = this.forkCopy();
    const pid = this.libc.fork((c) => {
      const sh = snap.in(c);
      if (!sh.redirectFile(1, tmp, O_WRONLY | O_TRUNC)) return 2;
      try {
        let st = 0;
        for (const list of body) st = sh.runList(list);
        return st;
      } catch (e) {
        if (e instanceof ShellExit) return e.status;
        if (e instanceof LoopJump) return sh.status;
        throw e;
      }
    });
    this.substStatus = pid < 0 ? 2 : this.waitFor(pid);
    const out = this.libc.readFile(tmp) ?? "";
    this.libc.unlink(tmp);
    return out.replace(/\n+$/, "");
  }

  // ---- built-ins ----

  private runBuiltin(argv: string[]): number {
    const l = this.libc;
    switch (argv[0]) {
      case ":":
      case "true":
        return 0;
      case "false":
        return 1;
      case "echo":
        return builtinEcho(l, argv);
      case "pwd": {
        const cwd = l.getcwd();
        if (cwd === null) {
          this.error(`pwd: ${strerror(l.errno)}`);
          return 2;
        }
        l.printf("%s\n", cwd);
        return 0;
      }
      case "cd":
        return this.builtinCd(argv);
      case "exit": {
        let st = this.status;
        if (argv.length > 1) {
          if (!/^[0-9]+$/.test(argv[1])) {
            this.error(`exit: Illegal number: ${argv[1]}`);
            throw new ShellExit(2);
          }
          st = Number(argv[1]) & 0xff;
        }
        throw new ShellExit(st);
      }
      case "export":
        return this.builtinExport(argv);
      case "unset":
        for (const n of argv.slice(1).filter((a) => a !== "-v")) this.vars.delete(n);
        return 0;
      case "set":
        return this.builtinSet(argv);
      case "shift": {
        const n = argv.length > 1 ? Number(argv[1]) : 1;
        if (!Number.isInteger(n) || n < 0 || n > this.positional.length) {
          this.error(`shift: can't shift that many`);
          throw new ShellExit(2);
        }
        this.positional = this.positional.slice(n);
        return 0;
      }
      case "break":
      case "continue": {
        const n = argv.length > 1 ? Number(argv[1]) : 1;
        if (!Number.isInteger(n) || n < 1) {
          this.error(`${argv[0]}: Illegal number: ${argv[1]}`);
          throw new ShellExit(2);
        }
        if (this.loopDepth === 0) return 0;
        throw new LoopJump(argv[0] as "break" | "continue", Math.min(n, this.loopDepth));
      }
      case "readonly":
        this.error("readonly: not supported");
        return 2;
      case "wait":
        return this.builtinWait(argv);
    }
    return 127;
  }

  private builtinCd(argv: string[]): number {
    const l = this.libc;
    const args = argv.slice(1).filter((a) => a !== "-L" && a !== "-P");
    let dir = args[0];
    let print = false;
    if (dir === undefined) {
      const home = this.vars.get("HOME")?.value;
      if (!home) {
        this.error("cd: HOME not set");
        return 2;
      }
      dir = home;
    } else if (dir === "-") {
      const old = this.vars.get("OLDPWD")?.value;
      if (!old) {
        this.error("cd: OLDPWD not set");
        return 2;
      }
      dir = old;
      print = true;
    }
    const before = l.getcwd() ?? this.vars.get("PWD")?.value ?? "";
    if (l.chdir(dir) < 0) {
      this.error(`cd: can't cd to ${args[0] ?? dir}`);
      return 2;
    }
    const now = l.getcwd() ?? dir;
    this.setVar("OLDPWD", before);
    this.setVar("PWD", now);
    if (print) l.printf("%s\n", now);
    return 0;
  }

  private builtinExport(argv: string[]): number {
    const args = argv.slice(1);
    if (args.length === 0 || (args.length === 1 && args[0] === "-p")) {
      const names = [...this.vars.keys()].filter((k) => this.vars.get(k)!.exported).sort();
      for (const n of names) this.libc.printf("export %s=%s\n", n, shellQuote(this.vars.get(n)!.value));
      return 0;
    }
    for (const a of args) {
      const eq = a.indexOf("=");
      const name = eq < 0 ? a : a.slice(0, eq);
      if (!NAME_RE.test(name)) {
        this.error(`export: ${name}: bad variable name`);
        throw new ShellExit(2);
      }
      if (eq >= 0) this.setVar(name, a.slice(eq + 1), true);
      else {
        const v = this.vars.get(name);
        if (v) v.exported = true;
        else this.vars.set(name, { value: "", exported: true });
      }
    }
    return 0;
  }

  private builtinSet(argv: string[]): number {
    const args = argv.slice(1);
    if (args.length === 0) {
      for (const n of [...this.vars.keys()].sort()) this.libc.printf("%s=%s\n", n, shellQuote(this.vars.get(n)!.value));
      return 0;
    }
    let i = 0;
    for (; i < args.length; i++) {
      const a = args[i];
      if (a === "--") {
        i++;
        this.positional = args.slice(i);
        return 0;
      }
      if (!/^[-+][a-zA-Z]+$/.test(a)) break;
      const on = a[0] === "-";
      for (const f of a.slice(1)) {
        if (f === "e") this.errexit = on;
        else if (f === "x") this.xtrace = on;
        else {
          this.error(`set: Illegal option ${a[0]}${f}`);
          throw new ShellExit(2);
        }
      }
    }
    if (i < args.length) this.positional = args.slice(i);
    return 0;
  }

  private builtinWait(argv: string[]): number {
    let st = 0;
    if (argv.length > 1) {
      for (const a of argv.slice(1)) {
        const w = this.libc.waitpid(Number(a));
        st = w === null ? 127 : WIFSIGNALED(w.status) ? 128 + WTERMSIG(w.status) : WEXITSTATUS(w.status);
      }
      return st;
    }
    while (this.libc.waitpid(-1) !== null) {
      // reap every background child
    }
    return 0;
  }

  /** exec [CMD ARG...]: with no command the redirections stay; else the command replaces the shell. */
  private builtinExec(argv: string[], redirs: Redir[]): number {
    if (this.applyRedirs(redirs, null) === null) return 2;
    if (argv.length === 1) return 0;
    const env = this.childEnv();
    const path = findCommand(this.libc, argv[1], env);
    if (path === null) {
      this.error(`exec: ${argv[1]}: not found`);
      throw new ShellExit(127);
    }
    throw new ShellExit(this.execOrScript(path, argv.slice(1), env));
  }
}

/** dash's echo: -n first, backslash escapes (\c ends the output). */
export function builtinEcho(l: Libc, argv: string[]): number {
  let args = argv.slice(1);
  let newline = true;
  if (args[0] === "-n") {
    newline = false;
    args = args.slice(1);
  }
  let out = "";
  for (let i = 0; i < args.length; i++) {
    if (i > 0) out += " ";
    const r = echoEscapes(args[i], false);
    out += r.text;
    if (r.stop) {
      l.dprint(1, out);
      return 0;
    }
  }
  l.dprint(1, newline ? out + "\n" : out);
  return 0;
}

/** 'value' with embedded quotes, as dash's export -p prints it. */
function shellQuote(v: string): string {
  return `'${v.replace(/'/g, `'"'"'`)}'`;
}

/** dash's message for a failed open(O_CREAT). */
function createError(e: number): string {
  if (e === ENOENT || e === ENOTDIR) return "Directory nonexistent";
  return strerror(e);
}

/** dash's message for a failed open for reading. */
function openError(e: number): string {
  if (e === ENOENT || e === ENOTDIR) return "No such file";
  if (e === EBADF) return "Bad file descriptor";
  return strerror(e);
}

export default function main(argv: string[], envp: string[], libc: Libc): number {
  const name = argv[0] ?? "sh";
  let i = 1;
  let command: string | null = null;
  let fromStdin = false;
  let errexit = false;
  let xtrace = false;
  for (; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--" || a === "-") {
      i++;
      break;
    }
    if (!/^[-+][a-zA-Z]+$/.test(a)) break;
    for (const f of a.slice(1)) {
      const on = a[0] === "-";
      if (f === "c" && on) command = "";
      else if (f === "s" && on) fromStdin = true;
      else if (f === "e") errexit = on;
      else if (f === "x") xtrace = on;
      else {
        libc.eprintf("%s: 0: Illegal option %s%s\n", name, a[0], f);
        return 2;
      }
    }
  }
  const sh = new Shell(libc, name, envp);
  sh.errexit = errexit;
  sh.xtrace = xtrace;
  if (command !== null) {
    if (i >= argv.length) {
      libc.eprintf("%s: 0: -c requires an argument\n", name);
      return 2;
    }
    command = argv[i++];
    if (i < argv.length) sh.arg0 = argv[i++];
    sh.positional = argv.slice(i);
    return sh.runSource(command);
  }
  if (!fromStdin && i < argv.length) {
    const script = argv[i];
    const src = libc.readFile(script);
    if (src === null) {
      libc.eprintf("%s: 0: cannot open %s: %s\n", name, script, openError(libc.errno));
      return 2;
    }
    sh.arg0 = script;
    sh.positional = argv.slice(i + 1);
    return sh.runSource(src);
  }
  sh.positional = argv.slice(i);
  let src = "";
  const buf = libc.mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
  if (buf === MAP_FAILED) return 2;
  for (;;) {
    const n = libc.read(0, buf, 4096);
    if (n <= 0) break;
    src += Buffer.from(libc.mem.readBytes(buf, n)).toString("latin1");
  }
  libc.munmap(buf, 4096);
  return sh.runSource(src);
}
