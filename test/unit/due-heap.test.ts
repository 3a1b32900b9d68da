/*
 * The delivery runner's heap of due times (main/core/delivery/due-heap.ts): random adds, moves
 * and deletes checked against a plain sort, and the positions it keeps in the entries.
 */
import { describe, expect, it } from 'vitest';
import { DueHeap } from '../../main/core/delivery/due-heap.js';

interface E {
  id: number;
  due: number;
  heapAt: number;
}

describe('DueHeap', () => {
  it('pops in due order (ties by id) after random adds, moves and deletes', () => {
    let seed = 7;
    const rnd = (n: number): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const heap = new DueHeap<E>((a, b) => a.due - b.due || a.id - b.id);
    const all: E[] = Array.from({ length: 2000 }, (_, id) => ({ id, due: rnd(500), heapAt: -1 }));
    const inside = new Set<E>();
    for (let step = 0; step < 20_000; step++) {
      const e = all[rnd(all.length)]!;
      const op = rnd(3);
      if (op === 0) {
        heap.set(e);
        inside.add(e);
      } else if (op === 1) {
        e.due = rnd(500);
        if (inside.has(e)) heap.set(e);
      } else {
        heap.delete(e);
        inside.delete(e);
      }
      expect(heap.size).toBe(inside.size);
    }
    for (const e of all) expect(heap.has(e)).toBe(inside.has(e));
    const want = [...inside].sort((a, b) => a.due - b.due || a.id - b.id).map((e) => e.id);
    const got: number[] = [];
    for (let e = heap.pop(); e; e = heap.pop()) {
      expect(e.heapAt).toBe(-1);
      got.push(e.id);
    }
    expect(got).toEqual(want);
    expect(heap.peek()).toBeUndefined();
  });
});
