/**
 * fast-png, pinned here (the one place its version is written).
 * @module
 */
export * from "npm:fast-png@8.0.0";
