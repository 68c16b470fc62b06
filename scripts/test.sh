#!/usr/bin/env bash
# The test command (README, .ci/run): set up a fresh Debian machine as far as root can
# (Docker engine, debootstrap base image, loopback registry tools), install inferpipe
# into .venv, lint, then run the whole suite: unit tests and real-container tests.
# Extra arguments go to pytest.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

started=$SECONDS
bash "$ROOT/scripts/setup-machine.sh"
VENV_PYTHON="$(bash "$ROOT/scripts/bootstrap-python.sh")"
export PATH="$(dirname "$VENV_PYTHON"):$PATH"
printf '[test] set-up took %d s\n' "$((SECONDS - started))" >&2

printf '[test] reclaiming what earlier runs left in Docker\n' >&2
bash "$ROOT/scripts/reclaim-disk.sh"
# And again at the end, whatever happens: this run's build stages and moved tags.
trap 'bash "$ROOT/scripts/reclaim-disk.sh" || true' EXIT

printf '[test] ruff\n' >&2
ruff check .
ruff format --check .

printf '[test] mypy --strict (protocol, serving, pipeline_spec)\n' >&2
bash "$ROOT/scripts/typecheck.sh"

printf '[test] pytest\n' >&2
# -P keeps the repo root off sys.path, so `inferpipe` is the installed package.
python -P -m pytest -p no:cacheprovider "$@"
