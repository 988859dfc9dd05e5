// Statistics in glibc's forms: mallinfo2 (int_mallinfo over every arena),
// malloc_stats (to stderr) and malloc_info (XML).

import * as L from "./layout.ts";
import type { Malloc } from "./malloc.ts";

export interface Mallinfo2 {
  arena: number;
  ordblks: number;
  smblks: number;
  hblks: number;
  hblkhd: number;
  usmblks: number;
  fsmblks: number;
  uordblks: number;
  fordblks: number;
  keepcost: number;
}

function arenas(m: Malloc): number[] {
  const out: number[] = [];
  let av = m.av0;
  do {
    out.push(av);
    av = m.mem.readU32(av + L.AV_NEXT);
  } while (av !== m.av0 && av !== 0);
  return out;
}

/** int_mallinfo for one arena, added into mi. */
function intMallinfo(m: Malloc, av: number, mi: Mallinfo2): void {
  const mem = m.mem;
  let nfastblocks = 0;
  let fastavail = 0;
  for (let i = 0; i < L.NFASTBINS; i++) {
    for (let p = mem.readU32(av + L.AV_FASTBINS + 4 * i); p !== 0; p = L.protectPtr(p + L.F_FD, mem.readU32(p + L.F_FD))) {
      if (L.misalignedChunk(p)) m.printerr("int_mallinfo(): unaligned fastbin chunk detected");
      nfastblocks++;
      fastavail += mem.readU32(p + L.F_SIZE) & ~L.SIZE_BITS;
    }
  }
  const top = mem.readU32(av + L.AV_TOP);
  let avail = (mem.readU32(top + L.F_SIZE) & ~L.SIZE_BITS) + fastavail;
  let nblocks = 1; // top
  for (let i = 1; i < L.NBINS; i++) {
    const b = L.binAt(av, i);
    for (let p = mem.readU32(b + L.F_BK); p !== b; p = mem.readU32(p + L.F_BK)) {
      nblocks++;
      avail += mem.readU32(p + L.F_SIZE) & ~L.SIZE_BITS;
    }
  }
  const sys = mem.readU32(av + L.AV_SYSTEM_MEM);
  mi.smblks += nfastblocks;
  mi.ordblks += nblocks;
  mi.fordblks += avail;
  mi.uordblks += sys - avail;
  mi.arena += sys;
  mi.fsmblks += fastavail;
  if (av === m.av0) {
    mi.hblks = m.g(L.MP_N_MMAPS);
    mi.hblkhd = m.g(L.MP_MMAPPED_MEM);
    mi.usmblks = 0;
    mi.keepcost = mem.readU32(top + L.F_SIZE) & ~L.SIZE_BITS;
  }
}

export function mallinfo2(m: Malloc): Mallinfo2 {
  m.ensureInit();
  const mi: Mallinfo2 = { arena: 0, ordblks: 0, smblks: 0, hblks: 0, hblkhd: 0, usmblks: 0, fsmblks: 0, uordblks: 0, fordblks: 0, keepcost: 0 };
  for (const av of arenas(m)) intMallinfo(m, av, mi);
  return mi;
}

/** What the allocator took from the kernel at most: the heaps (malloc_info's <system type="max">) and mmap'd chunks (malloc_stats' max mmap bytes). */
export function mallocPeaks(m: Malloc): { maxSystemMem: number; maxMmappedMem: number } {
  m.ensureInit();
  let maxSystemMem = 0;
  for (const av of arenas(m)) maxSystemMem += m.mem.readU32(av + L.AV_MAX_SYSTEM_MEM);
  return { maxSystemMem, maxMmappedMem: m.g(L.MP_MAX_MMAPPED_MEM) };
}

const u10 = (n: number) => String(n >>> 0).padStart(10, " ");

/** malloc_stats: per arena system and in-use bytes, then totals including mmap, to stderr. */
export function mallocStatsText(m: Malloc): string {
  m.ensureInit();
  let out = "";
  let system = m.g(L.MP_MMAPPED_MEM);
  let inUse = system;
  arenas(m).forEach((av, i) => {
    const mi: Mallinfo2 = { arena: 0, ordblks: 0, smblks: 0, hblks: 0, hblkhd: 0, usmblks: 0, fsmblks: 0, uordblks: 0, fordblks: 0, keepcost: 0 };
    intMallinfo(m, av, mi);
    out += `Arena ${i}:\nsystem bytes     = ${u10(mi.arena)}\nin use bytes     = ${u10(mi.uordblks)}\n`;
    system += mi.arena;
    inUse += mi.uordblks;
  });
  out += `Total (incl. mmap):\nsystem bytes     = ${u10(system)}\nin use bytes     = ${u10(inUse)}\n`;
  out += `max mmap regions = ${u10(m.g(L.MP_MAX_N_MMAPS))}\nmax mmap bytes   = ${String(m.g(L.MP_MAX_MMAPPED_MEM)).padStart(10, " ")}\n`;
  return out;
}

/** malloc_info(0, fp): glibc's XML. */
export function mallocInfoText(m: Malloc): string {
  m.ensureInit();
  const mem = m.mem;
  let out = '<malloc version="1">\n';
  let totalNfastblocks = 0;
  let totalNblocks = 0;
  let totalFastavail = 0;
  let totalAvail = 0;
  let totalSystem = 0;
  let totalMax = 0;
  let totalAspace = 0;
  let totalAspaceMprotect = 0;
  arenas(m).forEach((av, n) => {
    out += `<heap nr="${n}">\n<sizes>\n`;
    let nfastblocks = 0;
    let fastavail = 0;
    for (let i = 0; i < L.NFASTBINS; i++) {
      let count = 0;
      let size = 0;
      for (let p = mem.readU32(av + L.AV_FASTBINS + 4 * i); p !== 0; p = L.protectPtr(p + L.F_FD, mem.readU32(p + L.F_FD))) {
        if (L.misalignedChunk(p)) m.printerr("__malloc_info(): unaligned fastbin chunk detected");
        count++;
        size = mem.readU32(p + L.F_SIZE) & ~L.SIZE_BITS;
      }
      if (count > 0) out += `  <size from="${size - (L.MALLOC_ALIGNMENT - 1)}" to="${size}" total="${count * size}" count="${count}"/>\n`;
      nfastblocks += count;
      fastavail += count * size;
    }
    let nblocks = 1;
    const top = mem.readU32(av + L.AV_TOP);
    let avail = mem.readU32(top + L.F_SIZE) & ~L.SIZE_BITS;
    let unsortedLine = "";
    for (let i = 1; i < L.NBINS; i++) {
      const b = L.binAt(av, i);
      let count = 0;
      let total = 0;
      let min = Infinity;
      let max = 0;
      for (let p = mem.readU32(b + L.F_BK); p !== b; p = mem.readU32(p + L.F_BK)) {
        // glibc reads these with chunksize_nomask: a binned chunk's PREV_INUSE bit counts.
        const s = mem.readU32(p + L.F_SIZE);
        count++;
        total += s;
        min = Math.min(min, s);
        max = Math.max(max, s);
      }
      if (count === 0) continue;
      nblocks += count;
      avail += total;
      const line = `  <${i === 1 ? "unsorted" : "size"} from="${min}" to="${max}" total="${total}" count="${count}"/>\n`;
      if (i === 1) unsortedLine = line;
      else out += line;
    }
    out += unsortedLine;
    const sys = mem.readU32(av + L.AV_SYSTEM_MEM);
    const maxSys = mem.readU32(av + L.AV_MAX_SYSTEM_MEM);
    out += "</sizes>\n";
    out += `<total type="fast" count="${nfastblocks}" size="${fastavail}"/>\n`;
    out += `<total type="rest" count="${nblocks}" size="${avail}"/>\n`;
    out += `<system type="current" size="${sys}"/>\n<system type="max" size="${maxSys}"/>\n`;
    if (av !== m.av0) {
      // Walk the arena's heaps for their address space.
      let heap = (top & ~(L.HEAP_MAX_SIZE - 1)) >>> 0;
      let heapCount = 0;
      let aspace = 0;
      let aspaceProt = 0;
      while (heap !== 0) {
        heapCount++;
        aspace += mem.readU32(heap + L.HI_SIZE);
        aspaceProt += mem.readU32(heap + L.HI_MPROTECT_SIZE);
        heap = mem.readU32(heap + L.HI_PREV);
      }
      out += `<aspace type="total" size="${aspace}"/>\n<aspace type="mprotect" size="${aspaceProt}"/>\n<aspace type="subheaps" size="${heapCount}"/>\n`;
      totalAspace += aspace;
      totalAspaceMprotect += aspaceProt;
    } else {
      out += `<aspace type="total" size="${sys}"/>\n<aspace type="mprotect" size="${sys}"/>\n`;
      totalAspace += sys;
      totalAspaceMprotect += sys;
    }
    out += "</heap>\n";
    totalNfastblocks += nfastblocks;
    totalFastavail += fastavail;
    totalNblocks += nblocks;
    totalAvail += avail;
    totalSystem += sys;
    totalMax += maxSys;
  });
  out += `<total type="fast" count="${totalNfastblocks}" size="${totalFastavail}"/>\n`;
  out += `<total type="rest" count="${totalNblocks}" size="${totalAvail}"/>\n`;
  out += `<total type="mmap" count="${m.g(L.MP_N_MMAPS)}" size="${m.g(L.MP_MMAPPED_MEM)}"/>\n`;
  out += `<system type="current" size="${totalSystem}"/>\n<system type="max" size="${totalMax}"/>\n`;
  out += `<aspace type="total" size="${totalAspace}"/>\n<aspace type="mprotect" size="${totalAspaceMprotect}"/>\n`;
  out += "</malloc>\n";
  return out;
}
