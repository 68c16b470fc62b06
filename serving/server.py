"""Run the container runtime: load the stage, then serve it with gunicorn.

This is what `docker run IMAGE serve` and `inferpipe serve` execute.
"""

from __future__ import annotations

import gc
import logging
import sys
from typing import Any

from inferpipe.protocol.errors import InferpipeError
from inferpipe.serving.app import create_app
from inferpipe.serving.gunicorn_conf import gunicorn_options, recycle_worker
from inferpipe.serving.settings import ServingSettings
from inferpipe.serving.stage_loader import load_stage

logger = logging.getLogger(__name__)

LOG_FORMAT = "%(asctime)s %(levelname)s [%(process)d] %(name)s: %(message)s"


def configure_logging(level: int) -> None:
    """Send logs to stderr at `level`; only entry points call this."""
    logging.basicConfig(level=level, format=LOG_FORMAT, stream=sys.stderr, force=True)


def serve(settings: ServingSettings) -> int:
    """Load the stage and serve until SIGTERM; returns the process exit code.

    A stage that cannot load stops the start with one ERROR line naming the file
    and the reason, and exit code 1, so SageMaker reports a failed health check fast.
    """
    from gunicorn.app.base import BaseApplication

    configure_logging(settings.log_level)
    try:
        stage = load_stage(settings)
        app = create_app(stage, settings, on_timeout=recycle_worker)
    except InferpipeError as exc:
        logger.error("cannot start: %s", exc.message)
        return 1

    options = gunicorn_options(settings, stage)
    # Everything loaded so far (the model, pandas, scikit-learn) lives as long as the
    # process: out of the collector's sight, a full collection scans only request garbage.
    gc.collect()
    gc.freeze()

    class _Runtime(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            for key, value in options.items():
                if value is not None:
                    self.cfg.set(key, value)

        def load(self) -> Any:
            return app

    logger.info(
        "serving stage=%s model_dir=%s port=%d workers=%d threads=%d",
        stage.kind,
        settings.model_dir,
        settings.port,
        settings.worker_count,
        settings.threads,
    )
    _Runtime().run()
    return 0
