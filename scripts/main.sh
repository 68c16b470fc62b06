#!/usr/bin/env bash
# The main job (README): install inferpipe into .venv, train the abalone example's
# preprocess/model/postprocess stages, serve each with the container runtime as a
# local process, send requests through them and stop. No Docker needed.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV_PYTHON="$(INFERPIPE_EXTRAS=serving,sklearn,xgboost,spec,dev bash "$ROOT/scripts/bootstrap-python.sh")"
exec "$VENV_PYTHON" "$ROOT/examples/abalone/quickstart.py" "$@"
