"""AWS's Titanic MLeap bundle (sagemaker-python-sdk test data) and its request schema."""

from __future__ import annotations

import tarfile
from pathlib import Path

AWS_SPARKML = Path(__file__).resolve().parents[1] / "data" / "conformance" / "aws-sparkml"
TITANIC_SCHEMA = {
    "input": [
        {"name": "Pclass", "type": "double"},
        {"name": "Embarked", "type": "string"},
        {"name": "Age", "type": "double"},
        {"name": "Fare", "type": "double"},
        {"name": "SibSp", "type": "double"},
        {"name": "Sex", "type": "string"},
    ],
    "output": {"name": "features", "type": "double", "struct": "vector"},
}


def unpack_titanic(target: Path) -> Path:
    """The bundle unpacked as SageMaker would into /opt/ml/model (bundle.json at the root)."""
    with tarfile.open(AWS_SPARKML / "mleap_model.tar.gz") as archive:
        archive.extractall(target, filter="data")
    return target
