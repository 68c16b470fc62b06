"""The spec builder: one YAML file to validated SageMaker requests, a template and a deploy.

Three rings, inside out:
- pure data: `model.py` (frozen pydantic models), `builtin_registry.py`;
- pure functions: `resolve.py`, `validation.py`, `render_aws.py`, `render_cfn.py`
  (no boto3, no I/O: tested by comparing dicts);
- effects: `loader.py` (reads files), `package.py` (writes tarballs, uploads),
  `deploy.py`, `teardown.py`, `importer.py` (talk to AWS through boto3),
  `write.py`, and `contract/` (runs containers for `check-container`).

Every CLI command is also a function here, for notebooks.
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    "deploy_spec": "inferpipe.pipeline_spec.deploy",
    "find_issues": "inferpipe.pipeline_spec.validation",
    "import_endpoint": "inferpipe.pipeline_spec.importer",
    "load_spec": "inferpipe.pipeline_spec.loader",
    "package_spec": "inferpipe.pipeline_spec.package",
    "parse_spec": "inferpipe.pipeline_spec.loader",
    "render_requests": "inferpipe.pipeline_spec.render_aws",
    "render_template": "inferpipe.pipeline_spec.render_cfn",
    "shift_traffic": "inferpipe.pipeline_spec.deploy",
    "teardown_spec": "inferpipe.pipeline_spec.teardown",
    "upload_artifacts": "inferpipe.pipeline_spec.package",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'inferpipe.pipeline_spec' has no attribute {name!r}")
