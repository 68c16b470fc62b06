"""The errors serving scripts raise or catch; each carries the status inferpipe answers."""

from __future__ import annotations


class ClientError(Exception):
    """A problem with the request: answered 400."""

    status_code = 400


class UnsupportedFormatError(Exception):
    """A content type the default decoder or encoder cannot handle (415 in, 406 out)."""

    def __init__(self, content_type: str, status_code: int = 415) -> None:
        self.content_type = content_type
        self.status_code = status_code
        super().__init__(
            f"Content type {content_type} is not supported by this framework. Implement "
            "input_fn to deserialize the request data or output_fn to serialize the response."
        )
