"""Text ops: Tokenizer, RegexTokenizer, StopWordsRemover, CountVectorizer, HashingTF, IDF.

Splitting follows Java's `String.split` (a leading empty token when the text starts
with a separator, trailing empty tokens dropped, "" → [""]); regexes compile with
`re.ASCII` because Java's `\\w`, `\\s`, `\\b` are ASCII-only. HashingTF hashes UTF-8
bytes with MurmurHash3 (x86, 32-bit, seed 42), as Spark 3+ does.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np
from scipy import sparse

from inferpipe.protocol.errors import ArtifactError
from inferpipe.transformers.sparkml.columns import (
    ARRAY,
    STRING,
    Frame,
    array_column,
    scale_vectors,
    vector_column,
)
from inferpipe.transformers.sparkml.op import Op

HASH_SEED = 42
_MASK = 0xFFFFFFFF


def java_split(pattern: re.Pattern[str], text: str) -> list[str]:
    """`text.split(regex)` with Java's rules for leading and trailing empty strings."""
    if text == "":
        return [""]
    parts: list[str] = []
    last = 0
    for match in pattern.finditer(text):
        if match.end() == 0:
            continue
        parts.append(text[last : match.start()])
        last = match.end()
    if not parts and last == 0:
        return [text]
    parts.append(text[last:])
    while parts and parts[-1] == "":
        parts.pop()
    return parts


def _compile(regex: str, uid: str) -> re.Pattern[str]:
    try:
        return re.compile(regex, re.ASCII)
    except re.error as exc:
        raise ArtifactError(f"RegexTokenizer {uid!r}: pattern {regex!r}: {exc}") from exc


def _strings(op: Op, frame: Frame) -> tuple[np.ndarray, np.ndarray]:
    column = op.column(frame)
    if column.kind != STRING:
        raise op.fail(f"column {op.inputs[0]!r} must hold strings, it holds {column.kind}")
    return column.values, column.null_mask()


def token_lists(op: Op, frame: Frame, index: int = 0) -> np.ndarray:
    column = op.column(frame, index)
    if column.kind != ARRAY:
        raise op.fail(f"column {op.inputs[index]!r} must hold arrays of strings")
    nulls = column.null_mask()
    if nulls.any():
        raise op.fail(f"record {int(np.flatnonzero(nulls)[0]) + 1}: the token array is null")
    return column.values


@dataclass
class Tokenizer(Op):
    label = "Tokenizer"
    _space = re.compile(r"\s", re.ASCII)

    def apply(self, frame: Frame) -> Frame:
        values, nulls = _strings(self, frame)
        tokens = [
            None if n else java_split(self._space, v.lower())
            for v, n in zip(values, nulls, strict=True)
        ]
        return frame.with_column(self.outputs[0], array_column(tokens))


@dataclass
class RegexTokenizer(Op):
    pattern: str = r"\s+"
    gaps: bool = True
    min_token_length: int = 1
    to_lowercase: bool = True
    label = "RegexTokenizer"

    def __post_init__(self) -> None:
        self._regex = _compile(self.pattern, self.uid)

    def _tokens(self, text: str) -> list[str]:
        if self.to_lowercase:
            text = text.lower()
        if self.gaps:
            found = java_split(self._regex, text)
        else:
            found = [m.group(0) for m in self._regex.finditer(text)]
        return [t for t in found if len(t) >= self.min_token_length]

    def apply(self, frame: Frame) -> Frame:
        values, nulls = _strings(self, frame)
        tokens = [None if n else self._tokens(v) for v, n in zip(values, nulls, strict=True)]
        return frame.with_column(self.outputs[0], array_column(tokens))


@dataclass
class StopWordsRemover(Op):
    stop_words: list[str] = field(default_factory=list)
    case_sensitive: bool = False
    label = "StopWordsRemover"

    def apply(self, frame: Frame) -> Frame:
        for j, output in enumerate(self.outputs):
            lists = token_lists(self, frame, j)
            if self.case_sensitive:
                words = set(self.stop_words)
                kept = [[t for t in ts if t not in words] for ts in lists]
            else:
                lowered = {w.lower() for w in self.stop_words}
                kept = [[t for t in ts if t is None or t.lower() not in lowered] for ts in lists]
            frame = frame.with_column(output, array_column(kept))
        return frame


def sparse_rows(rows: list[dict[int, float]], width: int) -> sparse.csr_matrix:
    indptr = np.zeros(len(rows) + 1, dtype=np.int64)
    indices: list[int] = []
    data: list[float] = []
    for i, row in enumerate(rows):
        for index in sorted(row):
            indices.append(index)
            data.append(row[index])
        indptr[i + 1] = len(indices)
    return sparse.csr_matrix(
        (np.array(data, dtype=np.float64), np.array(indices, dtype=np.int64), indptr),
        shape=(len(rows), width),
    )


@dataclass
class CountVectorizer(Op):
    vocabulary: list[str] = field(default_factory=list)
    min_tf: float = 1.0
    binary: bool = False
    label = "CountVectorizer"

    def __post_init__(self) -> None:
        self._index = {term: i for i, term in enumerate(self.vocabulary)}

    def _row(self, tokens: list[Any]) -> dict[int, float]:
        counts = Counter(self._index[t] for t in tokens if t in self._index)
        floor = self.min_tf if self.min_tf >= 1.0 else len(tokens) * self.min_tf
        return {i: (1.0 if self.binary else float(c)) for i, c in counts.items() if c >= floor}

    def apply(self, frame: Frame) -> Frame:
        rows = [self._row(ts) for ts in token_lists(self, frame)]
        matrix = sparse_rows(rows, len(self.vocabulary))
        return frame.with_column(self.outputs[0], vector_column(matrix))


def murmur3_32(data: bytes, seed: int = HASH_SEED) -> int:
    """MurmurHash3 x86 32-bit of `data`, as a signed int (Java's `int`)."""
    h = seed & _MASK
    length = len(data)
    aligned = length - length % 4
    for start in range(0, aligned, 4):
        k = int.from_bytes(data[start : start + 4], "little")
        h ^= _mix_k(k)
        h = ((h << 13) | (h >> 19)) & _MASK
        h = (h * 5 + 0xE6546B64) & _MASK
    tail = data[aligned:]
    if tail:
        k = int.from_bytes(tail, "little")
        h ^= _mix_k(k)
    h ^= length
    h ^= h >> 16
    h = (h * 0x85EBCA6B) & _MASK
    h ^= h >> 13
    h = (h * 0xC2B2AE35) & _MASK
    h ^= h >> 16
    return h - (1 << 32) if h & 0x80000000 else h


def _mix_k(k: int) -> int:
    k = (k * 0xCC9E2D51) & _MASK
    k = ((k << 15) | (k >> 17)) & _MASK
    return (k * 0x1B873593) & _MASK


@lru_cache(maxsize=65536)
def _term_hash(term: str) -> int:
    return murmur3_32(term.encode("utf-8"))


@dataclass
class HashingTF(Op):
    num_features: int = 1 << 18
    binary: bool = False
    label = "HashingTF"

    def _row(self, tokens: list[Any]) -> dict[int, float]:
        row: dict[int, float] = {}
        for term in tokens:
            index = _term_hash(str(term)) % self.num_features
            row[index] = 1.0 if self.binary else row.get(index, 0.0) + 1.0
        return row

    def apply(self, frame: Frame) -> Frame:
        rows = [self._row(ts) for ts in token_lists(self, frame)]
        matrix = sparse_rows(rows, self.num_features)
        return frame.with_column(self.outputs[0], vector_column(matrix))


@dataclass
class IDF(Op):
    idf: np.ndarray = field(default_factory=lambda: np.zeros(0))
    label = "IDF"

    def apply(self, frame: Frame) -> Frame:
        column = self.column(frame)
        values = column.values
        if values.shape[1] != self.idf.size:
            raise self.fail(f"vectors have size {values.shape[1]}, expected {self.idf.size}")
        result = scale_vectors(values, self.idf)
        return frame.with_column(self.outputs[0], vector_column(result, column.nulls))
