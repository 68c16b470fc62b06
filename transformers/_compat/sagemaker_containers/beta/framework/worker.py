"""`worker.Response`: what older serving scripts return from `output_fn`."""

from __future__ import annotations

from typing import Any

import flask

from . import content_types


class Response(flask.Response):  # type: ignore[misc]
    """A Flask response whose default mimetype is JSON, as in `sagemaker_containers`."""

    default_mimetype = content_types.JSON

    def __init__(
        self,
        response: Any = None,
        accept: str | None = None,
        status: int = 200,
        headers: Any = None,
        mimetype: str | None = None,
        direct_passthrough: bool = False,
    ) -> None:
        super().__init__(response, status, headers, mimetype, None, direct_passthrough)
