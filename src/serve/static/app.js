// The fca web page: send an image to POST /v1/detect, show overlay, heatmap and a mask that the
// threshold slider redraws from the raw map (float32 .npy) without another request.
const $ = (id) => document.getElementById(id);
const state = { map: null, width: 0, height: 0, lo: 0, hi: 1, file: null };

/** Pipeline options and decision options of this page's own address, passed to the API. */
function apiUrl() {
  const params = new URLSearchParams(location.search);
  params.set("include", "heatmap,overlay,map,mask");
  return `/v1/detect?${params}`;
}

function setStatus(text, error = false) {
  $("status").textContent = text;
  $("status").classList.toggle("error", error);
}

async function detect(file) {
  state.file = file;
  if (!/^image\/(png|jpeg)$/.test(file.type) && file.type !== "") {
    setStatus(`${file.name}: only PNG and JPEG images are read (got ${file.type}).`, true);
    return;
  }
  setStatus(`Detecting anomalies in ${file.name}…`);
  const headers = { "content-type": file.type || "application/octet-stream" };
  const token = sessionStorage.getItem("fca-token");
  if (token) headers.authorization = `Bearer ${token}`;
  let res;
  try {
    res = await fetch(apiUrl(), { method: "POST", body: file, headers });
  } catch (err) {
    setStatus(`Request failed: ${err.message}`, true);
    return;
  }
  const body = await res.json().catch(() => ({ error: `HTTP ${res.status}` }));
  if (res.status === 401) {
    $("auth").hidden = false;
    $("token").focus();
    setStatus("This server needs a bearer token.", true);
    return;
  }
  if (!res.ok) {
    const wait = res.headers.get("retry-after");
    setStatus(`Error ${res.status}: ${body.error}${wait ? ` (retry in ${wait} s)` : ""}`, true);
    return;
  }
  show(body, file.name);
}

function show(r, name) {
  $("overlay").src = `data:image/png;base64,${r.outputs.overlay}`;
  $("heatmap").src = `data:image/png;base64,${r.outputs.heatmap}`;
  state.map = parseNpy(r.outputs.map);
  state.width = r.width;
  state.height = r.height;
  let lo = Infinity, hi = -Infinity;
  for (const v of state.map) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  state.lo = lo;
  state.hi = hi;
  const slider = $("threshold");
  slider.value = r.threshold !== undefined && hi > lo
    ? String(Math.round(1000 * (r.threshold.value - lo) / (hi - lo)))
    : "500";
  $("score").textContent = r.score.toFixed(5);
  $("size").textContent = `${r.width} × ${r.height}${r.tiles > 1 ? `, ${r.tiles} tiles` : ""}`;
  $("backend").textContent = `${r.backend} (${r.adapter})`;
  const decided = r.verdict !== undefined;
  for (const id of ["verdict", "verdict-label", "regions", "regions-label"]) {
    $(id).hidden = !decided;
  }
  if (decided) {
    $("verdict").textContent = `${r.verdict} (threshold ${
      Number(r.threshold.value.toPrecision(4))
    }, ${r.threshold.source})`;
    $("regions").textContent = r.regions.length === 0 ? "none" : r.regions
      .map((g) => `${g.bbox.width}×${g.bbox.height} at (${g.bbox.x}, ${g.bbox.y}), ${g.area} px`)
      .join("; ");
  }
  const rows = Object.entries(r.ms).map(([k, v]) =>
    `<tr><td>${k}</td><td>${v.toFixed(1)}</td></tr>`
  );
  $("timings").tBodies[0].innerHTML = rows.join("");
  $("result").hidden = false;
  drawMask();
  setStatus(`${name}: score ${r.score.toFixed(5)}, ${r.ms.latency.toFixed(0)} ms.`);
}

/** A float32 C-order .npy (base64) as a Float32Array. */
function parseNpy(b64) {
  const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  const view = new DataView(bytes.buffer);
  const major = bytes[6];
  const headerLen = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const start = (major === 1 ? 10 : 12) + headerLen;
  return new Float32Array(bytes.slice(start).buffer);
}

function thresholdValue() {
  return state.lo + (state.hi - state.lo) * Number($("threshold").value) / 1000;
}

/** Redraw the mask from the raw map at the slider's threshold (no request). */
function drawMask() {
  if (!state.map) return;
  const t = thresholdValue();
  const canvas = $("mask");
  canvas.width = state.width;
  canvas.height = state.height;
  const ctx = canvas.getContext("2d");
  const img = ctx.createImageData(state.width, state.height);
  let above = 0;
  for (let i = 0; i < state.map.length; i++) {
    const on = state.map[i] > t;
    above += on ? 1 : 0;
    const v = on ? 255 : 0;
    img.data[4 * i] = v;
    img.data[4 * i + 1] = on ? 255 : 0;
    img.data[4 * i + 2] = v;
    img.data[4 * i + 3] = 255;
  }
  ctx.putImageData(img, 0, 0);
  $("threshold-value").textContent = t.toPrecision(4);
  const pct = (100 * above / state.map.length).toFixed(2);
  $("coverage").textContent = `${above} pixels above (${pct} %)`;
  canvas.dataset.above = String(above);
}

function pick() {
  $("file").click();
}

const drop = $("drop");
drop.addEventListener("click", pick);
drop.addEventListener("keydown", (e) => {
  if (e.key === "Enter" || e.key === " ") {
    e.preventDefault();
    pick();
  }
});
drop.addEventListener("dragover", (e) => {
  e.preventDefault();
  drop.classList.add("over");
});
drop.addEventListener("dragleave", () => drop.classList.remove("over"));
drop.addEventListener("drop", (e) => {
  e.preventDefault();
  drop.classList.remove("over");
  const file = e.dataTransfer.files[0];
  if (file) detect(file);
});
$("file").addEventListener("change", () => {
  const file = $("file").files[0];
  if (file) detect(file);
});
$("threshold").addEventListener("input", drawMask);
$("retry").addEventListener("click", () => {
  sessionStorage.setItem("fca-token", $("token").value);
  $("auth").hidden = true;
  if (state.file) detect(state.file);
});
$("token").addEventListener("keydown", (e) => {
  if (e.key === "Enter") $("retry").click();
});
