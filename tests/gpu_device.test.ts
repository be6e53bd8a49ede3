import assert from "node:assert/strict";
import {
  acquireGpu,
  chooseBackend,
  decideBackend,
  describeAdapter,
  isSoftwareAdapter,
} from "../src/gpu/device.ts";
import { skipWithoutGpu } from "./_shared.ts";

const LLVMPIPE = {
  vendor: "65541",
  architecture: "",
  device: "0",
  description: "llvmpipe (LLVM 15.0.6, 256 bits)",
};
const HARDWARE = {
  vendor: "nvidia",
  architecture: "ada",
  device: "",
  description: "NVIDIA GeForce RTX 4090",
  isFallbackAdapter: false,
};

/** Whether this machine offers any WebGPU adapter (GPU tests are ignored otherwise). */
const ADAPTER = await navigator.gpu?.requestAdapter().catch(() => null) ?? null;

Deno.test("isSoftwareAdapter: the fallback flag or a software rasteriser's name", () => {
  assert.equal(isSoftwareAdapter(HARDWARE), false);
  assert.equal(isSoftwareAdapter({ ...HARDWARE, isFallbackAdapter: true }), true);
  // Older runtimes do not report the flag: the name alone must identify llvmpipe and friends.
  assert.equal(isSoftwareAdapter(LLVMPIPE), true);
  assert.equal(isSoftwareAdapter({ description: "Intel(R) UHD Graphics (lavapipe)" }), true);
  assert.equal(isSoftwareAdapter({ device: "SwiftShader Device (Subzero)" }), true);
  assert.equal(isSoftwareAdapter({ vendor: "apple", architecture: "metal-3" }), false);
});

Deno.test("describeAdapter: name plus the non-empty vendor and architecture", () => {
  assert.equal(describeAdapter(LLVMPIPE), "llvmpipe (LLVM 15.0.6, 256 bits) [vendor 65541]");
  assert.equal(
    describeAdapter(HARDWARE),
    "NVIDIA GeForce RTX 4090 [vendor nvidia, arch ada]",
  );
  assert.equal(describeAdapter({}), "unknown adapter");
});

Deno.test("decideBackend: auto takes webgpu only on hardware", () => {
  assert.deepEqual(decideBackend("auto", null), { backend: "cpu", reason: "no WebGPU adapter" });
  assert.deepEqual(decideBackend("auto", { ...LLVMPIPE, isFallbackAdapter: true }), {
    backend: "cpu",
    reason: "software adapter llvmpipe (LLVM 15.0.6, 256 bits) [vendor 65541]",
  });
  const hw = decideBackend("auto", HARDWARE);
  assert.equal(hw.backend, "webgpu");
  assert.match(hw.reason, /^hardware adapter NVIDIA/);
});

Deno.test("decideBackend: forced backends", () => {
  assert.equal(decideBackend("cpu", HARDWARE).backend, "cpu");
  assert.equal(decideBackend("cpu", null).backend, "cpu");
  assert.equal(decideBackend("webgpu", HARDWARE).backend, "webgpu");
  // A forced webgpu runs on a software adapter (how the GPU tests run on llvmpipe) and says so.
  const sw = decideBackend("webgpu", LLVMPIPE);
  assert.equal(sw.backend, "webgpu");
  assert.match(sw.reason, /software adapter llvmpipe/);
  assert.throws(() => decideBackend("webgpu", null), {
    message: "--backend webgpu: no WebGPU adapter available",
  });
});

Deno.test("chooseBackend cpu touches no GPU", async () => {
  const choice = await chooseBackend("cpu");
  assert.equal(choice.backend, "cpu");
  assert.equal(choice.gpu, null);
});

Deno.test({
  name: "acquireGpu: one device per process, with the adapter's limits",
  ignore: skipWithoutGpu(ADAPTER !== null),
  sanitizeOps: false, // device.lost stays pending for the life of the device
  sanitizeResources: false,
  async fn() {
    const a = await acquireGpu();
    const b = await acquireGpu();
    assert.ok(a !== null && b !== null);
    assert.equal(a.device, b.device);
    assert.equal(a.isFallback, isSoftwareAdapter(a.adapter.info));
    assert.equal(
      a.device.limits.maxStorageBufferBindingSize,
      a.adapter.limits.maxStorageBufferBindingSize,
    );
    assert.equal(a.device.limits.maxBufferSize, a.adapter.limits.maxBufferSize);
    assert.equal(
      a.device.limits.maxComputeInvocationsPerWorkgroup,
      a.adapter.limits.maxComputeInvocationsPerWorkgroup,
    );
    assert.equal(
      a.device.features.has("timestamp-query"),
      a.adapter.features.has("timestamp-query"),
    );
    // A software adapter is refused when the caller does not allow one.
    const strict = await acquireGpu({ allowFallback: false });
    assert.equal(strict === null, a.isFallback);

    const auto = await chooseBackend("auto");
    assert.equal(auto.backend, a.isFallback ? "cpu" : "webgpu");
    assert.equal(auto.gpu === null, a.isFallback);
    const forced = await chooseBackend("webgpu");
    assert.equal(forced.backend, "webgpu");
    assert.equal(forced.gpu?.device, a.device);
  },
});
