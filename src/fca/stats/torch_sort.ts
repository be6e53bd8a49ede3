/**
 * The reference code's default (unstable) CPU sort, reproduced: torch 1.13 sorts each row with
 * libstdc++ `std::sort` (introsort: median-of-three quicksort down to 16-element runs, heapsort
 * past a 2·log2(n) depth, then a final insertion sort) on (value, index) pairs compared by value.
 * Ties therefore land in an implementation-defined but deterministic order, which SWW's
 * position-dependent weights can see (convention 9 in docs/conventions.md); replaying the same algorithm makes
 * `sww.npy` reproducible. Rows of ≤ 16 elements are insertion-sorted, i.e. stable.
 * @module
 */

const THRESHOLD = 16;

/**
 * Sort `order` (indices into `values`) ascending by value exactly as libstdc++ `std::sort` would
 * move the (value, index) pairs; NaN sorts last as in torch's comparator. `depthLimit` is
 * libstdc++'s 2·floor(log2 n) (exposed so tests can reach the heapsort fallback).
 */
export function torchSortOrder(
  values: ArrayLike<number>,
  order: Int32Array | number[],
  depthLimit: number = 2 * Math.floor(Math.log2(Math.max(order.length, 1))),
): void {
  const n = order.length;
  if (n < 2) return;
  const less = (a: number, b: number): boolean => {
    const va = values[a], vb = values[b];
    return (!Number.isNaN(va) && Number.isNaN(vb)) || va < vb;
  };
  const swap = (i: number, j: number) => {
    const t = order[i];
    order[i] = order[j];
    order[j] = t;
  };
  const unguardedLinearInsert = (last: number) => {
    const val = order[last];
    let next = last - 1;
    while (less(val, order[next])) {
      order[last] = order[next];
      last = next;
      next--;
    }
    order[last] = val;
  };
  const insertionSort = (first: number, last: number) => {
    for (let i = first + 1; i < last; i++) {
      if (less(order[i], order[first])) {
        const val = order[i];
        for (let k = i; k > first; k--) order[k] = order[k - 1];
        order[first] = val;
      } else unguardedLinearInsert(i);
    }
  };
  const pushHeap = (first: number, hole: number, top: number, value: number) => {
    let parent = (hole - 1) >> 1;
    while (hole > top && less(order[first + parent], value)) {
      order[first + hole] = order[first + parent];
      hole = parent;
      parent = (hole - 1) >> 1;
    }
    order[first + hole] = value;
  };
  const adjustHeap = (first: number, hole: number, len: number, value: number) => {
    const top = hole;
    let child = hole;
    while (child < ((len - 1) >> 1)) {
      child = 2 * (child + 1);
      if (less(order[first + child], order[first + child - 1])) child--;
      order[first + hole] = order[first + child];
      hole = child;
    }
    if ((len & 1) === 0 && child === ((len - 2) >> 1)) {
      child = 2 * (child + 1);
      order[first + hole] = order[first + child - 1];
      hole = child - 1;
    }
    pushHeap(first, hole, top, value);
  };
  const heapSort = (first: number, last: number) => {
    const len = last - first;
    if (len >= 2) {
      for (let parent = (len - 2) >> 1;; parent--) {
        adjustHeap(first, parent, len, order[first + parent]);
        if (parent === 0) break;
      }
    }
    while (last - first > 1) {
      last--;
      const value = order[last];
      order[last] = order[first];
      adjustHeap(first, 0, last - first, value);
    }
  };
  const moveMedianToFirst = (result: number, a: number, b: number, c: number) => {
    if (less(order[a], order[b])) {
      if (less(order[b], order[c])) swap(result, b);
      else if (less(order[a], order[c])) swap(result, c);
      else swap(result, a);
    } else if (less(order[a], order[c])) swap(result, a);
    else if (less(order[b], order[c])) swap(result, c);
    else swap(result, b);
  };
  const unguardedPartition = (first: number, last: number, pivot: number): number => {
    for (;;) {
      while (less(order[first], order[pivot])) first++;
      last--;
      while (less(order[pivot], order[last])) last--;
      if (!(first < last)) return first;
      swap(first, last);
      first++;
    }
  };
  const introsortLoop = (first: number, last: number, depth: number) => {
    while (last - first > THRESHOLD) {
      if (depth === 0) {
        heapSort(first, last);
        return;
      }
      depth--;
      const mid = first + ((last - first) >> 1);
      moveMedianToFirst(first, first + 1, mid, last - 1);
      const cut = unguardedPartition(first + 1, last, first);
      introsortLoop(cut, last, depth);
      last = cut;
    }
  };
  introsortLoop(0, n, depthLimit);
  if (n > THRESHOLD) {
    insertionSort(0, THRESHOLD);
    for (let i = THRESHOLD; i < n; i++) unguardedLinearInsert(i);
  } else insertionSort(0, n);
}
