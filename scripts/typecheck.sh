#!/usr/bin/env bash
# mypy --strict over serving/ and pipeline_spec/ as the `inferpipe.*` packages they
# install as: a tree of symlinks gives mypy the same import names as pyproject's mapping.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TREE="$ROOT/build/typecheck"
rm -rf "$TREE"
mkdir -p "$TREE/inferpipe"
for file in "$ROOT"/inferpipe/*.py; do
    ln -s "$file" "$TREE/inferpipe/$(basename "$file")"
done
for folder in serving transformers pipeline_spec; do
    ln -s "$ROOT/$folder" "$TREE/inferpipe/$folder"
done
cd "$TREE"
mypy --strict --ignore-missing-imports --follow-imports=silent \
    -p inferpipe.serving -p inferpipe.pipeline_spec
