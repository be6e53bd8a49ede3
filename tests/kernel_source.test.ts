/**
 * Kernel loading (src/gpu/kernel_source.ts), from disk and behind its reader (src/gpu/kernel_source.ts): the kernels fetched over HTTP, as
 * the browser app loads them, expand to exactly the text read from disk; includes are expanded
 * once; a missing kernel is one line naming its URL; a failed read is not cached.
 */
import assert from "node:assert/strict";
import {
  DEFAULT_KERNEL_FOLDER,
  loadKernel,
  setKernelFolder,
  setKernelReader,
  urlKernelReader,
} from "../src/gpu/kernel_source.ts";

/** Every kernel name under kernels/ (without `.wgsl`), library files included. */
function kernelNames(): string[] {
  const out: string[] = [];
  for (const dir of ["", "lib/"]) {
    for (const e of Deno.readDirSync(new URL(dir, DEFAULT_KERNEL_FOLDER))) {
      if (e.isFile && e.name.endsWith(".wgsl")) out.push(`${dir}${e.name.slice(0, -5)}`);
    }
  }
  return out.sort();
}

/** A static server of the kernels folder on 127.0.0.1; `requests` logs the paths asked. */
function serveKernels() {
  const requests: string[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const path = new URL(req.url).pathname;
    requests.push(path);
    const m = /^\/app\/kernels\/((?:lib\/)?[a-z0-9_]+\.wgsl)$/.exec(path);
    if (!m) return new Response("not found", { status: 404 });
    try {
      return new Response(await Deno.readFile(new URL(m[1], DEFAULT_KERNEL_FOLDER)));
    } catch {
      return new Response("not found", { status: 404 });
    }
  });
  const url = `http://127.0.0.1:${server.addr.port}/app/kernels/`;
  return { server, url, requests };
}

Deno.test("kernels load with their //#include lines expanded, each helper once", async () => {
  const names = [...Deno.readDirSync(new URL("../kernels/", import.meta.url))]
    .filter((e) => e.isFile && e.name.endsWith(".wgsl"))
    .map((e) => e.name.slice(0, -5));
  assert.ok(names.includes("rank_matching") && names.includes("stats_hist_emd"));
  for (const name of names) {
    const code = await loadKernel(name);
    assert.doesNotMatch(code, /^\/\/#include/m, name);
    assert.ok((code.match(/fn reflectIndex\(/g) ?? []).length <= 1, name);
    assert.match(code, /@compute/, name);
  }
  const emd = await loadKernel("stats_hist_emd");
  for (const fn of ["fn reflectIndex(", "fn localHistogram(", "struct StatsDims"]) {
    assert.equal(emd.split(fn).length, 2, `${fn} once in stats_hist_emd`);
  }
});

Deno.test("kernel_source: kernels fetched over HTTP equal those read from disk", async () => {
  const names = kernelNames();
  assert.ok(names.length > 20 && names.includes("rank_matching"), names.join(" "));
  const fromDisk = new Map<string, string>();
  setKernelFolder(DEFAULT_KERNEL_FOLDER);
  for (const n of names) fromDisk.set(n, await loadKernel(n));
  const { server, url, requests } = serveKernels();
  try {
    setKernelFolder(new URL(url));
    for (const n of names) assert.equal(await loadKernel(n), fromDisk.get(n), n);
    // Includes were expanded: no directive is left, and lib files were fetched by URL.
    assert.ok(![...fromDisk.values()].some((t) => /^\/\/#include/m.test(t)));
    assert.ok(requests.includes("/app/kernels/lib/reflect_index.wgsl"), requests.join(" "));
    const before = requests.length;
    await loadKernel("rank_matching");
    assert.equal(requests.length, before, "read once, then cached");
  } finally {
    setKernelFolder(DEFAULT_KERNEL_FOLDER);
    await server.shutdown();
  }
});

Deno.test("kernel_source: a missing kernel is one line with its URL; failures are not cached", async () => {
  const { server, url } = serveKernels();
  try {
    setKernelFolder(new URL(url));
    await assert.rejects(
      loadKernel("no_such_kernel"),
      (e: Error) => e.message === `kernel ${url}no_such_kernel.wgsl: HTTP 404`,
    );
    let calls = 0;
    setKernelReader((path) => {
      calls++;
      return calls === 1
        ? Promise.reject(new Error("offline"))
        : urlKernelReader(new URL(url))(path);
    });
    await assert.rejects(loadKernel("upsample"), /offline/);
    assert.match(await loadKernel("upsample"), /fn main|@compute/, "retried after the failure");
    assert.throws(() => urlKernelReader(new URL("http://x/kernels")), /must end in \//);
  } finally {
    setKernelFolder(DEFAULT_KERNEL_FOLDER);
    await server.shutdown();
  }
});

Deno.test("kernel_source: includes are expanded once per kernel, nested ones too", async () => {
  const files: Record<string, string> = {
    "k.wgsl": "//#include a\n//#include b\nfn k() {}",
    "lib/a.wgsl": "//#include b\nfn a() {}",
    "lib/b.wgsl": "fn b() {}",
  };
  setKernelReader((p) =>
    p in files ? Promise.resolve(files[p]) : Promise.reject(new Error(`no ${p}`))
  );
  try {
    assert.equal(
      await loadKernel("k"),
      "fn b() {}\nfn a() {}\n// (b already included)\nfn k() {}",
    );
  } finally {
    setKernelFolder(DEFAULT_KERNEL_FOLDER);
  }
});
