// The mm system-call ABI: PROT_*, MAP_*, MREMAP_*, MADV_* (Linux uapi values)
// plus the 2007 patch's MAP_NOZERO and brk2's BRK_NOZERO.

export const PROT_NONE = 0x0;
export const PROT_READ = 0x1;
export const PROT_WRITE = 0x2;
export const PROT_EXEC = 0x4;
export const PROT_SEM = 0x8;
export const PROT_GROWSDOWN = 0x01000000;
export const PROT_GROWSUP = 0x02000000;

export const MAP_SHARED = 0x01;
export const MAP_PRIVATE = 0x02;
export const MAP_SHARED_VALIDATE = 0x03;
export const MAP_TYPE = 0x0f;
export const MAP_FIXED = 0x10;
export const MAP_ANONYMOUS = 0x20;
export const MAP_GROWSDOWN = 0x0100;
export const MAP_DENYWRITE = 0x0800;
export const MAP_EXECUTABLE = 0x1000;
export const MAP_LOCKED = 0x2000;
export const MAP_NORESERVE = 0x4000;
export const MAP_POPULATE = 0x8000;
export const MAP_NONBLOCK = 0x10000;
export const MAP_STACK = 0x20000;
export const MAP_HUGETLB = 0x40000;
export const MAP_SYNC = 0x80000;
export const MAP_FIXED_NOREPLACE = 0x100000;
/**
 * The 2007 patch's flag. Bit 26 is also MAP_UNINITIALIZED (no-MMU only) and
 * the low bit of the MAP_HUGE_* size field, so it is refused with MAP_HUGETLB.
 */
export const MAP_NOZERO = 0x04000000;
export const MAP_FAILED = 0xffffffff;

/** Flags MAP_SHARED_VALIDATE accepts (LEGACY_MAP_MASK plus MAP_SYNC). */
export const LEGACY_MAP_MASK =
  MAP_SHARED | MAP_PRIVATE | MAP_FIXED | MAP_ANONYMOUS | MAP_DENYWRITE | MAP_EXECUTABLE |
  MAP_GROWSDOWN | MAP_LOCKED | MAP_NORESERVE | MAP_POPULATE | MAP_NONBLOCK | MAP_STACK |
  MAP_HUGETLB;

export const MREMAP_MAYMOVE = 1;
export const MREMAP_FIXED = 2;
export const MREMAP_DONTUNMAP = 4;

export const MADV_NORMAL = 0;
export const MADV_RANDOM = 1;
export const MADV_SEQUENTIAL = 2;
export const MADV_WILLNEED = 3;
export const MADV_DONTNEED = 4;
export const MADV_FREE = 8;
export const MADV_REMOVE = 9;
export const MADV_DONTFORK = 10;
export const MADV_DOFORK = 11;
export const MADV_HUGEPAGE = 14;
export const MADV_NOHUGEPAGE = 15;
export const MADV_DONTDUMP = 16;
export const MADV_DODUMP = 17;
export const MADV_WIPEONFORK = 18;
export const MADV_KEEPONFORK = 19;
export const MADV_MERGEABLE = 12;
export const MADV_UNMERGEABLE = 13;
export const MADV_COLD = 20;
export const MADV_PAGEOUT = 21;
export const MADV_POPULATE_READ = 22;
export const MADV_POPULATE_WRITE = 23;
export const MADV_DONTNEED_LOCKED = 24;

/** brk2 flags: BRK_NOZERO marks the heap VM_NOZERO. */
export const BRK_NOZERO = 0x1;

const PROT_NAMES: [number, string][] = [
  [PROT_READ, "PROT_READ"], [PROT_WRITE, "PROT_WRITE"], [PROT_EXEC, "PROT_EXEC"],
  [PROT_SEM, "PROT_SEM"], [PROT_GROWSDOWN, "PROT_GROWSDOWN"], [PROT_GROWSUP, "PROT_GROWSUP"],
];
const MAP_NAMES: [number, string][] = [
  [MAP_FIXED, "MAP_FIXED"], [MAP_ANONYMOUS, "MAP_ANONYMOUS"], [MAP_GROWSDOWN, "MAP_GROWSDOWN"],
  [MAP_DENYWRITE, "MAP_DENYWRITE"], [MAP_EXECUTABLE, "MAP_EXECUTABLE"], [MAP_LOCKED, "MAP_LOCKED"],
  [MAP_NORESERVE, "MAP_NORESERVE"], [MAP_POPULATE, "MAP_POPULATE"], [MAP_NONBLOCK, "MAP_NONBLOCK"],
  [MAP_STACK, "MAP_STACK"], [MAP_HUGETLB, "MAP_HUGETLB"], [MAP_SYNC, "MAP_SYNC"],
  [MAP_FIXED_NOREPLACE, "MAP_FIXED_NOREPLACE"], [MAP_NOZERO, "MAP_NOZERO"],
];
const MAP_TYPES: Record<number, string> = {
  [MAP_SHARED]: "MAP_SHARED", [MAP_PRIVATE]: "MAP_PRIVATE", [MAP_SHARED_VALIDATE]: "MAP_SHARED_VALIDATE",
};
const MREMAP_NAMES: [number, string][] = [
  [MREMAP_MAYMOVE, "MREMAP_MAYMOVE"], [MREMAP_FIXED, "MREMAP_FIXED"], [MREMAP_DONTUNMAP, "MREMAP_DONTUNMAP"],
];
const MADV_NAMES: Record<number, string> = {
  [MADV_NORMAL]: "MADV_NORMAL", [MADV_RANDOM]: "MADV_RANDOM", [MADV_SEQUENTIAL]: "MADV_SEQUENTIAL",
  [MADV_WILLNEED]: "MADV_WILLNEED", [MADV_DONTNEED]: "MADV_DONTNEED", [MADV_FREE]: "MADV_FREE",
  [MADV_REMOVE]: "MADV_REMOVE", [MADV_DONTFORK]: "MADV_DONTFORK", [MADV_DOFORK]: "MADV_DOFORK",
  [MADV_HUGEPAGE]: "MADV_HUGEPAGE", [MADV_NOHUGEPAGE]: "MADV_NOHUGEPAGE",
  [MADV_DONTDUMP]: "MADV_DONTDUMP", [MADV_DODUMP]: "MADV_DODUMP",
  [MADV_WIPEONFORK]: "MADV_WIPEONFORK", [MADV_KEEPONFORK]: "MADV_KEEPONFORK",
  [MADV_MERGEABLE]: "MADV_MERGEABLE", [MADV_UNMERGEABLE]: "MADV_UNMERGEABLE", [MADV_COLD]: "MADV_COLD",
  [MADV_PAGEOUT]: "MADV_PAGEOUT", [MADV_POPULATE_READ]: "MADV_POPULATE_READ",
  [MADV_POPULATE_WRITE]: "MADV_POPULATE_WRITE", [MADV_DONTNEED_LOCKED]: "MADV_DONTNEED_LOCKED",
};

/** "A|B|0x40" for a bit set, as strace prints flags. */
export function formatBits(v: number, names: [number, string][], zero: string): string {
  const parts: string[] = [];
  let rest = v >>> 0;
  for (const [bit, name] of names) {
    if (rest & bit) {
      parts.push(name);
      rest = (rest & ~bit) >>> 0;
    }
  }
  if (rest) parts.push(`0x${rest.toString(16)}`);
  return parts.length ? parts.join("|") : zero;
}

export function formatProt(p: number): string {
  return formatBits(p, PROT_NAMES, "PROT_NONE");
}

export function formatMapFlags(f: number): string {
  const type = MAP_TYPES[f & MAP_TYPE] ?? `0x${(f & MAP_TYPE).toString(16)}`;
  const rest = formatBits(f & ~MAP_TYPE, MAP_NAMES, "");
  return rest ? `${type}|${rest}` : type;
}

export function formatMremapFlags(f: number): string {
  return formatBits(f, MREMAP_NAMES, "0");
}

export function formatMadvise(a: number): string {
  return MADV_NAMES[a] ?? String(a);
}

export function formatBrkFlags(f: number): string {
  return formatBits(f, [[BRK_NOZERO, "BRK_NOZERO"]], "0");
}
