#!/usr/bin/env bash
# Free what earlier test runs left in Docker before this one builds its images: every
# build tags its images with the commit, the legacy builder leaves its build stage
# dangling (~500 MB per image), and pulls from the test registry add tags of their own.
# On a machine that runs the suite again and again (a CI runner), these add up to a full
# disk. Only inferpipe's own leftovers go: the base image stays (debootstrap is slow),
# and images of this commit stay (the suite reuses them).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

if ! docker info >/dev/null 2>&1; then
    exit 0
fi

revision="$(git -C "$ROOT" rev-parse --short=12 HEAD 2>/dev/null || echo none)"

# Stopped containers of inferpipe images (a killed test leaves them).
docker ps --all --filter status=exited --filter status=created --format '{{.ID}} {{.Image}}' |
    while read -r id image; do
        case "$image" in
        inferpipe-* | */inferpipe-*) docker rm --force "$id" >/dev/null 2>&1 || true ;;
        esac
    done

# Tags of earlier commits and of test registries; the base image and this commit stay.
docker image ls --format '{{.Repository}}:{{.Tag}}' |
    while read -r name; do
        repository="${name%:*}"
        tag="${name##*:}"
        case "$repository" in
        inferpipe-base) continue ;;
        127.0.0.1:*/inferpipe-* | localhost:*/inferpipe-*) ;;
        inferpipe-*)
            [[ "$tag" =~ ^[0-9a-f]{12}(-sklearn.*)?$ ]] || continue
            [[ "$tag" == "$revision"* ]] && continue
            ;;
        *) continue ;;
        esac
        docker image rm "$name" >/dev/null 2>&1 || true
    done

# Untagged images: build stages and images whose tags moved to a newer build.
docker image prune --force >/dev/null 2>&1 || true

df -h / /var/lib/docker 2>/dev/null | awk 'NR == 1 || !seen[$1]++' >&2
