// Shared by the three pages: colours, a tiny line chart on canvas, fetch helpers.
"use strict";

const NEURONA = {};

// The Playground's diverging scale: orange (−1) → light grey (0) → blue (+1).
NEURONA.colour = function (v) {
  const t = Math.max(-1, Math.min(1, v));
  const a = [245, 147, 34], m = [232, 234, 235], b = [8, 119, 189];
  const from = t < 0 ? m : m, to = t < 0 ? a : b, k = Math.abs(t);
  return [0, 1, 2].map((i) => Math.round(from[i] + (to[i] - from[i]) * k));
};
NEURONA.css = (rgb, alpha = 1) => `rgba(${rgb[0]},${rgb[1]},${rgb[2]},${alpha})`;
NEURONA.classColours = [[245, 147, 34], [8, 119, 189], [60, 160, 70], [140, 80, 180], [200, 50, 60], [30, 160, 160]];

NEURONA.api = async function (method, url, body, type = "application/json") {
  const opts = { method, headers: {} };
  if (body !== undefined) {
    opts.body = type === "application/json" ? JSON.stringify(body) : body;
    opts.headers["Content-Type"] = type;
  }
  const res = await fetch(url, opts);
  const text = await res.text();
  let data;
  try { data = JSON.parse(text); } catch (e) { data = { error: text }; }
  if (!res.ok) throw new Error(data.error || `HTTP ${res.status}`);
  return data;
};

// Line chart: series = [{points: [[x, y], …], colour, dash, width}], drawn to fit the canvas.
NEURONA.lineChart = function (canvas, series, opts = {}) {
  const ctx = canvas.getContext("2d");
  const W = canvas.width, H = canvas.height, pad = opts.axes ? 34 : 2;
  ctx.clearRect(0, 0, W, H);
  let xmin = Infinity, xmax = -Infinity, ymin = Infinity, ymax = -Infinity;
  for (const s of series) for (const [x, y] of s.points) {
    if (y === null || !isFinite(y)) continue;
    xmin = Math.min(xmin, x); xmax = Math.max(xmax, x); ymin = Math.min(ymin, y); ymax = Math.max(ymax, y);
  }
  if (!isFinite(xmin)) return;
  if (opts.ymin !== undefined) ymin = opts.ymin;
  if (xmax === xmin) xmax = xmin + 1;
  if (ymax === ymin) { ymax += 0.5; ymin -= 0.5; }
  const X = (x) => pad + (x - xmin) / (xmax - xmin) * (W - pad - 4);
  const Y = (y) => H - pad + 2 - (y - ymin) / (ymax - ymin) * (H - pad - 4);
  if (opts.axes) {
    ctx.strokeStyle = "#ccc"; ctx.fillStyle = "#777"; ctx.font = "10px sans-serif"; ctx.lineWidth = 1;
    ctx.beginPath(); ctx.moveTo(pad, 2); ctx.lineTo(pad, H - pad + 2); ctx.lineTo(W - 2, H - pad + 2); ctx.stroke();
    for (let i = 0; i <= 4; i++) {
      const y = ymin + (ymax - ymin) * i / 4;
      ctx.fillText(y.toPrecision(3), 0, Y(y) + 3);
      const x = xmin + (xmax - xmin) * i / 4;
      ctx.fillText(Math.round(x * 100) / 100, X(x) - 8, H - pad + 14);
    }
  }
  for (const s of series) {
    ctx.strokeStyle = s.colour; ctx.lineWidth = s.width || 1.5; ctx.setLineDash(s.dash ? [5, 3] : []);
    ctx.beginPath();
    let started = false;
    for (const [x, y] of s.points) {
      if (y === null || !isFinite(y)) { started = false; continue; }
      if (!started) { ctx.moveTo(X(x), Y(y)); started = true; } else ctx.lineTo(X(x), Y(y));
    }
    ctx.stroke();
  }
  ctx.setLineDash([]);
};
