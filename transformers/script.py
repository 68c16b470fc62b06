"""The script stage: a user's `code/inference.py`, as SageMaker's framework containers run it.

Hooks: `model_fn(model_dir)`, `input_fn(body, content_type)`, `predict_fn(data, model)`,
`output_fn(prediction, accept)` — or `transform_fn(model, body, content_type, accept)`
instead of the last three. Each may take one more argument, a context. Signatures
are inspected once, at load. Text bodies (CSV, JSON, JSON Lines) reach `input_fn` as
`str`, others as `bytes`; media types arrive bare, without parameters. As in AWS's
framework containers, the answer defaults to `application/json` (or
SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT), the default output_fn encodes like their toolkit,
and hooks may return a Flask or `worker.Response`. Scripts importing `sagemaker_inference`
or `sagemaker_containers.beta.framework` get our stand-ins (`_compat/`) when the real
package is absent.
https://sagemaker.readthedocs.io/en/stable/frameworks/sklearn/using_sklearn.html
"""

from __future__ import annotations

import importlib.util
import inspect
import logging
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from inferpipe.protocol import media
from inferpipe.protocol.errors import (
    ArtifactError,
    BadInput,
    ClientError,
    InferpipeError,
    status_of,
)
from inferpipe.serving import codecs
from inferpipe.serving.frames import has_named_columns
from inferpipe.serving.settings import ServingSettings
from inferpipe.serving.stage import InvocationRequest, InvocationResponse, Stage
from inferpipe.transformers._joblib import load_joblib
from inferpipe.transformers._script_io import (
    DEFAULT_OUTPUT_TYPES,
    add_compat_modules,
    default_output,
    hook_result,
)

logger = logging.getLogger(__name__)

TEXT_TYPES = {media.CSV, media.JSON, media.JSONLINES, media.LIBSVM}
HOOK_ARITY = {"model_fn": 1, "input_fn": 2, "predict_fn": 2, "output_fn": 2, "transform_fn": 4}


@dataclass(frozen=True)
class ScriptContext:
    """The optional last argument of every hook: what SageMaker's context carries for us."""

    model_dir: str
    request_id: str | None = None
    content_type: str | None = None
    accept: str | None = None
    custom_attributes: str | None = None
    #: The Accept header as received (None when absent): `accept` is the negotiated type.
    accept_header: str | None = None


class _Hook:
    """A user hook and whether it takes the trailing context argument."""

    def __init__(self, name: str, function: Callable[..., Any]) -> None:
        params = [
            p
            for p in inspect.signature(function).parameters.values()
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
        ]
        required = HOOK_ARITY[name]
        if len(params) not in (required, required + 1):
            raise ArtifactError(
                f"{name} takes {len(params)} arguments; SageMaker passes "
                f"{required} (or {required + 1} with context)"
            )
        self.name = name
        self.function = function
        self.wants_context = len(params) == required + 1

    def __call__(self, context: ScriptContext, *args: Any) -> Any:
        return self.function(*args, context) if self.wants_context else self.function(*args)


def install_requirements(code_dir: Path) -> None:
    """pip-install code/requirements.txt into a temporary dir on sys.path (opt-in)."""
    requirements = code_dir / "requirements.txt"
    if not requirements.is_file():
        return
    target = tempfile.mkdtemp(prefix="inferpipe-requirements-")
    logger.info("installing %s into %s", requirements, target)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--no-input",
            "--disable-pip-version-check",
            "--target",
            target,
            "-r",
            str(requirements),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise ArtifactError(f"installing {requirements} failed: {done.stderr.strip()[-800:]}")
    sys.path.insert(0, target)


def import_script(path: Path) -> ModuleType:
    """Import the user's script as a module, with its folder on sys.path for helpers."""
    if not path.is_file():
        raise ArtifactError(f"{path} is missing (SAGEMAKER_PROGRAM names the script)")
    sys.path.insert(0, str(path.parent))
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        raise ArtifactError(f"{path} failed to import: {type(exc).__name__}: {exc}") from exc
    return module


class ScriptStage(Stage):
    """Run a user's inference.py hooks, with inferpipe's codecs as the defaults."""

    kind = "script"
    accepts = (media.ANY,)
    emits = (media.ANY,)

    def default_response_type(self, settings: ServingSettings, content_type: str) -> str:
        """SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT, else JSON, as AWS's framework containers."""
        return settings.default_accept or media.JSON

    def negotiate(self, accept_header: str | None, default: str) -> str:
        return media.negotiate_open_accept(accept_header, DEFAULT_OUTPUT_TYPES, default)

    def load(self, model_dir: Path, settings: ServingSettings) -> None:
        super().load(model_dir, settings)
        standing_in = add_compat_modules()
        if standing_in:
            logger.info("script: inferpipe's stand-ins answer imports of %s", standing_in)
        code_dir = model_dir / "code"
        if settings.submit_directory and Path(settings.submit_directory).is_dir():
            code_dir = Path(settings.submit_directory)
        if settings.install_requirements:
            install_requirements(code_dir)
        module = import_script(code_dir / settings.program)
        hooks = {
            name: _Hook(name, getattr(module, name))
            for name in HOOK_ARITY
            if callable(getattr(module, name, None))
        }
        if "transform_fn" in hooks and hooks.keys() & {"input_fn", "predict_fn", "output_fn"}:
            raise ArtifactError(
                f"{code_dir / settings.program} defines transform_fn together "
                "with input_fn/predict_fn/output_fn; keep one style"
            )
        self.hooks = hooks
        context = ScriptContext(model_dir=str(model_dir))
        self.model = (
            hooks["model_fn"](context, str(model_dir))
            if "model_fn" in hooks
            else self._default_model(model_dir)
        )

    @staticmethod
    def _default_model(model_dir: Path) -> Any:
        if (model_dir / "model.joblib").is_file():
            return load_joblib(model_dir / "model.joblib")
        raise ArtifactError(
            f"inference.py defines no model_fn and {model_dir} has no "
            "model.joblib to load by default"
        )

    def invoke(self, request: InvocationRequest) -> InvocationResponse:
        context = ScriptContext(
            str(self.model_dir),
            request.request_id,
            request.content_type.type,
            request.accept,
            request.custom_attributes,
            request.accept_header,
        )
        content_type = request.content_type.type
        body: str | bytes = request.body
        try:
            if content_type in TEXT_TYPES and self.hooks.keys() & {"input_fn", "transform_fn"}:
                body = request.body.decode(request.content_type.params.get("charset", "utf-8"))
            if "transform_fn" in self.hooks:
                result = self.hooks["transform_fn"](
                    context, self.model, body, content_type, request.accept
                )
            else:
                result = self._three_steps(context, request, body)
        except InferpipeError:
            raise
        except UnicodeDecodeError as exc:
            raise BadInput(f"the body is not valid text: {exc}") from None
        except Exception as exc:
            status = status_of(exc)
            if status is None:
                raise
            raise ClientError(str(exc), status) from exc
        body, content_type = hook_result(result, request.accept)
        return InvocationResponse(body, content_type)

    def _three_steps(
        self, context: ScriptContext, request: InvocationRequest, body: str | bytes
    ) -> Any:
        if "input_fn" in self.hooks:
            data = self.hooks["input_fn"](context, body, request.content_type.type)
        else:
            frame = codecs.decode(request.body, request.content_type, None)
            data = frame if has_named_columns(frame) else frame.to_numpy()
        if "predict_fn" in self.hooks:
            prediction = self.hooks["predict_fn"](context, data, self.model)
        else:
            prediction = self.model.predict(data)
        if "output_fn" in self.hooks:
            return self.hooks["output_fn"](context, prediction, request.accept)
        return default_output(prediction, request.accept)
