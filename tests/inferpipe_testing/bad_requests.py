"""Bad requests every tabular stage must answer with a 4xx JSON error (unit and container tests)."""

from __future__ import annotations

import io

import numpy as np


def _pickled_npy() -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, np.array([{"evil": 1}], dtype=object), allow_pickle=True)
    return buffer.getvalue()


#: A record the mixed-type pipeline (tests/conftest.py) accepts.
GOOD_ROW = "M,red,1,1,1,1,true\n"

#: (case, body, content type, accept, status, error code)
BAD_REQUESTS = [
    ("empty body", b"", "text/csv", None, 400, "empty-body"),
    ("wrong width", b"M,red,1\n", "text/csv", None, 400, "schema-mismatch"),
    ("not a number", b"M,red,x,1,1,1,true\n", "text/csv", None, 400, "schema-mismatch"),
    ("bad quote", b'"M,red,1,1,1,1,true\n', "text/csv", None, 400, "malformed-payload"),
    ("bad json", b"{", "application/json", None, 400, "malformed-payload"),
    ("bad jsonlines", b'["M"]\n[oops\n', "application/jsonlines", None, 400, "malformed-payload"),
    ("pickled npy", _pickled_npy(), "application/x-npy", None, 400, "malformed-payload"),
    ("bad utf-8", b"\xff,red,1,1,1,1,true\n", "text/csv", None, 400, "malformed-payload"),
    ("unknown type", b"x", "text/plain", None, 415, "unsupported-media-type"),
    ("no type", b"x", "", None, 415, "unsupported-media-type"),
    ("unknown accept", GOOD_ROW.encode(), "text/csv", "image/png", 406, "not-acceptable"),
]
