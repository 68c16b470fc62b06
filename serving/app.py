"""The Flask application factory: one loaded stage, its settings, JSON errors.

https://docs.aws.amazon.com/sagemaker/latest/dg/your-algorithms-inference-code.html
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask, Response

from inferpipe.serving.hot_path import HotPath, failure_answer
from inferpipe.serving.invocation import check_default_accept
from inferpipe.serving.routes import access_log, as_response, blueprint
from inferpipe.serving.settings import ServingSettings
from inferpipe.serving.stage import Stage


def create_app(
    stage: Stage, settings: ServingSettings, on_timeout: Callable[[], None] | None = None
) -> Flask:
    """Build the WSGI app serving `stage` (already loaded).

    `on_timeout` runs after a request times out; gunicorn passes a callback that
    recycles the worker, since a stuck thread cannot be stopped from outside. The two
    hot routes are answered by `HotPath`, which wraps Flask's WSGI callable.
    """
    check_default_accept(stage, settings)
    app = Flask("inferpipe.serving")
    app.config["MAX_CONTENT_LENGTH"] = None
    hot_path = HotPath(app.wsgi_app, stage, settings, on_timeout or (lambda: None))
    app.extensions["inferpipe"] = {"stage": stage, "settings": settings, "hot_path": hot_path}
    app.register_blueprint(blueprint)
    app.after_request(access_log)
    app.wsgi_app = hot_path  # type: ignore[method-assign]

    @app.errorhandler(Exception)
    def handle_error(error: Exception) -> Response:
        # Werkzeug's HTTP errors (404, 405) come here too, as JSON like every other.
        return as_response(failure_answer(error, stage.kind))

    return app
