/**
 * Area under a curve with the trapezoid rule and an optional upper limit, as the MVTec AD
 * evaluation's `generic_util.trapezoid` computes it: points with non-finite coordinates are
 * dropped; when `xMax` is not one of the x values, the curve is cut at `xMax` with y linearly
 * interpolated between the neighbours that bracket it (`bisect_right`).
 * @module
 */

/** Definite integral of the polyline (x[i], y[i]) (x ascending) up to `xMax` (default: all). */
export function trapezoid(x: ArrayLike<number>, y: ArrayLike<number>, xMax?: number): number {
  const t = new TrapezoidIntegrator(xMax);
  for (let i = 0; i < x.length; i++) t.add(x[i], y[i]);
  return t.area();
}

/**
 * Streaming form of {@link trapezoid} for curves too long to hold: feed the points in ascending
 * x; points past the cut-off are ignored once the interpolated correction is added. Equal to the
 * batch form because x is sorted, so `bisect_right` finds the first point beyond `xMax`.
 */
export class TrapezoidIntegrator {
  private sum = 0;
  private px = NaN;
  private py = NaN;
  private done = false;

  /** @param xMax upper integration limit, or undefined for the whole curve */
  constructor(private readonly xMax?: number) {}

  /** Add the next point of the curve. */
  add(x: number, y: number): void {
    if (this.done || !Number.isFinite(x) || !Number.isFinite(y)) return;
    if (Number.isNaN(this.px)) {
      if (this.xMax !== undefined && x > this.xMax) {
        throw new Error(`trapezoid: first x ${x} lies beyond the integration limit ${this.xMax}`);
      }
      this.px = x;
      this.py = y;
      return;
    }
    if (this.xMax !== undefined && x > this.xMax) {
      // Correction term between the last point <= xMax and xMax itself.
      const yi = this.py + ((y - this.py) * (this.xMax - this.px)) / (x - this.px);
      this.sum += 0.5 * (yi + this.py) * (this.xMax - this.px);
      this.done = true;
      return;
    }
    this.sum += 0.5 * (y + this.py) * (x - this.px);
    this.px = x;
    this.py = y;
  }

  /** The area so far. */
  area(): number {
    return this.sum;
  }
}
