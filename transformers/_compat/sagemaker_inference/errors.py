"""The toolkit's errors; each carries the HTTP status inferpipe answers with."""

from __future__ import annotations


class UnsupportedFormatError(Exception):
    """A content type the default decoder or encoder cannot handle (415 in, 406 out)."""

    def __init__(self, content_type: str, status_code: int = 415, **kwargs: object) -> None:
        self.content_type = content_type
        self.status_code = status_code
        super().__init__(
            f"Content type {content_type} is not supported by this framework. Implement "
            "input_fn to deserialize the request data or output_fn to serialize the response.",
            **kwargs,
        )


class BaseInferenceToolkitError(Exception):
    """An error a script raises to answer with `status_code` and `phrase`."""

    def __init__(self, status_code: int, message: str, phrase: str) -> None:
        self.status_code = status_code
        self.message = message
        self.phrase = phrase
        super().__init__(status_code, message, phrase)


class GenericInferenceToolkitError(BaseInferenceToolkitError):
    """`BaseInferenceToolkitError` with a default message ("Invalid Request")."""

    def __init__(
        self, status_code: int, message: str | None = None, phrase: str | None = None
    ) -> None:
        message = message or "Invalid Request"
        super().__init__(status_code, message, phrase or message)
