"""The serving environment as `sagemaker_containers.beta.framework.env` exposes it."""

from __future__ import annotations

import os

from . import content_types

base_dir = os.environ.get("SAGEMAKER_BASE_DIR", "/opt/ml")
model_dir = os.path.join(base_dir, "model")
code_dir = os.path.join(model_dir, "code")


class ServingEnv:
    """What a serving script may ask of its environment."""

    def __init__(self) -> None:
        self.model_dir = model_dir
        self.module_name = os.environ.get("SAGEMAKER_PROGRAM", "inference.py")
        self.default_accept = os.environ.get(
            "SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT", content_types.JSON
        )
        self.model_server_timeout = int(os.environ.get("SAGEMAKER_MODEL_SERVER_TIMEOUT", 60))
        self.model_server_workers = os.environ.get("SAGEMAKER_MODEL_SERVER_WORKERS")
        self.http_port = os.environ.get("SAGEMAKER_BIND_TO_PORT", "8080")
