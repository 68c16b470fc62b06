#!/usr/bin/env bash
# Create .venv (Python 3.11) and install inferpipe into it, non-editable, with the
# extras the main job and the tests need. Safe to re-run; prints the venv's python.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${INFERPIPE_VENV:-$ROOT/.venv}"
EXTRAS="${INFERPIPE_EXTRAS:-serving,sklearn,sparkml,xgboost,spec,spark,dev,bench}"
PYTHON="${PYTHON:-python3}"

if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info[:2] < (3, 11))' 2>/dev/null; then
    printf 'bootstrap: %s is not Python 3.11+; set PYTHON=/path/to/python3.11\n' "$PYTHON" >&2
    exit 1
fi
if [[ ! -x "$VENV/bin/python" ]]; then
    printf '[bootstrap] creating %s\n' "$VENV" >&2
    "$PYTHON" -m venv "$VENV"
fi
printf '[bootstrap] installing inferpipe[%s]\n' "$EXTRAS" >&2
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip >&2
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
    --constraint "$ROOT/constraints.txt" "$ROOT[$EXTRAS]" >&2
printf '%s\n' "$VENV/bin/python"
