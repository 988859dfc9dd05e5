// The events the hot paths count. Nothing here has a price: cost/price.ts
// turns counts into cycles with a machine profile (cost/machines.ts).
//
// Kernel events each belong to one kernel symbol. User events belong to the
// user symbol the task is executing when they happen (malloc, cc1's parser,
// ebizzy's search...), so counters are kept per (task, symbol).

/** Kernel events; the symbol each is charged to is in KERNEL_EVENT_SYMBOL. */
export const Kev = {
  SYSCALL: 0, // one syscall entry and exit
  FAULT: 1, // one page-fault trap: entry, VMA lookup, exit (every fault)
  FAULT_ANON_READ: 2, // read fault mapped to the shared zero page
  FAULT_ANON_WRITE: 3, // write fault that allocated a frame (rmap, LRU, charge; not the clear)
  FAULT_WP: 4, // write-protect fault (COW break or reuse)
  FAULT_SHARED: 5, // fault on a shared or file mapping
  PAGE_ALLOC: 6, // one frame taken from the page allocator
  PAGE_FREE: 7, // one frame returned to the page allocator
  CLEAR_HOT_BYTES: 8, // bytes cleared in cache-hot frames (just freed, reused at once)
  CLEAR_COLD_BYTES: 9, // bytes cleared in cache-cold frames
  CLEAR_IDLE_BYTES: 10, // bytes cleared off the critical path (idle pre-zeroing)
  COPY_PAGE_BYTES: 11, // bytes copied by copy-on-write
  ZAP_PTE: 12, // one present PTE torn down (munmap, exit, MADV_DONTNEED)
  VMA_OP: 13, // one VMA created, split, merged or removed
  TLB_FLUSH: 14, // one TLB flush of a range or of the whole mm
  COPY_USER_BYTES: 15, // bytes moved by copy_to_user / copy_from_user / strncpy_from_user
  PGTABLE_ALLOC: 16, // one page-table frame allocated (and cleared)
  FORK_PTE: 17, // one PTE copied by fork
  EXEC: 18, // one execve: binary load and initial stack
  CONTEXT_SWITCH: 19, // one switch between tasks
  ARCH_WORK: 20, // generic kernel bookkeeping units (VFS, process table)
  PREZERO_COLD_TOUCH: 21, // a task's first touch of a pre-zeroed, cache-cold frame (prezero policy)
} as const;
export const NKEV = 22;

/** Kernel symbol each kernel event is charged to, as oprofile would show it. */
export const KERNEL_EVENT_SYMBOL: readonly string[] = [
  "system_call",
  "do_page_fault",
  "do_anonymous_page",
  "do_anonymous_page",
  "do_wp_page",
  "filemap_fault",
  "get_page_from_freelist",
  "free_hot_cold_page",
  "clear_page",
  "clear_page",
  "clear_page",
  "copy_page",
  "unmap_vmas",
  "vma_merge",
  "flush_tlb_mm",
  "copy_user_generic",
  "pte_alloc_one",
  "copy_page_range",
  "do_execve",
  "schedule",
  "vfs_kernel_work",
  "prezero_cold_touch",
];

/** User events, counted per user symbol. */
export const Uev = {
  ACCESS: 0, // one load or store through the user-memory accessor
  TLB_MISS: 1, // one software-TLB miss (a page walk)
  BYTES: 2, // bytes moved or set by a bulk operation (memcpy, memset, read/write of ranges)
  INSN: 3, // instructions of program work the program itself counts
} as const;
export const NUEV = 4;

export interface SymbolInfo {
  readonly image: string;
  readonly name: string;
}

/** User symbols, interned: (image, name) -> id. Id 0 is the program's unnamed main code. */
export class SymbolTable {
  private readonly ids = new Map<string, number>();
  readonly list: SymbolInfo[] = [];

  intern(image: string, name: string): number {
    const key = `${image}\0${name}`;
    let id = this.ids.get(key);
    if (id === undefined) {
      id = this.list.length;
      this.list.push({ image, name });
      this.ids.set(key, id);
    }
    return id;
  }
}

/** One task's event counts. */
export class Counters {
  readonly k = new Float64Array(NKEV);
  /** User events: u[sym * NUEV + uev]. Grows as symbols appear. */
  u = new Float64Array(16 * NUEV);
  /** Syscalls by number (for the strace -c style summary). */
  readonly syscalls = new Map<number, number>();

  addUser(sym: number, uev: number, n: number): void {
    this.ensure(sym)[sym * NUEV + uev] += n;
  }

  /** Room for symbol `sym`'s user counters; the (possibly new) array. */
  ensure(sym: number): Float64Array {
    if ((sym + 1) * NUEV > this.u.length) {
      const grown = new Float64Array(Math.max(this.u.length * 2, (sym + 1) * NUEV));
      grown.set(this.u);
      this.u = grown;
    }
    return this.u;
  }

  /** Remove counts taken earlier (the part of a total before some point). */
  subtract(o: Counters): void {
    for (let i = 0; i < NKEV; i++) this.k[i] -= o.k[i];
    for (let i = 0; i < o.u.length; i++) if (o.u[i] !== 0) this.addUser(Math.floor(i / NUEV), i % NUEV, -o.u[i]);
    for (const [nr, n] of o.syscalls) this.syscalls.set(nr, (this.syscalls.get(nr) ?? 0) - n);
  }

  /** Add another task's counts (rusage of children, whole-run totals). */
  merge(o: Counters): void {
    for (let i = 0; i < NKEV; i++) this.k[i] += o.k[i];
    for (let i = o.u.length - 1; i >= 0; i--) {
      if (o.u[i] !== 0) this.addUser(Math.floor(i / NUEV), i % NUEV, o.u[i]);
    }
    for (const [nr, n] of o.syscalls) this.syscalls.set(nr, (this.syscalls.get(nr) ?? 0) + n);
  }
}
