/**
 * The server's Prometheus metrics (text exposition format 0.0.4): requests by route and status,
 * a detection latency histogram, queue depth, requests in flight, images per second over the
 * last minute, and the process's resident memory.
 * @module
 */

/** Upper bounds (seconds) of the latency histogram's buckets. */
export const LATENCY_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

/** Window of the images-per-second gauge, in milliseconds. */
const RATE_WINDOW_MS = 60_000;

/** Counters and a histogram, rendered on demand. */
export class Metrics {
  #requests = new Map<string, number>();
  #buckets = new Array(LATENCY_BUCKETS.length).fill(0);
  #sum = 0;
  #count = 0;
  #images = 0;
  /** Completion times (ms, performance.now) of the last minute's images, oldest first. */
  #recent: number[] = [];

  /** Count one answered request. */
  request(route: string, status: number): void {
    const key = `${route}\u0000${status}`;
    this.#requests.set(key, (this.#requests.get(key) ?? 0) + 1);
  }

  /** Record one detected image and its latency (admission to answer). */
  image(seconds: number): void {
    this.#images++;
    this.#sum += seconds;
    this.#count++;
    for (let i = 0; i < LATENCY_BUCKETS.length; i++) {
      if (seconds <= LATENCY_BUCKETS[i]) this.#buckets[i]++;
    }
    const now = performance.now();
    this.#recent.push(now);
    this.#trim(now);
  }

  /** Mean detection latency so far in seconds (1 before the first image). */
  get meanSeconds(): number {
    return this.#count ? this.#sum / this.#count : 1;
  }

  /** Images per second over the last minute (or since the first image, when sooner). */
  imagesPerSecond(): number {
    const now = performance.now();
    this.#trim(now);
    if (this.#recent.length < 2) return this.#recent.length / (RATE_WINDOW_MS / 1000);
    const span = Math.max(now - this.#recent[0], 1000);
    return this.#recent.length / (Math.min(span, RATE_WINDOW_MS) / 1000);
  }

  #trim(now: number): void {
    let drop = 0;
    while (drop < this.#recent.length && now - this.#recent[drop] > RATE_WINDOW_MS) drop++;
    if (drop) this.#recent.splice(0, drop);
  }

  /** The exposition text, with the gauges given by the caller. */
  render(gauges: { queueDepth: number; inFlight: number; ready: boolean }): string {
    const lines: string[] = [];
    const head = (name: string, type: string, help: string) =>
      lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    head("fca_http_requests_total", "counter", "HTTP requests answered, by route and status.");
    for (const [key, n] of [...this.#requests].sort()) {
      const [route, status] = key.split("\u0000");
      lines.push(`fca_http_requests_total{route="${route}",status="${status}"} ${n}`);
    }
    head(
      "fca_detect_duration_seconds",
      "histogram",
      "Latency of successful detections, from admission to answer.",
    );
    LATENCY_BUCKETS.forEach((le, i) =>
      lines.push(`fca_detect_duration_seconds_bucket{le="${le}"} ${this.#buckets[i]}`)
    );
    lines.push(`fca_detect_duration_seconds_bucket{le="+Inf"} ${this.#count}`);
    lines.push(`fca_detect_duration_seconds_sum ${this.#sum}`);
    lines.push(`fca_detect_duration_seconds_count ${this.#count}`);
    head("fca_images_total", "counter", "Images detected.");
    lines.push(`fca_images_total ${this.#images}`);
    head("fca_images_per_second", "gauge", "Images detected per second over the last minute.");
    lines.push(`fca_images_per_second ${round(this.imagesPerSecond())}`);
    head("fca_queue_depth", "gauge", "Requests waiting for the detector.");
    lines.push(`fca_queue_depth ${gauges.queueDepth}`);
    head("fca_in_flight", "gauge", "Detection requests admitted and not yet answered.");
    lines.push(`fca_in_flight ${gauges.inFlight}`);
    head("fca_ready", "gauge", "1 while the server accepts work, 0 while it shuts down.");
    lines.push(`fca_ready ${gauges.ready ? 1 : 0}`);
    const mem = Deno.memoryUsage();
    head("process_resident_memory_bytes", "gauge", "Resident memory of the process.");
    lines.push(`process_resident_memory_bytes ${mem.rss}`);
    head("fca_js_heap_used_bytes", "gauge", "JavaScript heap in use.");
    lines.push(`fca_js_heap_used_bytes ${mem.heapUsed}`);
    head(
      "fca_js_external_bytes",
      "gauge",
      "Memory of ArrayBuffers and other objects outside the heap.",
    );
    lines.push(`fca_js_external_bytes ${mem.external}`);
    return lines.join("\n") + "\n";
  }
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}
