// The Playground page: controls ↔ URL hash ↔ a training session on the server, drawn on canvas.
"use strict";

const FEATURES = [
  ["x", "X\u2081", (x, y) => x], ["y", "X\u2082", (x, y) => y],
  ["xSquared", "X\u2081\u00b2", (x, y) => x * x], ["ySquared", "X\u2082\u00b2", (x, y) => y * y],
  ["xTimesY", "X\u2081X\u2082", (x, y) => x * y], ["sinX", "sin(X\u2081)", (x, y) => Math.sin(x)],
  ["sinY", "sin(X\u2082)", (x, y) => Math.sin(y)],
];
const LEARNING_RATES = [0.00001, 0.0001, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 3, 10];
const REG_RATES = [0, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 3, 10];
const DATASETS = {
  classification: ["circle", "xor", "gauss", "spiral"],
  regression: ["reg-plane", "reg-gauss"],
  multiclass: ["blobs", "spiral"],
};
const DEFAULTS = {
  problem: "classification", dataset: "circle", classes: 3, noise: 0, percTrainData: 50, batchSize: 10,
  features: ["x", "y"], networkShape: [4, 2], activation: "tanh", learningRate: 0.03, regularization: "none",
  regularizationRate: 0, optimizer: "sgd", seed: 0, stopLoss: 0, maxEpochs: 0, speed: 60, initZero: false,
};

let config = JSON.parse(JSON.stringify(DEFAULTS));
let view = { showTestData: false, discretize: false };
let session = null;    // id
let state = null;      // last state from the server
let points = null;     // {train, test}
let dataVersion = -1, run = -1, lossHistory = [];
let hoverNeuron = null, inFlight = false, lastPoll = 0, forceRefresh = true;

// ---------------------------------------------------------------------------------------------
// URL hash: the whole experiment, in the Playground's keys (plus ours).

function readHash() {
  const h = new URLSearchParams(location.hash.slice(1));
  const num = (k, d) => (h.has(k) && h.get(k) !== "" && isFinite(+h.get(k)) ? +h.get(k) : d);
  const bool = (k, d) => (h.has(k) ? h.get(k) !== "false" : d);
  const c = JSON.parse(JSON.stringify(DEFAULTS));
  if (h.has("problem")) c.problem = h.get("problem");
  if (!DATASETS[c.problem]) c.problem = "classification";
  c.dataset = h.get("dataset") || DATASETS[c.problem][0];
  if (c.problem === "regression") c.dataset = h.get("regDataset") || h.get("dataset") || "reg-plane";
  if (!DATASETS[c.problem].includes(c.dataset)) c.dataset = DATASETS[c.problem][0];
  for (const k of ["classes", "noise", "percTrainData", "batchSize", "learningRate", "regularizationRate", "seed",
                   "stopLoss", "maxEpochs", "speed"]) c[k] = num(k, c[k]);
  c.noise = Math.min(c.noise, 80);
  for (const k of ["activation", "optimizer"]) if (h.has(k)) c[k] = h.get(k);
  c.regularization = h.get("regularization") || "none";
  if (h.has("networkShape")) c.networkShape = h.get("networkShape") === "" ? [] : h.get("networkShape").split(",").map(Number);
  c.features = FEATURES.map((f) => f[0]).filter((k) => bool(k, k === "x" || k === "y"));
  if (c.features.length === 0) c.features = ["x", "y"];
  c.initZero = bool("initZero", false);
  if (!h.has("seed")) c.seed = Math.floor(Math.random() * 100000);
  view.showTestData = bool("showTestData", false);
  view.discretize = bool("discretize", false);
  return c;
}

function writeHash() {
  const p = [];
  const put = (k, v) => p.push(`${k}=${v}`);
  put("activation", config.activation);
  if (config.regularization !== "none") put("regularization", config.regularization);
  put("batchSize", config.batchSize);
  if (config.problem === "regression") put("regDataset", config.dataset); else put("dataset", config.dataset);
  put("learningRate", config.learningRate);
  put("regularizationRate", config.regularizationRate);
  put("noise", config.noise);
  put("networkShape", config.networkShape.join(","));
  put("seed", config.seed);
  put("showTestData", view.showTestData);
  put("discretize", view.discretize);
  put("percTrainData", config.percTrainData);
  for (const [k] of FEATURES) put(k, config.features.includes(k));
  put("problem", config.problem);
  put("initZero", config.initZero);
  put("optimizer", config.optimizer);
  if (config.problem === "multiclass") put("classes", config.classes);
  if (config.stopLoss > 0) put("stopLoss", config.stopLoss);
  if (config.maxEpochs > 0) put("maxEpochs", config.maxEpochs);
  put("speed", config.speed);
  history.replaceState(null, "", "#" + p.join("&"));
}

// ---------------------------------------------------------------------------------------------
// Talking to the server

function showError(e) { document.getElementById("error").textContent = e ? String(e.message || e) : ""; }

async function createSession() {
  const s = await NEURONA.api("POST", "/api/playground", config);
  session = s.id;
  accept(s);
}

async function change(patch) {
  Object.assign(config, patch);
  writeHash();
  syncControls();
  try {
    if (!session) return createSession();
    accept(await NEURONA.api("POST", `/api/playground/${session}/config`, config));
    showError(null);
  } catch (e) {
    if (/no Playground session/.test(e.message)) return createSession();
    showError(e);
  }
}

async function control(action) {
  try {
    const r = await NEURONA.api("POST", `/api/playground/${session}/control`, { action });
    if (action === "step") Object.assign(state, r);
    forceRefresh = true;
    updatePlayButton(action === "play");
  } catch (e) { showError(e); }
}

function accept(s) {
  if (s.points) points = s.points;
  if (s.run !== run) { run = s.run; lossHistory = []; }
  for (const h of s.history || []) if (!lossHistory.length || h[0] > lossHistory[lossHistory.length - 1][0]) lossHistory.push(h);
  const rebuild = !state || JSON.stringify(state.network.layers.map((l) => [l.in, l.out])) !==
    JSON.stringify(s.network.layers.map((l) => [l.in, l.out])) || JSON.stringify(state.network.inputs) !== JSON.stringify(s.network.inputs);
  state = s;
  if (s.dataVersion !== dataVersion && s.points) dataVersion = s.dataVersion;
  if (rebuild) buildNetwork();
  render();
}

async function poll(now) {
  requestAnimationFrame(poll);
  if (!session || inFlight) return;
  const playing = state && state.playing;
  if (!playing && !forceRefresh && now - lastPoll < 500) return;
  inFlight = true;
  forceRefresh = false;
  lastPoll = now;
  try {
    const from = lossHistory.length ? lossHistory[lossHistory.length - 1][0] : -1;
    const needPoints = !state || state.dataVersion !== dataVersion || !points;
    const s = await NEURONA.api("GET", `/api/playground/${session}/state?from=${from}&points=${needPoints ? 1 : 0}`);
    if (s.run !== run) { forceRefresh = true; lossHistory = []; run = s.run; s.history = []; }
    if (needPoints && s.points) dataVersion = s.dataVersion;
    else if (s.dataVersion !== dataVersion) forceRefresh = true;
    accept(s);
  } catch (e) {
    if (/no Playground session/.test(e.message)) { session = null; await createSession(); } else showError(e);
  } finally { inFlight = false; }
}

// ---------------------------------------------------------------------------------------------
// Controls

function fillSelect(id, values) {
  const s = document.getElementById(id);
  s.innerHTML = values.map((v) => `<option value="${v}">${v}</option>`).join("");
}

function syncControls() {
  for (const id of ["learningRate", "activation", "optimizer", "regularization", "regularizationRate", "problem", "speed", "classes"]) {
    const el = document.getElementById(id);
    if (![...el.options].some((o) => o.value === String(config[id]))) el.add(new Option(config[id], config[id]));
    el.value = String(config[id]);
  }
  for (const id of ["percTrainData", "noise", "batchSize"]) {
    document.getElementById(id).value = config[id];
    document.getElementById(id + "V").textContent = config[id];
  }
  document.getElementById("stopLoss").value = config.stopLoss || "";
  document.getElementById("maxEpochs").value = config.maxEpochs || "";
  document.getElementById("showTestData").checked = view.showTestData;
  document.getElementById("discretize").checked = view.discretize;
  document.getElementById("classesBox").style.display = config.problem === "multiclass" ? "" : "none";
  document.getElementById("accuracyBox").style.display = config.problem === "regression" ? "none" : "";
  drawDatasetThumbs();
}

function updatePlayButton(playing) {
  const b = document.getElementById("play");
  b.classList.toggle("playing", playing);
  b.innerHTML = playing ? "&#10074;&#10074;" : "&#9654;";
}

function setupControls() {
  fillSelect("learningRate", LEARNING_RATES);
  fillSelect("regularizationRate", REG_RATES);
  const num = (id) => () => change({ [id]: +document.getElementById(id).value });
  document.getElementById("learningRate").onchange = num("learningRate");
  document.getElementById("regularizationRate").onchange = num("regularizationRate");
  document.getElementById("speed").onchange = num("speed");
  document.getElementById("classes").onchange = num("classes");
  for (const id of ["activation", "optimizer", "regularization"])
    document.getElementById(id).onchange = () => change({ [id]: document.getElementById(id).value });
  document.getElementById("problem").onchange = () => {
    const p = document.getElementById("problem").value;
    change({ problem: p, dataset: DATASETS[p][0] });
  };
  for (const id of ["percTrainData", "noise", "batchSize"]) {
    const el = document.getElementById(id);
    el.oninput = () => (document.getElementById(id + "V").textContent = el.value);
    el.onchange = num(id);
  }
  document.getElementById("stopLoss").onchange = () => change({ stopLoss: Math.max(0, +document.getElementById("stopLoss").value || 0) });
  document.getElementById("maxEpochs").onchange = () => change({ maxEpochs: Math.max(0, Math.floor(+document.getElementById("maxEpochs").value || 0)) });
  document.getElementById("showTestData").onchange = (e) => { view.showTestData = e.target.checked; writeHash(); render(); };
  document.getElementById("discretize").onchange = (e) => { view.discretize = e.target.checked; writeHash(); render(); };
  document.getElementById("play").onclick = () => control(state && state.playing ? "pause" : "play");
  document.getElementById("step").onclick = () => control("step");
  document.getElementById("reset").onclick = () => control("reset");
  document.getElementById("regenerate").onclick = () => change({ seed: Math.floor(Math.random() * 100000) });
  document.getElementById("addLayer").onclick = () => {
    if (config.networkShape.length < 6) change({ networkShape: [...config.networkShape, 2] });
  };
  document.getElementById("removeLayer").onclick = () => {
    if (config.networkShape.length > 0) change({ networkShape: config.networkShape.slice(0, -1) });
  };
  document.getElementById("csv").onchange = async (e) => {
    const file = e.target.files[0];
    if (!file) return;
    try {
      const text = await file.text();
      accept(await NEURONA.api("POST", `/api/playground/${session}/csv`, text, "text/csv"));
      config.dataset = "csv";
      writeHash();
      drawDatasetThumbs();
      showError(null);
    } catch (err) { showError(err); }
  };
}

// Dataset thumbnails: the generators' shapes at noise 0 (drawn here, the data itself is the server's).
function thumbPoints(name) {
  const pts = [], n = 200, K = config.classes;
  const rnd = mulberry(7);
  const u = (a, b) => a + (b - a) * rnd();
  if (name === "circle") for (let i = 0; i < n; i++) {
    const r = i < n / 2 ? u(0, 2.5) : u(3.5, 5), a = u(0, 2 * Math.PI);
    pts.push([r * Math.sin(a), r * Math.cos(a), r < 3 ? 1 : -1]);
  } else if (name === "xor") for (let i = 0; i < n; i++) {
    let x = u(-5, 5), y = u(-5, 5); x += x > 0 ? 0.3 : -0.3; y += y > 0 ? 0.3 : -0.3;
    pts.push([x, y, x * y >= 0 ? 1 : -1]);
  } else if (name === "gauss") for (let i = 0; i < n; i++) {
    const c = i < n / 2 ? 2 : -2;
    pts.push([c + u(-1.2, 1.2), c + u(-1.2, 1.2), c > 0 ? 1 : -1]);
  } else if (name === "spiral") {
    const arms = config.problem === "multiclass" ? K : 2;
    for (let k = 0; k < arms; k++) for (let i = 0; i < n / arms; i++) {
      const r = 5 * i / (n / arms), t = 1.75 * i / (n / arms) * 2 * Math.PI + 2 * Math.PI * k / arms;
      pts.push([r * Math.sin(t), r * Math.cos(t), arms === 2 ? (k ? -1 : 1) : k]);
    }
  } else if (name === "reg-plane") for (let i = 0; i < n; i++) {
    const x = u(-6, 6), y = u(-6, 6); pts.push([x, y, (x + y) / 10]);
  } else if (name === "reg-gauss") for (let i = 0; i < n; i++) {
    const x = u(-6, 6), y = u(-6, 6);
    let best = 0;
    for (const [cx, cy, s] of [[-4, 2.5, 1], [0, 2.5, -1], [4, 2.5, 1], [-4, -2.5, -1], [0, -2.5, 1], [4, -2.5, -1]]) {
      const v = s * Math.max(0, 1 - Math.hypot(x - cx, y - cy) / 2);
      if (Math.abs(v) > Math.abs(best)) best = v;
    }
    pts.push([x, y, best]);
  } else if (name === "blobs") for (let i = 0; i < n; i++) {
    const k = i % K, a = 2 * Math.PI * k / K;
    pts.push([3.5 * Math.cos(a) + u(-1, 1), 3.5 * Math.sin(a) + u(-1, 1), k]);
  }
  return pts;
}
function mulberry(a) {
  return () => { a |= 0; a = (a + 0x6d2b79f5) | 0; let t = Math.imul(a ^ (a >>> 15), 1 | a); t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t; return ((t ^ (t >>> 14)) >>> 0) / 4294967296; };
}
function pointColour(label) {
  if (config.problem === "multiclass") return NEURONA.css(NEURONA.classColours[label % 6]);
  return NEURONA.css(NEURONA.colour(label));
}
function drawDatasetThumbs() {
  const box = document.getElementById("datasets");
  const names = [...DATASETS[config.problem]];
  if (box.dataset.key !== names.join() + config.classes) {
    box.dataset.key = names.join() + config.classes;
    box.innerHTML = "";
    for (const name of names) {
      const c = document.createElement("canvas");
      c.width = c.height = 48; c.title = name; c.dataset.dataset = name;
      const ctx = c.getContext("2d");
      ctx.fillStyle = "#f2f2f2"; ctx.fillRect(0, 0, 48, 48);
      for (const [x, y, l] of thumbPoints(name)) {
        ctx.fillStyle = pointColour(l);
        ctx.fillRect((x + 6) / 12 * 48 - 1, (6 - y) / 12 * 48 - 1, 2, 2);
      }
      c.onclick = () => change({ dataset: name });
      box.appendChild(c);
    }
  }
  for (const c of box.children) c.classList.toggle("selected", c.dataset.dataset === config.dataset);
}

// ---------------------------------------------------------------------------------------------
// Network: feature nodes, hidden neurons with thumbnails, output nodes, links and biases.

const NODE = 36, COL = 110, ROW = 48, LEFT = 70;
let nodes = [];  // per column: [{x, y, canvas}]

function buildNetwork() {
  const area = document.getElementById("netArea");
  area.innerHTML = "";
  const shape = state.network.layers.map((l) => l.out);
  const columns = [FEATURES.length, ...shape];
  const height = Math.max(...columns) * ROW + 40;
  area.style.height = height + "px";
  area.style.width = LEFT + columns.length * COL + "px";
  document.getElementById("layersLabel").textContent = `${config.networkShape.length} hidden layer${config.networkShape.length === 1 ? "" : "s"}`;
  const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  svg.setAttribute("width", LEFT + columns.length * COL); svg.setAttribute("height", height);
  svg.id = "links";
  area.appendChild(svg);
  nodes = [];
  const top = 30;
  // Column 0: every feature, active or not (click toggles).
  const col0 = [];
  FEATURES.forEach(([key, label, f], i) => {
    const x = LEFT, y = top + i * ROW;
    const c = document.createElement("canvas");
    c.width = c.height = 20; c.className = "node" + (config.features.includes(key) ? "" : " off");
    c.style.left = x + "px"; c.style.top = y + "px"; c.title = `${label}: click to turn on/off`;
    c.dataset.feature = key;
    drawFunction(c, (px, py) => f(px, py));
    c.onclick = () => {
      const on = config.features.includes(key);
      if (on && config.features.length === 1) return;
      change({ features: FEATURES.map((g) => g[0]).filter((k) => (k === key ? !on : config.features.includes(k))) });
    };
    const l = document.createElement("div");
    l.className = "node-label"; l.textContent = label; l.style.left = x - 66 + "px"; l.style.top = y + 10 + "px";
    area.appendChild(c); area.appendChild(l);
    if (config.features.includes(key)) col0.push({ x, y });
  });
  nodes.push(col0);
  shape.forEach((n, li) => {
    const x = LEFT + (li + 1) * COL, col = [];
    const last = li === shape.length - 1;
    if (!last) {
      const ctl = document.createElement("div");
      ctl.className = "layer-ctl"; ctl.style.left = x - 12 + "px"; ctl.style.top = "0px";
      ctl.innerHTML = `<button data-l="${li}" data-d="1">+</button><button data-l="${li}" data-d="-1">&minus;</button><br>${n} neuron${n === 1 ? "" : "s"}`;
      for (const b of ctl.querySelectorAll("button")) b.onclick = () => {
        const s = [...config.networkShape];
        s[li] = Math.max(1, Math.min(8, s[li] + +b.dataset.d));
        change({ networkShape: s });
      };
      area.appendChild(ctl);
    }
    for (let j = 0; j < n; j++) {
      const y = top + j * ROW;
      const c = document.createElement("canvas");
      c.width = c.height = 20; c.className = "node"; c.style.left = x + "px"; c.style.top = y + "px";
      c.dataset.layer = li; c.dataset.neuron = j;
      if (!last) {
        c.onmouseenter = () => { hoverNeuron = [li, j]; renderHeatmap(); };
        c.onmouseleave = () => { hoverNeuron = null; renderHeatmap(); };
      } else {
        c.title = "output";
      }
      area.appendChild(c);
      const b = document.createElement("div");
      b.className = "bias"; b.style.left = x - 4 + "px"; b.style.top = y + NODE - 4 + "px";
      b.onclick = (e) => editWeight(e, li, j, -1);
      b.onmouseenter = (e) => showCard(e, `Bias is ${fmt(state.network.layers[li].biases[j])}`);
      b.onmouseleave = hideCard;
      area.appendChild(b);
      col.push({ x, y, canvas: c, bias: b });
    }
    nodes.push(col);
  });
  for (let li = 0; li < shape.length; li++) {
    const L = state.network.layers[li];
    for (let to = 0; to < L.out; to++) for (let from = 0; from < L.in; from++) {
      const a = nodes[li][from], b = nodes[li + 1][to];
      const p = document.createElementNS("http://www.w3.org/2000/svg", "path");
      const x1 = a.x + NODE, y1 = a.y + NODE / 2, x2 = b.x, y2 = b.y + NODE / 2, mx = (x1 + x2) / 2;
      p.setAttribute("d", `M${x1},${y1} C${mx},${y1} ${mx},${y2} ${x2},${y2}`);
      p.setAttribute("class", "link");
      p.dataset.layer = li; p.dataset.to = to; p.dataset.from = from;
      p.onmouseenter = (e) => showCard(e, `Weight is ${fmt(state.network.layers[li].weights[to * L.in + from])}`);
      p.onmouseleave = hideCard;
      p.onclick = (e) => editWeight(e, li, to, from);
      svg.appendChild(p);
    }
  }
}

function fmt(v) { return Number(v).toPrecision(2); }
let card = null;
function showCard(e, text) {
  hideCard();
  card = document.createElement("div");
  card.className = "card"; card.textContent = text;
  card.style.left = e.pageX + 10 + "px"; card.style.top = e.pageY - 30 + "px";
  document.body.appendChild(card);
}
function hideCard() { if (card && !card.querySelector("input")) { card.remove(); card = null; } }
function editWeight(e, layer, to, from) {
  if (card) { card.remove(); card = null; }
  card = document.createElement("div");
  card.className = "card";
  const L = state.network.layers[layer];
  const value = from < 0 ? L.biases[to] : L.weights[to * L.in + from];
  card.innerHTML = `${from < 0 ? "Bias" : "Weight"} <input type="number" step="0.1" value="${value}" style="width:80px">`;
  card.style.left = e.pageX + 10 + "px"; card.style.top = e.pageY - 30 + "px";
  document.body.appendChild(card);
  const input = card.querySelector("input");
  input.focus(); input.select();
  const commit = async () => {
    const v = +input.value;
    if (isFinite(v)) {
      try { await NEURONA.api("POST", `/api/playground/${session}/weight`, { layer, to, from, value: v }); forceRefresh = true; }
      catch (err) { showError(err); }
    }
  };
  input.oninput = commit;  // typing overwrites the weight at once, as in the Playground
  input.onkeydown = (ev) => { if (ev.key === "Enter" || ev.key === "Escape") { card.remove(); card = null; } };
  input.onblur = () => { if (card) { card.remove(); card = null; } };
}

// Draws f over [-6, 6]² into a small canvas, scaled by its largest magnitude.
function drawFunction(canvas, f) {
  const n = canvas.width, img = canvas.getContext("2d").createImageData(n, n);
  const vals = [];
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) vals.push(f(-6 + 12 * (j + 0.5) / n, 6 - 12 * (i + 0.5) / n));
  const m = Math.max(1e-9, ...vals.map(Math.abs));
  vals.forEach((v, k) => { const c = NEURONA.colour(v / m); img.data.set([c[0], c[1], c[2], 255], 4 * k); });
  canvas.getContext("2d").putImageData(img, 0, 0);
}

function drawValues(canvas, values, n, discretize) {
  const img = canvas.getContext("2d").createImageData(n, n);
  for (let k = 0; k < n * n; k++) {
    let v = values[k];
    if (discretize) v = v >= 0 ? 1 : -1;
    const c = NEURONA.colour(v);
    img.data.set([c[0], c[1], c[2], 255], 4 * k);
  }
  canvas.width = canvas.height = n;
  canvas.getContext("2d").putImageData(img, 0, 0);
}

// ---------------------------------------------------------------------------------------------
// Rendering

function render() {
  if (!state) return;
  const e = String(state.epoch).padStart(6, "0");
  document.getElementById("epoch").textContent = e.slice(0, e.length - 3) + "," + e.slice(-3);
  const f3 = (v) => (v === null || v === undefined ? "NaN" : v.toFixed(3));
  document.getElementById("lossName").textContent = state.lossName;
  document.getElementById("testLoss").textContent = f3(state.testLoss);
  document.getElementById("trainLoss").textContent = f3(state.trainLoss);
  if (state.testAccuracy !== undefined) {
    document.getElementById("testAccuracy").textContent = (100 * state.testAccuracy).toFixed(1) + "%";
    document.getElementById("trainAccuracy").textContent = (100 * state.trainAccuracy).toFixed(1) + "%";
  }
  document.getElementById("stopReason").textContent = state.stopReason ? "Stopped: " + state.stopReason : "";
  updatePlayButton(state.playing);
  renderConfusion();
  NEURONA.lineChart(document.getElementById("lossChart"), [
    { points: lossHistory.map((h) => [h[0], h[1]]), colour: "#777" },
    { points: lossHistory.map((h) => [h[0], h[2]]), colour: "#000" },
  ]);
  renderHeatmap();
  renderNetwork();
  for (const [id, file] of [["exportConfig", "config.yaml"], ["exportWeights", "weights.safetensors"], ["exportData", "data.csv"]])
    document.getElementById(id).href = `/api/playground/${session}/export/${file}`;
}

function renderConfusion() {
  const box = document.getElementById("confusionBox");
  if (!state.confusion) { box.innerHTML = ""; return; }
  const names = config.problem === "multiclass" ? state.confusion.map((_, i) => `class ${i}`) : ["orange (\u22121)", "blue (+1)"];
  let html = `<div class="muted" style="margin-top:8px">Confusion matrix (test set; rows: true, columns: predicted)</div><table class="confusion"><tr><th></th>${names.map((n) => `<th>${n}</th>`).join("")}</tr>`;
  state.confusion.forEach((row, i) => { html += `<tr><th>${names[i]}</th>${row.map((v) => `<td>${v}</td>`).join("")}</tr>`; });
  box.innerHTML = html + "</table>";
}

const heatSrc = document.createElement("canvas");
function renderHeatmap() {
  if (!state) return;
  const canvas = document.getElementById("heatmap"), ctx = canvas.getContext("2d");
  const multi = config.problem === "multiclass";
  if (hoverNeuron && state.neurons.layers[hoverNeuron[0]]) {
    drawValues(heatSrc, state.neurons.layers[hoverNeuron[0]][hoverNeuron[1]], state.neurons.n, view.discretize);
  } else if (multi) {
    const n = state.heatmap.n, img = heatSrc.getContext("2d").createImageData(n, n);
    heatSrc.width = heatSrc.height = n;
    const img2 = heatSrc.getContext("2d").createImageData(n, n);
    for (let k = 0; k < n * n; k++) {
      const c = NEURONA.classColours[state.heatmap.class[k] % 6];
      const a = view.discretize ? 1 : Math.max(0, (state.heatmap.confidence[k] - 1 / config.classes) / (1 - 1 / config.classes));
      img2.data.set([232 + (c[0] - 232) * a, 234 + (c[1] - 234) * a, 235 + (c[2] - 235) * a, 255], 4 * k);
    }
    void img;
    heatSrc.getContext("2d").putImageData(img2, 0, 0);
  } else {
    drawValues(heatSrc, state.heatmap.values, state.heatmap.n, view.discretize);
  }
  ctx.clearRect(0, 0, 300, 300);
  ctx.globalAlpha = 0.85;
  ctx.imageSmoothingEnabled = true;
  ctx.drawImage(heatSrc, 0, 0, 300, 300);
  ctx.globalAlpha = 1;
  if (!points) return;
  const draw = (pts, stroke) => {
    for (const [x, y, l] of pts) {
      if (Math.abs(x) > 6 || Math.abs(y) > 6) continue;
      ctx.beginPath();
      ctx.arc((x + 6) / 12 * 300, (6 - y) / 12 * 300, 3, 0, 2 * Math.PI);
      ctx.fillStyle = pointColour(l); ctx.fill();
      ctx.strokeStyle = stroke; ctx.lineWidth = 1; ctx.stroke();
    }
  };
  draw(points.train, "#fff");
  if (view.showTestData) draw(points.test, "#000");
}

function renderNetwork() {
  const layers = state.network.layers;
  const svg = document.getElementById("links");
  if (!svg) return;
  for (const p of svg.children) {
    const L = layers[+p.dataset.layer];
    if (!L) continue;
    const w = L.weights[+p.dataset.to * L.in + +p.dataset.from];
    p.setAttribute("stroke", NEURONA.css(NEURONA.colour(w)));
    p.setAttribute("stroke-width", 1 + 9 * Math.min(Math.abs(w), 5) / 5);
    p.setAttribute("stroke-dasharray", "6 3");
    p.setAttribute("stroke-dashoffset", -state.epoch / 2);  // the "flow" moves with the epoch
  }
  layers.forEach((L, li) => {
    const col = nodes[li + 1];
    if (!col) return;
    col.forEach((node, j) => {
      node.bias.style.background = NEURONA.css(NEURONA.colour(L.biases[j]));
      const thumbs = state.neurons.layers[li];
      if (thumbs) drawValues(node.canvas, thumbs[j], state.neurons.n, view.discretize);
      else if (!hoverNeuron && layers.length === li + 1 && config.problem !== "multiclass") {
        node.canvas.width = node.canvas.height = 36;  // the output neuron shows the output map
        node.canvas.getContext("2d").drawImage(heatSrc, 0, 0, 36, 36);
      }
    });
  });
}

// ---------------------------------------------------------------------------------------------

async function main() {
  config = readHash();
  writeHash();
  setupControls();
  syncControls();
  try {
    await createSession();
  } catch (e) {
    showError(e);  // e.g. dataset=csv in a link: start from the defaults
    config = JSON.parse(JSON.stringify(DEFAULTS));
    config.seed = Math.floor(Math.random() * 100000);
    writeHash(); syncControls();
    await createSession();
  }
  requestAnimationFrame(poll);
  window.addEventListener("pagehide", () => { if (session) fetch(`/api/playground/${session}`, { method: "DELETE", keepalive: true }); });
}

// For tests and the console.
window.neuronaPlayground = { get state() { return state; }, get config() { return config; }, get session() { return session; } };
main();
