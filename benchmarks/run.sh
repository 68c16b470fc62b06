#!/usr/bin/env bash
# The speed benchmark, side by side in one run (see benchmarks/matrix.py):
#   benchmarks/run.sh [--duration SECONDS] [--out DIR]
# Needs wrk (installed by scripts/setup-machine.sh) and the .venv of scripts/bootstrap-python.sh.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PYTHON="${PYTHON:-$ROOT/.venv/bin/python}"
exec "$PYTHON" -P "$ROOT/benchmarks/matrix.py" "$@"
