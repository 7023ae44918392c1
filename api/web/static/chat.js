// The web chat: signs in with the OAuth2 password flow, keeps the token in memory only.
// During a handoff to a support agent the bot is quiet; the agent's lines are read from the redacted
// transcript (polled with `after`), exactly as they were stored.
"use strict";
let token = null;
let conversationId = null;
let handoffOpen = false;
let transcriptCursor = null;  // id of the last transcript line seen while polling
let polling = null;
const POLL_MS = 2000;
const $ = (id) => document.getElementById(id);

function say(text, who) {
  const div = document.createElement("div");
  div.className = "msg " + who;
  div.textContent = text;  // never innerHTML: bot text is data, not markup
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

async function send(text, shown) {
  say(shown || text, "me");
  $("error").textContent = "";
  const body = { text };
  if (conversationId) body.conversation_id = conversationId;
  const res = await fetch("/v1/chat/messages", {
    method: "POST",
    headers: { "Content-Type": "application/json", "Authorization": "Bearer " + token },
    body: JSON.stringify(body),
  });
  const data = await res.json().catch(() => ({}));
  if (!res.ok) { $("error").textContent = data.title || ("Error " + res.status); return; }
  conversationId = data.conversation_id;
  for (const m of data.messages) {
    if (m.text) say(m.text, "bot");
    showButtons(m.buttons);
  }
  if (data.handoff && !handoffOpen) startHandoff();
}

function setStatus(text) {
  $("status").textContent = text || "";
  $("status").hidden = !text;
}

async function pollTranscript() {
  const params = new URLSearchParams({ limit: "200" });
  if (transcriptCursor !== null) params.set("after", String(transcriptCursor));
  const res = await fetch(`/v1/conversations/${conversationId}/transcript?${params}`, {
    headers: { "Authorization": "Bearer " + token },
  });
  if (!res.ok) return;  // try again on the next tick
  const data = await res.json();
  for (const m of data.messages) {
    transcriptCursor = Math.max(transcriptCursor || 0, m.id);
    if (m.role === "agent") say(m.text, "agent");  // the bot's and the customer's own lines are already shown
  }
  const status = data.handoff ? data.handoff.status : "closed";
  if (status === "active") setStatus("A support agent is in this chat.");
  if (status === "closed") {
    stopHandoff();
    say("The support agent has handed you back to the assistant. Ask me anything.", "note");
  }
}

function startHandoff() {
  handoffOpen = true;
  setStatus("Waiting for a support agent. You can keep typing here.");
  const tick = () => pollTranscript().catch(() => {}).finally(() => {
    if (handoffOpen) polling = setTimeout(tick, POLL_MS);
  });
  tick();
}

function stopHandoff() {
  handoffOpen = false;
  clearTimeout(polling);
  setStatus("");
}

$("login").addEventListener("submit", async (e) => {
  e.preventDefault();
  const form = new URLSearchParams({ username: $("username").value, password: $("password").value });
  const res = await fetch("/v1/auth/token", { method: "POST", body: form });
  const data = await res.json().catch(() => ({}));
  if (!res.ok) { $("error").textContent = data.title || "Sign-in failed"; return; }
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
