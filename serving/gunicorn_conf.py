"""gunicorn configuration for the runtime: gthread workers (`worker.py`), graceful drain,
per-worker warm-up.

The stage loads once in the master before fork; threaded numeric code (OpenMP,
BLAS pools) must not start there, so `warm_up` runs in each worker after fork.
"""

from __future__ import annotations

import logging
import os
import signal
from typing import Any

from inferpipe.protocol import names
from inferpipe.protocol.errors import RequestTimeout
from inferpipe.serving.invocation import error_body
from inferpipe.serving.settings import GRACEFUL_TIMEOUT_SECONDS, ServingSettings
from inferpipe.serving.stage import Stage
from inferpipe.serving.worker import raw_answer

logger = logging.getLogger(__name__)


def recycle_worker() -> None:
    """Ask this worker to finish in-flight requests and exit, so gunicorn starts a fresh one.

    Called after a 504: the timed-out thread may still be running and cannot be killed.
    """
    logger.warning("recycling worker pid=%d after a request timeout", os.getpid())
    os.kill(os.getpid(), signal.SIGTERM)


def configure_worker(worker: Any, settings: ServingSettings, stage_kind: str) -> None:
    """Give the worker class its request read bound, the payload limit and its 408."""
    worker.request_read_timeout = float(settings.request_read_timeout)
    worker.max_body_bytes = settings.max_payload_bytes
    message = (
        f"the request did not arrive within {settings.request_read_timeout} s "
        f"({names.REQUEST_READ_TIMEOUT})"
    )
    worker.stage_kind = stage_kind
    worker.timeout_answer = raw_answer(
        408, "Request Timeout", error_body(RequestTimeout.code, message, stage_kind)
    )
    truncated = "the connection ended before the request (headers and declared body) arrived"
    worker.truncated_answer = raw_answer(
        400, "Bad Request", error_body("malformed-request", truncated, stage_kind)
    )


def _gunicorn_level(level: int) -> str:
    name = logging.getLevelName(level)
    return name.lower() if name in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"} else "info"


def gunicorn_options(settings: ServingSettings, stage: Stage) -> dict[str, Any]:
    """The gunicorn settings for serving `stage` under `settings`."""

    def post_fork(_server: Any, worker: Any) -> None:
        configure_worker(worker, settings, stage.kind)
        stage.warm_up()
        logger.debug("worker pid=%d warmed up", worker.pid)

    return {
        "bind": f"{settings.host}:{settings.port}",
        "workers": settings.worker_count,
        "worker_class": "inferpipe.serving.worker.BalancedThreadWorker",
        "threads": settings.threads,
        # gthread heartbeats from its main loop, so this only catches hung workers;
        # request deadlines are enforced in the app (504).
        "timeout": settings.timeout + GRACEFUL_TIMEOUT_SECONDS,
        "graceful_timeout": GRACEFUL_TIMEOUT_SECONDS,
        "keepalive": 75,
        "preload_app": True,
        "accesslog": None,
        "errorlog": "-",
        "loglevel": _gunicorn_level(settings.log_level),
        "worker_tmp_dir": "/dev/shm" if os.path.isdir("/dev/shm") else None,
        "post_fork": post_fork,
        "proc_name": f"inferpipe-{stage.kind}",
        "limit_request_line": 8190,
        # gunicorn's control socket lives in $HOME, which is read-only in containers.
        "control_socket_disable": True,
    }
