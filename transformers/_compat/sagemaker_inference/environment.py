"""The serving environment, read from SageMaker's variables as the toolkit reads it."""

from __future__ import annotations

import os

from . import content_types

base_dir = os.environ.get("SAGEMAKER_BASE_DIR", "/opt/ml")
model_dir = os.path.join(base_dir, "model")
code_dir = os.path.join(model_dir, "code")


class Environment:
    """What a script may ask of the serving environment."""

    def __init__(self) -> None:
        self._module_name = os.environ.get("SAGEMAKER_PROGRAM")
        self._model_server_timeout = int(os.environ.get("SAGEMAKER_MODEL_SERVER_TIMEOUT", 60))
        self._model_server_workers = os.environ.get("SAGEMAKER_MODEL_SERVER_WORKERS")
        self._default_accept = os.environ.get(
            "SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT", content_types.JSON
        )
        self._inference_http_port = os.environ.get("SAGEMAKER_BIND_TO_PORT", "8080")

    @property
    def module_name(self) -> str | None:
        return self._module_name

    @property
    def model_server_timeout(self) -> int:
        return self._model_server_timeout

    @property
    def model_server_workers(self) -> str | None:
        return self._model_server_workers

    @property
    def default_accept(self) -> str:
        return self._default_accept

    @property
    def inference_http_port(self) -> str:
        return self._inference_http_port
