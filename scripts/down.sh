#!/usr/bin/env bash
# make down: stop exactly the processes `make up` started (pids in var/run/dev/).
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m scripts.stack down --name dev
python3 -m scripts.services down  # the private PostgreSQL and Redis, if `make up` started them
