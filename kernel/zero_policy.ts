// The zeroing policy: the one place that decides whether a frame handed to
// user space is cleared, and whether a freed frame is cleared.
//
//   stock          clear every new anonymous frame at fault time (Linux)
//   nozero         as stock, but in a VM_NOZERO area skip the clear when the
//                  frame's owner tag equals the faulting credential (2007 patch)
//                  and the frame was itself last used in a VM_NOZERO area
//                  (PG_NOZERO): only memory its owner declared recyclable comes
//                  back uncleared, so a non-NOZERO process's data (a shell's
//                  stack, a non-dumpable agent's keys) never does
//   init_on_free   clear at free time; a new frame is already zero (Linux 5.3)
//   prezero        as stock, but while a simulated CPU is idle a kernel thread
//                  clears free frames; a fault takes one of those (no clear on
//                  the critical path) but it is cache-cold, so the task pays
//                  for the first touch (DragonFly's reason for dropping it)
//   uninitialized  never clear (MAP_UNINITIALIZED everywhere): the insecure control

import { Kev } from "./cost/events.ts";
import { FrameTable, PG_NOZERO, PG_ZERO, TAG_MIXED, TAG_NONE } from "./frames.ts";
import type { PageAllocator } from "./page_alloc.ts";
import { PAGE_SIZE } from "./param.ts";
import type { PhysMem } from "./physmem.ts";

export const ZERO_POLICIES = ["stock", "nozero", "init_on_free", "prezero", "uninitialized"] as const;
export type ZeroPolicyName = (typeof ZERO_POLICIES)[number];

export function isZeroPolicy(s: string): s is ZeroPolicyName {
  return (ZERO_POLICIES as readonly string[]).includes(s);
}

/** Junk written over frames handed out uncleared in poison mode. */
export const POISON_BYTE = 0xa5;

export class ZeroingPolicy {
  /** Frames handed out uncleared because the owner matched (nozero) or never cleared. */
  unclearedHandouts = 0;
  /** Frames cleared at allocation. */
  clearedAtAlloc = 0;

  constructor(
    public name: ZeroPolicyName,
    private readonly phys: PhysMem,
    private readonly frames: FrameTable,
    private readonly alloc: PageAllocator,
    /** Frames that fit the cache: closer reuse than this is a hot clear. */
    private readonly cacheFrames: number,
    /** Poison mode: fill uncleared handouts with junk so reliance on zeros fails loudly. */
    public poison = false,
    /** prezero: take one frame the idle thread cleared, if it has one (Kernel.takePrezeroed). */
    private readonly takePrezeroed: () => boolean = () => false,
  ) {}

  /**
   * A frame just allocated for a private anonymous page the task will write.
   * Clears it unless the policy allows otherwise, counts the clear, and makes
   * `credTag` the frame's owner. `nozeroArea`: the page is in a VM_NOZERO area
   * of a task that may receive uncleared frames.
   */
  prepareAnon(frame: number, nozeroArea: boolean, credTag: number, k: Float64Array): void {
    const fr = this.frames;
    const prevOwner = fr.tag[frame];
    let clean: boolean;
    switch (this.name) {
      case "uninitialized":
        clean = false;
        break;
      case "prezero":
        if (!(fr.flags[frame] & PG_ZERO) && this.takePrezeroed()) {
          // The idle thread's work: real zeros, already paid for off the critical path.
          this.phys.clearFrame(frame);
          k[Kev.PREZERO_COLD_TOUCH]++;
          clean = true;
        } else clean = this.clearIfDirty(frame, k);
        break;
      case "nozero": {
        const recyclable = nozeroArea && prevOwner === credTag && (fr.flags[frame] & PG_NOZERO) !== 0;
        clean = !recyclable && this.clearIfDirty(frame, k);
        break;
      }
      default:
        clean = this.clearIfDirty(frame, k);
    }
    if (!clean && !(fr.flags[frame] & PG_ZERO)) {
      this.unclearedHandouts++;
      if (this.poison) this.phys.fillFrame(frame, POISON_BYTE);
    }
    fr.flags[frame] = (fr.flags[frame] & ~(PG_ZERO | PG_NOZERO)) | (nozeroArea ? PG_NOZERO : 0);
    fr.tag[frame] = clean || prevOwner === credTag ? credTag : TAG_MIXED;
  }

  /** A frame for kernel use or shared memory (page tables, shmem): always zero, no owner yet. */
  prepareZeroed(frame: number, k: Float64Array): void {
    this.clearIfDirty(frame, k);
    this.frames.flags[frame] &= ~(PG_ZERO | PG_NOZERO);
    this.frames.tag[frame] = TAG_NONE;
  }

  /** Called as a user frame goes back to the allocator; its tag is its last owner. */
  onFree(frame: number, k: Float64Array): void {
    if (this.name === "init_on_free") {
      this.phys.clearFrame(frame);
      const hot = this.alloc.sinceAllocated(frame) <= this.cacheFrames;
      k[hot ? Kev.CLEAR_HOT_BYTES : Kev.CLEAR_COLD_BYTES] += PAGE_SIZE;
      this.frames.flags[frame] |= PG_ZERO;
    }
  }

  /** Clear unless PG_ZERO says the frame is already zero; returns true (the frame is clean). */
  private clearIfDirty(frame: number, k: Float64Array): true {
    if (this.frames.flags[frame] & PG_ZERO) return true;
    this.phys.clearFrame(frame);
    this.clearedAtAlloc++;
    const hot = this.alloc.sinceFreed(frame) <= this.cacheFrames;
    k[hot ? Kev.CLEAR_HOT_BYTES : Kev.CLEAR_COLD_BYTES] += PAGE_SIZE;
    return true;
  }
}
