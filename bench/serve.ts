/**
 * Service benchmark: N detection requests at concurrency C against `fca serve` (one given by
 * `--url`, or one started here with `--backend`, `--size`-independent flags passed through after
 * `--`), reporting images/s, p50/p99 latency, the server's resident memory before and after (from
 * /metrics) and the errors by status. Inputs are `--distinct` generated texture PNGs of `--size`²,
 * sent in turn. Every loop is bounded by `--requests`; traffic goes to 127.0.0.1 only.
 *
 * `deno run -A bench/serve.ts [--requests 200] [--concurrency 4] [--size 256] [--distinct 8]
 *  [--warmup 8] [--include LIST] [--sample N: print the server's RSS every N] [--backend cpu] [--url http://127.0.0.1:PORT] [--token T]
 *  [-- serve flags]`
 * @module
 */
import { parseArgs } from "node:util";
import { syntheticTexture } from "../src/demo/synthetic.ts";
import { encodeImagePng } from "../src/io/encode.ts";

const { values, positionals } = parseArgs({
  args: Deno.args,
  options: {
    url: { type: "string" },
    token: { type: "string" },
    requests: { type: "string", default: "200" },
    concurrency: { type: "string", default: "4" },
    size: { type: "string", default: "256" },
    distinct: { type: "string", default: "8" },
    warmup: { type: "string", default: "8" },
    include: { type: "string" },
    sample: { type: "string", default: "0" },
    backend: { type: "string", default: "cpu" },
  },
  allowPositionals: true,
});
const requests = Number(values.requests), concurrency = Number(values.concurrency);
const size = Number(values.size), distinct = Number(values.distinct);
const warmup = Number(values.warmup), sample = Number(values.sample);
const MiB = 1 << 20;

let server: Deno.ChildProcess | undefined;
let url = values.url;
if (url && !/^http:\/\/(127\.0\.0\.1|localhost|\[::1\])(:\d+)?\/?$/.test(url)) {
  throw new Error(`--url must be a local http://127.0.0.1:PORT address, got ${url}`);
}
if (!url) {
  // Start a server on a free port and read its address from the start-up line.
  server = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      new URL("../mod.ts", import.meta.url).pathname,
      "serve",
      "--port",
      "0",
      "--backend",
      values.backend!,
      "--queue",
      String(Math.max(16, 2 * concurrency)),
      ...positionals,
    ],
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const reader = server.stderr.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!/listening on (http:\/\/\S+?)\//.test(text)) {
    const { done, value } = await reader.read();
    if (done) throw new Error(`serve exited:\n${text}`);
    text += value;
  }
  url = /listening on (http:\/\/\S+?)\//.exec(text)![1];
  (async () => {
    while (!(await reader.read()).done) { /* drain */ }
  })();
}
url = url.replace(/\/$/, "");
const headers: Record<string, string> = { "content-type": "image/png" };
if (values.token) headers.authorization = `Bearer ${values.token}`;
const inputs = Array.from(
  { length: distinct },
  (_, k) => encodeImagePng(syntheticTexture(size, { seed: k + 1, defect: true }).image),
);
const target = `${url}/v1/detect${values.include ? `?include=${values.include}` : ""}`;

async function memory(): Promise<{ rss: number; heap: number; external: number }> {
  const text = await (await fetch(`${url}/metrics`, { headers })).text();
  const get = (name: string) => Number(new RegExp(`^${name} (\\d+)`, "m").exec(text)?.[1] ?? NaN);
  return {
    rss: get("process_resident_memory_bytes"),
    heap: get("fca_js_heap_used_bytes"),
    external: get("fca_js_external_bytes"),
  };
}

async function rss(): Promise<number> {
  return (await memory()).rss;
}

async function one(i: number): Promise<{ status: number; ms: number }> {
  const t = performance.now();
  const res = await fetch(target, { method: "POST", body: inputs[i % distinct], headers });
  await res.arrayBuffer();
  return { status: res.status, ms: performance.now() - t };
}

try {
  for (let i = 0; i < warmup; i++) await one(i);
  const rss0 = await rss();
  const latencies: number[] = [];
  const statuses: Record<number, number> = {};
  let next = 0;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < requests) {
      const i = next++;
      const r = await one(i);
      statuses[r.status] = (statuses[r.status] ?? 0) + 1;
      if (sample > 0 && (i + 1) % sample === 0) {
        const m = await memory();
        console.log(
          `  ${i + 1} requests: server RSS ${(m.rss / MiB).toFixed(1)} MiB, JS heap ` +
            `${(m.heap / MiB).toFixed(1)} MiB, external ${(m.external / MiB).toFixed(1)} MiB`,
        );
      }
      if (r.status === 200) latencies.push(r.ms);
    }
  }));
  const seconds = (performance.now() - t0) / 1000;
  const rss1 = await rss();
  latencies.sort((a, b) => a - b);
  const q = (p: number) =>
    latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))];
  const ok = statuses[200] ?? 0;
  const errors = Object.fromEntries(Object.entries(statuses).filter(([s]) => s !== "200"));
  const summary = {
    requests,
    concurrency,
    size,
    images_per_s: Math.round((ok / seconds) * 100) / 100,
    p50_ms: Math.round(q(0.5)),
    p99_ms: Math.round(q(0.99)),
    rss_before_mib: Math.round((rss0 / MiB) * 10) / 10,
    rss_after_mib: Math.round((rss1 / MiB) * 10) / 10,
    rss_growth_mib: Math.round(((rss1 - rss0) / MiB) * 10) / 10,
    errors,
    cores: navigator.hardwareConcurrency,
  };
  console.log(
    `serve: ${requests} requests of ${size}² at concurrency ${concurrency}: ` +
      `${summary.images_per_s} images/s, p50 ${summary.p50_ms} ms, p99 ${summary.p99_ms} ms, ` +
      `RSS ${summary.rss_before_mib} -> ${summary.rss_after_mib} MiB, errors ${
        JSON.stringify(errors)
      }`,
  );
  console.log(JSON.stringify(summary));
} finally {
  if (server) {
    server.kill("SIGTERM");
    await server.status;
  }
}
