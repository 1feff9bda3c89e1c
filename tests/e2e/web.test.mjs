// End-to-end tests of `neurona serve` in Debian's headless Chromium, driven over W3C WebDriver by
// Debian's ChromeDriver (webdriver.mjs: Node.js built-ins only, no npm package).
// Run by scripts/test-web.sh; NEURONA_BIN names the neurona command (default build/neurona),
// CHROMIUM and CHROMEDRIVER the browser and its driver (default /usr/bin/chromium, /usr/bin/chromedriver).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { WebDriver, sleep } from "./webdriver.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const serveBin = process.env.NEURONA_BIN || path.join(root, "build/neurona");
const images = path.join(root, "docs/images");
let server, base, browser, logdir;

// Two finished runs in Neurona's layout: runs/<name>/version_<n>/{history.json, config.yaml, …}.
function writeRun(dir, lr, decay) {
  fs.mkdirSync(path.join(dir, "checkpoints"), { recursive: true });
  const epochs = 30, h = { epoch: [], loss: [], val_loss: [], accuracy: [], val_accuracy: [], lr: [] };
  for (let e = 0; e < epochs; e++) {
    const l = 0.1 + 0.9 * Math.exp(-e / decay);
    h.epoch.push(e); h.loss.push(l + 0.02 * Math.sin(e)); h.val_loss.push(l + 0.05 + 0.03 * Math.cos(e));
    h.accuracy.push(1 - l / 1.2); h.val_accuracy.push(1 - (l + 0.05) / 1.2); h.lr.push(lr);
  }
  fs.writeFileSync(path.join(dir, "history.json"), JSON.stringify(h));
  fs.writeFileSync(path.join(dir, "config.yaml"),
    `name: moons\nseed: 0\nmodel:\n  layers:\n    - {dense: 16, activation: relu}\n    - {dense: 1}\n` +
    `compile:\n  optimizer: {adam: {lr: ${lr}}}\n  loss: bce_with_logits\nfit: {batch_size: 32, epochs: ${epochs}}\n`);
}

before(async () => {
  logdir = fs.mkdtempSync(path.join(os.tmpdir(), "neurona-e2e-runs-"));
  writeRun(path.join(logdir, "moons/version_0"), 0.01, 4);
  writeRun(path.join(logdir, "moons/version_1"), 0.001, 12);
  server = spawn(serveBin, ["serve", "--port", "0", "--logdir", logdir], { stdio: ["ignore", "pipe", "inherit"] });
  base = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("the server did not start in 10 s")), 10000);
    let out = "";
    server.stdout.on("data", (d) => {
      out += d;
      const m = out.match(/http:\/\/127\.0\.0\.1:(\d+)\//);
      if (m) { clearTimeout(timer); resolve(`http://127.0.0.1:${m[1]}`); }
    });
    server.on("exit", (code) => reject(new Error(`the server exited with ${code}`)));
  });
  // A fresh profile directory each run (--user-data-dir), a 1400×900 viewport, everything on 127.0.0.1.
  browser = await WebDriver.start({ width: 1400, height: 900 });
  fs.mkdirSync(images, { recursive: true });
});

after(async () => {
  if (browser) await browser.quit();
  if (server) server.kill("SIGTERM");
  if (logdir) fs.rmSync(logdir, { recursive: true, force: true });
});
// A run stopped from outside (timeout's SIGTERM) still takes ChromeDriver and the server down.
process.on("exit", () => { browser?.killNow(); server?.kill("SIGKILL"); });

// Each test opens its page in a tab of its own, and closes it when it passes.
const openPage = (url) => browser.openTab(base + url);

const allFeatures = "x=true&y=true&xSquared=true&ySquared=true&xTimesY=true&sinX=true&sinY=true";
const spiral = `/#dataset=spiral&networkShape=8,8&${allFeatures}&activation=tanh&optimizer=adam&learningRate=0.01&batchSize=10&seed=1&speed=1000&stopLoss=0.1&showTestData=true`;

// Pixels of the heat map canvas, to tell whether it changed.
const heatPixels = () => browser.execute(() => {
  const c = document.getElementById("heatmap");
  return Array.from(c.getContext("2d").getImageData(0, 0, c.width, c.height).data);
});

test("Playground: spiral with 2 hidden layers of 8 reaches test loss < 0.1 after pressing play", async () => {
  await openPage(spiral);
  await browser.waitForFunction(() => window.neuronaPlayground.state !== null);
  const shape = await browser.execute(() => window.neuronaPlayground.state.network.layers.map((l) => l.out));
  assert.deepEqual(shape, [8, 8, 1]);
  const before = await heatPixels();
  await browser.click("#play");
  const t0 = Date.now();
  // The stop condition (stopLoss=0.1 in the URL) pauses training as soon as the test loss is below 0.1.
  await browser.waitForFunction(() => { const s = window.neuronaPlayground.state; return s && !s.playing && s.testLoss !== null && s.testLoss < 0.1; },
    [], { timeout: 60000, interval: 100 });
  const seconds = (Date.now() - t0) / 1000;
  await sleep(300);
  assert.match(await browser.textContent("#stopReason"), /test loss below 0.1/);
  // The loss is named where it is shown: the one the exported config trains with.
  assert.equal(await browser.textContent("#lossName"), "MSE");
  const after = await heatPixels();
  let changed = 0;
  for (let i = 0; i < before.length; i += 4)
    if (Math.abs(before[i] - after[i]) + Math.abs(before[i + 1] - after[i + 1]) + Math.abs(before[i + 2] - after[i + 2]) > 30) changed++;
  const share = changed / (before.length / 4);
  const text = await browser.textContent("#testLoss");
  console.log(`spiral: test loss ${text} after ${seconds.toFixed(1)} s, heat map changed on ${(100 * share).toFixed(0)} % of pixels`);
  assert.ok(parseFloat(text) < 0.1, `displayed test loss ${text}`);
  assert.ok(share > 0.05, `the heat map barely changed (${share})`);
  await browser.screenshot(path.join(images, "playground.png"));
  assert.deepEqual(await browser.pageErrors(), []);
  await browser.closeTab();
});

test("Playground: changing the activation and the data set through the UI changes the URL", async () => {
  await openPage("/");
  await browser.waitForFunction(() => window.neuronaPlayground.state !== null);
  assert.match(await browser.execute(() => location.hash), /activation=tanh/);
  await browser.selectOption("#activation", "relu");
  await browser.waitForFunction(() => /activation=relu/.test(location.hash));
  await browser.click('canvas[data-dataset="xor"]');
  await browser.waitForFunction(() => /dataset=xor/.test(location.hash));
  await browser.waitForFunction(() => window.neuronaPlayground.state.config.dataset === "xor" &&
    window.neuronaPlayground.state.config.activation === "relu");
  assert.deepEqual(await browser.pageErrors(), []);
  await browser.closeTab();
});

test("Playground: reloading the URL gives the same data and initial weights", async () => {
  await openPage(`/#dataset=gauss&networkShape=3,2&seed=4242`);
  await browser.waitForFunction(() => window.neuronaPlayground.state !== null);
  const snap = () => browser.execute(() => {
    const s = window.neuronaPlayground.state;
    return { epoch: s.epoch, weights: s.network.layers.map((l) => [l.weights, l.biases]) };
  });
  const first = await snap();
  assert.equal(first.epoch, 0);
  for (let i = 0; i < 3; i++) await browser.click("#step");
  // The page polls the trained network after the steps.
  await browser.waitForFunction((w0) => {
    const s = window.neuronaPlayground.state;
    return s.epoch >= 3 && JSON.stringify(s.network.layers.map((l) => [l.weights, l.biases])) !== w0;
  }, [JSON.stringify(first.weights)]);
  const url = await browser.url();
  assert.match(url, /seed=4242/);
  await browser.refresh();
  await browser.waitForFunction(() => window.neuronaPlayground.state !== null);
  const again = await snap();
  assert.equal(again.epoch, 0);
  assert.deepEqual(again.weights, first.weights);
  assert.deepEqual(await browser.pageErrors(), []);
  await browser.closeTab();
});

test("Dashboard: lists the two runs of the logdir and draws their loss curves", async () => {
  await openPage("/dashboard");
  await browser.waitForSelector('#runList li[data-run="moons/version_1"]');
  const names = await Promise.all((await browser.findAll("#runList li")).map((li) => li.attribute("data-run")));
  assert.deepEqual(names, ["moons/version_0", "moons/version_1"]);
  const chart = await browser.waitForSelector('.chart[data-metric="loss"] canvas');
  // The loss chart has ink of both runs' colours (blue and orange of the palette).
  const colours = await browser.execute((c) => {
    const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
    let blue = 0, orange = 0;
    for (let i = 0; i < d.length; i += 4) {
      if (d[i + 3] > 200 && d[i] < 60 && d[i + 2] > 150) blue++;
      if (d[i + 3] > 200 && d[i] > 230 && d[i + 1] > 100 && d[i + 1] < 150 && d[i + 2] < 40) orange++;
    }
    return { blue, orange };
  }, chart);
  assert.ok(colours.blue > 50 && colours.orange > 50, JSON.stringify(colours));
  const rows = (await browser.findAll("#hparamsTable tr")).length;
  assert.equal(rows, 3);
  // One column per name: the configured epochs (hparam) and the epochs the run went through.
  const heads = await Promise.all((await browser.findAll("#hparamsTable th")).map((th) => th.property("textContent")));
  assert.equal(new Set(heads).size, heads.length, heads.join(" | "));
  assert.ok(heads.includes("epochs") && heads.includes("epochs run"), heads.join(" | "));
  assert.match(await browser.textContent("#config"), /adam: \{lr: 0.01\}/);
  await browser.screenshot(path.join(images, "dashboard.png"), { fullPage: true });
  assert.deepEqual(await browser.pageErrors(), []);
  await browser.closeTab();
});

test("Explorer: STEP moves the point along the loss curve and counts steps", async () => {
  await openPage("/explorer");
  await browser.waitForFunction(() => window.neuronaExplorer.path !== null);
  await browser.fill("#lr", "0.1");
  await browser.execute(() => document.getElementById("lr").dispatchEvent(new Event("change", { bubbles: true, cancelable: true, composed: true })));
  await sleep(300);
  for (let i = 0; i < 3; i++) await browser.click("#step1d");
  assert.equal(await browser.textContent("#steps1d"), "3");
  // (w − 1)² from −4 with lr 0.1: w = 1 − 5·0.8³ after three steps.
  assert.match(await browser.textContent("#verdict"), new RegExp(`w = ${(1 - 5 * 0.8 ** 3).toFixed(4)}`));
  await browser.click("#reset1d");
  await browser.waitForFunction(() => document.getElementById("steps1d").textContent === "0");
  await browser.waitForFunction(() => /adam/.test(document.getElementById("raceLegend").textContent));
  await sleep(1500);
  await browser.screenshot(path.join(images, "explorer.png"));
  assert.deepEqual(await browser.pageErrors(), []);
  await browser.closeTab();
});
