"""The JSONPath subset SageMaker batch transform takes in DataProcessing filters.

`$`, `.name`, `.*` / `[*]`, `['a','b']`, `[1]` / `[1,3,-1]`, `[start:end]` and unions
such as `[0,5:]`; nothing else (no `..`, no filters, no scripts). Two rules differ from
other JSONPath libraries and follow SageMaker's documentation: a slice includes its
end (`$[1:4]` is the second through fifth column), and selecting several names gives
an object of those names. Anything that selects nothing is an error, as in a job.
https://docs.aws.amazon.com/sagemaker/latest/dg/batch-transform-data-processing.html
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

MAX_LENGTH = 63  # DataProcessing's length constraint on each filter

NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_\-]*")
QUOTED = re.compile(r"\s*'((?:[^'\\]|\\.)*)'\s*")
INDEX = re.compile(r"\s*(-?\d+)\s*")
SLICE = re.compile(r"\s*(-?\d+)?\s*:\s*(-?\d+)?\s*")


class JsonPathError(ValueError):
    """A filter that does not parse, or selects nothing from a record."""


@dataclass(frozen=True)
class Names:
    names: tuple[str, ...]


@dataclass(frozen=True)
class Wildcard:
    pass


@dataclass(frozen=True)
class Positions:
    #: Each an index (int) or an inclusive (start, end) slice with None for "omitted".
    items: tuple[int | tuple[int | None, int | None], ...]


Segment = Names | Wildcard | Positions


@dataclass(frozen=True)
class JsonPath:
    text: str
    segments: tuple[Segment, ...]

    @property
    def is_root(self) -> bool:
        return not self.segments

    @property
    def by_position_only(self) -> bool:
        """True when the path works on arrays only (what CSV rows are)."""
        return all(isinstance(s, Positions | Wildcard) for s in self.segments)

    def select(self, value: Any) -> Any:
        for segment in self.segments:
            value = _apply(segment, value, self.text)
        return value


def _bracket(body: str, text: str) -> Segment:
    if body.strip() == "*":
        return Wildcard()
    parts = body.split(",")
    if all(QUOTED.fullmatch(p) for p in parts):
        return Names(tuple(QUOTED.fullmatch(p).group(1) for p in parts))  # type: ignore[union-attr]
    items: list[int | tuple[int | None, int | None]] = []
    for part in parts:
        if index := INDEX.fullmatch(part):
            items.append(int(index.group(1)))
        elif (piece := SLICE.fullmatch(part)) and part.strip():
            start, end = piece.groups()
            items.append((int(start) if start else None, int(end) if end else None))
        else:
            raise JsonPathError(
                f"{text!r}: [{body}] is not a supported selector (indexes such as [1] or "
                "[1,3], slices such as [2:5], [:5] or [2:], names such as ['id','x'], or [*])"
            )
    return Positions(tuple(items))


def parse(text: str) -> JsonPath:
    """Parse a filter; JsonPathError names the first construct SageMaker does not take."""
    if len(text) > MAX_LENGTH:
        raise JsonPathError(f"{text!r} has {len(text)} characters; SageMaker allows {MAX_LENGTH}")
    if not text.startswith("$"):
        raise JsonPathError(f"{text!r} must start with $ (the record)")
    segments: list[Segment] = []
    position = 1
    while position < len(text):
        rest = text[position:]
        if rest.startswith(".."):
            raise JsonPathError(f"{text!r}: recursive descent (..) is not supported")
        if rest.startswith(".*"):
            segments.append(Wildcard())
            position += 2
        elif rest.startswith(".["):
            position += 1  # `$.field.['a','b']`: the dot before a bracket is allowed
        elif rest.startswith("."):
            name = NAME.match(rest, 1)
            if name is None:
                raise JsonPathError(f"{text!r}: expected a name after '.' at position {position}")
            segments.append(Names((name.group(0),)))
            position += name.end()
        elif rest.startswith("["):
            close = rest.find("]")
            if close < 0:
                raise JsonPathError(f"{text!r}: '[' at position {position} is never closed")
            body = rest[1:close]
            if body.startswith("?") or body.startswith("("):
                raise JsonPathError(f"{text!r}: filter and script expressions are not supported")
            segments.append(_bracket(body, text))
            position += close + 1
        else:
            raise JsonPathError(f"{text!r}: unexpected {rest[0]!r} at position {position}")
    return JsonPath(text, tuple(segments))


def _resolve(index: int, length: int, text: str) -> int:
    resolved = index + length if index < 0 else index
    if not 0 <= resolved < length:
        raise JsonPathError(f"{text!r}: index {index} is outside the record's {length} elements")
    return resolved


def _positions(segment: Positions, value: Any, text: str) -> Any:
    if not isinstance(value, list):
        raise JsonPathError(f"{text!r}: an index selects from an array, not {_kind(value)}")
    length = len(value)
    chosen: list[Any] = []
    for item in segment.items:
        if isinstance(item, int):
            chosen.append(value[_resolve(item, length, text)])
            continue
        start = 0 if item[0] is None else _resolve(item[0], length, text)
        end = length - 1 if item[1] is None else _resolve(item[1], length, text)
        if end < start:
            raise JsonPathError(f"{text!r}: the slice selects nothing of {length} elements")
        chosen.extend(value[start : end + 1])
    if len(segment.items) == 1 and isinstance(segment.items[0], int):
        return chosen[0]
    return chosen


def _apply(segment: Segment, value: Any, text: str) -> Any:
    if isinstance(segment, Positions):
        return _positions(segment, value, text)
    if isinstance(segment, Wildcard):
        if isinstance(value, dict):
            return list(value.values())
        if isinstance(value, list):
            return value
        raise JsonPathError(f"{text!r}: * selects from an object or array, not {_kind(value)}")
    if not isinstance(value, dict):
        raise JsonPathError(f"{text!r}: a name selects from an object, not {_kind(value)}")
    missing = [n for n in segment.names if n not in value]
    if missing:
        raise JsonPathError(f"{text!r}: the record has no {', '.join(map(repr, missing))}")
    if len(segment.names) == 1:
        return value[segment.names[0]]
    return {n: value[n] for n in segment.names}


def _kind(value: Any) -> str:
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "an array"
    return f"the value {value!r}"
