#!/usr/bin/env bash
# Device kit, part 2: run ON the lent GPU machine, from the repo root, as the whole `run` command:
#
#   bash bench/device/run.sh            # adapter check, GPU tests, GPU kernel bench, e2e, stream
#   bash bench/device/run.sh --quick    # adapter check and the kernel bench at 1024² only
#
# with carry [".device", ".gl"] (made by bench/device/prepare.sh). That machine has no network, so
# everything comes from those two folders; all output also goes to "$OUT/log", which comes back.
# See bench/device/README.md.
#
# Each step runs under `timeout` with its own budget, and a failing or stopped step never stops the
# next one. The whole script also keeps to a deadline (FCA_DEVICE_DEADLINE, seconds, default 500)
# by shortening the last steps' budgets, so that the summary line is printed before the tool's
# timeout_s kills everything.
#
# Environment overrides (for a rerun with less time, or the offline simulation on llvmpipe):
#   FCA_DEVICE_SIZES         e2e image sides             (default 256,512,1024)
#   FCA_DEVICE_RUNS          e2e timed runs per size     (default 5)
#   FCA_DEVICE_BACKENDS      e2e backends                (default webgpu,cpu)
#   FCA_DEVICE_BENCH_SIZES   kernel-bench feature sides  (default 32,64,128: 256², 512², 1024² images)
#   FCA_DEVICE_BENCH_CHANNELS kernel-bench channels      (default: the bench's own, 512 on hardware)
#   FCA_DEVICE_STREAM_SIZE / FCA_DEVICE_STREAM_COUNT     (default 1024 / 1000)
#   FCA_DEVICE_TESTS         test files instead of the discovered GPU tests
#   FCA_DEVICE_BUDGETS       "tests,bench,e2e,stream" seconds (default 120,60,120,180)
#   FCA_DEVICE_WEBGPU_BACKEND  first wgpu backend to try (default vulkan; empty: wgpu's choice)
#   FCA_KIT_TMP              where the kit is unpacked   (default /tmp/fca-kit)
#   FCA_KIT_GL_ROOT          where the .gl debs are unpacked (default /; ldconfig only then)
set -u
set -o pipefail

QUICK=0
case "${1:-}" in
  --quick) QUICK=1 ;;
  "") ;;
  *) sed -n '2,8p' "$0"; exit 2 ;;
esac

START=$SECONDS
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT" || exit 1
OUT=${OUT:-/tmp/out}
mkdir -p "$OUT"
LOG=$OUT/log
: >"$LOG"
KIT=${FCA_KIT_TMP:-/tmp/fca-kit}
GL_ROOT=${FCA_KIT_GL_ROOT:-/}
DEADLINE=${FCA_DEVICE_DEADLINE:-500}
IFS=, read -r B_TESTS B_BENCH B_E2E B_STREAM <<<"${FCA_DEVICE_BUDGETS:-120,60,120,180}"
SUMMARY=()

say() { printf '%s\n' "$*" | tee -a "$LOG"; }
header() { say ""; say "=== $* ==="; }

# The device image has python3 but maybe no xz binary: fall back to Python's lzma then.
have_xz() { [ -z "${FCA_KIT_NO_XZ:-}" ] && command -v xz >/dev/null; }
unxz_to() { # file.xz destination
  if have_xz; then
    xz -dc "$1" >"$2"
  else
    python3 -c 'import lzma, shutil, sys; shutil.copyfileobj(lzma.open(sys.argv[1]), open(sys.argv[2], "wb"))' "$1" "$2"
  fi
}
untar_xz() { # file.tar.xz directory
  if have_xz; then
    xz -dc "$1" | tar -C "$2" -xf -
  else
    python3 -c 'import sys, tarfile; t = tarfile.open(sys.argv[1]); t.extractall(sys.argv[2], **({"filter": "tar"} if hasattr(tarfile, "tar_filter") else {}))' "$1" "$2"
  fi
}

# Runs one step under its budget (cut to what the deadline leaves) and records pass/fail/timeout.
run_step() { # name budget command...
  local name=$1 budget=$2
  shift 2
  local left=$((DEADLINE - (SECONDS - START) - 5))
  [ "$left" -lt "$budget" ] && budget=$left
  if [ "$budget" -lt 10 ]; then
    header "$name: skipped (${budget}s left of its budget and the ${DEADLINE}s deadline)"
    SUMMARY+=("$name=skipped")
    return
  fi
  header "$name (budget ${budget}s): $*"
  local t0=$SECONDS rc verdict
  timeout -k 10 "$budget" "$@" 2>&1 | tee -a "$LOG"
  rc=${PIPESTATUS[0]}
  case "$rc" in
    0) verdict=pass ;;
    124 | 137) verdict="TIMEOUT" ;;
    *) verdict="FAIL(rc=$rc)" ;;
  esac
  say "--- $name: $verdict in $((SECONDS - t0))s"
  SUMMARY+=("$name=$verdict($((SECONDS - t0))s)")
}

header "fca device kit$([ "$QUICK" = 1 ] && echo " (quick)"), $(date -u +%Y-%m-%dT%H:%M:%SZ)"
say "machine: $(uname -srm), $(nproc) cores; repo $(git rev-parse --short HEAD 2>/dev/null || echo '?')"
if [ ! -s .device/deno.xz ] || [ ! -s .device/denodir.tar.xz ] || [ ! -s .device/shared.tar.xz ]; then
  say "run.sh: .device/ is incomplete: run bash bench/device/prepare.sh here first and carry .device"
  exit 1
fi
head -2 .device/MANIFEST 2>/dev/null | tee -a "$LOG"
# The carried npm packages are those of deno.lock at preparation time.
lock_sha=$(sha256sum deno.lock | cut -d' ' -f1)
grep -q "deno.lock sha256: $lock_sha" .device/MANIFEST ||
  say "WARNING: deno.lock changed since prepare.sh: a new npm package would be missing offline"

# --- unpack -------------------------------------------------------------------------------------
t0=$SECONDS
# The README recipe: the image has no Vulkan/EGL loader of its own.
if ls .gl/*.deb >/dev/null 2>&1; then
  mkdir -p "$GL_ROOT"
  for f in .gl/*.deb; do dpkg -x "$f" "$GL_ROOT" || say "dpkg -x $f failed"; done
  [ "$GL_ROOT" = / ] && ldconfig
else
  say "no .gl/*.deb carried: relying on the image's own loaders"
fi
rm -rf "$KIT"
mkdir -p "$KIT"
unxz_to .device/deno.xz "$KIT/deno" && chmod +x "$KIT/deno"
untar_xz .device/denodir.tar.xz "$KIT"
untar_xz .device/shared.tar.xz "$KIT"
say "unpacked the kit into $KIT in $((SECONDS - t0))s"
DENO=$KIT/deno
"$DENO" --version 2>&1 | head -1 | tee -a "$LOG"

export DENO_DIR=$KIT/denodir
export FCA_SHARED=$KIT/shared
export FCA_GOLDEN=$KIT/shared/golden
export FCA_MODEL=$KIT/shared/models/resnet50v2-stage2.onnx
export NO_COLOR=1 DENO_NO_UPDATE_CHECK=1 DENO_NO_PROMPT=1
# --cached-only: a missing package fails at once with its name instead of a network timeout.
FLAGS=(-A --no-check --cached-only)
SAMPLE=$FCA_SHARED/samples/carpet_hole_1024.png

# --- adapter ------------------------------------------------------------------------------------
command -v nvidia-smi >/dev/null && nvidia-smi -L 2>&1 | tee -a "$LOG"

# Exit status 0: hardware adapter, 3: fallback (software) adapter, 4: none.
PROBE='const a = await navigator.gpu?.requestAdapter().catch((e) => (console.log(`requestAdapter: ${e}`), null)) ?? null;
const backend = Deno.env.get("DENO_WEBGPU_BACKEND") ?? "(wgpu default)";
if (!a) { console.log(`adapter: none [DENO_WEBGPU_BACKEND=${backend}]`); Deno.exit(4); }
const i = a.info;
const info = { vendor: i.vendor, architecture: i.architecture, device: i.device, description: i.description, "info.isFallbackAdapter": i.isFallbackAdapter, isFallbackAdapter: a.isFallbackAdapter };
console.log(`adapter: ${JSON.stringify(info)} timestamp-query=${a.features.has("timestamp-query")} maxBufferSize=${a.limits.maxBufferSize} maxStorageBufferBindingSize=${a.limits.maxStorageBufferBindingSize} [DENO_WEBGPU_BACKEND=${backend}]`);
Deno.exit(i.isFallbackAdapter || a.isFallbackAdapter ? 3 : 0);'
probe() {
  timeout -k 5 30 "$DENO" eval --no-config "$PROBE" 2>&1 | tee -a "$LOG"
  return "${PIPESTATUS[0]}"
}

header "WebGPU adapter"
FIRST=${FCA_DEVICE_WEBGPU_BACKEND-vulkan}
if [ -n "$FIRST" ]; then export DENO_WEBGPU_BACKEND=$FIRST; else unset DENO_WEBGPU_BACKEND; fi
probe
ADAPTER=$?
if [ "$ADAPTER" != 0 ]; then
  # The NVIDIA driver's ICD is in a read-only mount the loader does not search by default.
  ICD=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
  EGL=/usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json
  if [ -e "$ICD" ]; then
    say "retrying with VK_DRIVER_FILES=$ICD"
    export VK_DRIVER_FILES=$ICD
    [ -e "$EGL" ] && export __EGL_VENDOR_LIBRARY_FILENAMES=$EGL
    probe
    ADAPTER=$?
  else
    say "no $ICD here"
  fi
fi
if [ "$ADAPTER" != 0 ] && [ -n "${DENO_WEBGPU_BACKEND:-}" ]; then
  # Any adapter wgpu finds (GL through EGL on the device; Mesa llvmpipe in the offline simulation)
  # beats running every GPU step with none; software numbers are marked as such by the benches.
  say "retrying without DENO_WEBGPU_BACKEND"
  saved=$DENO_WEBGPU_BACKEND
  unset DENO_WEBGPU_BACKEND
  probe
  other=$?
  if [ "$other" = 0 ] || { [ "$other" = 3 ] && [ "$ADAPTER" = 4 ]; }; then
    ADAPTER=$other
  else
    export DENO_WEBGPU_BACKEND=$saved
  fi
fi
case "$ADAPTER" in
  0) KIND=hardware ;;
  3) KIND=software ;;
  *) KIND=none ;;
esac
say "using: $KIND adapter, DENO_WEBGPU_BACKEND=${DENO_WEBGPU_BACKEND:-unset}" \
  "VK_DRIVER_FILES=${VK_DRIVER_FILES:-unset}"
SUMMARY+=("adapter=$KIND")

# --- steps --------------------------------------------------------------------------------------
bench_step() { # sides
  local env=(FCA_BENCH_SIZES="$1")
  [ -n "${FCA_DEVICE_BENCH_CHANNELS:-}" ] && env+=(FCA_BENCH_CHANNELS="$FCA_DEVICE_BENCH_CHANNELS")
  # `deno bench` rather than `deno run`: the file prints the timestamp-query table (GPU ms per
  # kernel) at load time either way, and `deno bench` adds the wall time of one whole submit.
  run_step "b:gpu-bench" "$B_BENCH" env "${env[@]}" "$DENO" bench "${FLAGS[@]}" bench/gpu_fca.bench.ts
  # QFCA's kernels (issue 12): the same sides, bins 8, 16, 32.
  run_step "b:gpu-qfca-bench" "$B_BENCH" env "${env[@]}" "$DENO" bench "${FLAGS[@]}" bench/gpu_qfca.bench.ts
}

if [ "$QUICK" = 1 ]; then
  bench_step 128
else
  # The GPU tests: every tests/gpu_*.test.ts and any other test that takes the shared device or
  # asks for an adapter (found by content, so new ones join without editing this script).
  if [ -n "${FCA_DEVICE_TESTS:-}" ]; then
    read -r -a TESTS <<<"$FCA_DEVICE_TESTS"
  else
    mapfile -t TESTS < <({
      ls tests/gpu_*.test.ts
      grep -l -e '_gpu\.ts' -e 'navigator\.gpu' -e 'acquireGpu' tests/*.test.ts
    } 2>/dev/null | sort -u)
  fi
  run_step "a:gpu-tests" "$B_TESTS" "$DENO" test "${FLAGS[@]}" "${TESTS[@]}"

  bench_step "${FCA_DEVICE_BENCH_SIZES:-32,64,128}"

  run_step "c:e2e" "$B_E2E" "$DENO" run "${FLAGS[@]}" bench/e2e.ts \
    --backends "${FCA_DEVICE_BACKENDS:-webgpu,cpu}" --sizes "${FCA_DEVICE_SIZES:-256,512,1024}" \
    --image "$SAMPLE" --runs "${FCA_DEVICE_RUNS:-5}"

  if [ -f bench/stream.ts ]; then
    run_step "d:stream" "$B_STREAM" "$DENO" run "${FLAGS[@]}" bench/stream.ts --backend webgpu \
      --size "${FCA_DEVICE_STREAM_SIZE:-1024}" --count "${FCA_DEVICE_STREAM_COUNT:-1000}"
  else
    header "d:stream: bench/stream.ts does not exist in this tree, skipped"
    SUMMARY+=("d:stream=absent")
  fi
fi

header "summary"
say "SUMMARY ${SUMMARY[*]} total $((SECONDS - START))s"
