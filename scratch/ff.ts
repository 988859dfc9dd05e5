import { Gunzip } from "fflate";
import { gzipSync } from "node:zlib";
const a = gzipSync(Buffer.from("hello\nworld\n")), b = gzipSync(Buffer.from("second member\n"));
for (const input of [Buffer.concat([a, b]), a.subarray(0, a.length - 5), a.subarray(0, a.length - 1), a.subarray(0, a.length - 9), a.subarray(0, 12)]) {
  let out = "";
  const g = new Gunzip((d, final) => { out += Buffer.from(d).toString(); });
  try {
    for (let i = 0; i < input.length; i += 3) g.push(input.subarray(i, i + 3), false);
    g.push(new Uint8Array(0), true);
    console.log("ok", JSON.stringify(out));
  } catch (e) { console.log("err", (e as Error).message, JSON.stringify(out)); }
}
