/**
 * A procedural, seeded denim-twill texture with an optional synthetic defect and its pixel mask,
 * for the demo and for tests that need a realistic stationary texture without shared data.
 * @module
 */

import type { RgbImage } from "../io/types.ts";
import { mulberry32 as rng } from "../base/rng.ts";

/** The kinds of synthetic defect. */
export type DefectKind = "hole" | "stain" | "thread";

/** Options for {@link syntheticTexture}. */
export interface SyntheticOptions {
  /** Seed for every random choice (default 1); equal seeds give identical images. */
  seed?: number;
  /** Whether to add a defect (default true). */
  defect?: boolean;
  /** Defect kind (default "hole": a cut with frayed warp ends showing the dark backing). */
  kind?: DefectKind;
}

/** A synthetic image with its defect mask. */
export interface SyntheticTexture {
  image: RgbImage;
  /** Row-major `size * size` ground truth: 255 on the defect, 0 elsewhere (all 0 without one). */
  mask: Uint8Array;
}

/** 32-bit integer hash of a lattice point and a seed, as a float in [0, 1). */
function hash(x: number, y: number, s: number): number {
  let h = Math.imul(x | 0, 0x27d4eb2d) ^ Math.imul(y | 0, 0x165667b1) ^
    Math.imul(s | 0, 0x9e3779b9);
  h = Math.imul(h ^ (h >>> 15), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  h ^= h >>> 16;
  return (h >>> 0) / 4294967296;
}

function smooth(t: number): number {
  return t * t * (3 - 2 * t);
}

function smoothstep(e0: number, e1: number, x: number): number {
  const t = Math.min(Math.max((x - e0) / (e1 - e0), 0), 1);
  return smooth(t);
}

/** Value noise in [0, 1) on a unit lattice. */
function noise(x: number, y: number, s: number): number {
  const xi = Math.floor(x), yi = Math.floor(y);
  const fx = smooth(x - xi), fy = smooth(y - yi);
  const a = hash(xi, yi, s), b = hash(xi + 1, yi, s);
  const c = hash(xi, yi + 1, s), d = hash(xi + 1, yi + 1, s);
  return a + (b - a) * fx + (c - a) * fy + (a - b - c + d) * fx * fy;
}

/** Three octaves of value noise, centred on 0 (range about ±0.5). */
function fbm(x: number, y: number, s: number): number {
  return (noise(x, y, s) - 0.5) * 0.57 + (noise(2 * x, 2 * y, s + 1) - 0.5) * 0.29 +
    (noise(4 * x, 4 * y, s + 2) - 0.5) * 0.14;
}

type Rgb = [number, number, number];

const INDIGO: Rgb = [0.1, 0.17, 0.36];
const ECRU: Rgb = [0.78, 0.75, 0.66];
const BACKING: Rgb = [0.035, 0.035, 0.045];
const BLEACH: Rgb = [0.78, 0.62, 0.5];

/** Rounded yarn cross-section: 1 on the thread axis, 0 at its edges (`gap` of the pitch). */
function profile(f: number, gap: number): number {
  const t = (f - 0.5) / (0.5 - gap);
  return t * t < 1 ? Math.sqrt(1 - t * t) : 0;
}

/** 3/1 twill: the warp floats over three wefts and under one, shifting one step per weft. */
function warpUp(i: number, j: number): boolean {
  return (((i + j) % 4) + 4) % 4 < 3;
}

/** Defect geometry, resolved once per image. */
interface Defect {
  kind: DefectKind;
  cx: number;
  cy: number;
  r: number;
  /** thread defect: missing weft rows [j0, j0 + 3) between x0 and x1 (pixels). */
  j0: number;
  x0: number;
  x1: number;
}

/** Per-sample outcome of the defect: how strongly it applies and how the weave changes. */
interface DefectHit {
  /** 0..1 membership for the mask. */
  inside: number;
  /** Hole depth (0 outside, 1 at the rim, larger inwards) or stain strength. */
  amount: number;
  /** Radial push of the weave around a hole, in pixels. */
  push: number;
}

function defectAt(d: Defect | undefined, x: number, y: number, seed: number): DefectHit {
  const none = { inside: 0, amount: 0, push: 0 };
  if (!d || d.kind === "thread") return none;
  const dx = x - d.cx, dy = y - d.cy;
  const angle = Math.atan2(dy, dx);
  // Irregular outline: the radius wobbles with a smooth periodic function of the angle.
  const wobble = 1 +
    (d.kind === "stain" ? 0.6 : 0.3) *
      fbm(Math.cos(angle) * 1.3 + 7, Math.sin(angle) * 1.3 + 3, seed + 40);
  const rho = Math.hypot(dx, dy) / (d.r * wobble);
  if (d.kind === "hole") {
    const push = rho < 1.6 ? 0.35 * d.r * Math.max(0, 1.6 - rho) * Math.min(rho, 1) / 1.6 : 0;
    return { inside: rho < 1 ? 1 : 0, amount: rho < 1 ? 1 - rho : 0, push };
  }
  // Stain: bleached blotch with a darker tide line, softened by noise.
  const n = fbm(x / (0.35 * d.r), y / (0.35 * d.r), seed + 50);
  const body = smoothstep(1.05, 0.7, rho + 0.25 * n);
  const ring = Math.exp(-(((rho + 0.25 * n) - 0.98) ** 2) / 0.004);
  const patchy = 0.55 + 0.9 * fbm(x / (0.5 * d.r), y / (0.5 * d.r), seed + 60);
  return { inside: body > 0.3 || ring > 0.5 ? 1 : 0, amount: body * patchy, push: -ring };
}

/**
 * Render a seeded `size` x `size` denim-like 3/1 twill: indigo warp and ecru weft threads with
 * per-thread colour jitter, slubs along the yarn, gentle waviness and per-pixel fibre noise, so the
 * texture is stationary yet not perfectly periodic. With `defect` (default) one anomaly is drawn:
 * a frayed hole (default), a bleach stain, or a streak of missing weft threads; its pixels are
 * set in `mask`.
 * @throws Error when `size` is not an integer in [16, 8192].
 */
export function syntheticTexture(size: number, opts: SyntheticOptions = {}): SyntheticTexture {
  if (!Number.isInteger(size) || size < 16 || size > 8192) {
    throw new Error(`syntheticTexture: size ${size} must be an integer in [16, 8192]`);
  }
  const seed = opts.seed ?? 1;
  const withDefect = opts.defect ?? true;
  const kind = opts.kind ?? "hole";
  const pitch = Math.max(4, size / 64); // about 64 threads across, whatever the size
  const rand = rng(seed * 7919 + 17);
  const s0 = Math.imul(seed, 1013) + 101;

  let defect: Defect | undefined;
  if (withDefect) {
    const cx = size * (0.3 + 0.4 * rand());
    const cy = size * (0.3 + 0.4 * rand());
    const r = size * (kind === "stain" ? 0.085 : 0.065);
    const j0 = Math.floor(cy / pitch);
    const len = size * (0.28 + 0.1 * rand());
    const x0 = Math.max(0, cx - len / 2);
    defect = { kind, cx, cy, r, j0, x0, x1: Math.min(size, x0 + len) };
  }

  const plane = size * size;
  const data = new Float32Array(3 * plane);
  const mask = new Uint8Array(plane);
  const warpAmp = 0.45 * pitch, wavelength = 14 * pitch;
  const offsets = [0.25, 0.75];
  const colour: Rgb = [0, 0, 0];

  // Renders one sample into `colour`; returns mask membership (0..1).
  const sample = (x: number, y: number): number => {
    const hit = defectAt(defect, x, y, s0);
    let px = x, py = y;
    if (defect && defect.kind === "hole" && hit.push > 0) {
      // Threads are pushed away from the cut, bunching around its rim.
      const dx = x - defect.cx, dy = y - defect.cy, dist = Math.hypot(dx, dy) || 1;
      px -= (dx / dist) * hit.push;
      py -= (dy / dist) * hit.push;
    }
    const u = (px + warpAmp * fbm(px / wavelength, py / wavelength, s0 + 1)) / pitch;
    const v = (py + warpAmp * fbm(px / wavelength + 5.2, py / wavelength + 1.3, s0 + 4)) / pitch;
    const i = Math.floor(u), j = Math.floor(v);
    const fu = u - i, fv = v - j;

    // Yarn colours: per-thread tone, slubs (slow variation along the yarn), indigo fading streaks.
    const warpTone = 0.82 + 0.36 * hash(i, 0, s0 + 7) + 0.35 * fbm(i * 0.37, v / 6, s0 + 8);
    const weftTone = 0.92 + 0.14 * hash(j, 1, s0 + 9) + 0.12 * fbm(u / 5, j * 0.41, s0 + 10);
    const fade = 0.5 + fbm(u / 9, v / 40, s0 + 11); // long vertical wash-out streaks
    const warp: Rgb = [
      INDIGO[0] * warpTone + 0.16 * fade,
      INDIGO[1] * warpTone + 0.17 * fade,
      INDIGO[2] * warpTone + 0.14 * fade,
    ];
    const weft: Rgb = [ECRU[0] * weftTone, ECRU[1] * weftTone, ECRU[2] * weftTone];

    let missingWeft = false;
    let holeWarpOnly = false;
    let holeWeftOnly = false;
    if (defect && defect.kind === "thread") {
      missingWeft = j >= defect.j0 && j < defect.j0 + 3 && px >= defect.x0 &&
        px <= defect.x1;
    }
    if (defect && defect.kind === "hole" && hit.amount > 0) {
      // Inside the cut only some yarn survives: each end frays at its own depth, a few warps span it.
      const warpLives = hash(i, 3, s0 + 12) > 0.7 || hit.amount < 0.1 + 0.4 * hash(i, 4, s0 + 13);
      const weftLives = hit.amount < 0.05 + 0.3 * hash(j, 7, s0 + 14);
      if (!warpLives && !weftLives) {
        const shade = 0.6 + 0.4 * smoothstep(0.0, 0.35, hit.amount);
        for (let k = 0; k < 3; k++) colour[k] = BACKING[k] * (2 - shade);
        return hit.inside;
      }
      holeWarpOnly = warpLives && !weftLives;
      holeWeftOnly = weftLives && !warpLives;
    }

    // Without weft to hold them, warps shrink apart and show the backing between them.
    const hw = profile(fu, missingWeft || holeWarpOnly ? 0.2 : 0.04);
    const hv = profile(fv, 0.06);
    let base: Rgb, h: number, along: number, slope: number, twist: number;
    const up = (warpUp(i, j) || missingWeft || holeWarpOnly) && !holeWeftOnly;
    if (up && hw > 0) {
      // Warp float: sinks where it dives under a weft at either end of the float.
      const prevDown = !warpUp(i, j - 1) && !missingWeft;
      const nextDown = !warpUp(i, j + 1) && !missingWeft;
      along = 1 - (prevDown ? 0.35 * smoothstep(0.3, 0, fv) : 0) -
        (nextDown ? 0.35 * smoothstep(0.7, 1, fv) : 0);
      base = warp;
      h = hw;
      slope = 0.5 - fu;
      // Twisted yarn: fine diagonal striations running along the thread.
      twist = Math.sin(2 * Math.PI * (v * 2.6 - fu * 1.1 + hash(i, 5, s0)));
      if (missingWeft || holeWarpOnly) along *= 0.7; // slack yarn sits lower
    } else if (!up && hv > 0) {
      along = 1 - 0.4 * smoothstep(0.35, 0, fu) - 0.4 * smoothstep(0.65, 1, fu);
      base = weft;
      h = hv;
      slope = 0.5 - fv;
      twist = Math.sin(2 * Math.PI * (u * 2.6 - fv * 1.1 + hash(j, 6, s0)));
    } else {
      // Between threads: the shadowed gap (weft showing through dimly, or backing when missing).
      const deep = missingWeft || holeWarpOnly || holeWeftOnly;
      for (let k = 0; k < 3; k++) colour[k] = deep ? BACKING[k] : warp[k] * 0.35;
      return hit.inside || (missingWeft ? 1 : 0);
    }
    // Rounded yarn lit from the upper left, with twist striations.
    const light = (0.28 + 0.62 * Math.pow(h, 0.6) + 0.35 * slope * h + 0.07 * twist) * along;
    for (let k = 0; k < 3; k++) colour[k] = base[k] * light;
    if (defect && defect.kind === "stain" && (hit.amount > 0 || hit.push < 0)) {
      // Bleach lifts the indigo towards a warm pale tone; the tide line is darker.
      const lum = 0.35 + 0.65 * light;
      for (let k = 0; k < 3; k++) {
        colour[k] += (BLEACH[k] * lum - colour[k]) * 0.8 * hit.amount;
        colour[k] *= 1 + 0.45 * hit.push;
      }
    }
    return hit.inside || (missingWeft ? 1 : 0);
  };

  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      let r = 0, g = 0, b = 0, m = 0;
      for (const oy of offsets) {
        for (const ox of offsets) {
          m += sample(x + ox, y + oy);
          r += colour[0];
          g += colour[1];
          b += colour[2];
        }
      }
      // Fibre noise: small per-pixel luminance and chroma jitter.
      const n = (hash(x, y, s0 + 20) + hash(x, y, s0 + 21) - 1) * 0.05;
      const idx = y * size + x;
      data[idx] = Math.min(Math.max(r / 4 + n, 0), 1);
      data[plane + idx] = Math.min(Math.max(g / 4 + n * 0.95, 0), 1);
      data[2 * plane + idx] = Math.min(Math.max(b / 4 + n * 0.9, 0), 1);
      mask[idx] = m >= 2 ? 255 : 0;
    }
  }
  return { image: { width: size, height: size, data }, mask };
}
