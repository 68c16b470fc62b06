"""`sagemaker_containers.beta.framework`: the modules serving scripts import."""

from __future__ import annotations

from . import content_types, encoders, env, errors, worker

__all__ = ["content_types", "encoders", "env", "errors", "worker"]
