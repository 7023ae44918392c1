#!/usr/bin/env bash
# make up: set up what is missing, migrate, seed, train if inputs changed, start everything, print the URL.
set -euo pipefail
cd "$(dirname "$0")/.."
export PYTHONPATH="$PWD"
PY=.venv/bin/python

# PostgreSQL and Redis: the configured servers, else private instances under var/ (scripts/services.py).
$PY -m scripts.services up
set -a; . var/services.env; set +a  # their URLs, when private instances stand in
$PY -m scripts.preflight
$PY -m scripts.dbsetup
$PY -m data.seed
$PY -m scripts.train >/dev/null
$PY -m scripts.stack up --name dev

cat <<MSG

The assistant is running.
  Chat page:   http://127.0.0.1:8000/chat
  Agents:      http://127.0.0.1:8000/console   (live handoff: say "I want to talk to a person" in the chat)
  API docs:    http://127.0.0.1:8000/docs
  Ask by curl:
    TOKEN=\$(curl -s -d username=alice -d password=demo-password http://127.0.0.1:8000/v1/auth/token | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
    curl -s -H "Authorization: Bearer \$TOKEN" -H 'Content-Type: application/json' \\
         -d '{"text": "what'"'"'s my balance?"}' http://127.0.0.1:8000/v1/chat/messages

Demo logins (password demo-password): alice and bob (customers), agent (support), compliance.
Logs in var/log/. Stop with: make down
MSG
