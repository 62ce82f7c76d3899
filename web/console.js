// The operator console: the gates live (with pause and changes), each schedule's sales with
// a chart of sales and admissions over time, creating a performance, and the sale event
// feed. The admin key is typed in and kept for this tab only (sessionStorage).

import { ApiError, call, dateTime, el, messageFor, readEvents, sleep, won } from "./api.js";

const GATES_EVERY_MS = 1000;
const SALES_EVERY_MS = 2000;
const CHART_POINTS = 300; // ten minutes of samples every two seconds
const FEED_ITEMS = 200;

const main = document.getElementById("main");
const errorBox = document.getElementById("error");
const account = document.getElementById("account");
let key = sessionStorage.getItem("adminKey");
let running = null; // AbortController of the live parts

function showError(error) {
  errorBox.textContent = typeof error === "string" ? error : messageFor(error);
  errorBox.hidden = false;
  if (error instanceof ApiError && error.code === "ADMIN_KEY_INVALID") signOut();
}

function clearError() {
  errorBox.hidden = true;
}

const admin = (method, path, options = {}) => call(method, path, { token: key, ...options });

// ---------------------------------------------------------------------------------------
// The key
// ---------------------------------------------------------------------------------------

function keyView() {
  const input = el("input", { type: "password", id: "admin-key", required: true, autocomplete: "off", dataset: { testid: "admin-key" } });
  const form = el("form", { class: "card narrow", onsubmit: async (e) => {
    e.preventDefault();
    clearError();
    key = input.value;
    try {
      await admin("GET", "/admin/gates");
      sessionStorage.setItem("adminKey", key);
      dashboard();
    } catch (err) {
      key = null;
      showError(err);
    }
  } },
  el("h2", {}, "Operator console"),
  el("label", { for: "admin-key" }, "Admin key (ADMIN_API_KEY); kept for this tab only"), input,
  el("div", { class: "actions" }, el("button", { type: "submit", dataset: { testid: "admin-submit" } }, "Open the console")));
  account.replaceChildren();
  main.replaceChildren(form);
  input.focus();
}

function signOut() {
  running?.abort();
  key = null;
  sessionStorage.removeItem("adminKey");
  keyView();
}

// ---------------------------------------------------------------------------------------
// Gates
// ---------------------------------------------------------------------------------------

function gatesCard(samples, signal) {
  const rows = new Map();
  const body = el("tbody");
  const save = async (gate, capacity, rate) => {
    clearError();
    try {
      const r = await admin("PUT", `/admin/gates/${encodeURIComponent(gate)}`, { body: { capacity: Number(capacity), rate: Number(rate) } });
      return r.body;
    } catch (e) {
      showError(e);
      return null;
    }
  };
  const row = (g) => {
    const capacity = el("input", { type: "number", min: "0", max: "10000000", "aria-label": `Capacity of ${g.gate}`, dataset: { testid: "gate-capacity" } });
    const rate = el("input", { type: "number", min: "0", max: "10000000", "aria-label": `Rate of ${g.gate}`, dataset: { testid: "gate-rate" } });
    const cells = { waiting: el("td"), active: el("td"), admissions: el("td") };
    const saveButton = el("button", { dataset: { testid: "gate-save" } }, "Save");
    const pause = el("button", { class: "secondary" }, "Pause");
    const tr = el("tr", { dataset: { testid: "gate", gate: g.gate } },
      el("td", {}, el("code", {}, g.gate)), cells.waiting, cells.active, cells.admissions,
      el("td", {}, capacity), el("td", {}, rate), el("td", {}, el("div", { class: "actions" }, saveButton, pause)));
    const r = { tr, capacity, rate, cells, edited: false };
    for (const input of [capacity, rate]) input.addEventListener("input", () => (r.edited = true));
    const apply = async (cap, rt) => {
      const changed = await save(g.gate, cap, rt);
      if (changed) {
        r.edited = false;
        update(r, { ...changed, waiting: cells.waiting.textContent, active: cells.active.textContent });
      }
    };
    saveButton.addEventListener("click", () => apply(capacity.value, rate.value));
    pause.addEventListener("click", () => apply(capacity.value, 0));
    return r;
  };
  const update = (r, g) => {
    r.cells.waiting.textContent = g.waiting;
    r.cells.active.textContent = g.active;
    if (g.admissions_per_second !== undefined) r.cells.admissions.textContent = g.admissions_per_second.toFixed(1);
    if (!r.edited) {
      r.capacity.value = g.capacity;
      r.rate.value = g.rate;
    }
  };
  const byName = el("form", { class: "form-grid", onsubmit: async (e) => {
    e.preventDefault();
    const f = new FormData(e.target);
    if (await save(f.get("gate"), f.get("capacity"), f.get("rate"))) e.target.reset();
  } },
  el("label", {}, "Gate", el("input", { name: "gate", required: true, placeholder: "performance_seats:{schedule id}" })),
  el("label", {}, "Capacity", el("input", { name: "capacity", type: "number", min: "0", required: true, value: "1000" })),
  el("label", {}, "Rate", el("input", { name: "rate", type: "number", min: "0", required: true, value: "100" })),
  el("button", { type: "submit", class: "secondary" }, "Set before the sale"));
  (async () => {
    while (!signal.aborted) {
      try {
        const gates = (await admin("GET", "/admin/gates", { signal })).body;
        const seen = new Set();
        for (const g of gates.sort((a, b) => a.gate.localeCompare(b.gate))) {
          seen.add(g.gate);
          if (!rows.has(g.gate)) {
            rows.set(g.gate, row(g));
            body.append(rows.get(g.gate).tr);
          }
          update(rows.get(g.gate), g);
        }
        for (const [name, r] of rows) {
          if (!seen.has(name)) {
            r.tr.remove();
            rows.delete(name);
          }
        }
        samples.admissions = gates.reduce((sum, g) => sum + g.admissions_per_second, 0);
      } catch (e) {
        if (signal.aborted) return;
        showError(e);
      }
      await sleep(GATES_EVERY_MS);
    }
  })();
  return el("section", { class: "card" }, el("h2", {}, "Gates"),
    el("div", { class: "table-wrap" }, el("table", {},
      el("thead", {}, el("tr", {}, ["Gate", "Waiting", "Active", "Admitted/s", "Capacity", "Rate", ""].map((h) => el("th", {}, h)))),
      body)),
    el("p", { class: "muted" }, "Gates with fans in line or admitted. A rate or capacity of 0 pauses admission."),
    byName);
}

// ---------------------------------------------------------------------------------------
// Sales and the chart
// ---------------------------------------------------------------------------------------

function chart(history) {
  const svgNs = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(svgNs, "svg");
  svg.setAttribute("viewBox", "0 0 600 200");
  svg.setAttribute("role", "img");
  const draw = () => {
    const sold = history.map((p) => p.sold);
    const admitted = history.map((p) => p.admissions);
    const line = (values, colour) => {
      const top = Math.max(1, ...values);
      const points = values.map((v, i) => `${(i / Math.max(1, CHART_POINTS - 1)) * 600},${190 - (v / top) * 180}`).join(" ");
      const path = document.createElementNS(svgNs, "polyline");
      path.setAttribute("points", points);
      path.setAttribute("fill", "none");
      path.setAttribute("stroke", colour);
      path.setAttribute("stroke-width", "2");
      return path;
    };
    svg.replaceChildren(line(sold, "#3b4bdb"), line(admitted, "#1c7c4a"));
    svg.setAttribute("aria-label", `Seats sold: ${sold.at(-1) ?? 0}; admissions per second: ${(admitted.at(-1) ?? 0).toFixed(1)}`);
  };
  return { svg, draw };
}

function salesCards(samples, signal) {
  const body = el("tbody");
  const history = [];
  const graph = chart(history);
  const totals = el("p", { class: "muted" }, "");
  (async () => {
    while (!signal.aborted) {
      try {
        const sales = (await admin("GET", "/admin/sales", { signal })).body;
        body.replaceChildren(...sales.map((s) => el("tr", { dataset: { scheduleId: s.schedule_id } },
          el("td", {}, s.title), el("td", {}, dateTime(s.staging_date)), el("td", {}, s.available), el("td", {}, s.held),
          el("td", {}, s.sold), el("td", {}, won(s.revenue)))));
        const sold = sales.reduce((sum, s) => sum + s.sold, 0);
        history.push({ sold, admissions: samples.admissions || 0 });
        if (history.length > CHART_POINTS) history.shift();
        totals.textContent = `Sold ${sold.toLocaleString("en-US")} seats, ${won(sales.reduce((sum, s) => sum + s.revenue, 0))}; admitting ${(samples.admissions || 0).toFixed(1)}/s.`;
        graph.draw();
      } catch (e) {
        if (signal.aborted) return;
        showError(e);
      }
      await sleep(SALES_EVERY_MS);
    }
  })();
  return [
    el("section", { class: "card chart", dataset: { testid: "sales-chart" } }, el("h2", {}, "Sales and admissions"),
      graph.svg, el("p", { class: "legend" }, el("span", { class: "key-sold" }, "■ seats sold"), el("span", { class: "key-admitted" }, "■ admissions per second")), totals),
    el("section", { class: "card" }, el("h2", {}, "Schedules"), el("div", { class: "table-wrap" }, el("table", {},
      el("thead", {}, el("tr", {}, ["Performance", "Date", "Available", "Held", "Sold", "Revenue"].map((h) => el("th", {}, h)))), body))),
  ];
}

// ---------------------------------------------------------------------------------------
// Creating a performance
// ---------------------------------------------------------------------------------------

function createCard() {
  const local = (offsetMinutes) => {
    const d = new Date(Date.now() + offsetMinutes * 60000 - new Date().getTimezoneOffset() * 60000);
    return d.toISOString().slice(0, 16);
  };
  const result = el("p", { class: "muted" }, "");
  const form = el("form", { class: "form-grid", onsubmit: async (e) => {
    e.preventDefault();
    clearError();
    const f = new FormData(form);
    try {
      const r = await admin("POST", "/admin/performances", { body: {
        title: f.get("title"),
        ticketing_start_date: new Date(f.get("start")).toISOString(),
        stage: { name: f.get("stage"), location: f.get("location") },
        schedules: [{ staging_date: new Date(f.get("date")).toISOString(), seat_count: Number(f.get("seats")), price: Number(f.get("price")) }],
      } });
      result.textContent = `Created ${r.body.id} with schedule ${r.body.performance_staging_date[0].id}.`;
    } catch (err) {
      showError(err);
    }
  } },
  el("label", {}, "Title", el("input", { name: "title", required: true, value: "Spring Concert" })),
  el("label", {}, "On sale from", el("input", { name: "start", type: "datetime-local", required: true, value: local(0) })),
  el("label", {}, "Stage", el("input", { name: "stage", required: true, value: "Olympic Hall" })),
  el("label", {}, "Location", el("input", { name: "location", required: true, value: "Seoul" })),
  el("label", {}, "Date", el("input", { name: "date", type: "datetime-local", required: true, value: local(60 * 24 * 30) })),
  el("label", {}, "Seats", el("input", { name: "seats", type: "number", min: "1", max: "100000", required: true, value: "500" })),
  el("label", {}, "Price (KRW)", el("input", { name: "price", type: "number", min: "1", required: true, value: "50000" })),
  el("button", { type: "submit" }, "Create"));
  return el("section", { class: "card" }, el("h2", {}, "New performance"), form, result);
}

// ---------------------------------------------------------------------------------------
// The event feed
// ---------------------------------------------------------------------------------------

function describe(e) {
  const who = (e.user_id || "nobody").slice(0, 8);
  const seat = e.seat_id ? ` seat ${e.seat_id.slice(0, 8)}` : "";
  const amount = e.amount !== undefined ? ` ${won(e.amount)}` : "";
  return `#${e.id} ${new Date(e.occurred_timestamp).toLocaleTimeString("en-GB")} ${e.kind}${seat}${amount} by ${who}`;
}

function feedCard(signal) {
  const empty = el("li", { class: "muted" }, "Holds, releases, sales, charges and payments appear here as they happen.");
  const list = el("ul", { class: "feed", dataset: { testid: "event-feed" } }, empty);
  (async () => {
    let after = "latest"; // what happens from now on; the API pages the history
    while (!signal.aborted) {
      try {
        const res = await fetch(`/admin/events/stream?after=${after}`, { headers: { Authorization: `Bearer ${key}` }, signal });
        if (!res.ok) throw new ApiError(res.status, (await res.json()).code, res.statusText);
        await readEvents(res, ({ id, data }) => {
          after = id;
          empty.remove();
          list.prepend(el("li", { dataset: { kind: JSON.parse(data).kind } }, describe(JSON.parse(data))));
          while (list.childElementCount > FEED_ITEMS) list.lastChild.remove();
        });
      } catch (e) {
        if (signal.aborted) return;
        if (e instanceof ApiError) return showError(e);
      }
      await sleep(1000); // the stream dropped: reconnect after the last event seen
    }
  })();
  return el("section", { class: "card" }, el("h2", {}, "Sale events"), list);
}

function dashboard() {
  running?.abort();
  running = new AbortController();
  const samples = { admissions: 0 };
  account.replaceChildren(el("button", { class: "link", onclick: signOut }, "Forget the key"));
  const [chartCard, schedules] = salesCards(samples, running.signal);
  main.replaceChildren(gatesCard(samples, running.signal), el("div", { class: "grid2" }, chartCard, feedCard(running.signal)), schedules, createCard());
}

if (key) dashboard();
else keyView();
