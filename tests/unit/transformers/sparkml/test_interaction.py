"""Interaction's refusals, each a 400 naming the record and the column, as Spark refuses
them (its outputs are compared with Spark's in test_spark_layouts.py, `interaction`)."""

from __future__ import annotations

import numpy as np
import pytest

from inferpipe.protocol.errors import SchemaMismatch
from inferpipe.transformers.sparkml.columns import Frame, vector_column
from inferpipe.transformers.sparkml.convert import column_from_values, python_values
from inferpipe.transformers.sparkml.op import Pipeline
from inferpipe.transformers.sparkml.ops_categorical import StringIndexer
from inferpipe.transformers.sparkml.ops_interaction import Interaction, resolve_attributes
from inferpipe.transformers.sparkml.ops_numeric import StandardScaler


def _frame(**columns: list[object]) -> Frame:
    built = {
        name: column_from_values(
            values, name, "string" if isinstance(values[0], str) else "double", "basic"
        )
        for name, values in columns.items()
    }
    return Frame(built, len(next(iter(columns.values()))))


def test_a_nominal_index_is_expanded_and_a_number_multiplies() -> None:
    indexer = StringIndexer("si", ["c"], ["ci"], labels=[["a", "b"]], handle_invalid="keep")
    interaction = Interaction("ia", ["ci", "x"], ["out"])
    pipeline = Pipeline("p", [], [], stages=[indexer, interaction])
    resolve_attributes(pipeline)
    assert interaction.encodings == [[3], None]
    result = pipeline.apply(_frame(c=["b", "a", "zz"], x=[2.0, 3.0, 4.0]))
    assert python_values(result.get("out", "t")) == [
        [0.0, 2.0, 0.0],
        [3.0, 0.0, 0.0],
        [0.0, 0.0, 4.0],
    ]


def test_null_is_refused_naming_the_record_and_column() -> None:
    interaction = Interaction("ia", ["x", "y"], ["out"], encodings=[None, None])
    with pytest.raises(SchemaMismatch, match="record 2: column 'y' is null"):
        interaction.apply(_frame(x=[1.0, 2.0], y=[1.0, None]))


def test_an_index_beyond_the_nominal_values_is_refused() -> None:
    interaction = Interaction("ia", ["ci", "x"], ["out"], encodings=[[3], None])
    with pytest.raises(
        SchemaMismatch,
        match=r"record 1: column 'ci' holds 5.0 where Spark expects a category index below 3",
    ):
        interaction.apply(_frame(ci=[5.0], x=[1.0]))


def test_a_vector_without_attributes_is_refused_as_spark_refuses_it() -> None:
    scaler = StandardScaler(
        "ss", ["v"], ["s"], mean=np.zeros(2), std=np.ones(2), with_mean=False, with_std=True
    )
    interaction = Interaction("ia", ["s", "x"], ["out"])
    pipeline = Pipeline("p", [], [], stages=[scaler, interaction])
    resolve_attributes(pipeline)
    frame = Frame(
        {
            "v": vector_column(np.ones((1, 2))),
            "x": column_from_values([1.0], "x", "double", "basic"),
        },
        1,
    )
    with pytest.raises(SchemaMismatch, match="Vector attributes must be defined"):
        pipeline.apply(frame)
