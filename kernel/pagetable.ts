// i386 two-level page tables, kept in emulated physical frames as on real
// hardware: a page directory of 1024 PDEs, each pointing at a page table of
// 1024 PTEs; one PTE maps one 4 KiB page.
//
//   linear address:  31        22 21        12 11          0
//                   | dir index  | table index | page offset |
//
//   PTE / PDE:       31                     12 11  9 8 7 6 5   2 1 0
//                   |      frame number      | AVL |.|.|D|A|..|U|W|P|
//
// The software bits (AVL) mark the shared zero page (SPECIAL) and a page kept
// while its VMA is PROT_NONE (PROTNONE, present bit clear, as Linux does).

export const PTE_P = 0x001;
export const PTE_RW = 0x002;
export const PTE_U = 0x004;
export const PTE_A = 0x020;
export const PTE_D = 0x040;
export const PTE_PROTNONE = 0x100;
export const PTE_SPECIAL = 0x200;

/** PTE bits a VMA gives a private or shared page (never RW: that comes from the fault path). */
export const PTE_USER = PTE_P | PTE_U;

/** A PTE that still holds a frame: present, or hidden by PROT_NONE. */
export function pteHasFrame(pte: number): boolean {
  return (pte & (PTE_P | PTE_PROTNONE)) !== 0;
}

export function pteFrame(pte: number): number {
  return pte >>> 12;
}

export function mkPte(frame: number, bits: number): number {
  return (frame << 12) | bits;
}

/** i32 index of the page directory entry for vaddr. */
export function pdeIndex(pgd: number, vaddr: number): number {
  return (pgd << 10) | (vaddr >>> 22);
}

/** i32 index of the PTE for vaddr in the page table held by ptFrame. */
export function pteIndex(ptFrame: number, vaddr: number): number {
  return (ptFrame << 10) | ((vaddr >>> 12) & 0x3ff);
}
