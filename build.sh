#!/usr/bin/env bash
# Build the inferpipe serving images from a local wheelhouse and push them to a
# registry (any registry, or Amazon ECR).
#
#   ./build.sh [build|push|all] [--tag T] [--registry R] [--base-image I]
#              [--sklearn-version V] [--platform P] [--images LIST] [--dry-run]
#
# Tags: NAME:VERSION, NAME:GIT-SHA and NAME:latest (suffixed -sklearnV with --sklearn-version).
# Registry credentials come from the environment, never from arguments:
#   INFERPIPE_REGISTRY_USER / INFERPIPE_REGISTRY_PASSWORD  for a plain registry
#   the usual AWS credential chain (boto3)                 for ECR
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PYTHON="${PYTHON:-python3}"
ACTION="build"
EXTRA_TAG=""
REGISTRY=""
BASE_IMAGE=""
SKLEARN_VERSION=""
PLATFORM=""
IMAGES="preprocess,postprocess,xgboost"
DRY_RUN=0

usage() {
    # The comment block at the top of this file is the usage text.
    awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"
}

die() {
    printf 'build.sh: error: %s\n' "$*" >&2
    exit 1
}

say() {
    printf 'build.sh: %s\n' "$*" >&2
}

# Print a command, then run it unless --dry-run.
run() {
    printf '+ %s\n' "$*" >&2
    if ((DRY_RUN == 0)); then
        "$@"
    fi
}

parse_args() {
    while (($# > 0)); do
        case "$1" in
            build | push | all) ACTION="$1" ;;
            --tag) EXTRA_TAG="${2:?--tag needs a value}"; shift ;;
            --registry) REGISTRY="${2:?--registry needs a value}"; shift ;;
            --base-image) BASE_IMAGE="${2:?--base-image needs a value}"; shift ;;
            --sklearn-version) SKLEARN_VERSION="${2:?--sklearn-version needs a value}"; shift ;;
            --platform) PLATFORM="${2:?--platform needs a value}"; shift ;;
            --images) IMAGES="${2:?--images needs a value}"; shift ;;
            --dry-run) DRY_RUN=1 ;;
            -h | --help) usage; exit 0 ;;
            *) usage >&2; die "unknown argument: $1" ;;
        esac
        shift
    done
    if [[ -n "$EXTRA_TAG" && ! "$EXTRA_TAG" =~ ^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$ ]]; then
        die "--tag '$EXTRA_TAG' is not a valid image tag"
    fi
    if [[ -n "$SKLEARN_VERSION" && ! "$SKLEARN_VERSION" =~ ^[0-9]+(\.[0-9A-Za-z]+)*$ ]]; then
        die "--sklearn-version '$SKLEARN_VERSION' is not a version like 1.5.2"
    fi
    if [[ "$ACTION" != build && -z "$REGISTRY" ]]; then
        die "'$ACTION' needs --registry (e.g. 127.0.0.1:5000 or ACCOUNT.dkr.ecr.REGION.amazonaws.com)"
    fi
}

check_docker() {
    ((DRY_RUN == 1)) && return 0
    command -v docker >/dev/null 2>&1 || die "the docker CLI is not installed"
    docker info >/dev/null 2>&1 || die "no Docker engine answers (is dockerd running? try scripts/setup-machine.sh)"
}

native_platform() {
    local arch
    case "$(uname -m)" in
        x86_64) arch=amd64 ;;
        aarch64 | arm64) arch=arm64 ;;
        *) arch="$(uname -m)" ;;
    esac
    printf 'linux/%s' "$arch"
}

check_platform() {
    local native
    native="$(native_platform)"
    if [[ -z "$PLATFORM" || "$PLATFORM" == "$native" ]]; then
        PLATFORM="$native"
        return 0
    fi
    if ((DRY_RUN == 0)) && ! docker buildx inspect 2>/dev/null | grep -q "$PLATFORM"; then
        die "this builder cannot build for $PLATFORM (native: $native); install docker buildx with QEMU emulation for $PLATFORM"
    fi
}

# image name -> Dockerfile and extras
image_dockerfile() {
    case "$1" in
        preprocess | xgboost) printf '%s/Dockerfile.preprocess' "$ROOT" ;;
        postprocess) printf '%s/Dockerfile.postprocess' "$ROOT" ;;
        *) die "unknown image '$1' (known: preprocess, postprocess, xgboost)" ;;
    esac
}

image_extras() {
    case "$1" in
        preprocess) printf 'serving,sklearn,sparkml' ;;
        postprocess) printf 'serving,sklearn' ;;
        xgboost) printf 'serving,xgboost' ;;
    esac
}

wheel_platform_args() {
    # Wheels for the target, not the host: CPython 3.11 manylinux for the platform's arch.
    local arch="${PLATFORM#linux/}"
    case "$arch" in
        amd64) arch=x86_64 ;;
        arm64) arch=aarch64 ;;
    esac
    printf '%s\n' --only-binary=:all: --python-version 3.11 --implementation cp \
        --platform "manylinux2014_${arch}" --platform "manylinux_2_28_${arch}" \
        --platform "manylinux_2_17_${arch}"
}

prepare_context() {
    local image="$1" context="$2"
    local extras
    extras="$(image_extras "$image")"
    mkdir -p "$context/wheelhouse"
    local -a sklearn_args=()
    [[ -n "$SKLEARN_VERSION" ]] && sklearn_args=(--sklearn-version "$SKLEARN_VERSION")
    "$PYTHON" "$ROOT/scripts/requirements_for.py" "$extras" "${sklearn_args[@]}" \
        >"$context/download-requirements.txt"
    "$PYTHON" "$ROOT/scripts/requirements_for.py" "$extras" "${sklearn_args[@]}" --constraints \
        >"$context/constraints.txt"
    say "wheelhouse for $image: $(tr '\n' ' ' <"$context/download-requirements.txt")"
    local -a platform_args
    mapfile -t platform_args < <(wheel_platform_args)
    run "$PYTHON" -m pip download --quiet --disable-pip-version-check --dest "$context/wheelhouse" \
        "${platform_args[@]}" -r "$context/download-requirements.txt" -c "$context/constraints.txt" \
        || die "downloading wheels for $image failed (see pip's message above)"
    local own_wheel="$WHEEL_DIR/inferpipe-$VERSION-py3-none-any.whl"
    run cp "$own_wheel" "$context/wheelhouse/"
    # The Dockerfiles install with --require-hashes: every wheel must match wheels.lock.
    run "$PYTHON" "$ROOT/scripts/lock_wheels.py" --requirements "$context/wheelhouse" \
        --own-wheel "$own_wheel" >"$context/requirements.txt" \
        || die "the wheelhouse for $image does not match wheels.lock (see above)"
}

build_own_wheel() {
    WHEEL_DIR="$BUILD_DIR/dist"
    rm -rf "$WHEEL_DIR"
    mkdir -p "$WHEEL_DIR"
    say "building the inferpipe wheel"
    run "$PYTHON" -m pip wheel --quiet --disable-pip-version-check --no-deps \
        --wheel-dir "$WHEEL_DIR" "$ROOT" || die "building the inferpipe wheel failed"
}

build_image() {
    local image="$1" name="inferpipe-$1"
    local context="$BUILD_DIR/context-$image"
    rm -rf "$context"
    prepare_context "$image" "$context"
    local -a args=(build --file "$(image_dockerfile "$image")" --platform "$PLATFORM"
        --build-arg "INFERPIPE_VERSION=$VERSION"
        --build-arg "INFERPIPE_REVISION=$REVISION"
        --build-arg "INFERPIPE_CREATED=$CREATED"
        --build-arg "INFERPIPE_IMAGE_TITLE=$name"
        --tag "$name:$VERSION$TAG_SUFFIX" --tag "$name:$REVISION$TAG_SUFFIX"
        --tag "$name:latest$TAG_SUFFIX")
    [[ -n "$EXTRA_TAG" ]] && args+=(--tag "$name:$EXTRA_TAG")
    [[ -n "$BASE_IMAGE" ]] && args+=(--build-arg "BASE_IMAGE=$BASE_IMAGE")
    # The built-in XGBoost stand-in serves one stage kind whatever the model dir holds.
    [[ "$image" == xgboost ]] && args+=(--build-arg "INFERPIPE_DEFAULT_STAGE=xgboost")
    say "building $name:$VERSION ($REVISION) for $PLATFORM"
    local started=$SECONDS
    run docker "${args[@]}" "$context" || die "docker build of $name failed"
    if ((DRY_RUN == 0)); then
        local size
        size="$(docker image inspect --format '{{.Size}}' "$name:latest$TAG_SUFFIX")"
        say "built $name:latest$TAG_SUFFIX in $((SECONDS - started)) s, size $((size / 1024 / 1024)) MiB"
    fi
}

is_ecr() {
    [[ "$REGISTRY" =~ ^[0-9]{12}\.dkr\.ecr(-fips)?\.[a-z0-9-]+\.amazonaws\.com(\.cn)?$ ]]
}

registry_login() {
    local -a names=()
    local image
    for image in "${IMAGE_LIST[@]}"; do
        names+=("inferpipe-$image")
    done
    if is_ecr; then
        say "logging in to ECR $REGISTRY (token from boto3; repositories created if missing)"
        if ((DRY_RUN == 1)); then
            printf '+ %s ecr login %s | docker login --username AWS --password-stdin %s\n' \
                "$PYTHON" "$REGISTRY" "$REGISTRY" >&2
            return 0
        fi
        "$PYTHON" "$ROOT/scripts/ecr.py" "$REGISTRY" "${names[@]}" \
            | docker login --username AWS --password-stdin "$REGISTRY" >/dev/null \
            || die "ECR login to $REGISTRY failed"
    elif [[ -n "${INFERPIPE_REGISTRY_USER:-}" ]]; then
        [[ -n "${INFERPIPE_REGISTRY_PASSWORD:-}" ]] || die "INFERPIPE_REGISTRY_USER is set but INFERPIPE_REGISTRY_PASSWORD is not"
        say "logging in to $REGISTRY as $INFERPIPE_REGISTRY_USER"
        if ((DRY_RUN == 1)); then
            printf '+ docker login --username %s --password-stdin %s\n' "$INFERPIPE_REGISTRY_USER" "$REGISTRY" >&2
            return 0
        fi
        printf '%s' "$INFERPIPE_REGISTRY_PASSWORD" \
            | docker login --username "$INFERPIPE_REGISTRY_USER" --password-stdin "$REGISTRY" >/dev/null \
            || die "docker login to $REGISTRY failed"
    else
        say "no INFERPIPE_REGISTRY_USER set: pushing with the credentials docker already has"
    fi
}

push_image() {
    local name="inferpipe-$1" tag
    local -a tags=("$VERSION$TAG_SUFFIX" "$REVISION$TAG_SUFFIX" "latest$TAG_SUFFIX")
    [[ -n "$EXTRA_TAG" ]] && tags+=("$EXTRA_TAG")
    for tag in "${tags[@]}"; do
        run docker tag "$name:$tag" "$REGISTRY/$name:$tag" || die "tagging $name:$tag failed (build it first)"
        run docker push --quiet "$REGISTRY/$name:$tag" || die "pushing $REGISTRY/$name:$tag failed"
    done
    say "pushed $REGISTRY/$name (${tags[*]})"
}

main() {
    parse_args "$@"
    check_docker
    check_platform
    IFS=',' read -r -a IMAGE_LIST <<<"$IMAGES"
    local image
    for image in "${IMAGE_LIST[@]}"; do
        image_dockerfile "$image" >/dev/null
    done
    BUILD_DIR="$ROOT/build/images"
    VERSION="$("$PYTHON" -c 'import re,sys; print(re.search(r"__version__ = \"([^\"]+)\"", open(sys.argv[1]).read()).group(1))' "$ROOT/inferpipe/_version.py")"
    REVISION="$(git -C "$ROOT" rev-parse --short=12 HEAD 2>/dev/null || printf 'nogit')"
    if [[ -n "$(git -C "$ROOT" status --porcelain 2>/dev/null)" ]]; then
        REVISION="$REVISION-dirty"
    fi
    CREATED="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
    # An image for another scikit-learn gets its own tags, so it never replaces the default.
    TAG_SUFFIX=""
    [[ -n "$SKLEARN_VERSION" ]] && TAG_SUFFIX="-sklearn$SKLEARN_VERSION"
    if [[ "$ACTION" == build || "$ACTION" == all ]]; then
        build_own_wheel
        for image in "${IMAGE_LIST[@]}"; do
            build_image "$image"
        done
    fi
    if [[ "$ACTION" == push || "$ACTION" == all ]]; then
        registry_login
        for image in "${IMAGE_LIST[@]}"; do
            push_image "$image"
        done
    fi
}

main "$@"
