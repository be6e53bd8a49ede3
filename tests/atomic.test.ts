/**
 * src/base/atomic.ts: outputs appear whole under their final name or not at all, and a failed
 * write leaves nothing behind.
 */
import assert from "node:assert/strict";
import { writeFileAtomic } from "../src/base/atomic.ts";

async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "fca-atomic-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const names = (dir: string) => [...Deno.readDirSync(dir)].map((e) => e.name).sort();
const filled = (n: number, v: number) => new Uint8Array(n).fill(v);

/** Compare bytes with a short message (assert's diff of large arrays takes gigabytes). */
function assertBytes(actual: Uint8Array, expected: Uint8Array, what: string): void {
  const same = actual.length === expected.length && actual.every((v, i) => v === expected[i]);
  const head = (a: Uint8Array) => `${a.length} bytes [${a.subarray(0, 4).join(",")}…]`;
  assert.ok(same, `${what}: ${head(actual)}, expected ${head(expected)}`);
}

Deno.test("writeFileAtomic: new file, and an existing longer target replaced whole", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/out.npy`;
    await writeFileAtomic(path, filled(1000, 7));
    assertBytes(await Deno.readFile(path), filled(1000, 7), "first write");
    // A shorter file over a longer one: nothing of the old content may survive past the end.
    await writeFileAtomic(path, filled(10, 9));
    assertBytes(await Deno.readFile(path), filled(10, 9), "shorter over longer");
    await writeFileAtomic(path, new Uint8Array());
    assert.equal((await Deno.stat(path)).size, 0);
    assert.deepEqual(names(dir), ["out.npy"], "no temporary file left");
    // A relative path (no folder part) works too.
    const cwd = Deno.cwd();
    Deno.chdir(dir);
    try {
      await writeFileAtomic("rel.png", filled(3, 1));
    } finally {
      Deno.chdir(cwd);
    }
    assertBytes(await Deno.readFile(`${dir}/rel.png`), filled(3, 1), "relative path");
  });
});

Deno.test("writeFileAtomic: a rename that fails (target is a directory) leaves no .tmp", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/target`;
    await Deno.mkdir(path);
    await Deno.writeFile(`${path}/inside`, filled(4, 1));
    await assert.rejects(() => writeFileAtomic(path, filled(100, 3)));
    assert.deepEqual(names(dir), ["target"], "the temporary file was removed");
    assert.deepEqual(names(path), ["inside"]);
    // Same for a write that cannot even start (missing folder).
    await assert.rejects(
      () => writeFileAtomic(`${dir}/nope/x.png`, filled(1, 1)),
      Deno.errors.NotFound,
    );
    assert.deepEqual(names(dir), ["target"]);
  });
});

Deno.test("writeFileAtomic: a reader sees the old or the new file, never a partial one", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/map.npy`;
    const old = filled(1 << 16, 1), next = filled(1 << 16, 2);
    await Deno.writeFile(path, old);
    // Make the write itself slow: the first half, a pause in which a reader looks at the final
    // path, then the rest. Writing in place would show the reader half a file.
    const realWriteFile = Deno.writeFile;
    let pauses = 0;
    const seen: Uint8Array[] = [];
    // deno-lint-ignore no-explicit-any
    (Deno as any).writeFile = async (p: string | URL, data: Uint8Array) => {
      pauses++;
      await realWriteFile(p, data.subarray(0, data.length >> 1));
      seen.push(await Deno.readFile(path));
      await realWriteFile(p, data, { append: false });
    };
    try {
      await writeFileAtomic(path, next);
    } finally {
      Deno.writeFile = realWriteFile;
    }
    assert.equal(
      pauses,
      1,
      "writeFileAtomic no longer writes through Deno.writeFile: update this test",
    );
    assertBytes(seen[0], old, "the final path during the write");
    assertBytes(await Deno.readFile(path), next, "the final path after the write");
    assert.deepEqual(names(dir), ["map.npy"]);

    // And with real concurrency: a reader polling while large files are rewritten.
    const size = 4 << 20;
    const a = filled(size, 0xaa), b = filled(size, 0xbb);
    await writeFileAtomic(path, a);
    let done = false, reads = 0, bad = "";
    const reader = (async () => {
      while (!done && !bad) {
        const got = await Deno.readFile(path);
        reads++;
        if (got.length !== size) bad = `read ${reads}: ${got.length} of ${size} bytes`;
        else if (got[0] !== got[size - 1] || got[size >> 1] !== got[0]) {
          bad = `read ${reads}: mixed`;
        }
      }
    })();
    try {
      for (let i = 0; i < 12 && !bad; i++) await writeFileAtomic(path, i % 2 ? a : b);
    } finally {
      done = true;
      await reader;
    }
    assert.equal(bad, "", "a reader saw a partial file");
    assert.ok(reads > 0);
    assert.deepEqual(names(dir), ["map.npy"]);
  });
});
