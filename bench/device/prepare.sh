#!/usr/bin/env bash
# Device kit, part 1: run HERE (a machine with network), from anywhere in the repo:
#
#   bash bench/device/prepare.sh [--native-ort]
#
# The lent GPU machine has no network at all (no npm, no apt) and `../shared` does not travel with
# the working tree, so everything bench/device/run.sh needs is packed into two git-ignored folders
# that the `run` tool carries (`carry: [".device", ".gl"]`, 64 MiB in all with the tree):
#
#   .device/deno.xz          the Deno binary this project pins (95 MB raw)
#   .device/denodir.tar.xz   a DENO_DIR holding only the npm packages of deno.lock, trimmed
#   .device/shared.tar.xz    the model, the carpet sample and the golden files the GPU tests read
#   .device/MANIFEST         versions, checksums and the commit the kit was made at
#   .gl/*.deb                the Vulkan/EGL loaders (the device image has no libvulkan)
#
# onnxruntime-node is 288 MB (every platform's native build). By default it is replaced by a small
# stand-in (see write_ort_node_stub): the CPU backbone then falls back to onnxruntime-web's wasm
# build, as src/features/backbone_cpu.ts already does when the native module fails. With
# --native-ort the real package is carried with only its linux-x64 binary (+12 MiB), so the CPU
# numbers of bench/e2e.ts are those of the native runtime, as in the README's table.
set -euo pipefail

DENO_VERSION=2.9.6
NATIVE_ORT=0
for arg in "$@"; do
  case "$arg" in
    --native-ort) NATIVE_ORT=1 ;;
    -h | --help) sed -n '2,22p' "$0"; exit 0 ;;
    *) echo "prepare.sh: unknown argument $arg" >&2; exit 2 ;;
  esac
done

ROOT=$(git -C "$(dirname "$0")" rev-parse --show-toplevel)
cd "$ROOT"
SHARED=${FCA_SHARED:-$ROOT/../shared}
KIT=$ROOT/.device
# Staging space outside the repo: the trimmed trees are built here and only their archives land in
# .device, so nothing big is ever untracked-but-not-ignored (which would travel uncompressed).
STAGE=$(mktemp -d /tmp/fca-device-prepare.XXXXXX)
trap 'rm -rf "$STAGE"' EXIT
mkdir -p "$KIT" .gl
# xz at -9 uses one 64 MiB dictionary per thread; one thread keeps the ratio and the memory modest.
XZ=(xz -9 -T1)
deno() { npx -y "deno@$DENO_VERSION" "$@"; }
mib() { awk -v b="$1" 'BEGIN { printf "%.2f", b / 1048576 }'; }
size_of() { du -cb "$@" | tail -1 | cut -f1; }

# Both folders must stay out of git (they would otherwise travel twice, and be committable).
for pattern in /.device/ /.gl/; do
  grep -qxF "$pattern" .git/info/exclude 2>/dev/null || echo "$pattern" >>.git/info/exclude
done

# --- Deno ---------------------------------------------------------------------------------------
DENO_BIN=$(deno eval 'console.log(Deno.execPath())')
"$DENO_BIN" --version | head -1 | grep -q "deno $DENO_VERSION" ||
  { echo "prepare.sh: $DENO_BIN is not deno $DENO_VERSION" >&2; exit 1; }
DENO_SHA=$(sha256sum "$DENO_BIN" | cut -d' ' -f1)
# xz -9e of 95 MB takes about two minutes: redo it only when the binary changed.
if [ "$(cat "$KIT/deno.sha256" 2>/dev/null)" != "$DENO_SHA" ] || [ ! -s "$KIT/deno.xz" ]; then
  echo "compressing $DENO_BIN (about 2 minutes)..."
  "${XZ[@]}" -e -c "$DENO_BIN" >"$KIT/deno.xz.tmp"
  mv "$KIT/deno.xz.tmp" "$KIT/deno.xz"
  echo "$DENO_SHA" >"$KIT/deno.sha256"
fi

# --- npm packages -------------------------------------------------------------------------------
# Make sure the global cache holds every package of deno.lock (a no-op when it already does);
# --frozen refuses to touch deno.lock.
deno install --frozen >/dev/null 2>&1 || deno install --frozen
NPM_CACHE=$(deno info --json | deno eval --ext=ts \
  'const i = JSON.parse(await new Response(Deno.stdin.readable).text()); console.log(i.npmCache)')
# "name version" for each package of the lockfile (keys are name@version, maybe _peer suffixes).
PACKAGES=$(deno eval --ext=ts '
  const lock = JSON.parse(await Deno.readTextFile("deno.lock"));
  for (const key of Object.keys(lock.npm ?? {})) {
    const base = key.split("_")[0], at = base.lastIndexOf("@");
    console.log(`${base.slice(0, at)} ${base.slice(at + 1)}`);
  }')
REG_SRC=$NPM_CACHE/registry.npmjs.org
REG=$STAGE/denodir/npm/registry.npmjs.org
mkdir -p "$REG"

# Deno checks that every package of the lockfile is in the cache before it runs anything (with
# --cached-only it refuses otherwise), but it only reads the files a run imports. So the packages
# that the device runs never import are shells: package.json (and registry.json) only.
shell_package() { # name version
  mkdir -p "$REG/$1/$2"
  cp "$REG_SRC/$1/registry.json" "$REG/$1/"
  cp "$REG_SRC/$1/$2/package.json" "$REG/$1/$2/"
}

# onnxruntime-web: Deno resolves "onnxruntime-web/webgpu" to ort.webgpu.bundle.min.mjs, which
# fetches ort-wasm-simd-threaded.asyncify.wasm beside it, and the bare "onnxruntime-web" (the
# CPU fallback) through its "node" export condition to ort.node.min.mjs, which loads
# ort-wasm-simd-threaded.{mjs,wasm}. The other builds (jsep, jspi, webgl, all) and source maps
# are 100+ MB that nothing here loads.
trim_ort_web() { # version
  local d=$REG/onnxruntime-web/$1
  mkdir -p "$d/dist"
  cp "$REG_SRC/onnxruntime-web/registry.json" "$REG/onnxruntime-web/"
  cp "$REG_SRC/onnxruntime-web/$1/package.json" "$REG_SRC/onnxruntime-web/$1/types.d.ts" "$d/"
  for f in ort.webgpu.bundle.min.mjs ort-wasm-simd-threaded.asyncify.mjs \
    ort-wasm-simd-threaded.asyncify.wasm ort.node.min.mjs ort-wasm-simd-threaded.mjs \
    ort-wasm-simd-threaded.wasm; do
    cp "$REG_SRC/onnxruntime-web/$1/dist/$f" "$d/dist/"
  done
}

# The stand-in for onnxruntime-node. Two callers: src/features/backbone_cpu.ts passes the model's
# bytes; the stand-in refuses them, so that code falls back to onnxruntime-web's wasm build and
# reports "onnxruntime-web/wasm" (no CPU number is ever labelled native when it is not).
# tests/backbone_webgpu.test.ts imports it statically (so it must load) and passes a path, to get
# CPU reference features: the stand-in serves those from onnxruntime-web's wasm build, the same
# ONNX Runtime kernels compiled to wasm. It imports that build by a relative path because
# onnxruntime-web is not a dependency of onnxruntime-node in deno.lock.
write_ort_node_stub() { # version
  local d=$REG/onnxruntime-node/$1
  mkdir -p "$d/dist"
  cp "$REG_SRC/onnxruntime-node/registry.json" "$REG/onnxruntime-node/"
  cat >"$d/package.json" <<EOF
{
  "name": "onnxruntime-node",
  "version": "$1",
  "description": "fca device-kit stand-in (bench/device/prepare.sh): native runtime not carried",
  "type": "module",
  "main": "dist/index.mjs",
  "exports": { ".": "./dist/index.mjs" },
  "dependencies": { "onnxruntime-common": "$1" }
}
EOF
  cat >"$d/dist/index.mjs" <<EOF
// fca device-kit stand-in for onnxruntime-node (written by bench/device/prepare.sh).
import { readFile } from "node:fs/promises";
export * from "onnxruntime-common";

const WASM_BUILD = "../../../onnxruntime-web/$1/dist/ort.node.min.mjs";
export const STAND_IN = true;

export const InferenceSession = {
  async create(model, options = {}) {
    if (typeof model !== "string") {
      throw new Error(
        "onnxruntime-node is not carried by the device kit (bench/device/prepare.sh --native-ort)",
      );
    }
    const ort = await import(WASM_BUILD);
    if (options.intraOpNumThreads) ort.env.wasm.numThreads = options.intraOpNumThreads;
    ort.env.logLevel = "error";
    return await ort.InferenceSession.create(await readFile(model), {
      executionProviders: ["wasm"],
    });
  },
};
EOF
}

# The real onnxruntime-node with only the binary the device can load.
native_ort_node() { # version
  local s=$REG_SRC/onnxruntime-node/$1 d=$REG/onnxruntime-node/$1
  mkdir -p "$d/dist" "$d/bin/napi-v6/linux"
  cp "$REG_SRC/onnxruntime-node/registry.json" "$REG/onnxruntime-node/"
  cp "$s/package.json" "$d/"
  cp "$s"/dist/*.js "$d/dist/"
  cp -r "$s/bin/napi-v6/linux/x64" "$d/bin/napi-v6/linux/"
}

while read -r name version; do
  [ -d "$REG_SRC/$name/$version" ] ||
    { echo "prepare.sh: $name@$version missing from $REG_SRC" >&2; exit 1; }
  case "$name" in
    onnxruntime-web) trim_ort_web "$version" ;;
    onnxruntime-node)
      if [ "$NATIVE_ORT" = 1 ]; then native_ort_node "$version"; else write_ort_node_stub "$version"; fi
      ;;
    # Type declarations only: the device runs with --no-check.
    @types/* | undici-types) shell_package "$name" "$version" ;;
    *)
      mkdir -p "$REG/$name"
      cp "$REG_SRC/$name/registry.json" "$REG/$name/"
      cp -r "$REG_SRC/$name/$version" "$REG/$name/"
      ;;
  esac
done <<<"$PACKAGES"
# Source maps and Deno's "lifecycle scripts were not run" markers are of no use there.
find "$REG" \( -name '*.map' -o -name '.scripts-warned-*' \) -delete
echo "compressing the npm packages..."
tar -C "$STAGE" -cf - denodir | "${XZ[@]}" >"$KIT/denodir.tar.xz.tmp"
mv "$KIT/denodir.tar.xz.tmp" "$KIT/denodir.tar.xz"

# --- shared data --------------------------------------------------------------------------------
# Only what the device steps read (tests/_shared.ts finds it through FCA_SHARED, FCA_GOLDEN,
# FCA_MODEL): the GPU tests' golden files (the pipeline test reads just image.png and
# fca_upsampled_stable.npy of each set; README.md marks the golden data present), the ResNet
# backbone, and the carpet sample of bench/e2e.ts.
D=$STAGE/shared
mkdir -p "$D/models" "$D/samples" "$D/golden"
cp "$SHARED/models/resnet50v2-stage2.onnx" "$D/models/"
cp "$SHARED/samples/carpet_hole_1024.png" "$D/samples/"
cp "$SHARED/golden/README.md" "$D/golden/"
for dir in "$SHARED"/golden/fca_random_T* "$SHARED"/golden/sww_random_T*; do
  cp -r "$dir" "$D/golden/"
done
for dir in "$SHARED"/golden/pipeline_*; do
  mkdir -p "$D/golden/$(basename "$dir")"
  cp "$dir/image.png" "$dir/fca_upsampled_stable.npy" "$D/golden/$(basename "$dir")/"
done
chmod -R u+w "$D" # ../shared is read-only; keep the unpacked copy removable on the device
echo "compressing the shared data..."
tar -C "$STAGE" -cf - shared | "${XZ[@]}" >"$KIT/shared.tar.xz.tmp"
mv "$KIT/shared.tar.xz.tmp" "$KIT/shared.tar.xz"

# --- Vulkan / EGL loaders (the recipe of the device tool's README) -----------------------------
if [ "$(ls .gl/*.deb 2>/dev/null | wc -l)" -lt 7 ]; then
  mkdir -p /tmp/amd64/partial
  o=(-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/amd64)
  apt-get "${o[@]}" update >/dev/null
  (cd .gl && apt-get "${o[@]}" download libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2)
fi

# --- manifest and sizes -------------------------------------------------------------------------
{
  echo "prepared: $(date -u +%Y-%m-%dT%H:%M:%SZ) at commit $(git rev-parse --short HEAD)"
  echo "deno: $DENO_VERSION sha256 $DENO_SHA"
  echo "deno.lock sha256: $(sha256sum deno.lock | cut -d' ' -f1)"
  echo "onnxruntime-node: $([ "$NATIVE_ORT" = 1 ] && echo "native linux-x64" || echo "stand-in")"
  echo "npm packages: $(echo "$PACKAGES" | tr ' ' @ | tr '\n' ' ')"
  echo "shared files:"
  (cd "$STAGE" && find shared -type f | sort | sed 's/^/  /')
  echo "debs: $(cd .gl && ls *.deb | tr '\n' ' ')"
} >"$KIT/MANIFEST"

tree_bytes=$( (git ls-files; git ls-files --others --exclude-standard) | sort -u |
  while read -r f; do [ -f "$f" ] && printf '%s\0' "$f"; done | du -cb --files0-from=- | tail -1 | cut -f1)
deno_b=$(size_of "$KIT/deno.xz")
npm_b=$(size_of "$KIT/denodir.tar.xz")
data_b=$(size_of "$KIT/shared.tar.xz")
gl_b=$(size_of .gl)
kit_b=$(size_of "$KIT" .gl)
total_b=$((kit_b + tree_bytes))
echo
echo "device kit (MiB): deno $(mib "$deno_b"), npm $(mib "$npm_b"), data $(mib "$data_b")," \
  ".gl $(mib "$gl_b"); carried $(mib "$kit_b") + working tree $(mib "$tree_bytes")" \
  "= $(mib "$total_b") of 64"
if [ "$total_b" -gt $((60 * 1048576)) ]; then
  echo "prepare.sh: WARNING: $(mib "$total_b") MiB leaves little room under the 64 MiB limit" >&2
fi
echo "run it: run tool, command 'bash bench/device/run.sh', carry [\".device\", \".gl\"], timeout_s 540"
