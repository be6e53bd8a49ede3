/**
 * The committed wasm module (src/fca/fast/rank_kernel_wasm.ts) must come from the current
 * rank_kernel.as: the tests run the committed module, so an edit of the source without
 * `deno task build:wasm` would otherwise go unnoticed.
 */
import assert from "node:assert/strict";
import { RANK_KERNEL_SOURCE_SHA256, RANK_KERNEL_WASM } from "../src/fca/fast/rank_kernel_wasm.ts";

const FAST = new URL("../src/fca/fast/", import.meta.url);

Deno.test("rank_kernel_wasm.ts was built from the current rank_kernel.as", async () => {
  const text = (await Deno.readTextFile(new URL("rank_kernel.as", FAST))).replaceAll("\r\n", "\n");
  const digest = new Uint8Array(
    await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)),
  );
  const sha = Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
  assert.equal(
    RANK_KERNEL_SOURCE_SHA256,
    sha,
    "src/fca/fast/rank_kernel.as changed since rank_kernel_wasm.ts was generated: run `deno task build:wasm`",
  );
  // The generated file's own description matches the module it holds.
  const generated = await Deno.readTextFile(new URL("rank_kernel_wasm.ts", FAST));
  const bytes = Uint8Array.fromBase64(RANK_KERNEL_WASM);
  assert.match(generated, new RegExp(`\\(${bytes.length} bytes\\)`));
  assert.ok(WebAssembly.validate(bytes), "valid wasm (threads enabled)");
});
