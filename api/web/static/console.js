// The agent console: the live handoff queue grouped by customer, the redacted conversation with new lines
// live, the customer's context beside it, canned replies, agent actions (freeze a card, open a fraud case),
// typing notifications, release. Live updates come from two event streams (live.js): the queue's and the
// open conversation's. Nothing polls the API; the one timer ticks the on-screen clocks (waiting time, SLA).
// The token lives in memory only. Every text is shown with textContent, never as markup.
"use strict";
const TYPING_EVERY_MS = 2500;   // at most one typing notification per this while the agent types
const CUSTOMER_TYPING_MS = 5000;
const FRAUD_KINDS = {
  card_payment_not_recognised: "Card payment not recognised",
  compromised_card: "Card compromised",
  lost_or_stolen_card: "Card lost or stolen",
  cash_withdrawal_not_recognised: "Cash withdrawal not recognised",
  direct_debit_payment_not_recognised: "Direct debit not recognised",
};
const ROLE_LABELS = { user: "Customer", bot: "Assistant", agent: "Agent", notice: "Notice" };
const $ = (id) => document.getElementById(id);
let token = null;
let queueLive = null;       // the queue's event stream
let queueLoading = null;    // the queue request in flight; another event meanwhile asks for one more
let queueStale = false;
let queueShown = false;     // the queue has been read at least once
let current = null;         // the handoff on screen (a queue item)
let conversationLive = null;
let seen = new Set();       // "role:id" of the lines on screen (history and stream overlap)
let lastTypingSent = 0;
let typingTimer = null;

// ---- small helpers ----

async function api(path, options = {}) {
  const headers = { "Authorization": "Bearer " + token };
  if (options.body) headers["Content-Type"] = "application/json";
  try {
    const res = await fetch(path, { ...options, headers });
    const data = res.status === 204 ? {} : await res.json().catch(() => ({}));
    return { ok: res.ok, status: res.status, data };
  } catch (err) {
    return { ok: false, status: 0, data: { title: "The core cannot be reached" } };
  }
}

function post(path, body) {
  return api(path, { method: "POST", ...(body ? { body: JSON.stringify(body) } : {}) });
}

// el("td", {className: "num", text: "12.00", testid: "balance", data: {x: 1}}, child...) — text as textContent.
function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  if (props.className) node.className = props.className;
  if (props.text !== undefined && props.text !== null) node.textContent = String(props.text);
  if (props.testid) node.dataset.testid = props.testid;
  for (const [key, value] of Object.entries(props.data || {})) node.dataset[key] = value;
  for (const [key, value] of Object.entries(props.attrs || {})) node.setAttribute(key, value);
  node.append(...children.filter((c) => c !== null && c !== undefined));
  return node;
}

function showError(problem) {
  $("error").textContent = problem ? (problem.detail || problem.title || "Something went wrong") : "";
}

function duration(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h ${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
}

// "1,234.56 EUR" from the API's decimal string, without going through a float.
function money(amount, currency) {
  const [whole, cents] = String(amount).split(".");
  const sign = whole.startsWith("-") ? "-" : "";
  const digits = whole.replace("-", "").replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  return `${sign}${digits}${cents !== undefined ? "." + cents : ""} ${currency}`;
}

function day(iso) {
  return iso ? new Date(iso).toLocaleDateString([], { day: "numeric", month: "short" }) : "";
}

// "reconnecting…" in the header while either live stream is down; "closed" with 401: signed out.
const streamStates = {};
function setConnection(stream, state, status) {
  streamStates[stream] = state;
  const down = Object.values(streamStates).includes("reconnecting");
  $("connection").textContent = down ? "reconnecting…" : "";
  $("connection").hidden = !down;
  if (state === "closed" && status === 401) showError({ title: "Your session has ended: sign in again." });
}

// ---- the queue ----

async function loadQueue() {
  if (queueLoading) { queueStale = true; return queueLoading; }  // a burst of events: one more load after this
  queueLoading = (async () => {
    const res = await api("/v1/handoffs");
    if (res.ok) { queueShown = true; renderQueue(res.data); } else showError(res.data);
  })();
  await queueLoading;
  queueLoading = null;
  if (queueStale) { queueStale = false; await loadQueue(); }
}

function groupByCustomer(items) {
  const groups = new Map();
  for (const h of items) {
    const key = h.customer_id || h.customer_name;
    if (!groups.has(key)) groups.set(key, { name: h.customer_name, id: key, items: [] });
    groups.get(key).items.push(h);
  }
  return [...groups.values()];
}

function renderQueue(items) {
  const received = Date.now();
  const list = $("queue");
  list.replaceChildren();
  $("queue-count").textContent = `${items.filter((h) => h.status === "waiting").length} waiting`;
  if (!items.length) list.appendChild(el("li", { className: "empty", text: "Nobody is waiting." }));
  for (const group of groupByCustomer(items)) {
    const overdue = group.items.some((h) => h.overdue);
    const name = el("div", { className: "customer-name" }, el("span", { text: group.name }),
      overdue ? el("span", { className: "badge overdue", text: "overdue" }) : null);
    const inner = el("ul", {}, ...group.items.map((h) => queueItem(h, received)));
    list.appendChild(el("li", { className: "customer", testid: "queue-customer", data: { customerId: group.id },
      attrs: { "aria-label": `${group.name}, ${group.items.length} handoff(s)` } }, name, inner));
  }
  tickClocks();
}

function queueItem(h, received) {
  const classes = ["item"];
  if (current && current.id === h.id) classes.push("current");
  if (h.overdue) classes.push("overdue");
  const waitingSince = received - (h.waiting_seconds || 0) * 1000;
  const when = h.status === "waiting"
    ? el("span", { className: "meta", data: { since: String(waitingSince) }, testid: "waiting" })
    : el("span", { className: "meta", text: h.mine ? "with you" : h.status });
  const sla = h.status === "waiting" && h.sla_due_at
    ? el("span", { className: "sla meta", testid: "sla", data: { due: h.sla_due_at } }) : null;
  const badges = [el("span", { className: "badge", text: h.channel || "web", testid: "channel" }),
    h.overdue ? el("span", { className: "badge overdue", text: "overdue", testid: "overdue" }) : null,
    h.callback_requested ? el("span", { className: "badge warn", text: "callback requested" }) : null];
  const button = el("button", { className: "small", text: h.status === "waiting" ? "Claim" : "Open",
    attrs: { type: "button", "aria-label": `${h.status === "waiting" ? "Claim" : "Open"} ${h.customer_name}: ${h.reason}` } });
  button.addEventListener("click", () => (h.status === "waiting" ? claim(h) : openHandoff(h)));
  return el("li", { className: classes.join(" "), testid: "queue-item", data: { handoffId: h.id, status: h.status } },
    el("span", { className: "reason", text: h.reason.replaceAll("_", " ") }), button,
    el("span", { className: "row" }, when, sla ? el("span", { className: "meta", text: "·" }) : null, sla),
    el("span", { className: "row" }, ...badges),
    h.summary ? el("span", { className: "summary", text: h.summary }) : null);
}

// The on-screen clocks: waiting time and the SLA countdown. Local arithmetic only, no request.
function tickClocks() {
  const now = Date.now();
  for (const node of document.querySelectorAll("[data-since]")) {
    node.textContent = `waiting ${duration((now - Number(node.dataset.since)) / 1000)}`;
  }
  for (const node of document.querySelectorAll("[data-due]")) {
    const left = (Date.parse(node.dataset.due) - now) / 1000;
    node.textContent = left >= 0 ? `SLA ${duration(left)} left` : `SLA overdue by ${duration(-left)}`;
    node.classList.toggle("late", left < 0);
  }
}

function startQueueLive() {
  queueLive = openLiveStream({
    url: "/v1/handoffs/events",
    token,
    onEvent: (name) => { if (name === "queue") loadQueue(); },
    onState: (state, detail) => {
      setConnection("queue", state, detail);
      // Read the queue once the stream is open (from then on no change is missed), again after a
      // reconnect (events may have been missed while away), and once even if it cannot open.
      if (state === "open" || !queueShown) loadQueue();
    },
  });
}

// ---- one handoff: claim, conversation, release ----

async function claim(h) {
  const res = await post(`/v1/handoffs/${h.id}/claim`);
  if (!res.ok) { showError(res.data); loadQueue(); return; }
  showError(null);
  openHandoff({ ...h, ...res.data });
  loadQueue();
}

function openHandoff(h) {
  if (conversationLive) conversationLive.close();
  current = h;
  seen = new Set();
  lastTypingSent = 0;
  $("log").replaceChildren();
  $("typing").textContent = "";
  setTitle();
  setComposer(h.status === "active");
  for (const item of document.querySelectorAll("#queue .item")) {
    item.classList.toggle("current", item.dataset.handoffId === h.id);
  }
  if (h.status === "active") {
    conversationLive = openLiveStream({
      url: `/v1/conversations/${h.conversation_id}/events`, token,
      onEvent: (name, data) => onConversationEvent(h, name, data),
      onState: (state, detail) => {
        setConnection("conversation", state, detail);
        // The history is read once the stream is open, so no line falls between the two (a line in
        // both is shown once); after a reconnect too, and when the stream is refused (closed meanwhile).
        if (state === "open" || state === "closed") loadTranscript(h);
      },
    });
    loadContext(h);
    loadCanned();
  } else {
    loadTranscript(h);
  }
  $("text").focus();
}

function setTitle() {
  const h = current;
  const state = { waiting: "waiting", active: "with you", closed: "handed back to the assistant" }[h.status];
  $("title").textContent = `${h.customer_name} · ${state}${h.channel ? " · " + h.channel : ""}`;
}

function setComposer(isOpen) {
  for (const id of ["text", "send", "release"]) $(id).disabled = !isOpen;
  for (const button of document.querySelectorAll("#canned button, #context-body button")) button.disabled = !isOpen;
}

async function loadTranscript(h) {
  const res = await api(`/v1/conversations/${h.conversation_id}/transcript?limit=500`);
  if (current !== h) return;
  if (res.status === 404) { markClosed(h); return; }  // an agent reads a conversation only while holding it
  if (!res.ok) { showError(res.data); return; }
  for (const m of res.data.messages) line(m);
}

function onConversationEvent(h, name, data) {
  if (current !== h) return;
  if (name === "message") {
    line(data);
    if (data.role === "user") $("typing").textContent = "";
  } else if (name === "typing" && data.role !== "agent") {
    $("typing").textContent = "The customer is typing…";
    clearTimeout(typingTimer);
    typingTimer = setTimeout(() => { $("typing").textContent = ""; }, CUSTOMER_TYPING_MS);
  } else if (name === "handoff" && data.id === h.id && data.status === "closed") {
    markClosed(h);
  }
}

function markClosed(h) {
  h.status = "closed";
  setTitle();
  setComposer(false);
  if (conversationLive) { conversationLive.close(); conversationLive = null; }
  setConnection("conversation", "closed");
}

// One line of the conversation, placed in time order (the history and the stream may interleave).
function line(m) {
  const key = `${m.role}:${m.id}`;
  if (seen.has(key)) return;
  seen.add(key);
  const head = el("div", { className: "head" }, el("span", { className: "who", text: ROLE_LABELS[m.role] || m.role }),
    el("time", { text: clockTime(m.sent_at), attrs: { datetime: m.sent_at || "" } }));
  const at = m.sent_at ? Date.parse(m.sent_at) : Date.now();
  const div = el("div", { className: "msg " + m.role, testid: "line", data: { role: m.role, at: String(at) } },
    head, document.createTextNode(m.text));
  const log = $("log");
  let after = log.lastElementChild;
  while (after && Number(after.dataset.at) > at) after = after.previousElementSibling;
  log.insertBefore(div, after ? after.nextSibling : log.firstChild);
  log.scrollTop = log.scrollHeight;
}

$("composer").addEventListener("submit", async (e) => {
  e.preventDefault();
  const text = $("text").value.trim();
  if (!text || !current) return;
  const res = await post(`/v1/handoffs/${current.id}/messages`, { text });
  if (!res.ok) { showError(res.data); return; }
  showError(null);
  $("text").value = "";
  line(res.data);  // the stored, redacted line: what the customer reads
});

// Typing notifications to the customer, at most one per TYPING_EVERY_MS.
$("text").addEventListener("input", () => {
  const now = Date.now();
  if (!current || current.status !== "active" || now - lastTypingSent < TYPING_EVERY_MS) return;
  lastTypingSent = now;
  post(`/v1/handoffs/${current.id}/typing`);
});

$("release").addEventListener("click", async () => {
  if (!current) return;
  const res = await post(`/v1/handoffs/${current.id}/release`);
  if (!res.ok) { showError(res.data); return; }  // e.g. 503: the assistant is unreachable, still yours
  showError(null);
  markClosed(current);
  loadQueue();
});

// ---- canned replies ----

async function loadCanned() {
  const res = await api("/v1/handoffs/canned-replies");
  const box = $("canned");
  box.replaceChildren();
  if (!res.ok) return;
  for (const reply of res.data) {
    const button = el("button", { text: reply.title, testid: "canned-reply",
      attrs: { type: "button", title: reply.text, "aria-label": `Insert canned reply: ${reply.title}` } });
    button.addEventListener("click", () => insertText(reply.text));
    box.appendChild(button);
  }
}

function insertText(text) {
  const input = $("text");
  if (input.disabled) return;
  const start = input.selectionStart ?? input.value.length;
  const end = input.selectionEnd ?? input.value.length;
  input.setRangeText(text, start, end, "end");
  input.focus();
  input.dispatchEvent(new Event("input"));
}

// ---- the customer's context ----

async function loadContext(h) {
  const res = await api(`/v1/handoffs/${h.id}/context`);
  if (current !== h) return;
  if (!res.ok) {
    $("context-body").replaceChildren(el("p", { className: "empty", text: "The customer's context is not available." }));
    return;
  }
  renderContext(h, res.data);
}

function renderContext(h, ctx) {
  const kyc = ctx.customer.kyc_status || "unknown";
  const kycClass = kyc === "verified" ? "ok" : kyc === "rejected" ? "bad" : "warn";
  $("context-body").replaceChildren(
    el("div", { className: "who-line" }, el("span", { text: ctx.customer.name, testid: "context-name" }),
      el("span", { className: "badge " + kycClass, text: `KYC ${kyc}`, testid: "kyc" })),
    el("h3", { text: "Accounts" }), accountsTable(ctx.accounts),
    el("h3", { text: "Cards" }), cardsList(h, ctx.cards),
    el("h3", { text: "Open fraud cases" }), fraudCases(ctx.fraud_cases), fraudForm(h, ctx.cards),
    el("p", { className: "meta", attrs: { id: "action-status", role: "status" }, testid: "action-status" }),
    el("h3", { text: "Recent transactions" }), transactionsTable(ctx.recent_transactions),
    el("h3", { text: "Linked channels" }), channelsList(ctx.channels));
}

function table(testid, headings, rows) {
  if (!rows.length) return el("p", { className: "empty", text: "None." });
  return el("table", { testid }, el("thead", {}, el("tr", {}, ...headings.map((t) => el("th", { text: t })))),
    el("tbody", {}, ...rows));
}

function accountsTable(accounts) {
  return table("accounts", ["Account", "Balance", "Available"], accounts.map((a) =>
    el("tr", { testid: "account", data: { accountId: a.id, balance: a.balance, available: a.available, currency: a.currency } },
      el("td", {}, el("span", { text: a.name, testid: "account-name" }), " ", el("span", { className: "meta", text: a.type })),
      el("td", { className: "num", text: money(a.balance, a.currency), testid: "account-balance" }),
      el("td", { className: "num", text: money(a.available, a.currency) }))));
}

function transactionsTable(transactions) {
  return table("transactions", ["Date", "Merchant", "Category", "Amount"], transactions.map((t) =>
    el("tr", { testid: "transaction" },
      el("td", { className: "date", text: day(t.posted_at) }),
      el("td", { text: t.merchant || t.description || "" }),
      el("td", { className: "meta", text: t.category || "" }),
      el("td", { className: "num" + (String(t.amount).startsWith("-") ? " neg" : ""), text: money(t.amount, t.currency) }))));
}

function cardsList(h, cards) {
  if (!cards.length) return el("p", { className: "empty", text: "No cards." });
  return el("ul", { className: "ctx-list", testid: "cards" }, ...cards.map((card) => {
    const frozen = card.status === "frozen";
    const state = el("span", { className: "badge " + (frozen ? "bad" : card.status === "active" ? "ok" : "warn"),
      text: card.status + (card.frozen_reason ? ` (${card.frozen_reason.replaceAll("_", " ")})` : ""), testid: "card-status" });
    let action = null;
    if (!frozen && card.status === "active") {
      action = el("button", { className: "small danger", text: "Freeze", testid: "freeze-card",
        attrs: { type: "button", "aria-label": `Freeze card ending ${card.last4}` } });
      action.addEventListener("click", () => freezeCard(h, card, action));
    }
    return el("li", { testid: "card", data: { cardId: card.id } }, el("span", { text: `•••• ${card.last4}` }), state, action);
  }));
}

function fraudCases(cases) {
  const open = cases.filter((c) => !["resolved", "rejected"].includes(c.status));
  if (!open.length) return el("p", { className: "empty", text: "None open.", testid: "fraud-cases" });
  return el("ul", { className: "ctx-list", testid: "fraud-cases" }, ...open.map((c) =>
    el("li", { testid: "fraud-case" }, el("span", { text: FRAUD_KINDS[c.kind] || c.kind }),
      el("span", { className: "meta", text: `${c.status} · ${day(c.opened_at)}` }))));
}

function fraudForm(h, cards) {
  const kind = el("select", { attrs: { id: "fraud-kind", "aria-label": "Fraud case kind" } },
    ...Object.entries(FRAUD_KINDS).map(([value, label]) => el("option", { text: label, attrs: { value } })));
  const card = el("select", { attrs: { id: "fraud-card", "aria-label": "Card for the fraud case" } },
    el("option", { text: "No card", attrs: { value: "" } }),
    ...cards.map((c) => el("option", { text: `•••• ${c.last4}`, attrs: { value: c.id } })));
  const button = el("button", { className: "small", text: "Open fraud case", testid: "open-fraud-case",
    attrs: { type: "submit" } });
  const form = el("form", { attrs: { id: "fraud-form", "aria-label": "Open a fraud case" } }, kind, card, button);
  form.addEventListener("submit", (e) => { e.preventDefault(); openFraudCase(h, kind.value, card.value, button); });
  return form;
}

function channelsList(channels) {
  if (!channels.length) return el("p", { className: "empty", text: "Web chat only.", testid: "channels" });
  return el("ul", { className: "ctx-list", testid: "channels" }, ...channels.map((c) =>
    el("li", {}, el("span", { text: c.channel }), el("span", { className: "meta", text: `linked ${day(c.linked_at)}` }))));
}

async function agentAction(h, path, body, button, done) {
  button.disabled = true;
  const res = await post(`/v1/handoffs/${h.id}/actions/${path}`, body);
  button.disabled = false;
  if (!res.ok) { showError(res.data); return; }
  showError(null);
  await loadContext(h);
  if ($("action-status")) $("action-status").textContent = done;
}

function freezeCard(h, card, button) {
  return agentAction(h, "freeze-card", { card_id: card.id }, button, `Card •••• ${card.last4} frozen.`);
}

function openFraudCase(h, kind, cardId, button) {
  const body = cardId ? { kind, card_id: cardId } : { kind };
  return agentAction(h, "fraud-case", body, button, `Fraud case opened: ${FRAUD_KINDS[kind]}.`);
}

// ---- sign in ----

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
  startQueueLive();
  setInterval(tickClocks, 1000);  // a clock: redraws the timers from local time, makes no request
});
