// The wasm and asm.js peers of the malloc bench, each as a replay Heap over
// its own linear memory (shared/reference/peers.md):
//
//   dlmalloc-wasm   emscripten's default malloc (dlmalloc) inside sql.js's
//                   wasm build; its Memory is not exposed, so we capture it
//                   by wrapping WebAssembly.instantiate while sql.js starts.
//   dlmalloc-asmjs  the same C compiled to plain JS (sql-asm.js) over one
//                   fixed ArrayBuffer, captured by watching ArrayBuffer
//                   construction while it starts (the largest one made).
//   tlsf-wasm       AssemblyScript's runtime TLSF (build.ts compiles it).
//
// sql.js exports only _malloc and _free, so their realloc is the caller's:
// malloc(n), copy min(old, n) bytes, free(old). Memory that grows detaches
// the old buffer (its views read length 0), so the view is renewed after
// every call that can grow it.

import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { ROOT, packageVersion } from "./build.ts";
import type { Heap } from "./replay.ts";

export interface PeerHeap {
  heap: Heap;
  label: string;
  version: string;
  /** Bytes of linear memory the allocator has now (after a replay: what it grew to). */
  memoryBytes: () => number;
  notes: string[];
}

const require = createRequire(import.meta.url);

// The parts of the WebAssembly JS API used here (the project's lib settings
// declare no WebAssembly types).
interface WasmMemory {
  readonly buffer: ArrayBuffer;
}
interface WasmInstance {
  readonly exports: Record<string, unknown>;
}
interface WasmApi {
  Memory: abstract new (...args: never[]) => WasmMemory;
  instantiate(bytes: Uint8Array, imports?: object): Promise<{ instance: WasmInstance }>;
}
const WA = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

interface SqlJsModule {
  _malloc: (n: number) => number;
  _free: (p: number) => void;
}
type InitSqlJs = () => Promise<SqlJsModule>;

/** A Heap over malloc/free exports without realloc, on a memory whose buffer may be replaced. */
function mallocFreeHeap(malloc: (n: number) => number, free: (p: number) => void, buffer: () => ArrayBuffer): Heap {
  let u8 = new Uint8Array(buffer());
  return {
    malloc(n: number): number {
      const p = malloc(n);
      if (u8.length === 0) u8 = new Uint8Array(buffer());
      return p;
    },
    free(p: number): void {
      free(p);
    },
    realloc(p: number, old: number, n: number): number {
      const q = malloc(n);
      if (u8.length === 0) u8 = new Uint8Array(buffer());
      if (q === 0) return 0;
      u8.copyWithin(q, p, p + (old < n ? old : n));
      free(p);
      return q;
    },
    read8(a: number): number {
      return u8[a];
    },
    write8(a: number, v: number): void {
      u8[a] = v;
    },
  };
}

/**
 * Check that `buf` really is the memory the allocator hands out from: a
 * dlmalloc chunk's head word (4 bytes before the pointer) holds its size
 * with the in-use bits, at least n + 4.
 */
function checkDlmallocMemory(m: SqlJsModule, buf: ArrayBuffer, what: string): void {
  const p = m._malloc(100);
  const head = new DataView(buf).getUint32(p - 4, true);
  m._free(p);
  if (p <= 0 || p + 100 > buf.byteLength || (head & ~7) < 104 || (head & ~7) > 4096 || (head & 2) === 0) {
    throw new Error(`${what}: captured memory does not hold dlmalloc's chunk at ${p} (head 0x${head.toString(16)})`);
  }
}

export async function dlmallocWasm(): Promise<PeerHeap> {
  const version = packageVersion("sql.js") ?? "?";
  let memory: WasmMemory | null = null;
  const orig = WA.instantiate;
  // instantiate(bytes) resolves to {module, instance}; instantiate(module) to the instance.
  const wrapped = async (...args: unknown[]): Promise<unknown> => {
    const r = (await (orig as (...a: unknown[]) => Promise<unknown>).apply(WA, args)) as { instance: WasmInstance } | WasmInstance;
    const inst = "instance" in r ? r.instance : r;
    for (const v of Object.values(inst.exports)) if (v instanceof WA.Memory) memory = v;
    return r;
  };
  (WA as { instantiate: unknown }).instantiate = wrapped;
  let m: SqlJsModule;
  try {
    m = await (require(join(ROOT, "node_modules", "sql.js", "dist", "sql-wasm.js")) as InitSqlJs)();
  } finally {
    (WA as { instantiate: unknown }).instantiate = orig;
  }
  const mem = memory as WasmMemory | null;
  if (mem === null) throw new Error("sql.js wasm: no WebAssembly.Memory captured from WebAssembly.instantiate");
  checkDlmallocMemory(m, mem.buffer, "sql.js wasm");
  return {
    heap: mallocFreeHeap(m._malloc, m._free, () => mem.buffer),
    label: "dlmalloc (emscripten) in sql.js wasm",
    version: `sql.js ${version}`,
    memoryBytes: () => mem.buffer.byteLength,
    notes: ["only _malloc/_free exported: realloc = malloc + copy(min(old,new)) + free", "8-B alignment, growable sbrk heap"],
  };
}

export async function dlmallocAsmjs(): Promise<PeerHeap> {
  const version = packageVersion("sql.js") ?? "?";
  // sql-asm.js makes its heap with `new ArrayBuffer(N)` at start-up; watch
  // ArrayBuffer construction (a Proxy keeps instanceof and the prototype).
  const Orig = globalThis.ArrayBuffer;
  let largest: ArrayBuffer | null = null;
  globalThis.ArrayBuffer = new Proxy(Orig, {
    construct(target, args, newTarget) {
      const b = Reflect.construct(target, args, newTarget) as ArrayBuffer;
      if (largest === null || b.byteLength > largest.byteLength) largest = b;
      return b;
    },
  });
  let m: SqlJsModule;
  // The asm.js build prints a deprecation notice on stdout; keep our stdout clean.
  const log = console.log;
  console.log = (...a: unknown[]) => console.error(...a);
  try {
    m = await (require(join(ROOT, "node_modules", "sql.js", "dist", "sql-asm.js")) as InitSqlJs)();
  } finally {
    globalThis.ArrayBuffer = Orig;
    console.log = log;
  }
  const buf = largest as ArrayBuffer | null;
  if (buf === null) throw new Error("sql.js asm.js: no ArrayBuffer seen at start-up");
  checkDlmallocMemory(m, buf, "sql.js asm.js");
  return {
    heap: mallocFreeHeap(m._malloc, m._free, () => buf),
    label: "dlmalloc (emscripten) in sql.js asm.js",
    version: `sql.js ${version}`,
    memoryBytes: () => buf.byteLength,
    notes: ["plain JS over one ArrayBuffer (sql-asm.js)", "realloc = malloc + copy + free", "fixed heap of this build"],
  };
}

interface TlsfExports {
  malloc: (n: number) => number;
  free: (p: number) => void;
  realloc: (p: number, n: number) => number;
  memory: WasmMemory;
}

export async function tlsfWasm(wasmPath: string): Promise<PeerHeap> {
  const version = packageVersion("assemblyscript") ?? "?";
  const abort = (): never => {
    throw new Error("AssemblyScript abort");
  };
  const { instance } = await WA.instantiate(readFileSync(wasmPath), { env: { abort } });
  const x = instance.exports as unknown as TlsfExports;
  const mem = x.memory;
  const malloc = x.malloc;
  const free = x.free;
  const realloc = x.realloc;
  let u8 = new Uint8Array(mem.buffer);
  const heap: Heap = {
    malloc(n: number): number {
      const p = malloc(n);
      if (u8.length === 0) u8 = new Uint8Array(mem.buffer);
      return p;
    },
    free(p: number): void {
      free(p);
    },
    realloc(p: number, _old: number, n: number): number {
      const q = realloc(p, n);
      if (u8.length === 0) u8 = new Uint8Array(mem.buffer);
      return q;
    },
    read8(a: number): number {
      return u8[a];
    },
    write8(a: number, v: number): void {
      u8[a] = v;
    },
  };
  return {
    heap,
    label: "AssemblyScript TLSF (rt/tlsf.ts) wasm",
    version: `assemblyscript ${version}`,
    memoryBytes: () => mem.buffer.byteLength,
    notes: ["asc --runtime minimal -O3 --noAssert; real realloc", "grows wasm memory by doubling"],
  };
}
