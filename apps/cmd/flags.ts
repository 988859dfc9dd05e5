// Command-line flags for nozero's commands: --name VALUE or --name=VALUE,
// stopping at the first operand or "--". A bad flag is a UsageError, which
// the CLI turns into the command's usage text and exit code 2.

export class UsageError extends Error {}

export type FlagSpec = Record<string, { kind: "bool" | "int" | "string"; values?: readonly string[] }>;

export interface ParsedFlags {
  flags: Record<string, string | number | boolean>;
  rest: string[];
}

export function parseFlags(args: readonly string[], spec: FlagSpec, stopAtOperand = true): ParsedFlags {
  const flags: Record<string, string | number | boolean> = {};
  const rest: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === "--") {
      rest.push(...args.slice(i + 1));
      break;
    }
    if (!a.startsWith("--")) {
      if (stopAtOperand) {
        rest.push(...args.slice(i));
        break;
      }
      rest.push(a);
      continue;
    }
    const eq = a.indexOf("=");
    const name = a.slice(2, eq < 0 ? undefined : eq);
    const s = spec[name];
    if (s === undefined) throw new UsageError(`unknown option --${name}`);
    if (s.kind === "bool") {
      if (eq >= 0) throw new UsageError(`--${name} takes no value`);
      flags[name] = true;
      continue;
    }
    const v = eq >= 0 ? a.slice(eq + 1) : args[++i];
    if (v === undefined) throw new UsageError(`--${name} needs a value`);
    if (s.values && !s.values.includes(v)) throw new UsageError(`--${name} must be one of ${s.values.join(", ")}`);
    if (s.kind === "int") {
      if (!/^[0-9]+$/.test(v)) throw new UsageError(`--${name} needs a whole number, got '${v}'`);
      flags[name] = Number(v);
    } else flags[name] = v;
  }
  return { flags, rest };
}
