// The traced program's live addresses, each mapped to a slot: an
// open-addressing hash table of 64-bit addresses kept as two 32-bit halves,
// so a lookup allocates nothing (a Map of address strings made a string per
// line). Deletion shifts the probe chain back, leaving no tombstones, so the
// table stays sized by the live set however long the trace.

export class AddrMap {
  size = 0;
  private hi = new Uint32Array(1024);
  private lo = new Uint32Array(1024);
  /** slot + 1; 0 marks an empty cell. */
  private val = new Int32Array(1024);
  private mask = 1023;
  private shift = 22; // 32 - log2(cells)

  /** The slot of address hi:lo, or -1. */
  get(hi: number, lo: number): number {
    for (let i = this.home(hi, lo); ; i = (i + 1) & this.mask) {
      const v = this.val[i];
      if (v === 0) return -1;
      if (this.lo[i] === lo && this.hi[i] === hi) return v - 1;
    }
  }

  /** Map hi:lo (not present) to slot. */
  set(hi: number, lo: number, slot: number): void {
    if ((this.size + 1) * 2 > this.mask) this.grow();
    let i = this.home(hi, lo);
    while (this.val[i] !== 0) i = (i + 1) & this.mask;
    this.hi[i] = hi;
    this.lo[i] = lo;
    this.val[i] = slot + 1;
    this.size++;
  }

  /** Forget hi:lo (present). */
  delete(hi: number, lo: number): void {
    const m = this.mask;
    let i = this.home(hi, lo);
    while (this.lo[i] !== lo || this.hi[i] !== hi) i = (i + 1) & m;
    // Backward shift: pull later members of the chain into the hole when their home allows.
    for (let j = (i + 1) & m; this.val[j] !== 0; j = (j + 1) & m) {
      const h = this.home(this.hi[j], this.lo[j]);
      if (((j - h) & m) >= ((j - i) & m)) {
        this.hi[i] = this.hi[j];
        this.lo[i] = this.lo[j];
        this.val[i] = this.val[j];
        i = j;
      }
    }
    this.val[i] = 0;
    this.size--;
  }

  private home(hi: number, lo: number): number {
    // Multiply-shift: the product's top bits mix all of the address (allocators vary the middle bits).
    return Math.imul(lo ^ Math.imul(hi, 0x9e3779b1), 0x85ebca6b) >>> this.shift;
  }

  private grow(): void {
    const { hi, lo, val } = this;
    const n = val.length * 2;
    this.hi = new Uint32Array(n);
    this.lo = new Uint32Array(n);
    this.val = new Int32Array(n);
    this.mask = n - 1;
    this.shift--;
    this.size = 0;
    for (let i = 0; i < val.length; i++) if (val[i] !== 0) this.set(hi[i], lo[i], val[i] - 1);
  }
}
