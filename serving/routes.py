"""The SageMaker container endpoints: `/ping`, `/invocations`, `/execution-parameters`.

https://docs.aws.amazon.com/sagemaker/latest/dg/your-algorithms-inference-code.html
https://docs.aws.amazon.com/sagemaker/latest/dg/your-algorithms-batch-code.html

`POST /invocations` and `GET /ping` are answered by `hot_path.HotPath` before Flask
sees them; their views here give Flask the routes (405s with Allow, HEAD) and answer
through the same code.
"""

from __future__ import annotations

import time

from flask import Blueprint, Response, current_app, g, jsonify, request

from inferpipe.protocol.fused import STAGE_TIMINGS_HEADER
from inferpipe.serving.hot_path import PING, Answer, HotPath, log_access, request_id_of

blueprint = Blueprint("sagemaker", __name__)


def _hot_path() -> HotPath:
    hot_path: HotPath = current_app.extensions["inferpipe"]["hot_path"]
    return hot_path


def as_response(answer: Answer) -> Response:
    return Response(answer.body, status=answer.status, headers=answer.headers)


@blueprint.get("/ping")
def ping() -> Response:
    """200 with an empty body: the app only exists once its stage has loaded."""
    return as_response(PING)


@blueprint.get("/execution-parameters")
def execution_parameters() -> Response:
    settings = _hot_path().settings
    return jsonify(
        {
            "MaxConcurrentTransforms": settings.concurrent_transforms,
            "BatchStrategy": settings.batch_strategy,
            "MaxPayloadInMB": settings.max_payload_mb,
        }
    )


@blueprint.post("/invocations")
def invocations() -> Response:
    return as_response(_hot_path().invocation_answer(request.environ, g.request_id))


@blueprint.before_app_request
def assign_request_id() -> None:
    g.started = time.perf_counter()
    g.request_id = request_id_of(request.environ)


def access_log(response: Response) -> Response:
    """The access line of a request Flask answered, as `HotPath` writes its own."""
    log_access(
        g.get("request_id", "-"),
        request.method,
        request.path,
        response.status_code,
        request.content_length or 0,
        response.calculate_content_length() or 0,
        (time.perf_counter() - g.get("started", time.perf_counter())) * 1000,
        response.headers.get(STAGE_TIMINGS_HEADER),
    )
    response.headers["X-Request-Id"] = str(g.get("request_id", "-"))
    return response
