// What the browser tests stand on: a fresh database, ticketd instances started here against
// the PostgreSQL and Redis that scripts/test.sh started, fans and an operator talking to the
// API, and Debian's chromium driven by Playwright's library.
//   TEST_DATABASE_URL, TEST_REDIS_URL, TICKETD_BIN: as for the functional tests
//   CHROMIUM (default /usr/bin/chromium); SCREENSHOTS_DIR (default build/screenshots)

import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, openSync } from "node:fs";
import { createServer } from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const ADMIN_KEY = "dev-admin-key";
export const PASSWORD = "correct horse battery staple";

function required(name) {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set (scripts/test.sh sets it)`);
  return value;
}

// ---------------------------------------------------------------------------------------
// Servers
// ---------------------------------------------------------------------------------------

export function createDatabase() {
  const admin = required("TEST_DATABASE_URL");
  const name = `tp_browser_${randomBytes(6).toString("hex")}`;
  const made = spawnSync("psql", [admin, "-q", "-c", `CREATE DATABASE ${name}`], { encoding: "utf8" });
  if (made.status !== 0) throw new Error(`cannot create ${name}: ${made.stderr}`);
  const url = new URL(admin);
  url.pathname = `/${name}`;
  return { name, url: url.toString(), drop: () => spawnSync("psql", [admin, "-q", "-c", `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`]) };
}

// The browser tests' own Redis database, emptied first: gates are global to a Redis database.
export function redisUrl() {
  const url = new URL(required("TEST_REDIS_URL"));
  url.pathname = "/6";
  spawnSync("redis-cli", ["-u", url.toString(), "FLUSHDB"]);
  return url.toString();
}

function freePort() {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

function env(settings) {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(TICKETD_|DATABASE_URL|LISTEN|REDIS_URL|GATE_|QUEUE_|HOLD_)/.test(k)));
  return { ...base, TICKETD_ENV: "dev", THREADS: "2", LOG_LEVEL: "warn", ...settings };
}

export async function startTicketd(db, redis, name, settings = {}) {
  const bin = required("TICKETD_BIN");
  const migrated = spawnSync(bin, ["migrate"], { env: env({ DATABASE_URL: db.url }), encoding: "utf8" });
  if (migrated.status !== 0) throw new Error(`ticketd migrate failed: ${migrated.stderr}`);
  const port = await freePort();
  const logDir = path.join(ROOT, "build", "browser-logs");
  mkdirSync(logDir, { recursive: true });
  const log = openSync(path.join(logDir, `${name}-${port}.log`), "a");
  const proc = spawn(bin, ["serve"], {
    env: env({ DATABASE_URL: db.url, REDIS_URL: redis, LISTEN: `127.0.0.1:${port}`, QUEUE_TICK_MS: "50", ...settings }),
    stdio: ["ignore", log, log],
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`ticketd ${name} exited with ${proc.exitCode}`);
    try {
      if ((await fetch(`${url}/healthz`)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`ticketd ${name} did not answer /healthz within 60 s`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url,
    stop: () => new Promise((resolve) => {
      if (proc.exitCode !== null) return resolve(proc.exitCode);
      proc.once("exit", (code) => resolve(code));
      proc.kill("SIGTERM");
    }),
  };
}

// ---------------------------------------------------------------------------------------
// The API, as a fan or the operator
// ---------------------------------------------------------------------------------------

async function request(base, method, path, { token, body, headers = {} } = {}) {
  const init = { method, headers: { ...headers } };
  if (token) init.headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const res = await fetch(base + path, init);
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

export function operator(base) {
  const call = (method, path, body) => request(base, method, path, { token: ADMIN_KEY, body });
  return {
    async createPerformance({ title, seats, price = 10_000 }) {
      const now = Date.now();
      const r = await call("POST", "/admin/performances", {
        title,
        ticketing_start_date: new Date(now - 3_600_000).toISOString(),
        stage: { name: "Olympic Hall", location: "Seoul" },
        schedules: [{ staging_date: new Date(now + 30 * 86_400_000).toISOString(), seat_count: seats, price }],
      });
      if (r.status !== 201) throw new Error(`create performance: ${r.status} ${JSON.stringify(r.body)}`);
      const schedule = r.body.performance_staging_date[0];
      return { id: r.body.id, scheduleId: schedule.id, seatIds: schedule.seat_ids };
    },
    async setGate(gate, settings) {
      const r = await call("PUT", `/admin/gates/${encodeURIComponent(gate)}`, settings);
      if (r.status !== 200) throw new Error(`set gate: ${r.status} ${JSON.stringify(r.body)}`);
      return r.body;
    },
    gate: async (gate) => (await call("GET", `/admin/gates/${encodeURIComponent(gate)}`)).body,
  };
}

export async function apiFan(base, tag) {
  const email = `${tag}-${randomBytes(4).toString("hex")}@example.com`;
  let r = await request(base, "POST", "/auth/signUp", { body: { email_address: email, password: PASSWORD, name: tag } });
  if (r.status !== 201) throw new Error(`sign up: ${r.status} ${JSON.stringify(r.body)}`);
  r = await request(base, "POST", "/auth/signIn", { body: { email_address: email, password: PASSWORD } });
  const token = r.body.accessToken;
  const call = (method, path, options = {}) => request(base, method, path, { token, ...options });
  return {
    email,
    call,
    // A booking step, repeated while the queue answers 202 (the fan's held token is used).
    async gated(method, path, body, timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const answer = await call(method, path, { body });
        if (answer.status !== 202) return answer;
        if (Date.now() > deadline) throw new Error(`not admitted to ${path} within ${timeoutMs} ms`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
  };
}

// ---------------------------------------------------------------------------------------
// The browser
// ---------------------------------------------------------------------------------------

export async function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-dev-shm-usage"],
  });
}

// A page that records every console error and uncaught exception in `errors`.
export async function openPage(browser, url, { width = 1280, height = 900 } = {}, errors = []) {
  const context = await browser.newContext({ viewport: { width, height } });
  const page = await context.newPage();
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(`${url}: ${m.text()}`);
  });
  page.on("pageerror", (e) => errors.push(`${url}: ${e}`));
  await page.goto(url);
  return page;
}

export async function screenshot(page, name) {
  const dir = process.env.SCREENSHOTS_DIR || path.join(ROOT, "build", "screenshots");
  mkdirSync(dir, { recursive: true });
  await page.screenshot({ path: path.join(dir, `${name}.png`), fullPage: false });
}
