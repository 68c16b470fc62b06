"""Fit the benchmark's workload (benchmarks/workload.py) and save it as an MLflow model,
for MLflow's scoring server in the matrix. Runs in MLflow's own virtualenv (MLflow pins
its own gunicorn and pyarrow), so the Pipeline is fitted there, with the same data and
parameters, rather than unpickled across environments.

    <mlflow-venv>/bin/python benchmarks/mlflow_model.py OUT_DIR
"""

from __future__ import annotations

import sys
from pathlib import Path

import mlflow.sklearn

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from workload import fit_pipeline  # noqa: E402


def main(out: Path) -> int:
    whole, data = fit_pipeline()
    # cloudpickle, the format most existing MLflow models have (3.x's default, skops,
    # refuses tree models unless their types are trusted one by one).
    mlflow.sklearn.save_model(
        whole,
        str(out),
        serialization_format=mlflow.sklearn.SERIALIZATION_FORMAT_CLOUDPICKLE,
        input_example=data.iloc[:2, :-1],
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
