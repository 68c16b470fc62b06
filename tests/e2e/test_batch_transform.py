"""`inferpipe local transform` splits and batches like SageMaker, and agrees with the endpoint."""

from __future__ import annotations

from pathlib import Path

import pytest
from inferpipe_testing.abalone import raw_rows
from inferpipe_testing.local import EXAMPLE, local_endpoint

from inferpipe.cli import main


@pytest.mark.parametrize("strategy", ["MultiRecord", "SingleRecord"])
def test_batch_output_matches_the_endpoint_line_for_line(
    abalone_dir: Path, tmp_path: Path, strategy: str, engine: str
) -> None:
    count = 1200 if strategy == "MultiRecord" else 60
    text = raw_rows(count, EXAMPLE / "data" / "abalone.csv")
    spec_text = (
        (abalone_dir / "spec.yaml")
        .read_text()
        .replace("content_type: text/csv", f"content_type: text/csv\n  strategy: {strategy}")
    )
    spec = abalone_dir / f"spec-{strategy}.yaml"
    spec.write_text(spec_text)
    inputs = tmp_path / "in"
    (inputs / "nested").mkdir(parents=True)
    lines = text.splitlines(keepends=True)
    (inputs / "first.csv").write_text("".join(lines[: count // 3]))
    (inputs / "nested" / "second.csv").write_text("".join(lines[count // 3 :]))
    assert (
        main(
            [
                "local",
                "transform",
                str(spec),
                "--input",
                str(inputs),
                "--output",
                str(tmp_path / "out"),
                "--engine",
                engine,
                "--state-dir",
                str(tmp_path / "state"),
            ]
        )
        == 0
    )
    produced = (tmp_path / "out" / "first.csv.out").read_text().splitlines() + (
        tmp_path / "out" / "nested" / "second.csv.out"
    ).read_text().splitlines()
    with local_endpoint(spec, engine, tmp_path / "state-endpoint") as client:
        answer = client.invoke_endpoint(
            EndpointName="abalone", Body=text.encode(), ContentType="text/csv", Accept="text/csv"
        )
    assert produced == answer["Body"].read().decode().splitlines()
    assert len(produced) == count


def test_batch_payloads_respect_max_payload(tmp_path: Path) -> None:
    from inferpipe.pipeline_spec.local.batch import payloads
    from inferpipe.pipeline_spec.model import TransformSpec

    job = TransformSpec(
        model="m", input="s3://bucket/in", output="s3://bucket/out", max_payload_mb=1
    )
    data = b"".join(b"%07d,%s\n" % (i, b"x" * 90) for i in range(30000))
    bodies = list(payloads(data, job))
    assert all(len(body) <= 1024 * 1024 for body, _ in bodies)
    assert sum(count for _, count in bodies) == 30000 and len(bodies) == 3
    single = job.model_copy(update={"strategy": "SingleRecord"})
    assert len(list(payloads(b"a\nb\n\nc\n", single))) == 3
    whole = job.model_copy(update={"split_type": "None", "strategy": "SingleRecord"})
    assert list(payloads(b"a\nb\n", whole)) == [(b"a\nb\n", 1)]
