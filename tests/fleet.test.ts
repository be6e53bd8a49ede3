/**
 * The fleet on a private Redis: two workers, 40 jobs, one worker SIGKILLed mid-job. Every job
 * finishes exactly once (the stalled one is handed to the other worker), and every output equals
 * the CLI's for the same image and options, byte for byte.
 */
import assert from "node:assert/strict";
import { encodeImagePng } from "../src/io/encode.ts";
import { syntheticTexture } from "../src/demo/synthetic.ts";
import { HAVE_MODEL, MODEL_PATH } from "./_shared.ts";
import { fcaChild, HAVE_REDIS, startRedis } from "./_services.ts";
import { checkJobData, jobId, JobRefused, realUnderRoot, underRoot } from "../src/fleet/job.ts";

const opts = { sanitizeResources: false, sanitizeOps: false };
const JOBS = 40;

Deno.test("fleet: job ids are stable, paths outside the root are refused", async () => {
  const a = jobId({ input: "in/a.png", out: "out", options: { patch: "3", seed: "1" } });
  assert.equal(a, jobId({ input: "in/a.png", out: "out", options: { seed: "1", patch: "3" } }));
  assert.notEqual(a, jobId({ input: "in/a.png", out: "out", options: {} }));
  assert.match(a, /^a-[0-9a-f]{16}$/);
  assert.equal(underRoot("/srv/data", "in/a.png", "input"), "/srv/data/in/a.png");
  assert.throws(() => underRoot("/srv/data", "../etc/passwd", "input"), JobRefused);
  assert.throws(() => underRoot("/srv/data", "/etc/passwd", "input"), JobRefused);
  assert.throws(() => underRoot("/srv/data", "/srv/database/x", "input"), JobRefused);
  assert.throws(() => checkJobData({ input: 3, out: "o" }), JobRefused);
  assert.throws(() => checkJobData({ input: "a", out: "o", options: [] }), JobRefused);
  const dir = await Deno.realPath(await Deno.makeTempDir());
  await Deno.mkdir(`${dir}/root`);
  await Deno.writeTextFile(`${dir}/secret.png`, "x");
  await Deno.symlink(`${dir}/secret.png`, `${dir}/root/link.png`);
  await assert.rejects(
    realUnderRoot(`${dir}/root`, `${dir}/root/link.png`, "input"),
    /leads outside the worker's root/,
  );
  await Deno.remove(dir, { recursive: true });
});

Deno.test({
  name: "fleet: two workers, 40 jobs, one worker SIGKILLed mid-job: 40 results, each once, = CLI",
  ignore: !HAVE_MODEL || !HAVE_REDIS,
  ...opts,
  async fn() {
    const root = await Deno.realPath(await Deno.makeTempDir({ prefix: "fca-fleet-" }));
    const images = `${root}/in`;
    await Deno.mkdir(images);
    for (let k = 0; k < JOBS; k++) {
      const { image } = syntheticTexture(64, { seed: k + 1, defect: k % 2 === 0 });
      await Deno.writeFile(`${images}/img${String(k).padStart(2, "0")}.png`, encodeImagePng(image));
    }
    const redis = await startRedis();
    const t0 = performance.now();
    const at = () => `${((performance.now() - t0) / 1000).toFixed(1)} s`;
    const log: string[] = [];
    const workerArgs = [
      "worker",
      "--redis",
      redis.url,
      "--root",
      root,
      "--backend",
      "cpu",
      "--threads",
      "1",
      "--concurrency",
      "1",
      "--lock-ms",
      "2000",
      "--patch",
      "3",
      // One working scale keeps each job well inside the 2 s lock on a loaded 2-core machine.
      "--cells",
      "50",
    ];
    const a = fcaChild("worker A", workerArgs);
    const b = fcaChild("worker B", workerArgs);
    let submit;
    try {
      await Promise.all([
        a.waitFor(/queue 'fca' on/, 120_000),
        b.waitFor(/queue 'fca' on/, 120_000),
      ]);
      log.push(`${at()}: both workers ready`);
      submit = fcaChild("submit", [
        "submit",
        images,
        "--redis",
        redis.url,
        "--out",
        `${root}/out`,
        "--root",
        root,
        "--patch",
        "3",
        "--wait",
        "--timeout-s",
        "300",
      ]);
      // Kill worker A right after it takes its fourth job, before it can finish it.
      await waitCount(a, /: done /, 3);
      const started = a.lines.filter((l) => / start /.test(l)).length;
      const next = await waitNth(a, / start (\S+)/, started + 1);
      a.kill("SIGKILL");
      const killedJob = next[1];
      log.push(`${at()}: SIGKILL worker A while it held job ${killedJob}`);
      await a.status;
      await a.stdout();

      const status = await submit.status;
      const stdout = await submit.stdout();
      assert.equal(status.code, 0, submit.lines.join("\n"));
      const results = stdout.trim().split("\n").map((l) => JSON.parse(l));
      log.push(`${at()}: submit reported ${results.length} results`);
      assert.equal(results.length, JOBS);
      assert.equal(new Set(results.map((r) => r.path)).size, JOBS, "each input once");
      assert.equal(new Set(results.map((r) => r.outputs.npy)).size, JOBS, "each job once");
      assert.ok(!a.lines.some((l) => l.includes(`done ${killedJob}`)), "A never finished it");
      const byB = b.lines.find((l) => l.includes(`done ${killedJob}`));
      assert.ok(byB, `worker B finished ${killedJob}:\n${b.lines.join("\n")}`);
      const doneA = a.lines.filter((l) => / done /.test(l)).length;
      const doneB = b.lines.filter((l) => / done /.test(l)).length;
      const doneIds = [...a.lines, ...b.lines].filter((l) => / done /.test(l))
        .map((l) => l.split(" done ")[1].split(" ")[0]);
      assert.equal(doneIds.length, JOBS, "each job finished once, by one worker");
      assert.equal(new Set(doneIds).size, JOBS);
      log.push(`${at()}: worker A finished ${doneA} jobs before the kill, worker B ${doneB}`);
      log.push(`worker B: ${byB}`);

      // The CLI on the same images and options: identical bytes.
      const cli = await new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "-A",
          "mod.ts",
          images,
          "--out",
          `${root}/cli`,
          "--backend",
          "cpu",
          "--patch",
          "3",
          "--cells",
          "50",
        ],
        cwd: new URL("..", import.meta.url).pathname,
        env: { FCA_MODEL: MODEL_PATH, NO_COLOR: "1" },
        stdout: "piped",
        stderr: "piped",
      }).output();
      assert.equal(cli.code, 0, new TextDecoder().decode(cli.stderr));
      const cliLines = new TextDecoder().decode(cli.stdout).trim().split("\n").map((l) =>
        JSON.parse(l)
      );
      const cliByStem = new Map(cliLines.map((l) => [l.path.split("/").pop(), l]));
      for (const r of results) {
        const c = cliByStem.get(r.path.split("/").pop());
        assert.ok(c, r.path);
        assert.equal(r.score, c.score);
        for (const kind of ["npy", "heatmap", "overlay"]) {
          assert.deepEqual(
            await Deno.readFile(r.outputs[kind]),
            await Deno.readFile(c.outputs[kind]),
            `${r.path} ${kind}`,
          );
        }
      }
      log.push(`${at()}: all ${JOBS} outputs equal the CLI's`);

      // Failures: an undecodable image and one outside the worker's root, one line each, exit 1.
      await Deno.writeTextFile(`${root}/bad.png`, "not an image");
      const outside = await Deno.makeTempFile({ suffix: ".png" });
      await Deno.copyFile(`${images}/img00.png`, outside);
      const failing = fcaChild("submit", [
        "submit",
        `${root}/bad.png`,
        outside,
        "--redis",
        redis.url,
        "--out",
        `${root}/out`,
        "--wait",
        "--timeout-s",
        "120",
      ]);
      assert.equal((await failing.status).code, 1);
      await failing.stdout();
      const errors = failing.lines.filter((l) => l.startsWith("error:"));
      assert.equal(errors.length, 2, failing.lines.join("\n"));
      assert.match(errors.join("\n"), /bad\.png: not a PNG or JPEG image/);
      assert.match(errors.join("\n"), /is outside the worker's root/);
      await Deno.remove(outside);
      b.kill("SIGTERM");
      assert.equal((await b.status).code, 0);
      await b.stdout();
      console.log(log.map((l) => `  fleet: ${l}`).join("\n"));
    } finally {
      for (const c of [a, b, submit]) c?.kill("SIGKILL");
      for (const c of [a, b, submit]) {
        await c?.status;
        await c?.stdout();
      }
      await redis.stop();
      await Deno.remove(root, { recursive: true });
    }
  },
});

/** Wait until `child` has written `n` lines matching `re`. */
async function waitCount(child: { lines: string[] }, re: RegExp, n: number): Promise<void> {
  for (let i = 0; i < 3000; i++) {
    if (child.lines.filter((l) => re.test(l)).length >= n) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`no ${n} lines matching ${re}`);
}

/** The `n`-th line matching `re` (1-based), polled closely. */
async function waitNth(
  child: { lines: string[] },
  re: RegExp,
  n: number,
): Promise<RegExpMatchArray> {
  for (let i = 0; i < 60_000; i++) {
    const hits = child.lines.map((l) => l.match(re)).filter((m) => m !== null);
    if (hits.length >= n) return hits[n - 1]!;
    await new Promise((r) => setTimeout(r, 2));
  }
  throw new Error(`no ${n} lines matching ${re}`);
}

Deno.test({
  name: "fleet: an unreachable Redis is one line and exit 1; usage errors exit 2",
  ...opts,
  async fn() {
    const closed = freePortClosed();
    const png = new URL("../docs/serve.png", import.meta.url).pathname; // any existing image
    for (
      const [args, code, re] of [
        [
          ["submit", png, "--redis", `redis://user:pw@127.0.0.1:${closed}`, "--out", "o"],
          1,
          /cannot reach Redis at redis:\/\/\*\*\*@127\.0\.0\.1:\d+ \(connect ECONNREFUSED/,
        ],
        [
          ["submit", png, "--redis", "http://x", "--out", "o"],
          2,
          /--redis must be a redis:\/\//,
        ],
        [["submit", png, "--redis", "redis://127.0.0.1:1"], 2, /--out DIR is required/],
        [
          ["submit", png, "--redis", "redis://127.0.0.1:1", "--out", "o", "--model", "m.onnx"],
          2,
          /--model is set on the workers/,
        ],
        [
          ["worker", "--redis", "redis://127.0.0.1:1", "--concurrency", "0"],
          2,
          /--concurrency must be an integer/,
        ],
      ] as [string[], number, RegExp][]
    ) {
      const c = fcaChild(args[0], args);
      const status = await c.status;
      await c.stdout();
      const errors = c.lines.filter((l) => l.startsWith("error:"));
      assert.equal(status.code, code, `${args.join(" ")}\n${c.lines.join("\n")}`);
      assert.equal(errors.length, 1, c.lines.join("\n"));
      assert.match(errors[0], re);
      assert.ok(!c.lines.join("\n").includes("pw@"), "the password is never printed");
    }
  },
});

/** A port nothing listens on. */
function freePortClosed(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}
