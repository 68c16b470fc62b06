"""The local endpoint with the docker engine: the images built by build.sh, one per hop."""

from __future__ import annotations

import json
from pathlib import Path

from inferpipe_testing.abalone import compose, raw_rows
from inferpipe_testing.local import EXAMPLE, local_endpoint


def test_docker_engine_equals_the_in_process_composition(
    images: dict[str, str], abalone_dir: Path, tmp_path: Path
) -> None:
    text = raw_rows(1000, EXAMPLE / "data" / "abalone.csv")
    with local_endpoint(abalone_dir / "spec.yaml", "docker", tmp_path / "state") as client:
        answer = client.invoke_endpoint(
            EndpointName="abalone",
            Body=text.encode(),
            ContentType="text/csv",
            Accept="application/json",
        )
        pinned = client.invoke_endpoint(
            EndpointName="abalone", Body=text.encode(), ContentType="text/csv", TargetVariant="B"
        )
    assert json.loads(answer["Body"].read())["predictions"] == compose(abalone_dir / "build", text)
    assert pinned["InvokedProductionVariant"] == "B"
    assert len(pinned["Body"].read().decode().splitlines()) == 1000
