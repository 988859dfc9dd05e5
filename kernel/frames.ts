// Per-frame metadata (Linux's struct page), as parallel typed arrays indexed by
// frame number: no JS object per frame.

/** Frame flags (page->flags). */
export const PG_BUDDY = 1 << 0; // free, head of a buddy block (order in `order`)
export const PG_PCP = 1 << 1; // free, on the per-cpu hot list
export const PG_ZERO = 1 << 2; // known to hold only zeros (init_on_free, prezero)
export const PG_RESERVED = 1 << 3; // never allocated: the shared zero page
export const PG_PGTABLE = 1 << 4; // holds a page directory or page table
export const PG_ANON = 1 << 5; // mapped as private anonymous memory
export const PG_SHMEM = 1 << 6; // belongs to a shmem/file object
/**
 * Last mapped in a VM_NOZERO area by a task allowed uncleared frames: only
 * such a frame may be recycled uncleared (to the same owner). Kept while free.
 */
export const PG_NOZERO = 1 << 7;

/**
 * Owner tags. While a frame is in use its tag names the credential that wrote
 * it; when it is freed the tag stays, recording the last owner, which is what
 * the nozero policy compares against the faulting credential (v2 of the 2007
 * patch kept this in the free page's map-count field).
 */
export const TAG_NONE = -1; // never owned by a user, or wiped: must be cleared
export const TAG_MIXED = -2; // written by more than one credential: must be cleared

export class FrameTable {
  readonly count: Int32Array; // page_count: references; 0 = free
  readonly mapcount: Int32Array; // page_mapcount: PTEs mapping the frame
  readonly flags: Uint8Array;
  readonly order: Uint8Array; // buddy order of a free block head
  readonly tag: Int32Array;
  readonly next: Int32Array; // free-list links (-1 = end)
  readonly prev: Int32Array;
  /** The allocator's traffic count when the frame was last freed / allocated (cache-hotness). */
  readonly freedAt: Float64Array;
  readonly allocAt: Float64Array;

  constructor(readonly nframes: number) {
    this.count = new Int32Array(nframes);
    this.mapcount = new Int32Array(nframes);
    this.flags = new Uint8Array(nframes);
    this.order = new Uint8Array(nframes);
    this.tag = new Int32Array(nframes).fill(TAG_NONE);
    this.next = new Int32Array(nframes).fill(-1);
    this.prev = new Int32Array(nframes).fill(-1);
    this.freedAt = new Float64Array(nframes).fill(-Infinity);
    this.allocAt = new Float64Array(nframes).fill(-Infinity);
  }

  /** Record that `credTag` now writes the frame: a second writer makes it mixed. */
  tagWriter(frame: number, credTag: number): void {
    const t = this.tag[frame];
    if (t !== credTag) this.tag[frame] = t === TAG_NONE ? credTag : TAG_MIXED;
  }
}
