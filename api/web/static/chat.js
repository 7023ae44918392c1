// The web chat: signs in with the OAuth2 password flow and keeps the token in memory only.
// The bot's answers come back with each message sent. Everything else the customer did not ask for in
// that request (a support agent's lines, the agent typing, notices such as "no agent is free yet", the
// bot's "anything else?" after a handoff) arrives live on the conversation's event stream (live.js):
// no polling. Every text is shown with textContent, never as markup.
"use strict";
const AGENT_TYPING_MS = 5000;  // the console sends "typing" at most every 2.5 s while the agent types
const $ = (id) => document.getElementById(id);
let token = null;
let conversationId = null;
let live = null;            // the conversation's event stream, once there is a conversation
let handoff = null;         // {id, status, overdue} while one is open
// The bot's answers to a send are shown from its response; the stream brings their stored copies too.
// Those echoes are skipped; a bot line that is not one (the bot's "anything else?" after an agent hands
// back) is shown. Stream bot lines that come while a send waits are held until its answer is in.
const echoes = [];
const heldBotLines = [];
const MAX_ECHOES = 20;
const REDACTED = /<[A-Z_]+>/;  // a stored line with a placeholder may be the redacted copy of an answer
let sending = 0;            // messages waiting for the bot's answer
let typingTimer = null;
const shown = new Set();    // "role:id" of the stream's lines already on screen (a reconnect may replay)

function say(text, who, options = {}) {
  const div = document.createElement("div");
  div.className = "msg " + who;
  if (options.label) {
    const label = document.createElement("span");
    label.className = "who";
    label.textContent = options.label;
    div.appendChild(label);
  }
  div.appendChild(document.createTextNode(text));  // textContent only: message text is data, not markup
  const time = document.createElement("time");
  if (options.at) time.dateTime = options.at;
  time.textContent = clockTime(options.at);
  div.appendChild(time);
  $("log").appendChild(div);
  $("log").scrollTop = $("log").scrollHeight;
  return div;
}

function showButtons(buttons) {
  if (!buttons || !buttons.length) return;
  const row = document.createElement("div");
  row.className = "buttons";
  for (const b of buttons) {
    const btn = document.createElement("button");
    btn.type = "button";
    btn.textContent = b.title;
    btn.addEventListener("click", () => { row.remove(); send(b.payload, b.title); });
    row.appendChild(btn);
  }
  $("log").appendChild(row);
}

function showTyping(text, forMs) {
  clearTimeout(typingTimer);
  $("typing").textContent = text;
  $("typing").hidden = false;
  if (forMs) typingTimer = setTimeout(hideTyping, forMs);
}

function hideTyping() {
  clearTimeout(typingTimer);
  $("typing").hidden = true;
  if (sending > 0) showTyping("The assistant is typing…");
}

function showError(text) {
  $("error").textContent = text || "";
}

async function send(text, shownText) {
  say(shownText || text, "me", { label: "You" });
  showError("");
  sending += 1;
  showTyping("The assistant is typing…");
  try {
    await exchange(text);
  } finally {
    sending -= 1;
    hideTyping();
    if (sending === 0) for (const m of heldBotLines.splice(0)) onLiveBotLine(m);
  }
}

// One message to the bot and its answers (the stream brings a stored copy of each answer later: an echo).
async function exchange(text) {
  const body = { text };
  if (conversationId) body.conversation_id = conversationId;
  let res;
  try {
    res = await fetch("/v1/chat/messages", {
      method: "POST",
      headers: { "Content-Type": "application/json", "Authorization": "Bearer " + token },
      body: JSON.stringify(body),
    });
  } catch (err) {
    showError("You seem to be offline: the message was not sent.");
    return;
  }
  const data = await res.json().catch(() => ({}));
  if (!res.ok) { showError(data.title || ("Error " + res.status)); return; }
  if (!conversationId) { conversationId = data.conversation_id; startLive(); }
  for (const m of data.messages) {
    if (m.text) { say(m.text, "bot", { label: "Assistant" }); echoes.push(m.text); }
    showButtons(m.buttons);
  }
  echoes.splice(0, Math.max(0, echoes.length - MAX_ECHOES));
  setHandoff(data.handoff ? sameHandoff(data.handoff) : null);
}

// A handoff reference from the server, with what is already known about it (overdue, callback) kept.
function sameHandoff(ref) {
  return handoff && handoff.id === ref.id ? { ...handoff, ...ref } : { ...ref };
}

// The status bar above the conversation: where the handoff stands, and the callback offer when overdue.
function setHandoff(next) {
  const wasOpen = handoff !== null;
  handoff = next && next.status !== "closed" ? next : null;
  if (!handoff) {
    setStatus("");
    if (wasOpen) {
      say("The support agent has handed you back to the assistant. Ask me anything.", "note");
    }
    return;
  }
  if (handoff.status === "active") setStatus("A support agent is in this chat.");
  else if (handoff.overdue) {
    setStatus(handoff.callback_requested ? "No agent is free yet. We will call you back."
      : "No agent is free yet. The assistant is still here for you, or we can call you back.",
    !handoff.callback_requested);
  } else setStatus("Waiting for a support agent. You can keep typing here.");
}

function setStatus(text, offerCallback = false) {
  $("status-text").textContent = text;
  $("status").hidden = !text;
  $("callback").hidden = !offerCallback;
}

function setConnection(state) {
  const text = state === "reconnecting" ? "reconnecting…" : "";
  $("connection").textContent = text;
  $("connection").hidden = !text;
}

function startLive() {
  if (live) live.close();
  live = openLiveStream({
    url: `/v1/conversations/${conversationId}/events`,
    token,
    onEvent: onLiveEvent,
    onState: (state, status) => {
      setConnection(state);
      if (state === "closed" && status === 401) showError("Your session has ended: sign in again.");
    },
  });
}

function onLiveEvent(name, data) {
  if (name === "message") onLiveMessage(data);
  else if (name === "typing" && data.role === "agent") showTyping("Support agent is typing…", AGENT_TYPING_MS);
  else if (name === "handoff" && (!handoff || handoff.id === data.id || data.status !== "closed")) {
    setHandoff(sameHandoff(data));  // (the close of an older handoff is no news)
  }
}

function onLiveMessage(m) {
  const key = `${m.role}:${m.id}`;
  if (shown.has(key)) return;
  shown.add(key);
  if (m.role === "agent") {
    hideTyping();
    say(m.text, "agent", { label: "Support agent", at: m.sent_at });
  } else if (m.role === "notice") {
    say(m.text, "notice", { label: "Notice", at: m.sent_at });
  } else if (m.role === "bot") {
    onLiveBotLine(m);
  }
  // The customer's own lines are already on screen from the send.
}

function onLiveBotLine(m) {
  if (sending > 0) { heldBotLines.push(m); return; }
  const same = echoes.indexOf(m.text);
  if (same >= 0) { echoes.splice(same, 1); return; }
  if (echoes.length && REDACTED.test(m.text)) { echoes.shift(); return; }
  say(m.text, "bot", { label: "Assistant", at: m.sent_at });
}

async function requestCallback() {
  if (!handoff) return;
  $("callback").disabled = true;
  const res = await fetch(`/v1/handoffs/${handoff.id}/callback`, {
    method: "POST", headers: { "Authorization": "Bearer " + token },
  }).catch(() => null);
  $("callback").disabled = false;
  if (!res || !res.ok) {
    const data = res ? await res.json().catch(() => ({})) : {};
    showError(data.detail || data.title || "The callback could not be requested. Please try again.");
    return;
  }
  showError("");
  setHandoff({ ...handoff, callback_requested: true });
}

$("callback").addEventListener("click", requestCallback);

$("login").addEventListener("submit", async (e) => {
  e.preventDefault();
  const form = new URLSearchParams({ username: $("username").value, password: $("password").value });
  const res = await fetch("/v1/auth/token", { method: "POST", body: form });
  const data = await res.json().catch(() => ({}));
  if (!res.ok) { showError(data.title || "Sign-in failed"); return; }
  token = data.access_token;
  $("password").value = "";
  $("login").hidden = true;
  $("chat").hidden = false;
  $("text").focus();
});

$("composer").addEventListener("submit", (e) => {
  e.preventDefault();
  const text = $("text").value.trim();
  if (!text) return;
  $("text").value = "";
  send(text);
});
