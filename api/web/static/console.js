// The agent console: the handoff queue, the redacted transcript (polled with `after`), writing, releasing.
// The token lives in memory only. Every text is shown with textContent, never as markup.
"use strict";
const QUEUE_MS = 3000;
const TRANSCRIPT_MS = 2000;
const $ = (id) => document.getElementById(id);
let token = null;
let current = null;        // the handoff on screen: {id, conversation_id, customer_name, status}
let cursor = null;         // last transcript line id seen for it
let seen = new Set();      // line ids already on screen (a sent line also comes back from polling)
let transcriptTimer = null;

async function api(path, options = {}) {
  const res = await fetch(path, {
    ...options,
    headers: { "Authorization": "Bearer " + token, ...(options.body ? { "Content-Type": "application/json" } : {}) },
  });
  const data = await res.json().catch(() => ({}));
  return { ok: res.ok, status: res.status, data };
}

function showError(problem) {
  $("error").textContent = problem ? (problem.detail || problem.title || "Something went wrong") : "";
}

function minutes(seconds) {
  return seconds < 60 ? `${seconds}s` : `${Math.floor(seconds / 60)} min`;
}

async function loadQueue() {
  const res = await api("/v1/handoffs");
  if (!res.ok) { showError(res.data); return; }
  const list = $("queue");
  list.replaceChildren();
  if (!res.data.length) {
    const li = document.createElement("li");
    li.className = "meta";
    li.textContent = "Nobody is waiting.";
    list.appendChild(li);
  }
  for (const h of res.data) {
    const li = document.createElement("li");
    if (current && current.id === h.id) li.className = "current";
    const info = document.createElement("div");
    const name = document.createElement("div");
    name.textContent = h.customer_name;
    const meta = document.createElement("div");
    meta.className = "meta";
    meta.textContent = h.status === "waiting" ? `waiting ${minutes(h.waiting_seconds)} · ${h.reason}`
                                              : `with you · ${h.reason}`;
    info.append(name, meta);
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = h.status === "waiting" ? "Claim" : "Open";
    button.addEventListener("click", () => (h.status === "waiting" ? claim(h) : open(h)));
    li.append(info, button);
    list.appendChild(li);
  }
}

async function claim(h) {
  const res = await api(`/v1/handoffs/${h.id}/claim`, { method: "POST" });
  if (!res.ok) { showError(res.data); loadQueue(); return; }
  showError(null);
  open(res.data);
  loadQueue();
}

function line(m) {
  if (seen.has(m.id)) return;
  seen.add(m.id);
  const div = document.createElement("div");
  div.className = "msg " + m.role;
  const label = document.createElement("small");
  label.textContent = { user: "customer", bot: "assistant", agent: "you (as stored)" }[m.role] || m.role;
  div.append(label, document.createTextNode(m.text));
  $("log").appendChild(div);
  $("log").scrollTop = $("log").scrollHeight;
}

function setOpen(isOpen) {
  for (const id of ["text", "send", "release"]) $(id).disabled = !isOpen;
}

function open(h) {
  clearTimeout(transcriptTimer);
  current = h;
  cursor = null;
  seen = new Set();
  $("log").replaceChildren();
  $("title").textContent = `${h.customer_name} · ${h.status}`;
  setOpen(h.status === "active");
  const tick = () => pollTranscript().catch(() => {}).finally(() => {
    if (current && current.id === h.id && current.status !== "closed") transcriptTimer = setTimeout(tick, TRANSCRIPT_MS);
  });
  tick();
  $("text").focus();
}

async function pollTranscript() {
  const h = current;
  const params = new URLSearchParams({ limit: "500" });
  if (cursor !== null) params.set("after", String(cursor));
  const res = await api(`/v1/conversations/${h.conversation_id}/transcript?${params}`);
  if (current !== h) return;
  if (res.status === 404) {  // the handoff closed: an agent reads a conversation only while holding it
    h.status = "closed";
    $("title").textContent = `${h.customer_name} · closed`;
    setOpen(false);
    return;
  }
  if (!res.ok) return;
  for (const m of res.data.messages) {
    cursor = Math.max(cursor || 0, m.id);
    line(m);
  }
  if (res.data.handoff && res.data.handoff.id === h.id && res.data.handoff.status === "closed") {
    h.status = "closed";
    $("title").textContent = `${h.customer_name} · closed`;
    setOpen(false);
  }
}

$("composer").addEventListener("submit", async (e) => {
  e.preventDefault();
  const text = $("text").value.trim();
  if (!text || !current) return;
  const res = await api(`/v1/handoffs/${current.id}/messages`, { method: "POST", body: JSON.stringify({ text }) });
  if (!res.ok) { showError(res.data); return; }
  showError(null);
  $("text").value = "";
  line(res.data);  // the stored, redacted line: what the customer reads
});

$("release").addEventListener("click", async () => {
  if (!current) return;
  const res = await api(`/v1/handoffs/${current.id}/release`, { method: "POST" });
  if (!res.ok) { showError(res.data); return; }  // e.g. 503: the assistant is unreachable, still yours
  showError(null);
  current.status = "closed";
  $("title").textContent = `${current.customer_name} · handed back to the assistant`;
  setOpen(false);
  loadQueue();
});

$("login").addEventListener("submit", async (e) => {
  e.preventDefault();
  const form = new URLSearchParams({ username: $("username").value, password: $("password").value });
  const res = await fetch("/v1/auth/token", { method: "POST", body: form });
  const data = await res.json().catch(() => ({}));
  if (!res.ok) { showError(data); return; }
  token = data.access_token;
  $("password").value = "";
  const me = await api("/v1/me");
  if (!me.ok || !me.data.roles.includes("agent")) {
    token = null;
    showError({ title: "This console is for support agents." });
    return;
  }
  showError(null);
  $("who").textContent = me.data.full_name;
  $("login").hidden = true;
  $("desk").hidden = false;
  loadQueue();
  setInterval(loadQueue, QUEUE_MS);
});
