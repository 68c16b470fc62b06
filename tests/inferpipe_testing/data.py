"""Test data shared by unit and container tests: mixed-type rows and their oracle parse."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd

MIXED_SCHEMA = {
    "input": [
        {"name": "sex", "type": "string"},
        {"name": "color", "type": "string"},
        {"name": "length", "type": "double"},
        {"name": "diameter", "type": "double"},
        {"name": "weight", "type": "float"},
        {"name": "count", "type": "integer"},
        {"name": "flag", "type": "boolean"},
    ],
    "output": {"name": "features", "type": "double", "struct": "vector"},
}
MIXED_NAMES = [c["name"] for c in MIXED_SCHEMA["input"]]
MIXED_DTYPES = {
    "sex": object,
    "color": object,
    "length": np.float64,
    "diameter": np.float64,
    "weight": np.float64,
    "count": np.int64,
    "flag": bool,
}


def make_mixed_rows(count: int, seed: int = 7) -> list[list[str]]:
    """CSV-ready rows of mixed types: strings with commas and quotes, gaps, ints, booleans."""
    rng = np.random.default_rng(seed)
    colors = ["red", "green, light", 'say "blue"', "amber", ""]
    rows = []
    for _ in range(count):
        diameter = "" if rng.random() < 0.1 else repr(float(rng.normal(0.4, 0.1)))
        rows.append(
            [
                str(rng.choice(["M", "F", "I"])),
                str(rng.choice(colors)),
                repr(float(rng.random())),
                diameter,
                repr(float(np.float32(rng.random() * 3))),
                str(int(rng.integers(0, 30))),
                str(bool(rng.random() < 0.5)),
            ]
        )
    return rows


def rows_to_csv(rows: list[list[str]]) -> str:
    import csv

    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    return buffer.getvalue()


def read_oracle_frame(csv_text: str) -> pd.DataFrame:
    """Parse CSV independently of inferpipe's codecs: what a user's notebook would do."""
    return pd.read_csv(
        io.StringIO(csv_text),
        header=None,
        names=MIXED_NAMES,
        dtype=MIXED_DTYPES,
        keep_default_na=False,
        na_values=[""],
    )
