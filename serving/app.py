"""The Flask application factory: one loaded stage, its settings, JSON errors.

https://docs.aws.amazon.com/sagemaker/latest/dg/your-algorithms-inference-code.html
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask, Response
from werkzeug.exceptions import HTTPException

from inferpipe.protocol import media
from inferpipe.protocol.errors import InferpipeError
from inferpipe.serving.invocation import check_default_accept, error_answer, error_body
from inferpipe.serving.routes import access_log, blueprint
from inferpipe.serving.settings import ServingSettings
from inferpipe.serving.stage import Stage


def _error_response(error: Exception, stage_kind: str) -> Response:
    status, body = error_answer(error, stage_kind)
    return Response(body, status=status, content_type=media.JSON)


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
    def handle_inferpipe_error(error: InferpipeError) -> Response:
        return _error_response(error, stage.kind)

    @app.errorhandler(HTTPException)
    def handle_http_error(error: HTTPException) -> Response:
        code = (error.name or "error").lower().replace(" ", "-")
        body = error_body(code, error.description or "", stage.kind)
        # Werkzeug's own headers matter (a 405's Allow); its Content-Type is HTML's.
        headers = [(k, v) for k, v in error.get_headers() if k.lower() != "content-type"]
        return Response(body, status=error.code or 500, headers=headers, content_type=media.JSON)

    @app.errorhandler(Exception)
    def handle_unexpected(error: Exception) -> Response:
        return _error_response(error, stage.kind)

    return app
