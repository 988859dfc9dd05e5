// /bin/echo: print the arguments (GNU coreutils echo).
//
//   echo [-neE] [STRING...]
//
// -n: no trailing newline; -e: interpret backslash escapes (\\ \a \b \c \e
// \f \n \r \t \v \0NNN \xHH; \c ends all output); -E: do not (the default).
// An argument is taken as options only if it is all of n, e and E after the
// dash; anything else is printed.

import type { Libc } from "../../libc/libc.ts";

/**
 * Backslash escapes as echo -e reads them; `hex` adds GNU's \xHH (dash's
 * builtin echo, which always interprets escapes, has no \x).
 */
export function echoEscapes(s: string, hex: boolean): { text: string; stop: boolean } {
  let out = "";
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c !== "\\" || i + 1 >= s.length) {
      out += c;
      continue;
    }
    const n = s[++i];
    switch (n) {
      case "a": out += "\x07"; break;
      case "b": out += "\b"; break;
      case "c": return { text: out, stop: true };
      case "e": out += "\x1b"; break;
      case "f": out += "\f"; break;
      case "n": out += "\n"; break;
      case "r": out += "\r"; break;
      case "t": out += "\t"; break;
      case "v": out += "\v"; break;
      case "\\": out += "\\"; break;
      case "x": {
        if (!hex) {
          out += "\\x";
          break;
        }
        let digits = "";
        while (digits.length < 2 && /[0-9a-fA-F]/.test(s[i + 1] ?? "")) digits += s[++i];
        out += digits === "" ? "\\x" : String.fromCharCode(parseInt(digits, 16));
        break;
      }
      case "0": {
        let v = 0;
        for (let k = 0; k < 3 && /[0-7]/.test(s[i + 1] ?? ""); k++) v = v * 8 + Number(s[++i]);
        out += String.fromCharCode(v & 0xff);
        break;
      }
      default:
        out += "\\" + n;
    }
  }
  return { text: out, stop: false };
}

export default function main(argv: string[], _envp: string[], libc: Libc): number {
  let newline = true;
  let interpret = false;
  let i = 1;
  for (; i < argv.length; i++) {
    const a = argv[i];
    if (!/^-[neE]+$/.test(a)) break;
    for (const f of a.slice(1)) {
      if (f === "n") newline = false;
      else if (f === "e") interpret = true;
      else interpret = false;
    }
  }
  let out = "";
  const args = argv.slice(i);
  for (let k = 0; k < args.length; k++) {
    if (k > 0) out += " ";
    if (!interpret) {
      out += args[k];
      continue;
    }
    const r = echoEscapes(args[k], true);
    out += r.text;
    if (r.stop) {
      libc.dprint(1, out);
      return 0;
    }
  }
  libc.dprint(1, newline ? out + "\n" : out);
  return 0;
}
