"""Our stand-ins for AWS's toolkit modules against the real `sagemaker-inference`
(dev extra), case by case; only pickle is refused where the toolkit would unpickle."""

from __future__ import annotations

import io
from typing import Any

import numpy as np
import pytest
import sagemaker_inference.decoder as real_decoder
import sagemaker_inference.encoder as real_encoder

from inferpipe.transformers._compat.sagemaker_containers.beta.framework import (
    encoders as containers_encoders,
)
from inferpipe.transformers._compat.sagemaker_containers.beta.framework import (
    errors as containers_errors,
)
from inferpipe.transformers._compat.sagemaker_inference import decoder, encoder, errors

PREDICTIONS: list[Any] = [
    np.array([0.1, 2.5, -3.0]),
    np.array([[1.0, 2.0], [3.5, np.nan]]),
    np.array([[1, 2], [3, 4]], dtype=np.int64),
    [1, 2, 3],
    [[0.25, 0.75]],
    {"label": "yes", "score": np.float64(0.5)},
    np.float32(1.25),
    [{"a": np.int64(1)}, {"a": 2}],
]


@pytest.mark.parametrize("prediction", PREDICTIONS, ids=repr)
def test_json_encoding_matches_the_toolkit(prediction: Any) -> None:
    assert encoder.encode(prediction, "application/json") == real_encoder.encode(
        prediction, "application/json"
    )
    assert containers_encoders.encode(prediction, "application/json") == real_encoder.encode(
        prediction, "application/json"
    )


@pytest.mark.parametrize("prediction", [p for p in PREDICTIONS[:5]], ids=repr)
def test_csv_and_npy_encoding_match_the_toolkit(prediction: Any) -> None:
    assert encoder.encode(prediction, "text/csv") == real_encoder.encode(prediction, "text/csv")
    assert encoder.encode(prediction, "application/x-npy") == real_encoder.encode(
        prediction, "application/x-npy"
    )


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ("1.5,2\n3,4\n", "text/csv"),
        ("1,2,3", "text/csv"),
        ("[[1, 2], [3, 4.5]]", "application/json"),
        ("[1, 2, 3]", "application/json"),
    ],
)
def test_text_decoding_matches_the_toolkit(body: str, content_type: str) -> None:
    np.testing.assert_array_equal(
        decoder.decode(body, content_type), real_decoder.decode(body, content_type)
    )


def test_npy_decoding_matches_the_toolkit_for_numbers() -> None:
    buffer = io.BytesIO()
    np.save(buffer, np.array([[1.0, 2.0], [3.0, 4.0]]))
    body = buffer.getvalue()
    np.testing.assert_array_equal(
        decoder.decode(body, "application/x-npy"), real_decoder.decode(body, "application/x-npy")
    )


def test_pickled_npy_is_refused_where_the_toolkit_would_unpickle() -> None:
    buffer = io.BytesIO()
    np.save(buffer, np.array([{"evil": 1}], dtype=object), allow_pickle=True)
    assert real_decoder.decode(buffer.getvalue(), "application/x-npy")[0] == {"evil": 1}
    with pytest.raises(errors.GenericInferenceToolkitError) as caught:
        decoder.decode(buffer.getvalue(), "application/x-npy")
    assert caught.value.status_code == 400
    with pytest.raises(containers_errors.ClientError):
        containers_encoders.decode(buffer.getvalue(), "application/x-npy")


def test_unsupported_types_raise_the_toolkits_error_with_a_status() -> None:
    with pytest.raises(errors.UnsupportedFormatError) as decoding:
        decoder.decode(b"x", "image/png")
    with pytest.raises(errors.UnsupportedFormatError) as encoding:
        encoder.encode([1], "image/png")
    assert (decoding.value.status_code, encoding.value.status_code) == (415, 406)


def test_containers_csv_writes_one_row_per_line_and_a_column_for_1d() -> None:
    assert containers_encoders.encode(np.array([[1, 2], [3, 4]]), "text/csv") == "1,2\n3,4\n"
    assert containers_encoders.encode([0.5, 1.5], "text/csv") == "0.5\n1.5\n"
    np.testing.assert_array_equal(
        containers_encoders.decode("1,2\n3,4\n", "text/csv"), np.array([["1", "2"], ["3", "4"]])
    )
