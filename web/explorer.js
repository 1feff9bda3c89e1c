// The learning-rate explorer: the server runs optim's SGD / momentum / RMSprop / Adam; this page
// reveals their paths one step at a time.
"use strict";

const RACERS = { sgd: "#d62728", momentum: "#2ca02c", rmsprop: "#9467bd", adam: "#0877bd" };
let oneD = null, shown = 0, race = null, frame = 0, timer = null;

async function load1d() {
  oneD = await NEURONA.api("POST", "/api/explorer/1d", {
    curve: document.getElementById("curve").value, lr: Math.min(10, Math.max(0, +document.getElementById("lr").value || 0)), steps: 1000,
  });
  shown = 0;
  draw1d();
}

function draw1d() {
  const c = document.getElementById("curveCanvas"), ctx = c.getContext("2d");
  NEURONA.lineChart(c, [{ points: oneD.points, colour: "#183d4e", width: 2 }], { axes: true });
  const xs = oneD.points.map((p) => p[0]), ys = oneD.points.map((p) => p[1]);
  const xmin = Math.min(...xs), xmax = Math.max(...xs), ymin = Math.min(...ys), ymax = Math.max(...ys), pad = 34;
  const X = (x) => pad + (x - xmin) / (xmax - xmin) * (c.width - pad - 4);
  const Y = (y) => c.height - pad + 2 - (y - ymin) / (ymax - ymin) * (c.height - pad - 4);
  const path = oneD.path.slice(0, shown + 1);
  ctx.strokeStyle = "#f59322"; ctx.setLineDash([3, 3]); ctx.beginPath();
  path.forEach(([w, l], i) => (i ? ctx.lineTo(X(w), Y(Math.min(l, ymax))) : ctx.moveTo(X(w), Y(Math.min(l, ymax)))));
  ctx.stroke(); ctx.setLineDash([]);
  const [w, l] = path[path.length - 1] || [NaN, NaN];
  if (isFinite(w)) { ctx.fillStyle = "#f59322"; ctx.beginPath(); ctx.arc(X(Math.max(xmin, Math.min(xmax, w))), Y(Math.min(l, ymax)), 7, 0, 2 * Math.PI); ctx.fill(); }
  document.getElementById("steps1d").textContent = shown;
  let verdict = `w = ${w.toFixed(4)}, loss = ${l.toFixed(4)}`;
  if (shown >= oneD.path.length - 1 && oneD.path.length < 1001) verdict += " — diverged: the learning rate is too large";
  else if (oneD.curve === "quadratic" && Math.abs(w - 1) < 0.01) verdict += " — reached the minimum";
  document.getElementById("verdict").textContent = verdict;
}

async function runRace() {
  const lr = {};
  for (const k of Object.keys(RACERS)) { const v = +document.getElementById("lr-" + k).value; if (v > 0) lr[k] = Math.min(10, v); }
  race = await NEURONA.api("POST", "/api/explorer/race", { surface: document.getElementById("surface").value, steps: 1500, lr });
  for (const k of Object.keys(RACERS)) document.getElementById("lr-" + k).value = race.racers[k].lr;
  frame = 0;
  clearInterval(timer);
  timer = setInterval(() => { frame += 5; drawRace(); if (frame > 1500) clearInterval(timer); }, 30);
}

function drawRace() {
  const c = document.getElementById("surfaceCanvas"), ctx = c.getContext("2d");
  const n = race.grid.n, vals = race.grid.values, img = ctx.createImageData(n, n);
  const hi = Math.max(...vals), lo = Math.min(...vals);
  vals.forEach((v, k) => {
    const t = (v - lo) / (hi - lo), band = Math.floor(t * 14) % 2 ? 0.93 : 1;  // contour bands
    img.data.set([255 * band * (0.75 + 0.25 * t), 255 * band * (0.9 - 0.3 * t), 255 * band * (0.95 - 0.6 * t), 255], 4 * k);
  });
  const tmp = document.createElement("canvas"); tmp.width = tmp.height = n;
  tmp.getContext("2d").putImageData(img, 0, 0);
  ctx.imageSmoothingEnabled = true;
  ctx.drawImage(tmp, 0, 0, c.width, c.height);
  const [x0, x1, y0, y1] = race.view;
  const X = (x) => (x - x0) / (x1 - x0) * c.width, Y = (y) => (y1 - y) / (y1 - y0) * c.height;
  let legend = "";
  for (const [name, r] of Object.entries(race.racers)) {
    const p = r.path.slice(0, frame + 1);
    ctx.strokeStyle = RACERS[name]; ctx.lineWidth = 2; ctx.beginPath();
    p.forEach(([x, y], i) => (i ? ctx.lineTo(X(x), Y(y)) : ctx.moveTo(X(x), Y(y))));
    ctx.stroke();
    const last = p[p.length - 1];
    ctx.fillStyle = RACERS[name]; ctx.beginPath(); ctx.arc(X(last[0]), Y(last[1]), 5, 0, 2 * Math.PI); ctx.fill();
    legend += `<div><span class="swatch" style="display:inline-block;width:10px;height:10px;background:${RACERS[name]}"></span> ${name} (lr ${r.lr}): step ${p.length - 1}, loss ${last[2].toPrecision(4)}${r.path.length < 1501 && p.length === r.path.length ? " — diverged" : ""}</div>`;
  }
  document.getElementById("raceLegend").innerHTML = legend;
}

document.getElementById("step1d").onclick = () => { if (shown < oneD.path.length - 1) shown++; draw1d(); };
document.getElementById("reset1d").onclick = load1d;
document.getElementById("lr").onchange = load1d;
document.getElementById("curve").onchange = load1d;
document.getElementById("race").onclick = runRace;
document.getElementById("surface").onchange = () => { for (const k of Object.keys(RACERS)) document.getElementById("lr-" + k).value = ""; runRace(); };
load1d();
runRace();
window.neuronaExplorer = { get steps() { return shown; }, get path() { return oneD && oneD.path; } };
