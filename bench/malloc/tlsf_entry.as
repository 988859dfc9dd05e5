// AssemblyScript entry for the malloc bench's TLSF peer: the runtime's own
// allocator (std/assembly/rt/tlsf.ts, selected by `--runtime minimal`)
// exported as malloc/free/realloc. bench/malloc/build.ts copies this file to
// a temporary NAME.ts (asc wants that extension; a .ts under bench/ would be
// type-checked by tsc as TypeScript) and compiles it with
//   asc ENTRY.ts --runtime minimal -O3 --noAssert -o bench/native/bin/tlsf-*.wasm

export function malloc(size: usize): usize {
  return heap.alloc(size);
}

export function free(ptr: usize): void {
  heap.free(ptr);
}

export function realloc(ptr: usize, size: usize): usize {
  return heap.realloc(ptr, size);
}
