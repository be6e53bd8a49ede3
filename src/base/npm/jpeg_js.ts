/**
 * jpeg-js, pinned here (the one place its version is written).
 * @module
 */
export { default } from "npm:jpeg-js@0.4.4";
