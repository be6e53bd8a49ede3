/**
 * Decisions on anomaly maps: threshold (explicit, profile, zero-shot), regions, verdict,
 * normalised score, calibration profiles and rendering (docs/decision.md).
 * @module
 */
export * from "./threshold.ts";
export * from "./regions.ts";
export * from "./decide.ts";
export * from "./normalize.ts";
export * from "./quantile.ts";
export * from "./calibrate.ts";
export * from "./profile.ts";
export * from "../io/outline.ts";
