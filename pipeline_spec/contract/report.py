"""Render contract-check results as a table, JSON, or JUnit XML for a user's CI."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Sequence

from inferpipe.pipeline_spec.contract.checks import CheckResult

MARKS = {"pass": "PASS", "fail": "FAIL", "skip": "SKIP"}


def render_table(image: str, results: Sequence[CheckResult]) -> str:
    width = max(len(r.name) for r in results)
    lines = [f"check-container {image}", ""]
    for result in results:
        lines.append(f"{MARKS[result.status]}  {result.name:<{width}}  {result.detail}")
    failed = sum(r.status == "fail" for r in results)
    skipped = sum(r.status == "skip" for r in results)
    lines += ["", f"{len(results) - failed - skipped} passed, {failed} failed, {skipped} skipped"]
    return "\n".join(lines)


def render_json(image: str, results: Sequence[CheckResult]) -> str:
    return json.dumps(
        {
            "image": image,
            "passed": not any(r.status == "fail" for r in results),
            "checks": [
                {
                    "name": r.name,
                    "status": r.status,
                    "detail": r.detail,
                    "seconds": round(r.seconds, 4),
                }
                for r in results
            ],
        },
        indent=2,
    )


def render_junit(image: str, results: Sequence[CheckResult]) -> str:
    suite = ET.Element(
        "testsuite",
        {
            "name": f"check-container {image}",
            "tests": str(len(results)),
            "failures": str(sum(r.status == "fail" for r in results)),
            "skipped": str(sum(r.status == "skip" for r in results)),
        },
    )
    for result in results:
        case = ET.SubElement(
            suite,
            "testcase",
            {
                "classname": "sagemaker.contract",
                "name": result.name,
                "time": f"{result.seconds:.4f}",
            },
        )
        if result.status == "fail":
            ET.SubElement(case, "failure", {"message": result.detail}).text = result.detail
        elif result.status == "skip":
            ET.SubElement(case, "skipped", {"message": result.detail})
        else:
            ET.SubElement(case, "system-out").text = result.detail
    return ET.tostring(suite, encoding="unicode", xml_declaration=True)


RENDERERS = {"table": render_table, "json": render_json, "junit": render_junit}
