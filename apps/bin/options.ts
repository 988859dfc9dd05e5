// getopt(3) for programs: short options from an optstring ("p:b:" — a colon
// means the option takes a value), stopping at the first non-option or "--".

export interface Parsed {
  opts: Record<string, string | true>;
  /** Options in the order given (repeatable flags like -v count). */
  seen: [string, string | true][];
  args: string[];
}

/** Parse argv[1..]; a string is getopt's complaint about a bad option. */
export function parseOptions(argv: readonly string[], optstring: string): Parsed | string {
  const opts: Record<string, string | true> = {};
  const seen: [string, string | true][] = [];
  let i = 1;
  for (; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--") {
      i++;
      break;
    }
    if (!a.startsWith("-") || a === "-") break;
    for (let j = 1; j < a.length; j++) {
      const c = a[j];
      const at = optstring.indexOf(c);
      if (at < 0 || c === ":") return `invalid option -- '${c}'`;
      if (optstring[at + 1] === ":") {
        const v = j + 1 < a.length ? a.slice(j + 1) : argv[++i];
        if (v === undefined) return `option requires an argument -- '${c}'`;
        opts[c] = v;
        seen.push([c, v]);
        break;
      }
      opts[c] = true;
      seen.push([c, true]);
    }
  }
  return { opts, seen, args: argv.slice(i) };
}
