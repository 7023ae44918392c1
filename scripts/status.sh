#!/usr/bin/env bash
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m scripts.stack status --name dev
