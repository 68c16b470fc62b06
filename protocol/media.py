"""Media types: the constants, Content-Type parsing and Accept negotiation.

SageMaker passes each container's response Content-Type verbatim to the next one,
so we accept parameters on input (`text/csv; charset=utf-8`) and always send bare
types. https://docs.aws.amazon.com/sagemaker/latest/dg/inference-pipeline-real-time.html
"""

from __future__ import annotations

from dataclasses import dataclass, field

from inferpipe.protocol.errors import NotAcceptable, UnsupportedMediaType

CSV = "text/csv"
JSON = "application/json"
JSONLINES = "application/jsonlines"
#: AWS's SparkML container: JSON Lines of `{"source": "space-joined values"}`.
JSONLINES_TEXT = "application/jsonlines;data=text"
NPY = "application/x-npy"
LIBSVM = "text/libsvm"
ANY = "*/*"

#: Spellings seen in the wild for the same format, mapped to our constant.
ALIASES = {
    "application/x-jsonlines": JSONLINES,
    "application/jsonl": JSONLINES,
    "application/x-ndjson": JSONLINES,
    "application/csv": CSV,
    "text/x-libsvm": LIBSVM,
}


@dataclass(frozen=True)
class MediaRange:
    """One media type (or range, `text/*`) with its parameters and Accept q-value."""

    type: str
    params: dict[str, str] = field(default_factory=dict, hash=False, compare=False)
    q: float = 1.0

    def matches(self, media_type: str) -> bool:
        """Tell whether this range covers the bare `media_type`."""
        if self.type == ANY:
            return True
        if self.type.endswith("/*"):
            return media_type.startswith(self.type[:-1])
        return self.type == media_type


def parse_media_type(header: str) -> MediaRange:
    """Parse one Content-Type value; the type is lower-cased and its alias resolved."""
    type_part, *param_parts = header.split(";")
    media_type = type_part.strip().lower()
    media_type = ALIASES.get(media_type, media_type)
    params: dict[str, str] = {}
    q = 1.0
    for part in param_parts:
        name, _, value = part.partition("=")
        name = name.strip().lower()
        value = value.strip().strip('"')
        if not name:
            continue
        if name == "q":
            try:
                q = float(value)
            except ValueError:
                q = 0.0
        else:
            params[name] = value
    return MediaRange(media_type, params, q)


def format_media_type(media: MediaRange) -> str:
    """`type;k=v` with the parameters that select a format (not charset or q), sorted."""
    params = sorted((k, v) for k, v in media.params.items() if k != "charset")
    return ";".join([media.type, *(f"{k}={v}" for k, v in params)])


def bare_type(media_type: str) -> str:
    """The media type without parameters."""
    return media_type.split(";", 1)[0].strip()


def _covers(media_range: MediaRange, candidate: str) -> bool:
    """True when the range matches the candidate's type and asks for exactly its parameters."""
    wanted = parse_media_type(candidate)
    asked = {k: v for k, v in media_range.params.items() if k != "charset"}
    return media_range.matches(wanted.type) and asked == wanted.params


def parse_content_type(header: str | None, accepted: tuple[str, ...]) -> MediaRange:
    """Resolve a request's Content-Type against what a stage accepts, or raise 415."""
    if not header or not header.strip():
        raise UnsupportedMediaType(
            f"the request has no Content-Type; send one of: {', '.join(accepted)}"
        )
    media = parse_media_type(header)
    if ANY not in accepted and media.type not in accepted:
        raise UnsupportedMediaType(
            f"Content-Type {header!r} is not supported; send one of: {', '.join(accepted)}"
        )
    return media


def _parse_ranges(header: str | None) -> list[MediaRange]:
    """Every range of an Accept header, in the order sent (q=0 ranges included)."""
    if header is None:
        return []
    return [parse_media_type(part) for part in header.split(",") if part.strip()]


def parse_accept(header: str) -> list[MediaRange]:
    """Parse an Accept header into ranges, highest q first (stable for equal q)."""
    return _by_preference(_parse_ranges(header))


def _by_preference(ranges: list[MediaRange]) -> list[MediaRange]:
    return sorted((r for r in ranges if r.q > 0), key=lambda r: -r.q)


def _unspecified(ranges: list[MediaRange]) -> bool:
    return all(r.type == ANY and r.q > 0 for r in ranges)


def negotiate_accept(header: str | None, emitted: tuple[str, ...], default: str) -> str:
    """Pick the response media type: first acceptable in q order, else `default`.

    An absent or `*/*` Accept falls back to `default` (SageMaker's
    SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT); anything else with no match is a 406.
    The header is parsed once.
    """
    ranges = _parse_ranges(header)
    if _unspecified(ranges):
        return default
    for media_range in _by_preference(ranges):
        if media_range.type == ANY:
            return default
        if ANY in emitted and "*" not in media_range.type:
            return media_range.type
        for candidate in emitted:
            if _covers(media_range, candidate):
                return candidate
    raise NotAcceptable(
        f"Accept {header!r} matches nothing this stage emits; ask for one of: {', '.join(emitted)}"
    )


def negotiate_open_accept(header: str | None, known: tuple[str, ...], default: str) -> str:
    """Pick the answer type of a stage that can emit anything (a user's script).

    In q order, the first range that covers a `known` type wins (`unsupported/type,
    text/csv` gives text/csv, as AWS's toolkit picks); when none does, the first concrete
    type, which the user's own output_fn may speak; `*/*` or nothing gives `default`.
    """
    ranges = _parse_ranges(header)
    if _unspecified(ranges):
        return default
    preferred = _by_preference(ranges)
    for media_range in preferred:
        if media_range.type == ANY:
            return default
        for candidate in known:
            if _covers(media_range, candidate):
                return candidate
    concrete = [r for r in preferred if "*" not in r.type]
    if concrete:
        return format_media_type(concrete[0])
    raise NotAcceptable(f"Accept {header!r} names no type; ask for one of: {', '.join(known)}")
