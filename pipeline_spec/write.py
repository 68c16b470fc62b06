"""Write rendered requests and the CloudFormation template to a directory (an effect)."""

from __future__ import annotations

import json
from pathlib import Path

from inferpipe.pipeline_spec.botocore_check import check_requests
from inferpipe.pipeline_spec.loader import check_deployable
from inferpipe.pipeline_spec.model import PipelineSpec
from inferpipe.pipeline_spec.render_aws import render_requests
from inferpipe.pipeline_spec.render_cfn import render_template, render_transform_template
from inferpipe.protocol.errors import InferpipeError


def write_rendered(spec: PipelineSpec, out_dir: Path) -> list[Path]:
    """Render, check against botocore, and write `<Operation>.json` files plus
    `template.json` (and `transform-template.json` with a `transform`); returns the paths."""
    check_deployable(spec)
    requests = render_requests(spec)
    problems = check_requests(requests)
    if problems:
        raise InferpipeError(
            "rendered requests do not match botocore's service model "
            "(a bug in inferpipe, please report it):\n  " + "\n  ".join(problems)
        )
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for operation, body in requests.items():
        path = out_dir / f"{operation}.json"
        path.write_text(json.dumps(body, indent=2) + "\n")
        written.append(path)
    template = out_dir / "template.json"
    template.write_text(json.dumps(render_template(spec), indent=2) + "\n")
    written.append(template)
    transform = render_transform_template(spec)
    if transform is not None:
        path = out_dir / "transform-template.json"
        path.write_text(json.dumps(transform, indent=2) + "\n")
        written.append(path)
    return written
