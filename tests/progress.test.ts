/** The one progress bar: items (eval) and bytes (model download), terminal and plain lines. */
import assert from "node:assert/strict";
import { ProgressBar } from "../src/base/progress.ts";

Deno.test("progress, not a terminal: one whole line per update, or per 10 % with lineEvery", () => {
  let t = 0;
  const lines: string[] = [];
  const items = new ProgressBar(3, { write: (s) => lines.push(s), tty: false, now: () => t });
  t = 1000;
  items.tick("a");
  items.tick("b");
  items.finish();
  assert.deepEqual(lines.length, 2);
  assert.ok(lines.every((l) => l.endsWith("\n") && !l.includes("\r")));
  assert.match(lines[1], /^\[#{16}\.{8}\] 2\/3 2\.00 img\/s ETA 1s b\n$/);

  const bytes: string[] = [];
  const dl = new ProgressBar(100e6, {
    kind: "bytes",
    prefix: "download",
    lineEvery: 0.1,
    write: (s) => bytes.push(s),
    tty: false,
    now: () => t,
  });
  for (let got = 1e6; got <= 100e6; got += 1e6) {
    t += 10;
    dl.update(got);
  }
  dl.finish();
  // A line as 0 %, 10 %, ..., 100 % are reached; finish repeats nothing.
  assert.equal(bytes.length, 11, bytes.join(""));
  assert.match(bytes.at(-1)!, /^download \[#{24}\] 100\.0 MB \/ 100\.0 MB .* MB\/s ETA 0s\n$/);
});

Deno.test("progress on a terminal: redrawn in place, finished with a newline", () => {
  const out: string[] = [];
  const p = new ProgressBar(0, { kind: "bytes", write: (s) => out.push(s), tty: true });
  p.update(5e6);
  p.finish();
  assert.ok(out[0].startsWith("\r\x1b[2K"));
  const last = out.at(-1)!;
  assert.ok(last.startsWith("\r\x1b[2K") && last.endsWith("\n"));
  assert.match(last.slice(5), /^5\.0 MB .*MB\/s\n$/);
});
