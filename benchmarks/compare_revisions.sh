#!/usr/bin/env bash
# Serving latency of this checkout against an older revision, in one run:
#   benchmarks/compare_revisions.sh [REV] [extra serving_latency.py options]
# REV (default HEAD~1) is installed without dependencies into a scratch folder that
# shadows the installed inferpipe for the "before" server only.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
REV="${1:-HEAD~1}"
shift || true
PYTHON="${PYTHON:-$ROOT/.venv/bin/python}"
SCRATCH="$(mktemp -d /tmp/inferpipe-before.XXXXXX)"
trap 'git -C "$ROOT" worktree remove --force "$SCRATCH/src" >/dev/null 2>&1 || true; rm -rf "$SCRATCH"' EXIT

git -C "$ROOT" worktree add --detach "$SCRATCH/src" "$REV" >/dev/null
"$PYTHON" -m pip install --quiet --disable-pip-version-check --no-deps \
    --target "$SCRATCH/site" "$SCRATCH/src"
printf '[bench] before = %s (%s)\n' "$REV" "$(git -C "$ROOT" rev-parse --short "$REV")" >&2
"$PYTHON" -P "$ROOT/benchmarks/serving_latency.py" --before "$SCRATCH/site" "$@"
