// printf-style formatting (the subset programs here use): flags - + space 0 #,
// width and precision (also *), length modifiers h hh l ll z (ignored: values
// are JS numbers), conversions d i u x X o c s p f e g %.
// %s takes a JS string or a char* into user memory (resolved by `str`).

export type FormatArg = number | string | bigint;

export function formatPrintf(fmt: string, args: readonly FormatArg[], str: (p: number) => string): string {
  let out = "";
  let ai = 0;
  const next = () => args[ai++] ?? 0;
  for (let i = 0; i < fmt.length; i++) {
    const ch = fmt[i];
    if (ch !== "%") {
      out += ch;
      continue;
    }
    let flags = "";
    while ("-+ 0#".includes(fmt[i + 1] ?? "x")) flags += fmt[++i];
    let width = 0;
    if (fmt[i + 1] === "*") {
      i++;
      width = Number(next());
    } else while (/[0-9]/.test(fmt[i + 1] ?? "")) width = width * 10 + Number(fmt[++i]);
    let prec = -1;
    if (fmt[i + 1] === ".") {
      i++;
      prec = 0;
      if (fmt[i + 1] === "*") {
        i++;
        prec = Number(next());
      } else while (/[0-9]/.test(fmt[i + 1] ?? "")) prec = prec * 10 + Number(fmt[++i]);
    }
    while ("hlzjt".includes(fmt[i + 1] ?? "x")) i++;
    const conv = fmt[++i];
    let body: string;
    let sign = "";
    switch (conv) {
      case "%":
        out += "%";
        continue;
      case "d":
      case "i": {
        const v = Number(next());
        const n = Math.trunc(v);
        sign = n < 0 ? "-" : flags.includes("+") ? "+" : flags.includes(" ") ? " " : "";
        body = Math.abs(n).toString();
        if (prec >= 0) body = body.padStart(prec, "0");
        break;
      }
      case "u":
      case "x":
      case "X":
      case "o": {
        // Negative values wrap as i386's 32-bit unsigned (64-bit for bigint, i.e. long long).
        const raw = next();
        const wide = typeof raw === "bigint";
        let v = wide ? raw : BigInt(Math.trunc(Number(raw)));
        if (v < 0n) v += 1n << (wide ? 64n : 32n);
        const base = conv === "u" ? 10 : conv === "o" ? 8 : 16;
        body = v.toString(base);
        if (conv === "X") body = body.toUpperCase();
        if (prec >= 0) body = body.padStart(prec, "0");
        if (flags.includes("#") && v !== 0n) body = (conv === "o" ? "0" : conv === "x" ? "0x" : conv === "X" ? "0X" : "") + body;
        break;
      }
      case "p":
        body = "0x" + (Number(next()) >>> 0).toString(16);
        break;
      case "c": {
        const v = next();
        body = typeof v === "string" ? v.slice(0, 1) : String.fromCharCode(Number(v) & 0xff);
        break;
      }
      case "s": {
        const v = next();
        body = typeof v === "string" ? v : str(Number(v));
        if (prec >= 0) body = body.slice(0, prec);
        break;
      }
      case "f":
      case "e":
      case "g": {
        const v = Number(next());
        const p = prec < 0 ? 6 : prec;
        sign = v < 0 ? "-" : flags.includes("+") ? "+" : "";
        const a = Math.abs(v);
        body = conv === "f" ? a.toFixed(p) : conv === "e" ? a.toExponential(p).replace(/e([+-])(\d)$/, "e$10$2") : String(Number(a.toPrecision(p || 1)));
        break;
      }
      default:
        out += "%" + flags + (conv ?? "");
        continue;
    }
    const len = sign.length + body.length;
    if (len >= width) out += sign + body;
    else if (flags.includes("-")) out += sign + body + " ".repeat(width - len);
    else if (flags.includes("0") && prec < 0 && conv !== "s" && conv !== "c") out += sign + "0".repeat(width - len) + body;
    else out += " ".repeat(width - len) + sign + body;
  }
  return out;
}
