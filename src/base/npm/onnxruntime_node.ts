/**
 * onnxruntime-node, pinned here (the one place its version is written), so that `mod.ts` imports
 * from any folder without this repository's deno.json. Import it lazily: it loads a native
 * library.
 * @module
 */
export * from "npm:onnxruntime-node@1.30.0";
