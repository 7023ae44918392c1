// Live events (server-sent events) read with fetch(), because EventSource cannot send the Authorization
// header. One connection per stream; after a dropped connection it reconnects with backoff and sends
// Last-Event-ID so the server can replay what was missed. Nothing here polls: a request is made only
// when the previous connection ended.
"use strict";

const LIVE_BACKOFF_MS = [1000, 2000, 4000, 8000, 15000];
const LIVE_IDLE_MS = 45000;  // the server sends a keepalive every 15 s: three missed means a dead connection
const LIVE_FATAL = new Set([401, 403, 404]);  // signed out, or no longer allowed: reconnecting cannot help
const LIVE_MIN_LIFE_MS = 5000;  // a stream the server ends sooner than this counts as a failure (backoff grows)

// One event block (the lines before a blank line) -> {event, id, retry, data}; data is null when there is none.
function parseEventBlock(lines) {
  let event = "message";
  let id = null;
  let retry = null;
  const data = [];
  for (const line of lines) {
    if (!line || line.startsWith(":")) continue;  // a comment: the keepalive
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "event") event = value;
    else if (field === "data") data.push(value);
    else if (field === "id") id = value;
    else if (field === "retry" && /^[0-9]+$/.test(value)) retry = Number(value);
  }
  return { event, id, retry, data: data.length ? data.join("\n") : null };
}

// Reads a response body to its end, calling onBlock with each event block and onActivity on every chunk.
async function readEventStream(body, onBlock, onActivity) {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  let lines = [];
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    onActivity();
    buffer += decoder.decode(value, { stream: true });
    const parts = buffer.split("\n");
    buffer = parts.pop();  // an unfinished line waits for the next chunk
    for (const raw of parts) {
      const line = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
      if (line === "") { onBlock(parseEventBlock(lines)); lines = []; } else lines.push(line);
    }
  }
}

function backoffDelay(attempt) {
  const base = LIVE_BACKOFF_MS[Math.min(attempt, LIVE_BACKOFF_MS.length - 1)];
  return base + Math.floor(Math.random() * base * 0.3);  // jitter: many pages do not come back at once
}

// Opens a live stream. options: {url, token, onEvent(name, data), onState(state, detail)}; states are
// "open" (detail: true after a reconnect), "reconnecting" (a connection failed or dropped) and "closed"
// (detail: the HTTP status that ended it for good). A response the server ends on purpose (its streams
// are bounded in time) is followed by a quiet reconnect after the server's `retry:` delay.
// Returns {close()}.
function openLiveStream(options) {
  const s = { lastEventId: null, retryMs: 1000, attempt: 0, opened: false, closed: false, controller: null,
              timer: null };

  function dispatch(block) {
    if (block.id !== null) s.lastEventId = block.id;
    if (block.retry !== null) s.retryMs = block.retry;
    if (block.data === null) return;
    let data;
    try { data = JSON.parse(block.data); } catch { return; }
    options.onEvent(block.event, data);
  }

  // One connection, read to its end: "ended" (the server closed a stream that lived a while),
  // "dropped" (network error, refused, or silent for too long) or a fatal HTTP status.
  async function readOnce() {
    const controller = new AbortController();
    s.controller = controller;
    let idle = null;
    const touch = () => { clearTimeout(idle); idle = setTimeout(() => controller.abort(), LIVE_IDLE_MS); };
    const started = Date.now();
    try {
      const headers = { "Authorization": "Bearer " + options.token, "Accept": "text/event-stream" };
      if (s.lastEventId !== null) headers["Last-Event-ID"] = s.lastEventId;
      touch();
      const res = await fetch(options.url, { headers, signal: controller.signal, cache: "no-store" });
      if (LIVE_FATAL.has(res.status)) return res.status;
      if (res.status === 422) s.lastEventId = null;  // an id the server no longer knows: start from now
      if (!res.ok || !res.body) return "dropped";
      s.attempt = 0;
      options.onState("open", s.opened);
      s.opened = true;
      await readEventStream(res.body, dispatch, touch);
      return Date.now() - started > LIVE_MIN_LIFE_MS ? "ended" : "dropped";
    } catch (err) {
      return "dropped";  // a network error, or an abort (idle, or closed by the page)
    } finally {
      clearTimeout(idle);
    }
  }

  async function connect() {
    if (s.closed) return;
    const outcome = await readOnce();
    if (s.closed) return;
    if (typeof outcome === "number") { s.closed = true; options.onState("closed", outcome); return; }
    if (outcome === "ended") { s.timer = setTimeout(connect, s.retryMs); return; }
    options.onState("reconnecting");
    s.timer = setTimeout(connect, backoffDelay(s.attempt));
    s.attempt += 1;
  }

  connect();
  return {
    close() {
      s.closed = true;
      clearTimeout(s.timer);
      if (s.controller) s.controller.abort();
    },
  };
}

// "14:05" for an ISO timestamp (or now): every line of both pages carries one.
function clockTime(iso) {
  const d = iso ? new Date(iso) : new Date();
  return d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}
