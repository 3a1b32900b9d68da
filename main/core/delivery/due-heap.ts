/*
 * A binary min-heap of queue entries by when they are due, with each entry's position kept in
 * the entry (`heapAt`, -1 when not in the heap), so the delivery runner can add, move and take
 * out one entry in O(log n) and find the next due one in O(1). With 20,000 or 100,000 queued
 * messages a scan of the whole queue per started attempt (what the runner did before) cost
 * more than the delivery itself. Pure; nothing here throws for entries it does not hold.
 */

export interface HeapSlot {
  /** Index in the heap's array; -1 when the entry is not in it. Owned by the heap. */
  heapAt: number;
}

export class DueHeap<T extends HeapSlot> {
  private readonly a: T[] = [];

  /** `before(x, y)` < 0 when x must come out first. */
  constructor(private readonly before: (x: T, y: T) => number) {}

  get size(): number {
    return this.a.length;
  }

  peek(): T | undefined {
    return this.a[0];
  }

  has(e: T): boolean {
    return e.heapAt >= 0 && this.a[e.heapAt] === e;
  }

  /** Adds the entry, or moves it to its place after its key changed. */
  set(e: T): void {
    if (this.has(e)) {
      this.up(e.heapAt);
      this.down(e.heapAt);
      return;
    }
    e.heapAt = this.a.length;
    this.a.push(e);
    this.up(e.heapAt);
  }

  /** Takes the entry out (nothing when it is not in). */
  delete(e: T): void {
    if (!this.has(e)) return;
    const i = e.heapAt;
    const last = this.a.pop()!;
    e.heapAt = -1;
    if (last === e) return;
    this.a[i] = last;
    last.heapAt = i;
    this.up(i);
    this.down(last.heapAt);
  }

  pop(): T | undefined {
    const top = this.a[0];
    if (top) this.delete(top);
    return top;
  }

  private swap(i: number, j: number): void {
    const x = this.a[i]!;
    const y = this.a[j]!;
    this.a[i] = y;
    this.a[j] = x;
    y.heapAt = i;
    x.heapAt = j;
  }

  private up(i: number): void {
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (this.before(this.a[i]!, this.a[p]!) >= 0) return;
      this.swap(i, p);
      i = p;
    }
  }

  private down(i: number): void {
    const n = this.a.length;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < n && this.before(this.a[l]!, this.a[m]!) < 0) m = l;
      if (r < n && this.before(this.a[r]!, this.a[m]!) < 0) m = r;
      if (m === i) return;
      this.swap(i, m);
      i = m;
    }
  }
}
