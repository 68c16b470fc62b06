from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import joblib
import pandas as pd
import pytest

from inferpipe.protocol import media
from inferpipe.protocol.errors import ArtifactError, SchemaMismatch
from inferpipe.serving import codecs
from inferpipe.serving.settings import ServingSettings
from inferpipe.transformers.postprocess import PostprocessStage


def stage_with(tmp_path: Path, document: dict[str, Any]) -> PostprocessStage:
    (tmp_path / "postprocess.json").write_text(json.dumps(document))
    stage = PostprocessStage()
    stage.load(tmp_path, ServingSettings.from_environ({}))
    return stage


def records(stage: PostprocessStage, body: bytes) -> list[Any]:
    frame = codecs.decode(body, media.parse_media_type("text/csv"), None)
    return json.loads(codecs.encode(stage.transform(frame), media.JSON))["predictions"]


def test_threshold_with_labels_and_named_input(tmp_path: Path) -> None:
    stage = stage_with(
        tmp_path,
        {
            "input_columns": ["score"],
            "steps": [
                {"op": "threshold", "column": "score", "value": 0.5, "labels": ["no", "yes"]}
            ],
        },
    )
    assert records(stage, b"0.7\n0.2\n") == [
        {"score": 0.7, "label": "yes"},
        {"score": 0.2, "label": "no"},
    ]


def test_argmax_with_labels_and_score(tmp_path: Path) -> None:
    stage = stage_with(
        tmp_path,
        {
            "steps": [
                {"op": "argmax", "labels": ["cat", "dog", "eel"], "score_output": "score"},
                {"op": "select", "columns": ["label", "score"]},
            ]
        },
    )
    assert records(stage, b"0.1,0.7,0.2\n0.5,0.2,0.3\n") == [
        {"label": "dog", "score": 0.7},
        {"label": "cat", "score": 0.5},
    ]


def test_top_k_gives_labels_and_scores_best_first(tmp_path: Path) -> None:
    stage = stage_with(
        tmp_path,
        {
            "steps": [
                {"op": "top_k", "k": 2, "labels": ["a", "b", "c"]},
                {"op": "select", "columns": ["labels", "scores"]},
            ]
        },
    )
    assert records(stage, b"0.1,0.7,0.2\n") == [{"labels": ["b", "c"], "scores": [0.7, 0.2]}]


def test_top_k_csv_output_is_flattened(tmp_path: Path) -> None:
    stage = stage_with(
        tmp_path,
        {
            "steps": [
                {"op": "top_k", "k": 2, "labels": ["a", "b", "c"]},
                {"op": "select", "columns": ["labels", "scores"]},
            ]
        },
    )
    frame = codecs.decode(b"0.1,0.7,0.2\n", media.parse_media_type("text/csv"), None)
    assert codecs.encode(stage.transform(frame), media.CSV) == b"b,c,0.7,0.2\n"


def test_label_map_bins_round_and_rename(tmp_path: Path) -> None:
    stage = stage_with(
        tmp_path,
        {
            "input_columns": ["cls", "rings"],
            "steps": [
                {"op": "label_map", "column": "cls", "map": {"0": "female", "1": "male"}},
                {
                    "op": "bins",
                    "column": "rings",
                    "edges": [8, 11],
                    "labels": ["young", "adult", "old"],
                    "output": "age",
                },
                {"op": "round", "decimals": 1, "columns": ["rings"]},
                {"op": "rename", "columns": {"cls": "sex"}},
            ],
        },
    )
    assert records(stage, b"0,7.26\n1,9.0\n2,14.5\n") == [
        {"sex": "female", "rings": 7.3, "age": "young"},
        {"sex": "male", "rings": 9.0, "age": "adult"},
        {"sex": 2.0, "rings": 14.5, "age": "old"},
    ]


def test_inverse_transform_with_a_fitted_label_encoder(tmp_path: Path) -> None:
    from sklearn.preprocessing import LabelEncoder

    joblib.dump(LabelEncoder().fit(["ant", "bee", "cow"]), tmp_path / "labels.joblib")
    stage = stage_with(
        tmp_path,
        {
            "steps": [
                {"op": "inverse_transform", "artifact": "labels.joblib", "output": "label"},
                {"op": "select", "columns": ["label"]},
            ]
        },
    )
    assert records(stage, b"2\n0\n") == [{"label": "cow"}, {"label": "ant"}]


def test_unknown_op_fails_at_load_naming_the_step(tmp_path: Path) -> None:
    with pytest.raises(ArtifactError, match=r"steps\[1\]"):
        stage_with(tmp_path, {"steps": [{"op": "round", "decimals": 1}, {"op": "explode"}]})


def test_missing_parameter_fails_at_load(tmp_path: Path) -> None:
    with pytest.raises(ArtifactError, match=r"steps\[0\] \(threshold\).*value"):
        stage_with(tmp_path, {"steps": [{"op": "threshold", "column": 0}]})


def test_unknown_column_is_a_400_listing_the_columns(tmp_path: Path) -> None:
    stage = stage_with(tmp_path, {"steps": [{"op": "select", "columns": ["nope"]}]})
    with pytest.raises(SchemaMismatch, match="no column 'nope'"):
        stage.transform(pd.DataFrame([[1.0]]))


def test_wrong_input_width_is_a_400(tmp_path: Path) -> None:
    stage = stage_with(tmp_path, {"input_columns": ["a", "b"], "steps": []})
    with pytest.raises(SchemaMismatch, match="1 fields, 2 names"):
        stage.transform(pd.DataFrame([[1.0]]))


def test_text_in_a_numeric_step_is_a_400(tmp_path: Path) -> None:
    stage = stage_with(tmp_path, {"steps": [{"op": "threshold", "column": 0, "value": 1}]})
    with pytest.raises(SchemaMismatch, match="must hold numbers"):
        stage.transform(pd.DataFrame([["abc"]]))


@pytest.mark.parametrize(
    ("document", "problem"),
    [
        (
            {"input_columns": ["a", "b", "c"], "steps": [{"op": "argmax", "labels": ["x", "y"]}]},
            r"steps\[0\] \(argmax\): 3 score columns but 2 labels",
        ),
        (
            {"steps": [{"op": "top_k", "k": 1, "columns": [0, 1], "labels": ["x"]}]},
            r"steps\[0\] \(top_k\): 2 score columns but 1 labels",
        ),
        (
            {"steps": [{"op": "threshold", "column": 0, "value": 0.5, "labels": ["only"]}]},
            r"steps\[0\] \(threshold\): needs 2 labels",
        ),
        (
            {"steps": [{"op": "bins", "column": 0, "edges": [1, 2], "labels": ["a", "b"]}]},
            r"steps\[0\] \(bins\): 2 edges need 3 labels",
        ),
        (
            {
                "input_columns": ["score"],
                "steps": [
                    {"op": "threshold", "column": "score", "value": 0.5},
                    {"op": "select", "columns": ["label", "scores"]},
                ],
            },
            r"steps\[1\] \(select\): column 'scores' is not among the columns it receives",
        ),
        ({"steps": [{"op": "top_k", "k": 0}]}, r"steps\[0\] \(top_k\): k must be a positive"),
    ],
)
def test_steps_are_checked_at_load_naming_the_step(
    tmp_path: Path, document: dict[str, Any], problem: str
) -> None:
    with pytest.raises(ArtifactError, match=problem):
        stage_with(tmp_path, document)


def test_fewer_labels_than_score_columns_is_a_400_naming_the_step(tmp_path: Path) -> None:
    stage = stage_with(tmp_path, {"steps": [{"op": "argmax", "labels": ["x", "y"]}]})
    frame = codecs.decode(b"0.1,0.7,0.2\n", media.parse_media_type("text/csv"), None)
    with pytest.raises(SchemaMismatch, match="argmax: records have 3 score columns but the step"):
        stage.transform(frame)
