#!/usr/bin/env bash
# Rasa's end-to-end test stories (bot/tests/) against the trained model; fails on any wrong prediction.
set -euo pipefail
cd "$(dirname "$0")/.."
export RASA_TELEMETRY_ENABLED=false TF_CPP_MIN_LOG_LEVEL=2 PYTHONPATH="$PWD:$PWD/bot"
out=var/rasa-test
rm -rf "$out"
.venv-bot/bin/rasa test core --model var/models/current.tar.gz --stories bot/tests --out "$out" \
  --endpoints bot/endpoints.test.yml --fail-on-prediction-errors >"$out.log" 2>&1 || {
  tail -40 "$out.log"; echo "rasa test stories failed; see $out/ and $out.log"; exit 1; }
grep -hE "Correct:|Stories|Accuracy" "$out.log" | tail -3 || true
echo "rasa test stories: passed"
