// The web chat: signs in with the OAuth2 password flow, keeps the token in memory only.
"use strict";
let token = null;
let conversationId = null;
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
