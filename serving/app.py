"""The Flask application factory: one loaded stage, its settings, JSON errors.

https://docs.aws.amazon.com/sagemaker/latest/dg/your-algorithms-inference-code.html
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from flask import Flask, Response, jsonify
from werkzeug.exceptions import HTTPException

from inferpipe.serving.errors import ConfigError, InferpipeError, StageFailed
from inferpipe.serving.media import ANY
from inferpipe.serving.routes import access_log, blueprint
from inferpipe.serving.settings import ServingSettings
from inferpipe.serving.stage import Stage

logger = logging.getLogger(__name__)


def _error_response(error: InferpipeError, stage_kind: str) -> tuple[Response, int]:
    body = {"error": error.code, "message": error.message, "stage": stage_kind}
    return jsonify(body), error.status


def check_default_accept(stage: Stage, settings: ServingSettings) -> None:
    """Refuse to start when the default response type is one the stage cannot emit."""
    if ANY in stage.emits:
        return
    if settings.default_accept and settings.default_accept not in stage.emits:
        raise ConfigError(
            f"SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT={settings.default_accept!r} is not emitted "
            f"by the {stage.kind} stage; use one of: {', '.join(stage.emits)}"
        )


def create_app(
    stage: Stage, settings: ServingSettings, on_timeout: Callable[[], None] | None = None
) -> Flask:
    """Build the WSGI app serving `stage` (already loaded).

    `on_timeout` runs after a request times out; gunicorn passes a callback that
    recycles the worker, since a stuck thread cannot be stopped from outside.
    """
    check_default_accept(stage, settings)
    app = Flask("inferpipe.serving")
    app.config["MAX_CONTENT_LENGTH"] = None
    app.extensions["inferpipe"] = {
        "stage": stage,
        "settings": settings,
        "on_timeout": on_timeout or (lambda: None),
    }
    app.register_blueprint(blueprint)
    app.after_request(access_log)

    @app.errorhandler(InferpipeError)
    def handle_inferpipe_error(error: InferpipeError) -> tuple[Response, int]:
        if error.status >= 500:
            logger.error("%s: %s", error.code, error.message, exc_info=error)
        else:
            logger.warning("%s %s: %s", error.status, error.code, error.message)
        return _error_response(error, stage.kind)

    @app.errorhandler(HTTPException)
    def handle_http_error(error: HTTPException) -> tuple[Response, int]:
        body = {
            "error": (error.name or "error").lower().replace(" ", "-"),
            "message": error.description or "",
            "stage": stage.kind,
        }
        return jsonify(body), error.code or 500

    @app.errorhandler(Exception)
    def handle_unexpected(error: Exception) -> tuple[Response, int]:
        logger.error("unexpected failure in stage %s", stage.kind, exc_info=error)
        return _error_response(
            StageFailed("the stage failed on this request; the container log has details"),
            stage.kind,
        )

    return app
