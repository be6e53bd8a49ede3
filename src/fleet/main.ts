/**
 * The fleet on Redis with BullMQ: `fca worker` takes detection jobs from a queue and writes their
 * outputs, `fca submit` enqueues one job per image (and with `--wait` follows them to the end).
 *
 * A worker killed mid-job loses nothing: BullMQ's stalled-job check (every `--lock-ms`) hands the
 * job whose lock expired to another worker, which writes the same files under the same names
 * (outputs are keyed by the job id, written atomically). The lock is renewed from the event loop,
 * so the heavy work stays off it: the detector runs on its worker threads (or the GPU), decoding
 * and encoding on an I/O worker thread.
 * @module
 */
import { decide } from "../decision/decide.ts";
import { optionDefault } from "../design.ts";
import { detectionFields } from "../cli/detect.ts";
import { parseArgs } from "node:util";
import { resolve } from "node:path";
import { Queue, QueueEvents, UnrecoverableError, Worker } from "../base/npm/bullmq.ts";
import { Redis } from "../base/npm/ioredis.ts";
import { OptionError, parsePipelineFlags, PIPELINE_FLAGS, PIPELINE_HELP } from "../design.ts";
import { SerialQueue } from "../base/serial_queue.ts";
import { IoPool } from "../io/io_pool.ts";
import { DetectorPool, PROCESS_ONLY } from "../serve/detectors.ts";
import { optionSpec } from "../design.ts";
import { expandInputs } from "../cli/inputs.ts";
import {
  checkJobData,
  DEFAULT_QUEUE,
  type JobData,
  jobId,
  jobOutputs,
  JobRefused,
  realUnderRoot,
  underRoot,
} from "./job.ts";

/** Help text of the worker command. */
export const WORKER_HELP = `Usage: fca worker --redis redis://HOST:PORT [options]
Takes detection jobs {input, out, options} from a BullMQ queue, runs the detector and writes
<job id>.anomaly.png, <job id>.overlay.png and <job id>.anomaly.npy into the job's folder. The
job's return value is the CLI's JSON line. SIGTERM/SIGINT: finish the jobs in hand, then exit.

Worker options:
  --redis URL        Redis to take jobs from (redis://[:password@]host:port[/db])
  --queue NAME       queue name (default ${DEFAULT_QUEUE})
  --concurrency N    jobs in hand at once; detections still run one at a time (default 2)
  --root DIR         job paths must lie under DIR (default: the current folder)
  --lock-ms N        job lock time; a job whose worker died is handed on after at most twice
                     this (default 30000)

Pipeline options (the defaults of every job; --model, --backend, --threads only here):
${PIPELINE_HELP}`;

/** Help text of the submit command. */
export const SUBMIT_HELP = `Usage: fca submit IMAGE|DIR... --redis URL --out DIR [--wait] [options]
Enqueues one detection job per image for 'fca worker'. Job ids derive from the input, the output
folder and the options: submitting the same work again names the same job (a failed one is
retried, a finished one is not redone). Prints the job ids, or with --wait the JSON line of each
job as it finishes (progress on stderr); exits 1 if any job failed, with one line per failure.

Submit options:
  --redis URL        Redis of the workers
  --queue NAME       queue name (default ${DEFAULT_QUEUE})
  --out DIR          output folder, as the workers see it
  --root DIR         send paths relative to DIR (the workers' --root); default: absolute paths
  --wait             wait for every job and report
  --timeout-s N      with --wait: give up after N seconds (default: no limit)

Pipeline options (only those given travel with the jobs; --model, --backend, --threads are the
workers'):
${PIPELINE_HELP}`;

const REDIS_FLAGS = { redis: { type: "string" }, queue: { type: "string" } } as const;

/**
 * A connected Redis client, or a one-line error when `url` cannot be reached within 10 s (a
 * password in the URL is never printed). Later connection errors are logged once each while
 * ioredis reconnects.
 */
async function connectRedis(url: string | undefined, tag: string): Promise<Redis> {
  if (!url) throw new OptionError(`--redis URL is required (e.g. redis://127.0.0.1:6379)`);
  if (!/^rediss?:\/\//.test(url)) {
    throw new OptionError(`--redis must be a redis:// or rediss:// URL, got '${redact(url)}'`);
  }
  // BullMQ's blocking commands need maxRetriesPerRequest null.
  const redis = new Redis(url, { maxRetriesPerRequest: null, lazyConnect: true });
  let last = "", connected = false;
  redis.on("error", (err: Error) => {
    if (connected && err.message !== last) {
      console.error(`${tag}: redis ${redact(url)}: ${err.message}`);
    }
    last = err.message;
  });
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await Promise.race([
      redis.connect(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error("no answer in 10 s")), 10_000);
      }),
    ]);
  } catch (err) {
    redis.disconnect();
    throw new Error(`cannot reach Redis at ${redact(url)} (${last || (err as Error).message})`);
  } finally {
    clearTimeout(timer);
  }
  last = "";
  connected = true;
  return redis;
}

function redact(url: string): string {
  return url.replace(/\/\/([^@/]*)@/, "//***@");
}

function intFlag(text: string | undefined, flag: string, def: number, min: number, max: number) {
  if (text === undefined) return def;
  const n = Number(text);
  if (!Number.isInteger(n) || n < min || n > max || text.trim() === "") {
    throw new OptionError(`--${flag} must be an integer in [${min}, ${max}], got '${text}'`);
  }
  return n;
}

/** Run a worker until SIGTERM/SIGINT; resolves to the exit code. */
export async function runWorker(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: {
      ...PIPELINE_FLAGS,
      ...REDIS_FLAGS,
      concurrency: { type: "string" },
      root: { type: "string" },
      "lock-ms": { type: "string" },
    },
    allowPositionals: true,
    strict: true,
  });
  if (positionals.length > 0) throw new OptionError(`worker takes no inputs (see --help)`);
  const concurrency = intFlag(values.concurrency, "concurrency", 2, 1, 64);
  const lockMs = intFlag(values["lock-ms"], "lock-ms", 30_000, 500, 3_600_000);
  const queueName = values.queue ?? DEFAULT_QUEUE;
  const root = await Deno.realPath(resolve(values.root ?? "."));
  const connection = await connectRedis(values.redis, `worker ${Deno.pid}`);
  const pool = await DetectorPool.create(values, 2);
  // One I/O thread keeps decoding and encoding off the event loop that renews the job locks.
  const io = IoPool.create(1);
  const detecting = new SerialQueue();
  const tag = `worker ${Deno.pid}`;

  const worker = new Worker<JobData, Record<string, unknown>>(
    queueName,
    async (job) => {
      const t0 = performance.now();
      console.error(`${tag}: start ${job.id} ${job.data?.input}`);
      try {
        const data = checkJobData(job.data);
        const resolved = pool.resolve(data.options);
        const inputPath = await realUnderRoot(root, underRoot(root, data.input, "input"), "input");
        const outDir = underRoot(root, data.out, "out");
        await Deno.mkdir(outDir, { recursive: true });
        await realUnderRoot(root, outDir, "out");
        const lease = await pool.acquire(resolved);
        const detector = lease.detector;
        const { value: image, ms: decode } = await io.decode(inputPath).catch((err) => {
          throw new JobRefused((err as Error).message); // undecodable: a retry cannot help
        });
        const { width, height } = image;
        const det = await detecting.run(() => detector.detect(image)).finally(lease.release);
        // The CLI's decision (zero-shot threshold, regions outlined on the overlay).
        const decided = decide(det.map, { minArea: optionDefault("minArea") });
        const { ms: write } = await io.write({
          detection: { ...det, mask: decided.mask },
          image,
          paths: jobOutputs(outDir, job.id!),
        });
        const ms: Record<string, number> = {
          decode,
          ...det.timings,
          write,
          latency: performance.now() - t0,
        };
        for (const k in ms) ms[k] = Math.round(ms[k] * 100) / 100;
        const line = {
          path: data.input,
          ...detectionFields({ width, height, ...det, decision: decided.decision }, detector),
          outputs: jobOutputs(outDir, job.id!),
          ms,
        };
        console.error(`${tag}: done ${job.id} in ${ms.latency} ms`);
        return line;
      } catch (err) {
        const message = err instanceof Error ? err.message.split("\n")[0] : String(err);
        console.error(`${tag}: failed ${job.id}: ${message}`);
        // Bad data, a path outside the root, an undecodable image: retrying cannot help.
        if (err instanceof JobRefused || err instanceof OptionError) {
          throw new UnrecoverableError(message);
        }
        throw err;
      }
    },
    {
      connection,
      concurrency,
      lockDuration: lockMs,
      stalledInterval: lockMs,
      maxStalledCount: 1,
      autorun: false,
    },
  );
  worker.on("error", (err) => console.error(`${tag}: ${err.message}`));
  console.error(
    `${tag}: queue '${queueName}' on ${
      redact(values.redis!)
    }, root ${root}, concurrency ${concurrency}, ` +
      `lock ${lockMs} ms, backend ${pool.main.backend} (${pool.main.adapter})`,
  );
  let stopping: Promise<void> | undefined;
  const stop = (name: string) => () => {
    if (stopping) {
      console.error(`${tag}: ${name} again, exiting now`);
      Deno.exit(1);
    }
    console.error(`${tag}: ${name}: finishing the jobs in hand, then exiting`);
    stopping = worker.close();
  };
  const onTerm = stop("SIGTERM"), onInt = stop("SIGINT");
  Deno.addSignalListener("SIGTERM", onTerm);
  Deno.addSignalListener("SIGINT", onInt);
  await worker.run();
  await stopping;
  Deno.removeSignalListener("SIGTERM", onTerm);
  Deno.removeSignalListener("SIGINT", onInt);
  io.dispose();
  await pool.dispose();
  await connection.quit().catch(() => {});
  console.error(`${tag}: stopped`);
  return 0;
}

/** Enqueue jobs (and with --wait follow them); resolves to the exit code. */
export async function runSubmit(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: {
      ...PIPELINE_FLAGS,
      ...REDIS_FLAGS,
      out: { type: "string" },
      root: { type: "string" },
      wait: { type: "boolean" },
      "timeout-s": { type: "string" },
    },
    allowPositionals: true,
    strict: true,
  });
  if (positionals.length === 0) throw new OptionError("no input images given (see --help)");
  if (!values.out) throw new OptionError("--out DIR is required (the workers' output folder)");
  const timeoutS = intFlag(values["timeout-s"], "timeout-s", 0, 1, 86_400 * 7);
  // Only the pipeline flags given travel with the jobs, each checked here first.
  const options: Record<string, string> = {};
  for (const [flag, value] of Object.entries(values)) {
    if (!(flag in PIPELINE_FLAGS) || value === undefined) continue;
    options[flag] = String(value);
  }
  for (const name of PROCESS_ONLY) {
    const flag = optionSpec(name).flag;
    if (flag in options) throw new OptionError(`--${flag} is set on the workers, not per job`);
  }
  parsePipelineFlags(options);
  const root = values.root ? await Deno.realPath(values.root) : undefined;
  const asSent = (path: string, what: string) => {
    const abs = resolve(path);
    if (!root) return abs;
    try {
      return underRoot(root, abs, what).slice(root.length + 1) || ".";
    } catch (err) {
      throw new OptionError(`${(err as Error).message} (--root ${values.root})`);
    }
  };
  const out = asSent(values.out, "--out");
  const items = await expandInputs(positionals);
  let failed = 0;
  const jobs: { id: string; data: JobData }[] = [];
  for (const item of items) {
    if ("error" in item) {
      console.error(`error: ${item.path}: ${item.error}`);
      failed++;
      continue;
    }
    const data: JobData = { input: asSent(await Deno.realPath(item.path), "input"), out, options };
    jobs.push({ id: jobId(data), data });
  }

  const connection = await connectRedis(values.redis, "submit");
  const queueName = values.queue ?? DEFAULT_QUEUE;
  const queue = new Queue<JobData>(queueName, { connection });
  const events = values.wait
    ? new QueueEvents(queueName, { connection: connection.duplicate() })
    : undefined;
  try {
    if (events) await events.waitUntilReady();
    const added = [];
    for (const { id, data } of jobs) {
      const job = await queue.add("detect", data, {
        jobId: id,
        removeOnFail: false,
        removeOnComplete: { age: 7 * 86_400 },
      });
      if (await job.isFailed()) await job.retry(); // resubmitted after a failure: run it again
      added.push(job);
      if (!events) console.log(id);
    }
    if (!events) return failed > 0 ? 1 : 0;
    console.error(`submit: ${added.length} jobs on queue '${queueName}', waiting`);
    let done = 0;
    const deadline = timeoutS > 0 ? Date.now() + timeoutS * 1000 : Infinity;
    await Promise.all(added.map(async (job) => {
      try {
        const ttl = deadline === Infinity ? undefined : Math.max(1, deadline - Date.now());
        const result = await job.waitUntilFinished(events, ttl);
        console.log(JSON.stringify(result));
      } catch (err) {
        failed++;
        const reason = (err instanceof Error ? err.message : String(err)).split("\n")[0];
        const named = reason.includes(`${job.data.input}:`) || reason.startsWith("/");
        console.error(`error: ${named ? "" : `${job.data.input}: `}${reason} (job ${job.id})`);
      }
      done++;
      console.error(
        `submit: ${done}/${added.length} finished${failed ? `, ${failed} failed` : ""}`,
      );
    }));
    if (failed > 0) console.error(`${failed} of ${items.length} inputs failed`);
    return failed > 0 ? 1 : 0;
  } finally {
    await events?.close();
    await queue.close();
    await connection.quit().catch(() => {});
  }
}
