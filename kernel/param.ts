// Machine and layout constants of the emulated i386-like machine.
//
// Glossary: a *frame* is a physical 4 KiB page, a *page* a virtual one, a *VMA*
// a mapped area. Addresses are plain numbers kept unsigned with `>>> 0`.
//
//   0xFFFFFFFF +------------------+
//              |  kernel (unused) |
//   0xC0000000 +------------------+ TASK_SIZE = STACK_TOP
//              |  stack (grows v) |
//              |  MMAP_MIN_GAP    |
//   0xB8000000 +------------------+ MMAP_BASE: mmap area grows down from here
//              |        v         |
//              |        ^         |
//              |  brk heap        | start_brk: page above the program image
//   0x08048000 +------------------+ ELF_ET_BASE: program image
//              |  unmapped        | (below MMAP_MIN_ADDR nothing may be mapped)
//   0x00000000 +------------------+

export const PAGE_SHIFT = 12;
export const PAGE_SIZE = 1 << PAGE_SHIFT;
export const PAGE_MASK = PAGE_SIZE - 1;

export const TASK_SIZE = 0xc0000000;
export const STACK_TOP = TASK_SIZE;
/** Linux mmap_base(): TASK_SIZE minus the stack gap, clamped to at least 128 MiB. */
export const MMAP_MIN_GAP = 128 << 20;
export const MMAP_BASE = TASK_SIZE - MMAP_MIN_GAP;
/** /proc/sys/vm/mmap_min_addr default on x86. */
export const MMAP_MIN_ADDR = 0x10000;
export const ELF_ET_BASE = 0x08048000;
/** Initial stack VMA: 128 KiB plus growth on demand below it (expand_stack). */
export const STACK_INITIAL = 128 << 10;
export const STACK_RLIMIT = 8 << 20;
/** Bottom-up mmap search start when top-down fails (TASK_UNMAPPED_BASE). */
export const TASK_UNMAPPED_BASE = TASK_SIZE / 3;
/** stack_guard_gap: 256 pages kept free below a VM_GROWSDOWN VMA. */
export const STACK_GUARD_GAP = 256 << 12;
/** vm.max_map_count default: 65535 - 5. */
export const MAX_MAP_COUNT = 65530;

/** Default emulated RAM. */
export const DEFAULT_MEM_BYTES = 256 << 20;
/** Buddy allocator orders 0..MAX_ORDER-1 (Linux MAX_ORDER 11: blocks up to 4 MiB). */
export const MAX_ORDER = 11;

/** PAGE_ALIGN with 32-bit unsigned wrap-around, as on i386: 0xfffff001 aligns to 0. */
export function pageAlignUp(x: number): number {
  return ((x + PAGE_MASK) & ~PAGE_MASK) >>> 0;
}

export function pageAlignDown(x: number): number {
  return (x & ~PAGE_MASK) >>> 0;
}

/** One page table maps 4 MiB (PGDIR_SIZE on i386 without PAE). */
export const PGDIR_SIZE = 0x400000;

/** Start of the 4 MiB block a page table covers. */
export function pgdirAlignDown(x: number): number {
  return (x & ~(PGDIR_SIZE - 1)) >>> 0;
}

export function offsetInPage(x: number): number {
  return x & PAGE_MASK;
}
