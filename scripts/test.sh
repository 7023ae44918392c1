#!/usr/bin/env bash
# make test: lint, train the model if its inputs changed, then every suite against the real services.
set -euo pipefail
cd "$(dirname "$0")/.."
export PYTHONPATH="$PWD"
PY=.venv/bin/python
started=$(date +%s)

$PY -m scripts.preflight
# The browser test drives Debian's chromium through Playwright (no browser download): install it once.
if [ ! -x "${CHROMIUM_PATH:-/usr/bin/chromium}" ]; then
  apt-get install -y -q chromium >/dev/null || { apt-get update -q >/dev/null && apt-get install -y -q chromium >/dev/null; }
fi
.venv/bin/ruff check .
$PY -m scripts.train >/dev/null
if [ -d bot/tests_components ]; then
  PYTHONPATH="$PWD:$PWD/bot" .venv-bot/bin/python -m pytest bot/tests_components -q -p no:cacheprovider
fi
# Every custom action in process (rasa_sdk Tracker and CollectingDispatcher) against its own real stack.
PYTHONPATH="$PWD:$PWD/bot" .venv-bot/bin/python -m pytest actions_tests -q -p no:cacheprovider
scripts/rasa_test_stories.sh
$PY -m pytest -q "$@"
echo "make test took $(( $(date +%s) - started )) s"
