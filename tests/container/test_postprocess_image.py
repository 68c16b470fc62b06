"""The postprocess image: declarative steps, sklearn inverse transforms and scripts."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import joblib
from inferpipe_testing.containers import Container, start_container


def test_postprocess_steps_with_a_label_encoder(
    images: dict[str, str], tmp_path: Path, containers: list[Container]
) -> None:
    from sklearn.preprocessing import LabelEncoder

    joblib.dump(LabelEncoder().fit(["adult", "old", "young"]), tmp_path / "bands.joblib")
    (tmp_path / "postprocess.json").write_text(
        json.dumps(
            {
                "input_columns": ["rings", "band_index"],
                "steps": [
                    {
                        "op": "inverse_transform",
                        "artifact": "bands.joblib",
                        "columns": ["band_index"],
                        "output": "band",
                    },
                    {"op": "round", "decimals": 1, "columns": ["rings"]},
                    {"op": "select", "columns": ["rings", "band"]},
                ],
            }
        )
    )
    container = start_container(images["postprocess"], tmp_path)
    containers.append(container)
    response = container.post(
        "9.26,0\n15.0,1\n", "text/csv; charset=utf-8", accept="application/json"
    )
    assert response.status_code == 200, response.text
    assert response.json() == {
        "predictions": [{"rings": 9.3, "band": "adult"}, {"rings": 15.0, "band": "old"}]
    }
    assert container.post("9.26,0\n", "text/csv").text == "9.3,adult\n"
    bad = container.post("9.26\n", "text/csv")
    assert bad.status_code == 400 and "2 names" in bad.json()["message"]
    assert container.post("1,2\n", "text/csv").status_code == 200


def test_script_stage_runs_in_the_postprocess_image(
    images: dict[str, str], tmp_path: Path, containers: list[Container]
) -> None:
    (tmp_path / "code").mkdir()
    (tmp_path / "code" / "inference.py").write_text(
        textwrap.dedent("""
        import json

        def model_fn(model_dir):
            return {"suffix": "!"}

        def input_fn(body, content_type):
            return [line for line in body.splitlines() if line]

        def predict_fn(data, model):
            return [line + model["suffix"] for line in data]

        def output_fn(prediction, accept):
            return json.dumps({"out": prediction}), "application/json"
    """)
    )
    container = start_container(images["postprocess"], tmp_path)
    containers.append(container)
    response = container.post("a\nb\n", "text/csv")
    assert response.json() == {"out": ["a!", "b!"]}
    assert response.headers["Content-Type"] == "application/json"
