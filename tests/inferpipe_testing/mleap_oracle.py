"""The real MLeap runtime (JVM) as an oracle: resolved from Maven Central, compiled once.

`tests/mleap_oracle/pom.xml` pins ml.combust.mleap:mleap-runtime_2.12, the newest MLeap
runtime the package index here serves; MleapOracle.java loads a bundle, transforms a
LeapFrame and writes the result.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

from inferpipe_testing.spark import WIDE, sparse_form

ORACLE_DIR = Path(__file__).resolve().parents[1] / "mleap_oracle"


class MleapOracle:
    def __init__(self, work: Path) -> None:
        jars = work / "jars"
        if shutil.which("mvn") is None or shutil.which("javac") is None:
            raise RuntimeError("the MLeap oracle needs Maven and a JDK (mvn, javac) on PATH")
        subprocess.run(
            [
                "mvn",
                "-q",
                "-B",
                "-f",
                str(ORACLE_DIR / "pom.xml"),
                "dependency:copy-dependencies",
                f"-DoutputDirectory={jars}",
            ],
            check=True,
        )
        self.classpath = ":".join(str(p) for p in sorted(jars.glob("*.jar")))
        self.classes = work / "classes"
        subprocess.run(
            [
                "javac",
                "-d",
                str(self.classes),
                "-cp",
                self.classpath,
                str(ORACLE_DIR / "MleapOracle.java"),
            ],
            check=True,
        )
        self.work = work

    def transform(self, bundle: Path, frame: dict[str, Any]) -> dict[str, list[Any]]:
        """Run the bundle on a LeapFrame; return each output column as plain Python values."""
        source, target = self.work / "in.json", self.work / "out.json"
        source.write_text(json.dumps(frame))
        done = subprocess.run(
            [
                "java",
                "-cp",
                f"{self.classes}:{self.classpath}",
                "MleapOracle",
                str(bundle),
                str(source),
                str(target),
            ],
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            reasons = [
                line
                for line in done.stderr.splitlines()
                if not line.startswith("\tat ") or "combust" in line
            ]
            raise RuntimeError("the MLeap runtime failed: " + "\n".join(reasons[:20]))
        result = json.loads(target.read_text())
        names = [f["name"] for f in result["schema"]["fields"]]
        columns: dict[str, list[Any]] = {n: [] for n in names}
        for row in result["rows"]:
            for name, value in zip(names, row, strict=True):
                columns[name].append(plain(value))
        return columns


def plain(value: Any) -> Any:
    """A LeapFrame JSON value as Python: tensors (dense or sparse) become lists."""
    if isinstance(value, dict) and "values" in value:
        size = int(value["dimensions"][0]) if value.get("dimensions") else len(value["values"])
        if size > WIDE:
            indices = [i[0] if isinstance(i, list) else i for i in value.get("indices", [])]
            if "indices" not in value:
                indices = list(range(size))
            return sparse_form(size, indices, value["values"])
        if "indices" in value:
            out = [0.0] * size
            for index, item in zip(value["indices"], value["values"], strict=True):
                out[index[0] if isinstance(index, list) else index] = float(item)
            return out
        return [float(v) for v in value["values"]]
    return value


def leap_frame(columns: dict[str, tuple[str, list[Any]]]) -> dict[str, Any]:
    """A LeapFrame from name -> (type, values); type is double, string or vector."""
    fields = []
    for name, (kind, _) in columns.items():
        if kind == "vector":
            width = len(next(iter(columns[name][1])))
            fields.append(
                {"name": name, "type": {"type": "tensor", "base": "double", "dimensions": [width]}}
            )
        else:
            fields.append({"name": name, "type": kind})
    count = len(next(iter(columns.values()))[1])
    rows = []
    for i in range(count):
        row = []
        for kind, values in columns.values():
            value = values[i]
            row.append({"values": value, "dimensions": [len(value)]} if kind == "vector" else value)
        rows.append(row)
    return {"schema": {"fields": fields}, "rows": rows}
