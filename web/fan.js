// The fan page: sign in, charge points, choose a performance and a date, wait in line, pick
// seats on a live seat map, hold them, pay, and see one's tickets. Every booking step goes
// through the waiting queue (docs/api-contract.md, Booking flow): a 202 shows the line, with
// the rank kept live by the queue's event stream (polling if the stream drops).

import { ApiError, call, countdown, dateTime, el, messageFor, sleep, won } from "./api.js";

const MAX_SEATS = 4; // MAX_SEATS_PER_USER's default; the server has the last word
const SEAT_POLL_MS = 1500; // a seat taken elsewhere shows within this (plus one request)

const main = document.getElementById("main");
const errorBox = document.getElementById("error");
const account = document.getElementById("account");

const state = {
  token: sessionStorage.getItem("accessToken"),
  email: sessionStorage.getItem("email"),
  performances: [],
  view: 0, // bumped whenever the page shows something else: stale loops stop
};

function showError(error) {
  errorBox.textContent = typeof error === "string" ? error : messageFor(error);
  errorBox.hidden = false;
  if (error instanceof ApiError && ["TOKEN_EXPIRED", "TOKEN_INVALID", "TOKEN_MISSING"].includes(error.code)) {
    signOut(false);
  }
}

function clearError() {
  errorBox.hidden = true;
  errorBox.textContent = "";
}

function show(...nodes) {
  state.view += 1;
  main.replaceChildren(...nodes);
  return state.view;
}

const api = (method, path, options = {}) => call(method, path, { token: state.token, ...options });

// ---------------------------------------------------------------------------------------
// The line: a gated call repeated until it is served
// ---------------------------------------------------------------------------------------

function waitInWords(seconds) {
  if (seconds == null) return "–";
  if (seconds >= 3600) return "the line is paused for now";
  if (seconds < 60) return `about ${seconds} s`;
  return `about ${Math.ceil(seconds / 60)} min`;
}

function lineView(data, what) {
  const rank = el("strong", { dataset: { testid: "queue-rank" } }, data.rank ?? "–");
  const status = el("span", { class: "badge", dataset: { testid: "queue-status" } }, data.status || "WAITING");
  const eta = el("span", {}, "");
  const opens = el("p", { class: "muted" }, "");
  const panel = el("section", { class: "card line" },
    el("h2", {}, `In line for ${what}`),
    el("p", {}, "Your place: ", rank, " ", status),
    el("p", { class: "muted" }, "Estimated wait: ", eta),
    opens,
    el("p", { class: "muted" }, "Keep this page open: you are let in automatically, in order of arrival."));
  const update = (info) => {
    rank.textContent = info.rank ?? "–";
    status.textContent = info.status;
    status.dataset.status = info.status;
    eta.textContent = waitInWords(info.estimated_wait_seconds);
    if (info.status === "PRE_QUEUE" && info.opens_at) {
      opens.textContent = `The line opens in ${countdown(new Date(info.opens_at) - Date.now())}; everyone here now gets a place in a fair draw.`;
    } else {
      opens.textContent = "";
    }
  };
  update(data);
  return { panel, update };
}

// Waits for the token's admission: the event stream while it lasts, else a poll of the
// token's state. Resolves true once admitted (call again to be served), false if the view
// changed meanwhile.
async function awaitTurn(data, line, view) {
  let info = data;
  const admitted = await new Promise((resolve) => {
    const stream = new EventSource(`/queue/queue/stream?token=${encodeURIComponent(data.id)}`);
    const tick = setInterval(() => {
      if (state.view !== view) {
        stream.close();
        clearInterval(tick);
        resolve(false);
      } else {
        line.update(info); // the pre-queue countdown
      }
    }, 1000);
    const finish = (value) => {
      stream.close();
      clearInterval(tick);
      resolve(value);
    };
    stream.addEventListener("rank", (e) => line.update((info = JSON.parse(e.data))));
    stream.addEventListener("admitted", () => finish(true));
    stream.addEventListener("sold_out", () => finish(true)); // the call again says SOLD_OUT
    stream.onerror = () => finish(null); // dropped: poll instead
  });
  if (admitted !== null) return admitted;
  while (state.view === view) {
    await sleep(Math.min(5000, Math.max(1000, (info.estimated_wait_seconds || 1) * 500)));
    try {
      const r = await api("GET", "/queue/queue", { headers: { "Queue-Token": `Bearer ${data.id}` } });
      info = r.body;
      line.update(info);
      if (info.status !== "WAITING" && info.status !== "PRE_QUEUE") return true;
    } catch (e) {
      return true; // the call again tells what happened (expired, sold out, ...)
    }
  }
  return false;
}

// A booking step: served (resolves with the response), or in line first. `onWait` shows the
// line; null means the view changed and the caller should stop.
async function gated(method, path, { body, headers, what, onWait } = {}) {
  const view = state.view;
  for (;;) {
    const r = await api(method, path, { body, headers });
    if (r.status !== 202) return r;
    const line = lineView(r.body.queue_data, what);
    const waitView = onWait ? onWait(line.panel) : show(line.panel);
    if (!(await awaitTurn(r.body.queue_data, line, waitView ?? view))) return null;
  }
}

// ---------------------------------------------------------------------------------------
// Signing in
// ---------------------------------------------------------------------------------------

function signInView() {
  const email = el("input", { type: "email", id: "email", autocomplete: "username", required: true, dataset: { testid: "signin-email" } });
  const password = el("input", { type: "password", id: "password", autocomplete: "current-password", required: true, minlength: "8", dataset: { testid: "signin-password" } });
  const name = el("input", { type: "text", id: "name", autocomplete: "name" });
  const submit = async (create) => {
    clearError();
    if (!email.reportValidity() || !password.reportValidity()) return;
    try {
      if (create) {
        await call("POST", "/auth/signUp", { body: { email_address: email.value, password: password.value, ...(name.value ? { name: name.value } : {}) } });
      }
      const r = await call("POST", "/auth/signIn", { body: { email_address: email.value, password: password.value } });
      state.token = r.body.accessToken;
      state.email = email.value;
      sessionStorage.setItem("accessToken", state.token);
      sessionStorage.setItem("email", state.email);
      home();
    } catch (e) {
      showError(e);
    }
  };
  const form = el("form", { class: "card narrow", onsubmit: (e) => { e.preventDefault(); submit(false); } },
    el("h2", {}, "Sign in"),
    el("label", { for: "email" }, "Email address"), email,
    el("label", { for: "password" }, "Password (8 characters or more)"), password,
    el("label", { for: "name" }, "Name (to create an account)"), name,
    el("div", { class: "actions" },
      el("button", { type: "submit", dataset: { testid: "signin-submit" } }, "Sign in"),
      el("button", { type: "button", class: "secondary", dataset: { testid: "signup-submit" }, onclick: () => submit(true) }, "Create account")));
  show(form);
  renderAccount();
  email.focus();
}

function signOut(redraw = true) {
  state.token = null;
  sessionStorage.removeItem("accessToken");
  sessionStorage.removeItem("email");
  if (redraw) signInView();
  else {
    renderAccount();
    signInView();
  }
}

function renderAccount() {
  account.replaceChildren(...(state.token
    ? [el("span", { class: "muted" }, state.email || ""), el("button", { class: "link", onclick: () => signOut() }, "Sign out")]
    : []));
}

// ---------------------------------------------------------------------------------------
// Home: the wallet, the performances, my tickets
// ---------------------------------------------------------------------------------------

function walletCard() {
  const balance = el("strong", { dataset: { testid: "balance" } }, "…");
  const amount = el("input", { type: "number", id: "amount", min: "1", max: "10000000", step: "1", required: true, value: "100000", dataset: { testid: "charge-amount" } });
  const refresh = async () => {
    try {
      balance.textContent = won((await api("GET", "/payment/cash")).body.balance);
    } catch (e) {
      showError(e);
    }
  };
  const form = el("form", { class: "inline", onsubmit: async (e) => {
    e.preventDefault();
    clearError();
    if (!amount.reportValidity()) return;
    try {
      const r = await api("POST", "/payment/cash", { body: { amount: Number(amount.value) }, headers: { "Idempotency-Key": crypto.randomUUID() } });
      balance.textContent = won(r.body.balance);
    } catch (err) {
      showError(err);
    }
  } },
  el("label", { for: "amount" }, "Charge points"), amount,
  el("button", { type: "submit", dataset: { testid: "charge-submit" } }, "Charge"));
  refresh();
  return el("section", { class: "card" }, el("h2", {}, "Wallet"), el("p", {}, "Balance: ", balance), form);
}

function ticketsCard() {
  const list = el("ul", { class: "tickets", dataset: { testid: "my-tickets" } });
  (async () => {
    try {
      const r = await api("GET", "/reservation/reserved_performance_seats");
      const items = [];
      for (const p of r.body) {
        for (const d of p.performance_staging_date) {
          for (const s of d.seat.filter((x) => x.reservation_status === "RESERVED")) {
            items.push(el("li", { dataset: { seatId: s.id } }, el("strong", {}, p.title), ` · ${dateTime(d.staging_date)} · seat ${s.seat_number} · ${won(s.price)}`));
          }
        }
      }
      list.replaceChildren(...(items.length ? items : [el("li", { class: "muted" }, "No tickets yet.")]));
    } catch (e) {
      showError(e);
    }
  })();
  return el("section", { class: "card" }, el("h2", {}, "My tickets"), list);
}

function performancesCard(performances) {
  const items = performances.map((p) => {
    const schedules = el("ul", { class: "schedules", hidden: true },
      p.performance_staging_date.map((d) => el("li", {},
        el("button", { class: "schedule", dataset: { testid: "schedule", scheduleId: d.id }, onclick: () => seatMap(p, d) },
          dateTime(d.staging_date), el("span", { class: "muted" }, ` · ${d.reserveable_seats_count} seats left`)))));
    const opener = el("button", { class: "performance", "aria-expanded": "false", dataset: { testid: "performance", performanceId: p.id },
      onclick: () => {
        schedules.hidden = !schedules.hidden;
        opener.setAttribute("aria-expanded", String(!schedules.hidden));
      } },
    el("strong", {}, p.title), el("span", { class: "muted" }, ` · ${p.stage.name}, ${p.stage.location} · on sale ${dateTime(p.ticketing_start_date)}`));
    return el("li", {}, opener, schedules);
  });
  return el("section", { class: "card" }, el("h2", {}, "Performances"),
    items.length ? el("ul", { class: "performances" }, items) : el("p", { class: "muted" }, "No performances yet."));
}

async function home() {
  clearError();
  renderAccount();
  if (!state.token) return signInView();
  const wallet = walletCard();
  const slot = el("div", {}, el("section", { class: "card" }, el("h2", {}, "Performances"), el("p", { class: "muted" }, "Loading…")));
  const view = show(wallet, slot, ticketsCard());
  try {
    const r = await gated("GET", "/reservation/performances", {
      what: "the performances",
      onWait: (panel) => {
        slot.replaceChildren(panel);
        return view;
      },
    });
    if (!r || state.view !== view) return;
    state.performances = r.body;
    slot.replaceChildren(performancesCard(r.body));
  } catch (e) {
    showError(e);
  }
}

// ---------------------------------------------------------------------------------------
// The seat map, the hold, the payment
// ---------------------------------------------------------------------------------------

async function seatMap(performance, schedule) {
  clearError();
  const path = `/reservation/performance_seats/${schedule.id}`;
  let first;
  try {
    first = await gated("GET", path, { what: `${performance.title}, ${dateTime(schedule.staging_date)}` });
  } catch (e) {
    showError(e);
    return;
  }
  if (!first) return;
  const chosen = new Set();
  const buttons = new Map();
  const grid = el("div", { class: "seat-map", role: "group", "aria-label": "Seats", dataset: { testid: "seat-map" } });
  const summary = el("span", {}, "");
  const hold = el("button", { disabled: true, dataset: { testid: "hold-submit" } }, "Hold seats");
  const refreshSummary = () => {
    const total = [...chosen].reduce((sum, id) => sum + Number(buttons.get(id).dataset.price), 0);
    summary.textContent = chosen.size ? `${chosen.size} chosen · ${won(total)}` : `Choose up to ${MAX_SEATS} seats.`;
    hold.disabled = chosen.size === 0;
  };
  const paint = (seats) => {
    for (const s of seats) {
      let b = buttons.get(s.id);
      if (!b) {
        b = el("button", { class: "seat", type: "button", title: `Seat ${s.seat_number} · ${won(s.price)}`,
          "aria-label": `Seat ${s.seat_number}, ${won(s.price)}`, dataset: { testid: "seat", seatId: s.id, price: s.price } }, s.seat_number);
        buttons.set(s.id, b);
        grid.append(b);
      }
      b.dataset.status = s.reservation_status;
      b.disabled = s.reservation_status !== "AVAILABLE";
      if (b.disabled && chosen.delete(s.id)) b.setAttribute("aria-pressed", "false");
    }
    refreshSummary();
  };
  grid.addEventListener("click", (e) => {
    const b = e.target.closest("button.seat");
    if (!b || b.disabled) return;
    const id = b.dataset.seatId;
    if (chosen.has(id)) chosen.delete(id);
    else if (chosen.size < MAX_SEATS) chosen.add(id);
    else return showError(`You can choose up to ${MAX_SEATS} seats.`);
    b.setAttribute("aria-pressed", String(chosen.has(id)));
    clearError();
    refreshSummary();
  });
  paint(first.body);
  hold.addEventListener("click", () => takeSeats(performance, schedule, [...chosen]));
  const view = show(el("section", { class: "card" },
    el("h2", {}, performance.title), el("p", { class: "muted" }, `${dateTime(schedule.staging_date)} · ${performance.stage.name}`),
    el("p", { class: "legend" }, el("span", { class: "seat", dataset: { status: "AVAILABLE" } }, ""), " free ",
      el("span", { class: "seat", "aria-pressed": "true" }, ""), " chosen ",
      el("span", { class: "seat", dataset: { status: "TEMPORARY_RESERVED" } }, ""), " held ",
      el("span", { class: "seat", dataset: { status: "RESERVED" } }, ""), " sold"),
    grid,
    el("div", { class: "actions sticky" }, summary, hold, el("button", { class: "secondary", onclick: () => home() }, "Back"))));
  // Kept live: the list again with its ETag (a 304 costs nothing), until the view changes.
  let etag = first.headers.get("ETag");
  while (state.view === view) {
    await sleep(SEAT_POLL_MS);
    if (state.view !== view) return;
    try {
      const r = await api("GET", path, { headers: etag ? { "If-None-Match": etag } : {} });
      if (r.status === 200) {
        etag = r.headers.get("ETag");
        paint(r.body);
      } else if (r.status === 202) {
        return seatMap(performance, schedule); // the turn ran out: back in line
      }
    } catch (e) {
      if (state.view === view) showError(e);
      return;
    }
  }
}

async function takeSeats(performance, schedule, seatIds) {
  clearError();
  let r;
  try {
    r = await gated("PATCH", "/reservation/take_performance_seat", { body: { performance_seat_ids: seatIds }, what: "your seats" });
  } catch (e) {
    showError(e);
    if (e instanceof ApiError && e.code === "SEAT_TAKEN") seatMap(performance, schedule);
    return;
  }
  if (r) holdView(performance, schedule, r.body.data);
}

function holdView(performance, schedule, held) {
  const expires = Math.min(...held.map((s) => s.hold_expire_timestamp));
  const total = held.reduce((sum, s) => sum + s.price, 0);
  const clock = el("strong", { dataset: { testid: "hold-countdown" } }, countdown(expires - Date.now()));
  const pay = el("button", { dataset: { testid: "pay-submit" } }, `Pay ${won(total)}`);
  const view = show(el("section", { class: "card" },
    el("h2", {}, "Your seats are held"),
    el("p", {}, `${performance.title} · ${dateTime(schedule.staging_date)}`),
    el("ul", {}, held.map((s) => el("li", {}, `Seat ${s.seat_number} · ${won(s.price)}`))),
    el("p", {}, "Pay within ", clock, " or the seats go back on sale."),
    el("div", { class: "actions" }, pay, el("button", { class: "secondary", onclick: () => home() }, "Cancel"))));
  const timer = setInterval(() => {
    if (state.view !== view) return clearInterval(timer);
    clock.textContent = countdown(expires - Date.now());
    if (expires <= Date.now()) {
      clearInterval(timer);
      pay.disabled = true;
      showError(new ApiError(409, "HOLD_EXPIRED", ""));
    }
  }, 250);
  pay.addEventListener("click", async () => {
    clearError();
    pay.disabled = true;
    try {
      for (const s of held) {
        // One key per seat and view: a retry after a lost answer cannot pay twice.
        s.key ??= crypto.randomUUID();
        await api("POST", "/payment/payment_performance_seat", { body: { performance_seat_id: s.id }, headers: { "Idempotency-Key": s.key } });
      }
      clearInterval(timer);
      paidView(performance, schedule, held);
    } catch (e) {
      showError(e);
      pay.disabled = false;
    }
  });
}

function paidView(performance, schedule, held) {
  show(el("section", { class: "card success" },
    el("h2", {}, "Paid: enjoy the show"),
    el("p", {}, `${performance.title} · ${dateTime(schedule.staging_date)} · ${held.length === 1 ? "seat" : "seats"} ${held.map((s) => s.seat_number).join(", ")}`),
    el("button", { onclick: () => home() }, "Back to performances")),
  walletCard(), ticketsCard());
}

home();
