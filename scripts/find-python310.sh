#!/usr/bin/env bash
# Print the path of a Python 3.10 interpreter for the bot's virtual environment.
# Order: $PYTHON_BOT, then python3.10 on PATH, then pyenv's 3.10.x. Fails with advice.
set -euo pipefail

is_310() { "$1" -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 10) else 1)' >/dev/null 2>&1; }

if [ -n "${PYTHON_BOT:-}" ]; then
  if is_310 "$PYTHON_BOT"; then echo "$PYTHON_BOT"; exit 0; fi
  echo "PYTHON_BOT=$PYTHON_BOT is not a working Python 3.10 interpreter" >&2; exit 1
fi
if command -v python3.10 >/dev/null 2>&1 && is_310 python3.10; then command -v python3.10; exit 0; fi
if command -v pyenv >/dev/null 2>&1; then
  for p in "$(pyenv root)"/versions/3.10.*/bin/python; do
    if [ -x "$p" ] && is_310 "$p"; then echo "$p"; exit 0; fi
  done
fi
cat >&2 <<'MSG'
No Python 3.10 found; Rasa Open Source 3.6 needs exactly 3.10.
Get one, then run the command again:
  - pyenv:   pyenv install 3.10     (the Makefile finds pyenv's versions by itself)
  - Debian:  apt-get install python3.10 python3.10-venv   (where the release ships it)
  - or point PYTHON_BOT at an interpreter:  make up PYTHON_BOT=/path/to/python3.10
MSG
exit 1
