/** The service's parts without a model: admission line, metrics text, decision hook. */
import assert from "node:assert/strict";
import { Abandoned, Admission } from "../src/serve/admission.ts";
import { Metrics } from "../src/serve/metrics.ts";
import { decideHook } from "../src/serve/decision_hook.ts";

Deno.test("admission: one detects, `capacity` wait, the rest are refused; turns in order", async () => {
  const line = new Admission(2);
  const a = line.admit()!, b = line.admit()!, c = line.admit()!;
  assert.equal(line.admit(), undefined, "full: 1 detecting + 2 waiting");
  assert.equal(line.inFlight, 3);
  const order: string[] = [];
  await a.turn();
  const tb = b.turn().then(() => order.push("b"));
  const tc = c.turn().then(() => order.push("c"));
  assert.equal(line.depth, 2);
  a.leave();
  await tb;
  assert.equal(line.inFlight, 2);
  const d = line.admit()!; // a's place is free again
  assert.ok(d);
  b.done(); // the detector is free while b still answers
  await tc;
  assert.deepEqual(order, ["b", "c"]);
  b.leave();
  c.leave();
  const ctl = new AbortController();
  const e = line.admit()!;
  await d.turn();
  const waiting = e.turn(ctl.signal);
  assert.equal(line.depth, 1);
  ctl.abort(new Error("timeout"));
  await assert.rejects(waiting, Abandoned);
  assert.equal(line.depth, 0, "an abandoned request leaves the line");
  e.leave();
  d.leave();
  assert.equal(line.inFlight, 0);
  const f = line.admit()!;
  await f.turn(); // the detector is free again
  f.leave();
});

Deno.test("metrics: Prometheus text with counters, histogram and gauges", () => {
  const m = new Metrics();
  m.request("/v1/detect", 200);
  m.request("/v1/detect", 200);
  m.request("/v1/detect", 503);
  m.image(0.3);
  m.image(3);
  const text = m.render({ queueDepth: 2, inFlight: 3, ready: true });
  assert.match(text, /^fca_http_requests_total\{route="\/v1\/detect",status="200"\} 2$/m);
  assert.match(text, /^fca_http_requests_total\{route="\/v1\/detect",status="503"\} 1$/m);
  assert.match(text, /^fca_detect_duration_seconds_bucket\{le="0.25"\} 0$/m);
  assert.match(text, /^fca_detect_duration_seconds_bucket\{le="0.5"\} 1$/m);
  assert.match(text, /^fca_detect_duration_seconds_bucket\{le="5"\} 2$/m);
  assert.match(text, /^fca_detect_duration_seconds_bucket\{le="\+Inf"\} 2$/m);
  assert.match(text, /^fca_detect_duration_seconds_sum 3.3$/m);
  assert.match(text, /^fca_queue_depth 2$/m);
  assert.match(text, /^fca_in_flight 3$/m);
  assert.match(text, /^fca_images_total 2$/m);
  for (const line of text.trim().split("\n")) {
    assert.match(line, /^(# (HELP|TYPE) \w+ .+|\w+(\{[^}]*\})? [\d.e+-]+)$/, line);
  }
});

Deno.test("decision hook: regions above the threshold, min_area, verdict, mask", () => {
  const width = 8, height = 6, data = new Float32Array(width * height);
  data[1 * width + 1] = 1; // a one-pixel region
  for (let y = 3; y < 5; y++) for (let x = 4; x < 7; x++) data[y * width + x] = 0.8; // 3x2
  const map = { width, height, data };
  assert.equal(decideHook(map, {}).fields.threshold.source, "zero-shot");
  const all = decideHook(map, { threshold: 0.5, minArea: 1 })!;
  assert.equal(all.fields.verdict, "defect");
  assert.deepEqual(all.fields.regions.map((g) => [g.bbox, g.area, g.peak]), [
    [{ x: 4, y: 3, width: 3, height: 2 }, 6, data[3 * width + 4]],
    [{ x: 1, y: 1, width: 1, height: 1 }, 1, 1],
  ]);
  const big = decideHook(map, { threshold: 0.5, minArea: 2 })!;
  assert.equal(big.fields.regions.length, 1);
  assert.equal(big.mask.filter((v) => v === 255).length, 6);
  assert.equal(big.mask[1 * width + 1], 0, "a dropped region is not in the mask");
  assert.equal(decideHook(map, { threshold: 1 })!.fields.verdict, "ok");
});
