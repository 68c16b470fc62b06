"""Load a stage and print its interface as JSON: the child process of the schema chain check.

`python -m inferpipe.serving.interface_probe` with the container's environment (model dir
in SAGEMAKER_MODEL_DIR / INFERPIPE_STAGE and the rest as the container would see them).
It runs apart from the CLI because loading a joblib artifact runs the artifact's code:
whatever the pickle does, it does here, in a process that exits after answering.
Prints `{"interface": ...}` or `{"error": "..."}` on stdout, and exits 0 either way.
"""

from __future__ import annotations

import json
import logging
import sys
from typing import Any

from inferpipe.protocol.errors import InferpipeError


def describe() -> dict[str, Any]:
    from inferpipe.serving.settings import ServingSettings
    from inferpipe.serving.stage_loader import load_stage

    try:
        stage = load_stage(ServingSettings.from_environ())
    except InferpipeError as exc:
        return {"error": exc.message}
    except ImportError as exc:
        return {"error": f"a library the stage needs is not installed here: {exc}"}
    interface = stage.interface()
    if interface is None:
        return {"error": f"the {stage.kind} stage does not declare its columns"}
    return {"interface": interface.to_json()}


def main() -> int:
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    try:
        answer = describe()
    except Exception as exc:  # a user's artifact can raise anything while loading
        answer = {"error": f"{type(exc).__name__}: {exc}"}
    sys.stdout.write(json.dumps(answer) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
