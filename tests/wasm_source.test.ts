/**
 * The committed wasm modules (src/fca/fast/rank_kernel_wasm.ts, qfca_kernel_wasm.ts) must come
 * from the current rank_kernel.as and qfca_kernel.as: the tests run the committed modules, so an
 * edit of a source without `deno task build:wasm` would otherwise go unnoticed.
 */
import assert from "node:assert/strict";
import { RANK_KERNEL_SOURCE_SHA256, RANK_KERNEL_WASM } from "../src/fca/fast/rank_kernel_wasm.ts";
import { QFCA_KERNEL_SOURCE_SHA256, QFCA_KERNEL_WASM } from "../src/fca/fast/qfca_kernel_wasm.ts";

const FAST = new URL("../src/fca/fast/", import.meta.url);

for (
  const [stem, sha256, wasm] of [
    ["rank_kernel", RANK_KERNEL_SOURCE_SHA256, RANK_KERNEL_WASM],
    ["qfca_kernel", QFCA_KERNEL_SOURCE_SHA256, QFCA_KERNEL_WASM],
  ]
) {
  Deno.test(`${stem}_wasm.ts was built from the current ${stem}.as`, async () => {
    const text = (await Deno.readTextFile(new URL(`${stem}.as`, FAST))).replaceAll("\r\n", "\n");
    const digest = new Uint8Array(
      await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)),
    );
    const sha = Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
    assert.equal(
      sha256,
      sha,
      `src/fca/fast/${stem}.as changed since ${stem}_wasm.ts was generated: run \`deno task build:wasm\``,
    );
    // The generated file's own description matches the module it holds.
    const generated = await Deno.readTextFile(new URL(`${stem}_wasm.ts`, FAST));
    const bytes = Uint8Array.fromBase64(wasm);
    assert.match(generated, new RegExp(`\\(${bytes.length} bytes\\)`));
    assert.ok(WebAssembly.validate(bytes), "valid wasm (threads, SIMD enabled)");
  });
}
