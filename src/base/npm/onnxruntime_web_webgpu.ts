/**
 * onnxruntime-web's WebGPU build, pinned here (the one place its version is written).
 * @module
 */
export * from "npm:onnxruntime-web@1.30.0/webgpu";
