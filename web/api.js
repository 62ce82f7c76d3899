// What the fan page and the console share: calls to the API, error messages, small helpers.
// Plain modern JavaScript, no build step: ticketd serves these files as they are.

// A refusal of the API, with its machine-readable code (docs/api-contract.md, Errors).
export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

// What a fan reads for each error code; the server's own message is the fallback.
const MESSAGES = {
  BAD_REQUEST: "Something in the form is not right.",
  MALFORMED_JSON: "The request could not be read. Please try again.",
  TOKEN_MISSING: "Please sign in.",
  TOKEN_INVALID: "Your session is not valid. Please sign in again.",
  TOKEN_EXPIRED: "Your session has ended. Please sign in again.",
  WRONG_CREDENTIALS: "The email address or the password is wrong.",
  EMAIL_TAKEN: "An account with this email address exists already. Sign in instead.",
  ADMIN_KEY_INVALID: "The admin key is wrong.",
  PERFORMANCE_NOT_FOUND: "This performance does not exist.",
  SCHEDULE_NOT_FOUND: "This date does not exist.",
  SEAT_NOT_FOUND: "This seat does not exist.",
  SEAT_TAKEN: "Someone else took one of these seats first. Choose other seats.",
  SEAT_LIMIT_REACHED: "You have reached the number of seats one fan may hold for this date.",
  SEAT_NOT_HELD: "You do not hold this seat (any more). Take it again first.",
  SEAT_ALREADY_PAID: "This seat is paid for already.",
  HOLD_EXPIRED: "Your hold has run out. Take the seat again if it is still free.",
  INSUFFICIENT_BALANCE: "Your balance is too low. Charge points first.",
  BALANCE_LIMIT_REACHED: "This charge would take your balance over its limit.",
  IDEMPOTENCY_KEY_REUSED: "This payment was already sent with other details. Reload the page.",
  TICKETING_NOT_STARTED: "Ticketing has not started yet.",
  SOLD_OUT: "Sold out: every seat of this date is taken.",
  QUEUE_FLOW_VIOLATED: "Please go through the line again from the performances.",
  QUEUE_TOKEN_EXISTS: "You are already in another line. Finish or leave it first.",
  QUEUE_TOKEN_EXPIRED: "Your turn has run out. Please join the line again.",
  QUEUE_TOKEN_MISSING: "Your place in line was not found. Please join again.",
  QUEUE_TOKEN_NOT_FOUND: "Your place in line was not found. Please join again.",
  QUEUE_TOKEN_NOT_YOURS: "This place in line belongs to someone else.",
  QUEUE_UNAVAILABLE: "The waiting line is unavailable for a moment. Please try again shortly.",
  DATABASE_UNAVAILABLE: "The service is busy for a moment. Please try again shortly.",
  DRAW_NOT_FOUND: "There is no draw for this line.",
  ROUTE_NOT_FOUND: "Not found.",
  METHOD_NOT_ALLOWED: "This action is not available.",
  UNSUPPORTED_MEDIA_TYPE: "The request could not be read. Please try again.",
  BODY_TOO_LARGE: "The request is too large.",
  HEADERS_TOO_LARGE: "The request is too large.",
  INTERNAL_ERROR: "Something went wrong on our side. Please try again.",
};

export function messageFor(error) {
  if (error instanceof ApiError) {
    return MESSAGES[error.code] || error.message;
  }
  return "The server cannot be reached. Check your connection and try again.";
}

// One call: JSON in and out. Resolves with {status, body, headers}; 2xx and 304 only,
// anything else rejects with an ApiError.
export async function call(method, path, { token, body, headers = {}, signal } = {}) {
  const init = { method, headers: { ...headers }, signal, cache: "no-store" };
  if (token) init.headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const res = await fetch(path, init);
  const text = res.status === 304 ? "" : await res.text();
  let parsed = null;
  if (text) {
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = null;
    }
  }
  if (res.ok || res.status === 304) {
    return { status: res.status, body: parsed, headers: res.headers };
  }
  throw new ApiError(res.status, parsed?.code || "INTERNAL_ERROR", parsed?.message || res.statusText);
}

// Reads a text/event-stream body with fetch (so that it may carry an Authorization header,
// which EventSource cannot) and calls onEvent({id, event, data}) per event. Resolves when
// the stream ends or `signal` aborts it.
export async function readEvents(response, onEvent) {
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const event = { id: null, event: "message", data: "" };
      for (const line of block.split("\n")) {
        if (line.startsWith("id: ")) event.id = line.slice(4);
        else if (line.startsWith("event: ")) event.event = line.slice(7);
        else if (line.startsWith("data: ")) event.data += line.slice(6);
      }
      if (event.data) onEvent(event);
    }
  }
}

// Creates an element: el("button", {class: "x", dataset: {testid: "y"}, onclick}, "text").
export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (key === "dataset") Object.assign(node.dataset, value);
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (value === true) node.setAttribute(key, "");
    else if (value !== false && value !== null && value !== undefined) node.setAttribute(key, value);
  }
  node.append(...children.flat().filter((c) => c !== null && c !== undefined && c !== false));
  return node;
}

export const won = (amount) => `${Number(amount).toLocaleString("en-US")} KRW`;

export function dateTime(iso) {
  return new Date(iso).toLocaleString("en-GB", { dateStyle: "medium", timeStyle: "short" });
}

export function countdown(ms) {
  const s = Math.max(0, Math.ceil(ms / 1000));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
