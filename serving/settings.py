"""Every setting of the container runtime, read once from the environment.

`ServingSettings.from_environ` takes any mapping, so tests pass a dict and no
module reads `os.environ` at import time. Each field names its variable, default
and meaning beside it; the README's table is checked against these fields.
https://docs.aws.amazon.com/sagemaker/latest/dg/your-algorithms-inference-code.html
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from inferpipe.protocol import names
from inferpipe.protocol.errors import ConfigError
from inferpipe.protocol.media import format_media_type, parse_media_type

DEFAULT_MODEL_DIR = "/opt/ml/model"
DEFAULT_PORT = 8080
#: Loopback unless told otherwise: a local `inferpipe serve` is not for the network.
DEFAULT_HOST = "127.0.0.1"
#: SageMaker kills a container 30 s after SIGTERM; drain well before that.
GRACEFUL_TIMEOUT_SECONDS = 25
MEGABYTE = 1024 * 1024


def _positive_int(name: str, value: str) -> int:
    try:
        number = int(value.strip())
    except ValueError:
        number = 0
    if number <= 0:
        raise ConfigError(f"{name}={value!r} is not a positive integer")
    return number


def _port(name: str, value: str) -> int:
    port = _positive_int(name, value)
    if port > 65535:
        raise ConfigError(f"{name}={value!r} is not a TCP port (1-65535)")
    return port


def _port_range(name: str, value: str) -> tuple[int, int]:
    low, sep, high = value.partition("-")
    if not sep:
        raise ConfigError(f"{name}={value!r} is not a port range like 20000-20999")
    first, last = _port(name, low), _port(name, high)
    if first > last:
        raise ConfigError(f"{name}={value!r} starts above where it ends")
    return first, last


def _boolean(name: str, value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off", ""}:
        return False
    raise ConfigError(f"{name}={value!r} is not a boolean (true or false)")


def _log_level(name: str, value: str) -> int:
    text = value.strip().upper()
    if text.isdigit():
        return int(text)
    level = logging.getLevelName(text)
    if not isinstance(level, int):
        raise ConfigError(f"{name}={value!r} is not a log level (DEBUG, INFO, 20, ...)")
    return level


def _media_type(name: str, value: str) -> str:
    media = parse_media_type(value)
    if "/" not in media.type:
        raise ConfigError(f"{name}={value!r} is not a media type like text/csv")
    return format_media_type(media)


def _batch_strategy(name: str, value: str) -> str:
    strategy = value.strip().upper()
    if strategy not in {"MULTI_RECORD", "SINGLE_RECORD"}:
        raise ConfigError(f"{name}={value!r} is not MULTI_RECORD or SINGLE_RECORD")
    return strategy


def _text(name: str, value: str) -> str:
    return value


def _sha256_digest(name: str, value: str) -> str:
    digest = value.strip().lower()
    hexdigits = digest.removeprefix("sha256:")
    if (
        not digest.startswith("sha256:")
        or len(hexdigits) != 64
        or hexdigits.strip("0123456789abcdef")
    ):
        raise ConfigError(f"{name}={value!r} is not a digest like sha256:<64 hex digits>")
    return digest


def _env(var: str, parse: Callable[[str, str], Any], doc: str, default: Any = None) -> Any:
    return field(default=default, metadata={"env": var, "parse": parse, "doc": doc})


@dataclass(frozen=True)
class ServingSettings:
    """The runtime's configuration; build it with `from_environ`."""

    model_dir: Path = field(
        default=Path(DEFAULT_MODEL_DIR),
        metadata={
            "env": names.MODEL_DIR,
            "parse": lambda _n, v: Path(v),
            "doc": "where the unpacked model artifact lives",
        },
    )
    host: str = _env(names.HOST, _text, "address to listen on (images set 0.0.0.0)", DEFAULT_HOST)
    port: int = _env(
        names.BIND_TO_PORT, _port, "port to listen on (pipelines set it)", DEFAULT_PORT
    )
    safe_port_range: tuple[int, int] | None = _env(
        names.SAFE_PORT_RANGE, _port_range, "extra ports the container may use"
    )
    workers: int | None = _env(
        names.MODEL_SERVER_WORKERS,
        _positive_int,
        "gunicorn worker processes (default: CPU count)",
    )
    threads: int = _env(
        names.WORKER_THREADS,
        _positive_int,
        "request threads per worker (raise it for I/O-bound scripts)",
        1,
    )
    numeric_threads: int = _env(
        names.NUMERIC_THREADS,
        _positive_int,
        "OpenMP/BLAS threads per worker (workers already use every core)",
        1,
    )
    timeout: int = _env(
        names.MODEL_SERVER_TIMEOUT, _positive_int, "seconds per request before a 504", 60
    )
    request_read_timeout: int = _env(
        names.REQUEST_READ_TIMEOUT,
        _positive_int,
        "seconds a request (headers and body) may take to arrive before a 408",
        30,
    )
    default_accept: str | None = _env(
        names.DEFAULT_INVOCATIONS_ACCEPT,
        _media_type,
        "response type when Accept is absent or */* (default: the request's type)",
    )
    log_level: int = _env(
        names.CONTAINER_LOG_LEVEL, _log_level, "log level, a name or a number", logging.INFO
    )
    program: str = _env(names.PROGRAM, _text, "user script under code/", "inference.py")
    submit_directory: str | None = _env(
        names.SUBMIT_DIRECTORY, _text, "directory of the user script, if not code/"
    )
    sparkml_schema: str | None = _env(
        names.SPARKML_SCHEMA, _text, "input/output schema JSON for the sparkml stage"
    )
    batch: bool = _env(names.BATCH, _boolean, "running inside a batch transform job", False)
    max_payload_mb: int = _env(
        names.MAX_PAYLOAD_IN_MB, _positive_int, "largest request body, in MB", 6
    )
    batch_strategy: str = _env(
        names.BATCH_STRATEGY, _batch_strategy, "MULTI_RECORD or SINGLE_RECORD", "MULTI_RECORD"
    )
    max_concurrent_transforms: int | None = _env(
        names.MAX_CONCURRENT_TRANSFORMS,
        _positive_int,
        "parallel batch requests (default: workers)",
    )
    stage: str | None = _env(
        names.STAGE, _text, "stage kind or module:attr (default: detected from model dir)"
    )
    sklearn_method: str | None = _env(
        names.SKLEARN_METHOD, _text, "transform, predict or predict_proba"
    )
    fast_path: bool = _env(
        names.FAST_PATH,
        _boolean,
        "run scikit-learn steps as compiled numpy kernels where they verify",
        True,
    )
    install_requirements: bool = _env(
        names.INSTALL_REQUIREMENTS,
        _boolean,
        "pip-install code/requirements.txt at start",
        False,
    )
    artifact_sha256: str | None = _env(
        names.ARTIFACT_SHA256,
        _sha256_digest,
        "refuse to start unless the model dir matches this manifest digest (package sets it)",
    )

    @classmethod
    def from_environ(
        cls, environ: Mapping[str, str] | None = None, **overrides: Any
    ) -> ServingSettings:
        """Parse settings from `environ` (default: the process environment).

        Raises ConfigError naming the variable and its value when one is unusable.
        """
        source = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for spec in fields(cls):
            raw = source.get(spec.metadata["env"])
            if raw is not None and raw.strip() != "":
                values[spec.name] = spec.metadata["parse"](spec.metadata["env"], raw)
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)

    @property
    def max_payload_bytes(self) -> int:
        return self.max_payload_mb * MEGABYTE

    @property
    def worker_count(self) -> int:
        return self.workers or os.cpu_count() or 1

    @property
    def concurrent_transforms(self) -> int:
        return self.max_concurrent_transforms or self.worker_count


def describe_settings() -> list[tuple[str, str, str]]:
    """Return (variable, default, doc) for every setting, for docs and `--help`."""
    rows = []
    for spec in fields(ServingSettings):
        default = spec.default
        rows.append(
            (spec.metadata["env"], "" if default is None else str(default), spec.metadata["doc"])
        )
    return rows
