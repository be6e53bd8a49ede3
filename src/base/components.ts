/**
 * Connected components of a binary mask with 8-connectivity, as
 * `scipy.ndimage.label(mask, structure=np.ones((3, 3)))` computes them for the PRO metric.
 * @module
 */

/** Labelled components: `labels[i]` is 0 for background, else 1..count in raster order. */
export interface Components {
  labels: Int32Array;
  count: number;
  /** `sizes[k]` = pixels of component k (index 0 unused). */
  sizes: Int32Array;
}

/**
 * Label the nonzero pixels of a `height`×`width` mask by 8-connected component. Components are
 * numbered in the raster order of their first pixel, like scipy.
 */
export function labelComponents(
  mask: ArrayLike<number>,
  width: number,
  height: number,
): Components {
  const n = width * height;
  if (mask.length !== n) {
    throw new Error(`labelComponents: mask has ${mask.length} values, ${width}x${height} expected`);
  }
  const labels = new Int32Array(n);
  // Union-find over provisional labels (first pass), flattened in the second pass.
  let parent = new Int32Array(64);
  let next = 1;
  const find = (a: number): number => {
    while (parent[a] !== a) {
      parent[a] = parent[parent[a]];
      a = parent[a];
    }
    return a;
  };
  const union = (a: number, b: number): number => {
    a = find(a);
    b = find(b);
    if (a === b) return a;
    // Keep the smaller root so final numbering follows raster order of first pixels.
    if (a < b) {
      parent[b] = a;
      return a;
    }
    parent[a] = b;
    return b;
  };
  for (let y = 0; y < height; y++) {
    const row = y * width;
    for (let x = 0; x < width; x++) {
      const i = row + x;
      if (!mask[i]) continue;
      let l = 0;
      // Already-visited neighbours: W, NW, N, NE.
      if (x > 0 && labels[i - 1]) l = labels[i - 1];
      if (y > 0) {
        const up = i - width;
        if (x > 0 && labels[up - 1]) l = l ? union(l, labels[up - 1]) : labels[up - 1];
        if (labels[up]) l = l ? union(l, labels[up]) : labels[up];
        if (x + 1 < width && labels[up + 1]) l = l ? union(l, labels[up + 1]) : labels[up + 1];
      }
      if (!l) {
        if (next >= parent.length) {
          const grown = new Int32Array(parent.length * 2);
          grown.set(parent);
          parent = grown;
        }
        parent[next] = next;
        l = next++;
      }
      labels[i] = l;
    }
  }
  // Final numbering: roots in increasing provisional order = raster order of first pixels.
  const final = new Int32Array(next);
  let count = 0;
  for (let l = 1; l < next; l++) {
    const r = find(l);
    final[l] = r === l ? ++count : final[r];
  }
  const sizes = new Int32Array(count + 1);
  for (let i = 0; i < n; i++) {
    if (labels[i]) {
      const k = final[labels[i]];
      labels[i] = k;
      sizes[k]++;
    }
  }
  return { labels, count, sizes };
}
