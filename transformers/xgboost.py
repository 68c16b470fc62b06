"""The xgboost stage: serves a SageMaker built-in XGBoost artifact (`xgboost-model`) with the
built-in container's content types, as the local stand-in for the built-in algorithm hop.

Input `text/csv` (numbers only, no label column, empty = missing) or `text/libsvm`;
output `text/csv` (one line per record; multi-output rows comma-separated),
`application/json` (`{"predictions": [{"score": ...}]}`) or `application/jsonlines`.
https://docs.aws.amazon.com/sagemaker/latest/dg/xgboost.html#xgboost-inference
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from inferpipe.protocol import media
from inferpipe.protocol.errors import ArtifactError, MalformedPayload, SchemaMismatch
from inferpipe.protocol.interface import Columns, StageInterface, columns
from inferpipe.protocol.media import MediaRange
from inferpipe.serving import codecs
from inferpipe.serving.codecs import CodecRegistry
from inferpipe.serving.schema import Schema
from inferpipe.serving.settings import ServingSettings
from inferpipe.serving.stage import InvocationRequest, InvocationResponse, Stage
from inferpipe.serving.wire import read_text, write_lines

MODEL_FILE = "xgboost-model"
PICKLE_MAGIC = b"\x80"


def load_booster(path: Path) -> Any:
    """Load `xgboost-model` (JSON, UBJSON or a pickled Booster); explain formats we cannot read."""
    import xgboost

    if not path.is_file():
        raise ArtifactError(f"{path} is missing")
    raw = path.read_bytes()
    if raw[:1] == PICKLE_MAGIC:
        import pickle

        try:
            # The artifact is the operator's own (like model.joblib), never request data.
            booster = pickle.loads(raw)
        except Exception as exc:
            raise ArtifactError(f"{path} is a pickle this xgboost cannot load: {exc}") from exc
        if not isinstance(booster, xgboost.Booster):
            raise ArtifactError(f"{path} holds a pickled {type(booster).__name__}, not a Booster")
        return booster
    booster = xgboost.Booster()
    try:
        booster.load_model(bytearray(raw))
    except xgboost.core.XGBoostError as exc:
        raise ArtifactError(
            f"{path} is not a model xgboost {xgboost.__version__} can read (JSON or UBJSON; "
            "the legacy binary format of SageMaker's 1.x containers needs xgboost 1.7): "
            f"re-save it with booster.save_model('xgboost-model.json') and rename it, or "
            f"build the image with xgboost 1.7.6 ({str(exc).splitlines()[0][:200]})"
        ) from exc
    return booster


def parse_libsvm(text: str, num_features: int) -> Any:
    """Rows of `[label] index:value ...` as a sparse matrix (labels are ignored)."""
    from scipy.sparse import csr_matrix

    data: list[float] = []
    indices: list[int] = []
    indptr = [0]
    for number, line in enumerate(text.splitlines(), start=1):
        tokens = line.split()
        if not tokens:
            continue
        if ":" not in tokens[0]:
            tokens = tokens[1:]
        for token in tokens:
            index, sep, value = token.partition(":")
            try:
                column, number_value = int(index), float(value)
            except ValueError:
                raise MalformedPayload(
                    f"libsvm line {number}: {token!r} is not index:value"
                ) from None
            if not sep or column < 0 or column >= num_features:
                raise SchemaMismatch(
                    f"libsvm line {number}: feature index {index} is outside 0..{num_features - 1}"
                )
            indices.append(column)
            data.append(number_value)
        indptr.append(len(data))
    if len(indptr) == 1:
        raise MalformedPayload("the libsvm body holds no rows")
    return csr_matrix((data, indices, indptr), shape=(len(indptr) - 1, num_features))


@dataclass(frozen=True)
class LibsvmText:
    """A text/libsvm body, parsed once the model's feature count is known."""

    text: str


def _decode_libsvm(body: bytes, content_type: MediaRange, _schema: Schema | None) -> LibsvmText:
    return LibsvmText(read_text(body, content_type))


def _encode_csv(rows: list[Any]) -> bytes:
    return write_lines([",".join(map(repr, r)) if isinstance(r, list) else repr(r) for r in rows])


def _encode_json(rows: list[Any]) -> bytes:
    # The built-in container's spelling (json.dumps defaults, spaces included).
    return json.dumps({"predictions": [{"score": r} for r in rows]}).encode()


def _encode_jsonlines(rows: list[Any]) -> bytes:
    return "".join(json.dumps({"score": r}) + "\n" for r in rows).encode()


#: The built-in XGBoost container's formats: CSV or libsvm in; CSV, JSON, JSON Lines out.
XGBOOST_CODECS: CodecRegistry[pd.DataFrame | LibsvmText, list[Any]] = CodecRegistry(
    {media.CSV: codecs.decode_csv, media.LIBSVM: _decode_libsvm},
    {media.CSV: _encode_csv, media.JSON: _encode_json, media.JSONLINES: _encode_jsonlines},
)


class XGBoostStage(Stage):
    """Predict with a Booster, one thread per worker (workers give the parallelism)."""

    kind = "xgboost"
    codec_registry = XGBOOST_CODECS
    accepts = XGBOOST_CODECS.decodable
    emits = XGBOOST_CODECS.encodable

    def load(self, model_dir: Path, settings: ServingSettings) -> None:
        super().load(model_dir, settings)
        self.booster = load_booster(model_dir / MODEL_FILE)
        self.booster.set_param({"nthread": 1})
        self.num_features = int(self.booster.num_features())

    def interface(self) -> StageInterface:
        """num_feature (and feature names) of the booster; the output width of a prediction."""
        import xgboost

        names = self.booster.feature_names
        if names:
            inputs = columns(names, "the booster's feature_names", width=self.num_features)
        else:
            inputs = Columns(self.num_features, None, "num_feature of xgboost-model")
        zeros = xgboost.DMatrix(np.zeros((1, self.num_features)), missing=np.nan)
        scores = np.asarray(self.booster.predict(zeros, validate_features=False))
        width = 1 if scores.ndim == 1 else int(scores.shape[1])
        outputs = Columns(width, None, "a prediction of xgboost-model")
        return StageInterface(self.kind, inputs, outputs, fitted_inputs=True)

    def _features(self, request: InvocationRequest) -> Any:
        import xgboost

        frame = XGBOOST_CODECS.decode(request.body, request.content_type, None)
        if isinstance(frame, LibsvmText):
            return xgboost.DMatrix(parse_libsvm(frame.text, self.num_features))
        for column in frame.columns:
            if not pd.api.types.is_numeric_dtype(frame[column].dtype):
                row = next(i for i, v in enumerate(frame[column]) if isinstance(v, str))
                raise SchemaMismatch(
                    f"record {row + 1}, column {int(column) + 1}: "
                    f"{frame[column].iloc[row]!r} is not a number"
                )
        if len(frame.columns) != self.num_features:
            raise SchemaMismatch(
                f"each record has {len(frame.columns)} fields; the model "
                f"expects {self.num_features} (send no label column)"
            )
        return xgboost.DMatrix(frame.to_numpy(dtype=np.float64), missing=np.nan)

    def invoke(self, request: InvocationRequest) -> InvocationResponse:
        predictions = np.asarray(
            self.booster.predict(self._features(request), validate_features=False)
        )
        body = XGBOOST_CODECS.encode(predictions.tolist(), request.accept)
        return InvocationResponse(body, request.accept)
