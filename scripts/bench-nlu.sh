#!/usr/bin/env bash
# make bench-nlu: BANKING77 accuracy, training time and parse latency of the real Rasa pipeline
# (bot/config.yml). Trains on BANKING77 train + bot/data/, evaluates on test.csv; model in var/bench/.
# Extra arguments go to bench/nlu_bench.py (--warm: reuse the embedding cache; --limit N).
set -euo pipefail
cd "$(dirname "$0")/.."
export PYTHONPATH="$PWD:$PWD/bot"
export BANKING77_DIR="${BANKING77_DIR:-$(cd .. && pwd)/shared/datasets/banking77}"
export RASA_TELEMETRY_ENABLED=false TF_CPP_MIN_LOG_LEVEL=2 HF_HUB_OFFLINE=1
echo "nlu_bench: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
.venv-bot/bin/python bot/build_data.py
exec .venv-bot/bin/python bench/nlu_bench.py "$@"
