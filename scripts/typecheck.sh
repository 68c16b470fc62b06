#!/usr/bin/env bash
# mypy --strict over protocol/, serving/ and pipeline_spec/ as the `inferpipe.*` packages they
# install as: a tree of symlinks gives mypy the same import names as pyproject's mapping.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TREE="$ROOT/build/typecheck"
rm -rf "$TREE"
mkdir -p "$TREE/inferpipe"
for entry in "$ROOT"/inferpipe/*.py "$ROOT"/inferpipe/cli; do
    ln -s "$entry" "$TREE/inferpipe/$(basename "$entry")"
done
for folder in protocol serving transformers pipeline_spec; do
    ln -s "$ROOT/$folder" "$TREE/inferpipe/$folder"
done
cd "$TREE"
mypy --strict --ignore-missing-imports --follow-imports=silent \
    -p inferpipe.protocol -p inferpipe.serving -p inferpipe.pipeline_spec
