// The dashboard: runs under --logdir, their curves (TensorBoard's debiased EMA smoothing),
// hparams table, config, summary and weight histograms; follows runs still training.
"use strict";

const PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];
let runs = [], selected = new Set(), active = null, details = {}, sortKey = "name", sortUp = true;

// TensorBoard's smoothing: EMA divided by 1 − wⁿ; constant series untouched; non-finite passes through.
function smooth(points, w) {
  const ys = points.map((p) => p[1]).filter((y) => y !== null && isFinite(y));
  if (w <= 0 || ys.every((y) => y === ys[0])) return points;
  let last = 0, n = 0;
  return points.map(([x, y]) => {
    if (y === null || !isFinite(y)) return [x, y];
    last = last * w + (1 - w) * y; n++;
    return [x, last / (1 - Math.pow(w, n))];
  });
}

function colourOf(name) { return PALETTE[runs.findIndex((r) => r.name === name) % PALETTE.length]; }

function metricOf(tag) {  // "val_loss", "val/loss", "train/loss", "epoch_loss" → "loss"
  return tag.replace(/^(epoch_|train[_/]|val(idation)?[_/]|test[_/])/, "").replace(/^(epoch_)/, "");
}
function isVal(tag) { return /^(val|validation)[_/]/.test(tag) || /^epoch_val_/.test(tag); }

async function refreshRuns() {
  const r = await NEURONA.api("GET", "/api/runs");
  document.getElementById("logdir").textContent = "logdir: " + r.logdir;
  const first = runs.length === 0;
  runs = r.runs;
  if (first) runs.slice(0, 10).forEach((run) => selected.add(run.name));
  if (!active && runs.length) active = runs[0].name;
  renderRunList();
  await Promise.all([...selected].filter((n) => runs.some((r) => r.name === n)).map(loadRun));
  if (active && !details[active]) await loadRun(active);
  renderAll();
}

async function loadRun(name) {
  try { details[name] = await NEURONA.api("GET", "/api/run?path=" + encodeURIComponent(name)); } catch (e) { /* vanished */ }
}

function visibleRuns() {
  let re = null;
  try { re = new RegExp(document.getElementById("filter").value || ".*"); } catch (e) { re = /.*/; }
  return runs.filter((r) => re.test(r.name));
}

function renderRunList() {
  const ul = document.getElementById("runList");
  ul.innerHTML = "";
  for (const r of visibleRuns()) {
    const li = document.createElement("li");
    li.className = r.name === active ? "active" : "";
    li.dataset.run = r.name;
    li.innerHTML = `<input type="checkbox" ${selected.has(r.name) ? "checked" : ""}><span class="swatch" style="background:${colourOf(r.name)}"></span><span>${r.name}</span>${r.live ? '<span class="live">● live</span>' : ""}`;
    li.querySelector("input").onchange = async (e) => {
      if (e.target.checked) { selected.add(r.name); await loadRun(r.name); } else selected.delete(r.name);
      renderAll();
    };
    li.onclick = async (e) => {
      if (e.target.tagName === "INPUT") return;
      active = r.name;
      if (!details[r.name]) await loadRun(r.name);
      renderRunList(); renderAll();
    };
    ul.appendChild(li);
  }
  document.getElementById("runCount").textContent = `${runs.length} run${runs.length === 1 ? "" : "s"}`;
}

function renderAll() { renderCharts(); renderHparams(); renderActive(); }

function renderCharts() {
  const box = document.getElementById("charts");
  const w = +document.getElementById("smoothing").value;
  let tagRe;
  try { tagRe = new RegExp(document.getElementById("tagFilter").value || ".*"); } catch (e) { tagRe = /.*/; }
  const charts = {};  // metric → series
  for (const r of visibleRuns()) {
    if (!selected.has(r.name) || !details[r.name]) continue;
    for (const [tag, pts] of Object.entries(details[r.name].scalars)) {
      if (!tagRe.test(tag)) continue;
      const m = metricOf(tag);
      (charts[m] = charts[m] || []).push({ run: r.name, tag, raw: pts.map((p) => [p[0], p[1]]) });
    }
  }
  const log = document.getElementById("yscale").value === "log";
  box.innerHTML = "";
  for (const m of Object.keys(charts).sort((a, b) => (a === "loss" ? -1 : b === "loss" ? 1 : a.localeCompare(b)))) {
    const div = document.createElement("div");
    div.className = "chart"; div.dataset.metric = m;
    div.innerHTML = `<h3>${m}</h3><canvas width="420" height="240"></canvas><div class="muted"></div>`;
    box.appendChild(div);
    const series = [];
    for (const s of charts[m]) {
      const tf = (pts) => (log ? pts.map(([x, y]) => [x, y > 0 ? Math.log10(y) : null]) : pts);
      if (w > 0) series.push({ points: tf(s.raw), colour: colourOf(s.run) + "40", dash: isVal(s.tag), width: 1 });
      series.push({ points: tf(smooth(s.raw, w)), colour: colourOf(s.run), dash: isVal(s.tag), width: 2 });
    }
    NEURONA.lineChart(div.querySelector("canvas"), series, { axes: true });
    div.querySelector(".muted").textContent = charts[m].map((s) => `${s.run}: ${s.tag}${isVal(s.tag) ? " (dashed)" : ""}`).join(" · ") + (log ? " · log10 y" : "");
  }
  if (!box.children.length) box.innerHTML = '<p class="muted">No scalars yet: select runs on the left.</p>';
}

function renderHparams() {
  const rs = visibleRuns();
  const hkeys = [...new Set(rs.flatMap((r) => Object.keys(r.hparams)))].sort();
  const mkeys = [...new Set(rs.flatMap((r) => Object.keys(r.final)))].sort();
  // "epochs run" (what the history holds) beside the hparam "epochs" (what the config asked for).
  const cols = ["name", ...hkeys.map((k) => "hp:" + k), "epochsRun", ...mkeys.map((k) => "final:" + k)];
  const val = (r, k) => (k === "name" ? r.name : k === "epochsRun" ? r.epochsRun : k.startsWith("hp:") ? r.hparams[k.slice(3)] : r.final[k.slice(6)]);
  rs.sort((a, b) => {
    const x = val(a, sortKey), y = val(b, sortKey);
    const c = x === undefined ? 1 : y === undefined ? -1 : typeof x === "number" && typeof y === "number" ? x - y : String(x).localeCompare(String(y));
    return sortUp ? c : -c;
  });
  const fmt = (v) => (typeof v === "number" ? (Number.isInteger(v) ? v : v.toPrecision(4)) : v === undefined || v === null ? "" : v);
  let html = `<table class="hparams" id="hparamsTable"><tr>${cols.map((c) => `<th data-k="${c}">${c === "epochsRun" ? "epochs run" : c.replace(/^hp:/, "").replace(/^final:/, "final ")}${c === sortKey ? (sortUp ? " ▲" : " ▼") : ""}</th>`).join("")}</tr>`;
  for (const r of rs) html += `<tr>${cols.map((c) => `<td${c === "name" ? ' style="text-align:left"' : ""}>${fmt(val(r, c))}</td>`).join("")}</tr>`;
  document.getElementById("hparams").innerHTML = html + "</table>";
  for (const th of document.querySelectorAll("#hparamsTable th")) th.onclick = () => {
    if (sortKey === th.dataset.k) sortUp = !sortUp; else { sortKey = th.dataset.k; sortUp = true; }
    renderHparams();
  };
}

function renderActive() {
  const d = details[active];
  document.getElementById("activeName").textContent = active || "—";
  document.getElementById("config").textContent = d ? d.config || "(no config.yaml)" : "";
  document.getElementById("summary").textContent = d ? d.summary || "(no model summary logged)" : "";
  const box = document.getElementById("histograms");
  box.innerHTML = "";
  if (!d || !Object.keys(d.histograms).length) { box.innerHTML = '<p class="muted">No histograms in this run\'s event files.</p>'; return; }
  for (const [tag, steps] of Object.entries(d.histograms)) {
    const div = document.createElement("div");
    div.className = "chart";
    div.innerHTML = `<h3>${tag}</h3><canvas width="320" height="220"></canvas>`;
    box.appendChild(div);
    drawRidge(div.querySelector("canvas"), steps);
  }
}

// Offset ("ridge") histograms, TensorBoard's default mode: one outline per step, later ones lower.
function drawRidge(canvas, steps) {
  const ctx = canvas.getContext("2d"), W = canvas.width, H = canvas.height;
  let lo = Infinity, hi = -Infinity, cmax = 0;
  for (const s of steps) { lo = Math.min(lo, s.min); hi = Math.max(hi, s.max); cmax = Math.max(cmax, ...s.counts); }
  if (!(hi > lo)) { hi = lo + 1; }
  const band = (H - 40) / Math.max(1, steps.length), X = (x) => 10 + (x - lo) / (hi - lo) * (W - 20);
  steps.forEach((s, i) => {
    const base = 40 + i * band;
    ctx.beginPath(); ctx.moveTo(X(lo), base);
    let left = s.min;
    s.counts.forEach((c, k) => {
      const right = Math.min(s.limits[k], s.max), mid = (Math.max(left, s.min) + right) / 2;
      if (c > 0) ctx.lineTo(X(mid), base - c / cmax * 36);
      left = s.limits[k];
    });
    ctx.lineTo(X(hi), base);
    const t = i / Math.max(1, steps.length - 1);
    ctx.strokeStyle = `rgb(${245 - 200 * t},${147 - 60 * t},${34 + 150 * t})`;
    ctx.stroke();
  });
  ctx.fillStyle = "#777"; ctx.font = "10px sans-serif";
  ctx.fillText(lo.toPrecision(3), 4, H - 2); ctx.fillText(hi.toPrecision(3), W - 40, H - 2);
  ctx.fillText(`steps ${steps[0].step} … ${steps[steps.length - 1].step}`, 4, 10);
}

document.getElementById("smoothing").oninput = (e) => { document.getElementById("smoothingV").textContent = e.target.value; renderCharts(); };
document.getElementById("filter").oninput = () => { renderRunList(); renderAll(); };
document.getElementById("tagFilter").oninput = renderCharts;
document.getElementById("yscale").onchange = renderCharts;
setInterval(() => { if (document.getElementById("follow").checked) refreshRuns().catch(() => {}); }, 2000);
refreshRuns().catch((e) => (document.getElementById("charts").textContent = String(e.message)));
window.neuronaDashboard = { get runs() { return runs; }, get details() { return details; } };
