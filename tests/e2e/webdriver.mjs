// A small W3C WebDriver client for the web app's browser tests: it starts Debian's ChromeDriver
// (package chromium-driver) on a free loopback port and drives Debian's headless Chromium through
// it over HTTP, with Node.js built-ins only (global fetch, node:child_process). Every request and
// every wait is bounded in time, so a stuck browser fails a test instead of hanging it.
//
// Two things that W3C WebDriver has no command for go through ChromeDriver's own HTTP endpoint for
// the DevTools protocol (POST /session/{id}/goog/cdp/execute): a script that runs before the
// page's own ones in every new document (to record uncaught exceptions and unhandled rejections,
// see pageErrors) and a screenshot of the whole page beyond the viewport (screenshot's fullPage).
import { spawn } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";

const ELEMENT = "element-6066-11e4-a52e-4f735466cecf";  // the W3C key of an element reference
export const Key = { CONTROL: "\uE009", ENTER: "\uE007", TAB: "\uE004" };

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export class WebDriverError extends Error {
  constructor(command, error, message) {
    super(`${command}: ${message.startsWith(error) ? message : `${error}: ${message}`}`);
    this.error = error;
  }
}

// Polls `probe` (an async function) every `interval` ms until it returns a truthy value, which it
// returns; fails after `timeout` ms with `message`. An exception thrown by `probe` fails at once.
export async function waitFor(probe, { timeout = 30000, interval = 100, message = "condition" } = {}) {
  const deadline = Date.now() + timeout;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() >= deadline) throw new Error(`timed out after ${timeout} ms waiting for ${message}`);
    await sleep(Math.min(interval, Math.max(0, deadline - Date.now())));
  }
}

// A free TCP port on 127.0.0.1: bind port 0, read the port, close. Another process could take it
// before ChromeDriver binds it, so start() retries with a new port when ChromeDriver exits early.
async function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

// Records the page's uncaught exceptions and unhandled promise rejections (what a person would see
// as red lines in the console) in window.__neuronaPageErrors, before any of the page's scripts run.
const ERROR_RECORDER = `(() => {
  const errors = [];
  Object.defineProperty(window, "__neuronaPageErrors", { value: errors });
  window.addEventListener("error", (e) => { errors.push(e.message || String(e.error)); });
  window.addEventListener("unhandledrejection", (e) => {
    const r = e.reason; errors.push("unhandled rejection: " + (r && r.message ? r.message : String(r)));
  });
})();`;

function functionScript(fn) {
  return typeof fn === "function" ? `return (${fn}).apply(null, arguments);` : fn;
}

export class Element {
  constructor(driver, id, selector) { this.driver = driver; this.id = id; this.selector = selector; }
  toJSON() { return { [ELEMENT]: this.id }; }
  #cmd(method, sub, body) { return this.driver.command(method, `/element/${this.id}${sub}`, body); }
  click() { return this.#cmd("POST", "/click", {}); }
  clear() { return this.#cmd("POST", "/clear", {}); }
  sendKeys(text) { return this.#cmd("POST", "/value", { text: String(text) }); }
  text() { return this.#cmd("GET", "/text"); }  // the rendered text (W3C "Get Element Text")
  attribute(name) { return this.#cmd("GET", `/attribute/${encodeURIComponent(name)}`); }
  property(name) { return this.#cmd("GET", `/property/${encodeURIComponent(name)}`); }
  find(css) { return this.driver.find(css, this); }
  findAll(css) { return this.driver.findAll(css, this); }
}

export class WebDriver {
  // Starts ChromeDriver and a Chromium session whose page viewport is width × height CSS pixels.
  static async start({
    chromedriver = process.env.CHROMEDRIVER || "/usr/bin/chromedriver",
    chromium = process.env.CHROMIUM || "/usr/bin/chromium",
    width = 1400, height = 900, args = [], startTimeout = 15000, commandTimeout = 30000,
  } = {}) {
    const d = new WebDriver();
    d.commandTimeout = commandTimeout;
    d.profile = fs.mkdtempSync(path.join(os.tmpdir(), "neurona-e2e-chromium-"));
    try {
      await d.#startDriver(chromedriver, startTimeout);
      await d.#startSession(chromium, width, height, args);
      await d.#fitViewport(width, height);
    } catch (e) {
      await d.quit();
      throw e;
    }
    return d;
  }

  async #startDriver(bin, startTimeout) {
    let lastError;
    for (let attempt = 0; attempt < 3; attempt++) {
      const port = await freePort();
      const proc = spawn(bin, [`--port=${port}`, "--allowed-ips=127.0.0.1", "--log-level=WARNING"],
        { stdio: ["ignore", "pipe", "pipe"] });
      let log = "", exited = null;
      const keep = (chunk) => { log = (log + chunk).slice(-4000); };
      proc.stdout.on("data", keep);
      proc.stderr.on("data", keep);
      proc.on("error", (e) => { exited = `could not start ${bin}: ${e.message}`; });
      proc.on("exit", (code, signal) => { exited ??= `${bin} exited with ${signal || code}`; });
      this.proc = proc;
      this.base = `http://127.0.0.1:${port}`;
      this.driverLog = () => log;
      const deadline = Date.now() + startTimeout;
      while (Date.now() < deadline && exited === null) {
        try {
          const r = await fetch(`${this.base}/status`, { signal: AbortSignal.timeout(1000) });
          const body = await r.json();
          if (body.value && body.value.ready) return;
        } catch { /* not listening yet */ }
        await sleep(100);
      }
      lastError = exited ?? `${bin} was not ready within ${startTimeout} ms`;
      await this.#killDriver();
      if (exited === null) break;  // it runs but never got ready: a new port will not help
    }
    throw new Error(`ChromeDriver did not start: ${lastError}\n${this.driverLog ? this.driverLog() : ""}`);
  }

  async #startSession(binary, width, height, extraArgs) {
    // --remote-debugging-pipe: ChromeDriver talks to Chromium over a pipe, not a DevTools port on
    // "localhost" (a fresh Debian root has no /etc/hosts, so that name would not resolve).
    const args = ["--headless=new", "--no-sandbox", "--disable-gpu", "--remote-debugging-pipe", `--user-data-dir=${this.profile}`,
      `--window-size=${width},${height}`, "--no-first-run", "--disable-quic", "--disable-background-networking",
      "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage", ...extraArgs];
    const r = await this.#http("POST", "/session", {
      capabilities: {
        alwaysMatch: {
          browserName: "chrome",
          pageLoadStrategy: "normal",
          timeouts: { script: 30000, pageLoad: 30000, implicit: 0 },
          "goog:chromeOptions": { binary, args },
        },
      },
    }, 60000);
    this.sessionId = r.sessionId;
    this.mainWindow = await this.command("GET", "/window");
    await this.#recordErrors();
  }

  // --window-size sets the window, which may be larger than the page's viewport: grow the window by
  // the difference so that innerWidth × innerHeight is width × height, as a test's screenshots expect.
  async #fitViewport(width, height) {
    for (let i = 0; i < 3; i++) {
      const [iw, ih] = await this.execute(() => [window.innerWidth, window.innerHeight]);
      if (iw === width && ih === height) return;
      const rect = await this.command("GET", "/window/rect");
      await this.command("POST", "/window/rect", { width: rect.width + width - iw, height: rect.height + height - ih });
    }
    const [iw, ih] = await this.execute(() => [window.innerWidth, window.innerHeight]);
    if (iw !== width || ih !== height) throw new Error(`the viewport is ${iw}×${ih}, not ${width}×${height}`);
  }

  async #http(method, url, body, timeout = this.commandTimeout) {
    const command = `${method} ${url}`;
    let r;
    try {
      r = await fetch(this.base + url, {
        method,
        headers: body === undefined ? {} : { "Content-Type": "application/json; charset=utf-8" },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(timeout),
      });
    } catch (e) {
      throw new Error(`${command}: no answer from ChromeDriver (${e.name === "TimeoutError" ? `${timeout} ms` : e.message})`);
    }
    const text = await r.text();
    let json;
    try { json = JSON.parse(text); } catch { throw new Error(`${command}: HTTP ${r.status}, not JSON: ${text.slice(0, 300)}`); }
    const v = json.value;
    if (!r.ok || (v && typeof v === "object" && typeof v.error === "string"))
      throw new WebDriverError(command, v?.error ?? `HTTP ${r.status}`, (v?.message ?? text).split("\n").slice(0, 3).join(" "));
    return v;
  }

  // One command of the session: command("GET", "/url") is GET /session/{id}/url.
  command(method, sub, body, timeout) {
    if (!this.sessionId) throw new Error("no WebDriver session");
    return this.#http(method, `/session/${this.sessionId}${sub}`, body, timeout);
  }

  cdp(cmd, params = {}) { return this.command("POST", "/goog/cdp/execute", { cmd, params }); }

  async #recordErrors() {
    await this.cdp("Page.addScriptToEvaluateOnNewDocument", { source: ERROR_RECORDER });
    this.errors = [];
  }

  // Pages open in tabs of their own, like a person's: openTab() opens one and makes it current,
  // closeTab() closes it and goes back to the first window (which keeps the session alive).
  async openTab(url) {
    const { handle } = await this.command("POST", "/window/new", { type: "tab" });
    await this.command("POST", "/window", { handle });
    await this.#recordErrors();
    if (url) await this.navigate(url);
  }

  async closeTab() {
    await this.command("DELETE", "/window");
    await this.command("POST", "/window", { handle: this.mainWindow });
  }

  // The uncaught exceptions and unhandled rejections of the current tab since openTab, across its
  // navigations and reloads.
  async pageErrors() {
    const now = await this.execute(() => window.__neuronaPageErrors || []);
    return [...this.errors, ...now];
  }

  async #keepErrors() {
    try { this.errors.push(...await this.execute(() => window.__neuronaPageErrors || [])); } catch { /* no document */ }
  }

  async navigate(url) { await this.#keepErrors(); await this.command("POST", "/url", { url }); }
  async refresh() { await this.#keepErrors(); await this.command("POST", "/refresh", {}); }
  url() { return this.command("GET", "/url"); }

  async find(css, from) {
    const v = await this.command("POST", from ? `/element/${from.id}/element` : "/element", { using: "css selector", value: css });
    return new Element(this, v[ELEMENT], css);
  }

  async findAll(css, from) {
    const v = await this.command("POST", from ? `/element/${from.id}/elements` : "/elements", { using: "css selector", value: css });
    return v.map((e) => new Element(this, e[ELEMENT], css));
  }

  async click(css) { await (await this.find(css)).click(); }
  // The element's textContent (what the DOM holds, whatever CSS does to how it looks).
  async textContent(css) { return (await this.find(css)).property("textContent"); }

  // Replaces the text of an input as a person would: select all of it, type the new text.
  async fill(css, text) { await (await this.find(css)).sendKeys(`${Key.CONTROL}a${Key.CONTROL}${text}`); }

  // Selects the <option> of a <select> with this value by clicking it (fires input and change).
  async selectOption(css, value) { await (await this.find(`${css} option[value="${value}"]`)).click(); }

  // Runs fn (a function or a function body) in the page with args (JSON values or Elements);
  // a returned promise is awaited.
  execute(fn, ...args) { return this.command("POST", "/execute/sync", { script: functionScript(fn), args }); }

  // Runs fn in the page with args and a last argument `done`, a callback that fn must call with
  // the result.
  executeAsync(fn, ...args) { return this.command("POST", "/execute/async", { script: functionScript(fn), args }); }

  // Polls fn(...args) in the page until it returns a truthy value.
  waitForFunction(fn, args = [], { timeout = 30000, interval = 100 } = {}) {
    return waitFor(() => this.execute(fn, ...args), { timeout, interval, message: `${fn}`.slice(0, 200) });
  }

  async waitForSelector(css, { timeout = 30000 } = {}) {
    await waitFor(async () => (await this.findAll(css)).length > 0, { timeout, message: `an element ${css}` });
    return this.find(css);
  }

  // Writes a PNG of the viewport, or with fullPage of the whole scrollable page, to file.
  async screenshot(file, { fullPage = false } = {}) {
    let data;
    if (fullPage) {
      // The page's content, at least as wide as the viewport (the content's width leaves out the
      // vertical scroll bar, which a screenshot of the whole page does not have).
      const m = await this.cdp("Page.getLayoutMetrics");
      const size = m.cssContentSize || m.contentSize, inner = await this.execute(() => window.innerWidth);
      data = (await this.cdp("Page.captureScreenshot", {
        format: "png", captureBeyondViewport: true,
        clip: { x: 0, y: 0, width: Math.max(inner, Math.ceil(size.width)), height: Math.ceil(size.height), scale: 1 },
      })).data;
    } else {
      data = await this.command("GET", "/screenshot");
    }
    fs.writeFileSync(file, Buffer.from(data, "base64"));
  }

  // Ends the session (Chromium quits), then ChromeDriver, and removes the profile. Safe to call twice.
  async quit() {
    if (this.sessionId) {
      try { await this.#http("DELETE", `/session/${this.sessionId}`, undefined, 15000); } catch { /* killed below */ }
      this.sessionId = null;
    }
    await this.#killDriver();
    if (this.profile) { fs.rmSync(this.profile, { recursive: true, force: true }); this.profile = null; }
  }

  async #killDriver() {
    const proc = this.proc;
    this.proc = null;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const gone = new Promise((resolve) => proc.once("exit", resolve));
    proc.kill("SIGTERM");
    const timer = setTimeout(() => proc.kill("SIGKILL"), 3000);
    await Promise.race([gone, sleep(5000)]);
    clearTimeout(timer);
  }

  // For a process that is going down without quit(): no awaiting, just the signal.
  killNow() { if (this.proc && this.proc.exitCode === null) this.proc.kill("SIGKILL"); }
}
