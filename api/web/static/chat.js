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
  $("channels-open").hidden = false;
  $("text").focus();
});

$("composer").addEventListener("submit", (e) => {
  e.preventDefault();
  const text = $("text").value.trim();
  if (!text) return;
  $("text").value = "";
  send(text);
});

// Linked channels: the customer's Telegram, Slack and SMS links (/v1/channel-links, docs/channels.md).
// A channel is linked on the channel itself with a one-time code asked for here. The list is read when
// the panel opens and when the customer presses Refresh; the code's countdown is a clock (tickClocks
// redraws it and requests nothing). Nothing here is read on a timer.
const CHANNEL_NAMES = { telegram: "Telegram", slack: "Slack", sms: "SMS" };
const LINK_HOW = {
  telegram: "Send this message to the bank's Telegram bot:",
  slack: "Send this message to the bank's app on Slack, in a direct message:",
  sms: "Text this message to the bank's number:",
};
const LINK_COMMAND = { telegram: "/start ", slack: "link ", sms: "link " };
let channelLinks = [];      // the live links, as last read
let linkCode = null;        // {channel, deadline}: the code on screen; deadline in this machine's clock (ms)
let clockTimer = null;

function channelName(channel) {
  return CHANNEL_NAMES[channel] || String(channel);
}

// A call to /v1/channel-links as the signed-in customer: {res, data}; res is null when offline.
async function linksApi(path, options = {}) {
  const headers = { "Authorization": "Bearer " + token };
  if (options.body !== undefined) headers["Content-Type"] = "application/json";
  let res;
  try {
    res = await fetch(path, { method: options.method || "GET", headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body) });
  } catch (err) {
    return { res: null, data: {} };
  }
  return { res, data: await res.json().catch(() => ({})) };
}

function linksProblem(res, data, fallback) {
  if (!res) return "You seem to be offline: " + fallback;
  if (res.status === 401) return "Your session has ended: sign in again.";
  return data.detail || data.title || fallback;
}

function showChannelsMessage(error, note) {
  $("channels-error").textContent = error || "";
  $("channels-note").textContent = note || "";
}

function openChannels() {
  $("channels").hidden = false;
  $("channels-open").setAttribute("aria-expanded", "true");
  $("channels-title").focus();
  loadLinks();
}

function closeChannels() {
  $("channels").hidden = true;
  $("channels-open").setAttribute("aria-expanded", "false");
  $("channels-open").focus();
}

async function loadLinks() {
  $("channel-links").setAttribute("aria-busy", "true");
  $("channels-refresh").disabled = true;
  const { res, data } = await linksApi("/v1/channel-links");
  $("channel-links").setAttribute("aria-busy", "false");
  $("channels-refresh").disabled = false;
  if (!res || !res.ok || !Array.isArray(data)) {
    showChannelsMessage(linksProblem(res, data, "your linked channels could not be read."));
    return;
  }
  channelLinks = data.filter((link) => !link.revoked_at);
  renderLinks();
}

function renderLinks() {
  const list = $("channel-links");
  list.replaceChildren();
  for (const link of channelLinks) {
    const name = channelName(link.channel);
    const linkedAt = new Date(link.linked_at);
    const when = linkedAt.toLocaleString([], { dateStyle: "medium", timeStyle: "short" });
    const item = document.createElement("li");
    item.dataset.testid = "channel-link";
    item.dataset.linkId = link.id;
    item.dataset.channel = link.channel;
    const label = document.createElement("span");
    label.className = "channel-name";
    label.textContent = name;
    const time = document.createElement("time");
    time.dateTime = link.linked_at;
    time.dataset.testid = "linked-at";
    time.textContent = "linked " + when;
    const unlinkButton = document.createElement("button");
    unlinkButton.type = "button";
    unlinkButton.className = "secondary";
    unlinkButton.dataset.testid = "unlink";
    unlinkButton.textContent = "Unlink";
    unlinkButton.setAttribute("aria-label", `Unlink ${name} (linked ${when})`);
    unlinkButton.addEventListener("click", () => unlink(link, unlinkButton));
    item.append(label, time, unlinkButton);
    list.appendChild(item);
  }
  $("channel-links-empty").hidden = channelLinks.length > 0;
}

async function unlink(link, button) {
  button.disabled = true;
  showChannelsMessage();
  const { res, data } = await linksApi(`/v1/channel-links/${encodeURIComponent(link.id)}`, { method: "DELETE" });
  if (res && res.status === 404) { await loadLinks(); return; }  // already gone: show what there is
  if (!res || !res.ok) {
    button.disabled = false;
    showChannelsMessage(linksProblem(res, data, `${channelName(link.channel)} could not be unlinked.`));
    return;
  }
  channelLinks = channelLinks.filter((l) => l.id !== link.id);
  renderLinks();
  showChannelsMessage("", `${channelName(link.channel)} is unlinked: messages from there no longer reach your account.`);
  $("channels-title").focus();  // the button pressed is gone
}

async function requestCode(channel) {
  const buttons = document.querySelectorAll("[data-channel]");
  for (const b of buttons) b.disabled = true;
  showChannelsMessage();
  const { res, data } = await linksApi("/v1/channel-links", { method: "POST", body: { channel } });
  for (const b of buttons) b.disabled = false;
  if (!res || !res.ok || !data.code) {
    showChannelsMessage(linksProblem(res, data, `no code could be made for ${channelName(channel)}.`));
    return;
  }
  // The expiry is the server's time: counted from the server's Date, so a wrong clock here does not matter.
  const serverNow = Date.parse(res.headers.get("Date") || "");
  const left = Date.parse(data.expires_at) - (Number.isNaN(serverNow) ? Date.now() : serverNow);
  linkCode = { channel, deadline: Date.now() + left };
  $("channel-code-instruction").textContent = LINK_HOW[channel] || "Send this message:";
  $("channel-code-command").textContent = (LINK_COMMAND[channel] || "link ") + data.code;
  $("channel-code-command").hidden = false;
  $("channel-code").hidden = false;
  clearInterval(clockTimer);
  clockTimer = setInterval(tickClocks, 1000);
  tickClocks();
}

// Redraws the code's countdown; once it has run out, the code is taken off the screen. No requests.
function tickClocks() {
  if (!linkCode) { clearInterval(clockTimer); return; }
  const left = Math.ceil((linkCode.deadline - Date.now()) / 1000);
  if (left <= 0) {
    clearInterval(clockTimer);
    linkCode = null;
    $("channel-code-instruction").textContent = "That code has expired. Press a Link button for a new one.";
    $("channel-code-command").textContent = "";
    $("channel-code-command").hidden = true;
    $("channel-code-expiry").textContent = "";
    return;
  }
  const at = clockTime(new Date(linkCode.deadline).toISOString());
  const clock = `${Math.floor(left / 60)}:${String(left % 60).padStart(2, "0")}`;
  $("channel-code-expiry").textContent = `Works once, until ${at} (${clock} left). Then press Refresh to see the link here.`;
}

$("channels-open").addEventListener("click", () => ($("channels").hidden ? openChannels() : closeChannels()));
$("channels-close").addEventListener("click", closeChannels);
$("channels-refresh").addEventListener("click", () => { showChannelsMessage(); loadLinks(); });
$("channels").addEventListener("keydown", (e) => { if (e.key === "Escape") closeChannels(); });
for (const button of document.querySelectorAll("[data-channel]")) {
  button.addEventListener("click", () => requestCode(button.dataset.channel));
}
