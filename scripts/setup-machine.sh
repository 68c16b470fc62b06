#!/usr/bin/env bash
# Prepare a fresh Debian machine (as root) for the container tests: install the
# Docker engine, debootstrap and a registry, start dockerd, and build the local
# Python base image the Dockerfiles use when no image can be pulled.
set -euo pipefail

BASE_IMAGE_NAME="${INFERPIPE_BASE_IMAGE:-inferpipe-base:bookworm}"
DOCKERD_LOG="${DOCKERD_LOG:-/tmp/inferpipe-dockerd.log}"

log() { printf '[setup] %s\n' "$*" >&2; }

install_packages() {
    local missing=()
    command -v dockerd >/dev/null 2>&1 || missing+=(docker.io)
    command -v debootstrap >/dev/null 2>&1 || missing+=(debootstrap)
    command -v docker-registry >/dev/null 2>&1 || missing+=(docker-registry)
    command -v htpasswd >/dev/null 2>&1 || missing+=(apache2-utils)
    command -v wrk >/dev/null 2>&1 || missing+=(wrk)
    if ((${#missing[@]} == 0)); then
        return 0
    fi
    if [[ "$(id -u)" != 0 ]] || ! command -v apt-get >/dev/null 2>&1; then
        log "missing ${missing[*]} and cannot install them (needs root on Debian); install them by hand"
        return 1
    fi
    log "installing ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}

start_dockerd() {
    if docker info >/dev/null 2>&1; then
        log "Docker engine already running"
        return 0
    fi
    log "starting dockerd (log: $DOCKERD_LOG)"
    nohup dockerd >"$DOCKERD_LOG" 2>&1 &
    local i
    for i in $(seq 1 60); do
        if docker info >/dev/null 2>&1; then
            log "dockerd ready after ${i}s"
            return 0
        fi
        sleep 1
    done
    log "dockerd did not become ready in 60 s; last lines of $DOCKERD_LOG:"
    tail -n 20 "$DOCKERD_LOG" >&2
    return 1
}

build_base_image() {
    if docker image inspect "$BASE_IMAGE_NAME" >/dev/null 2>&1; then
        log "base image $BASE_IMAGE_NAME present"
        return 0
    fi
    local rootfs
    rootfs="$(mktemp -d /tmp/inferpipe-rootfs.XXXXXX)"
    log "building base image $BASE_IMAGE_NAME with debootstrap (about a minute)"
    debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates \
        bookworm "$rootfs" >/tmp/inferpipe-debootstrap.log 2>&1 \
        || { tail -n 20 /tmp/inferpipe-debootstrap.log >&2; return 1; }
    rm -rf "$rootfs/var/cache/apt/archives/"*.deb "$rootfs/var/lib/apt/lists/"*
    tar -C "$rootfs" -c . | docker import - "$BASE_IMAGE_NAME" >/dev/null
    rm -rf "$rootfs"
    log "base image $BASE_IMAGE_NAME built"
}

install_packages
start_dockerd
build_base_image
