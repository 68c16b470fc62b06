"""Print the pinned requirements of inferpipe extras, one per line, for image builds.

Usage: python3 scripts/requirements_for.py serving,sklearn [--sklearn-version 1.5.2]

Reads pyproject.toml so the images and the package share one list of pins. With
--sklearn-version, scikit-learn is pinned to that version and numpy, scipy and
pandas are left to pip (older scikit-learn wheels need numpy < 2).
"""

from __future__ import annotations

import argparse
import re
import sys
import tomllib
from pathlib import Path

RELAXED_WITH_SKLEARN_OVERRIDE = {"numpy", "scipy", "pandas"}
FIRST_NUMPY2_SKLEARN = (1, 4, 2)


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~\[ ;]", requirement, maxsplit=1)[0].lower()


def _version_tuple(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", version)[:3])


def requirements_for(extras: list[str], sklearn_version: str | None) -> list[str]:
    project = tomllib.loads((Path(__file__).parent.parent / "pyproject.toml").read_text())
    optional = project["project"]["optional-dependencies"]
    unknown = [e for e in extras if e not in optional]
    if unknown:
        raise SystemExit(f"unknown extras {unknown}; known: {sorted(optional)}")
    lines: list[str] = []
    for extra in extras:
        for requirement in optional[extra]:
            name = _name(requirement)
            if sklearn_version and name == "scikit-learn":
                requirement = f"scikit-learn=={sklearn_version}"
            elif sklearn_version and name in RELAXED_WITH_SKLEARN_OVERRIDE:
                requirement = name
                if name == "numpy" and _version_tuple(sklearn_version) < FIRST_NUMPY2_SKLEARN:
                    requirement = "numpy<2"
                if name == "pandas" and _version_tuple(sklearn_version) < FIRST_NUMPY2_SKLEARN:
                    requirement = "pandas<2.3"
            if requirement not in lines:
                lines.append(requirement)
    return lines


def constraints_for(sklearn_version: str | None) -> list[str]:
    """The lock in constraints.txt, minus the pins a scikit-learn override relaxes."""
    relaxed = RELAXED_WITH_SKLEARN_OVERRIDE | {"scikit-learn"} if sklearn_version else set()
    lines = (Path(__file__).parent.parent / "constraints.txt").read_text().splitlines()
    return [
        line for line in lines if line and not line.startswith("#") and _name(line) not in relaxed
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("extras", help="comma-separated extras, e.g. serving,sklearn")
    parser.add_argument("--sklearn-version", help="pin scikit-learn to this version")
    parser.add_argument(
        "--constraints",
        action="store_true",
        help="print the matching lines of constraints.txt instead",
    )
    args = parser.parse_args()
    extras = [e.strip() for e in args.extras.split(",") if e.strip()]
    lines = (
        constraints_for(args.sklearn_version)
        if args.constraints
        else requirements_for(extras, args.sklearn_version)
    )
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
