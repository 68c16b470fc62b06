"""MLflow's scoring server for the benchmark matrix, in its own virtualenv.

MLflow pins its own gunicorn, uvicorn and pyarrow, so it cannot share inferpipe's
environment; the virtualenv is made once (pinned versions, the same scikit-learn,
numpy and pandas as ours) under ~/.cache/inferpipe/ and reused by later runs.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
MLFLOW_PINS = [
    "mlflow==3.17.2",
    "scikit-learn==1.9.1",
    "numpy==2.4.6",
    "pandas==3.1.1",
    # examples/abalone/train.py, which the workload reads its column names from, imports it.
    "xgboost-cpu==3.2.0",
]
DEFAULT_VENV = Path.home() / ".cache" / "inferpipe" / "mlflow-3.17.2"


def mlflow_venv(target: Path = DEFAULT_VENV) -> Path:
    """The virtualenv's bin folder, made (a few minutes, once) when missing."""
    bin_dir = target / "bin"
    if (bin_dir / "mlflow").is_file():
        return bin_dir
    print(f"[bench] making MLflow's virtualenv in {target} (once)", file=sys.stderr)
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(target)], check=True)
    pip = [
        str(bin_dir / "python"),
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
    ]
    subprocess.run([*pip, *MLFLOW_PINS], check=True)
    return bin_dir


def mlflow_model(bin_dir: Path, out: Path) -> Path:
    """The workload's Pipeline saved as an MLflow model (fitted in MLflow's environment)."""
    if not (out / "MLmodel").is_file():
        subprocess.run(
            [str(bin_dir / "python"), str(HERE / "mlflow_model.py"), str(out)],
            check=True,
            capture_output=True,
        )
    return out


def mlflow_command(
    bin_dir: Path, model: Path, port: int, workers: int
) -> tuple[list[str], dict[str, str]]:
    """`mlflow models serve` on loopback, and the environment it needs (its uvicorn on PATH)."""
    command = [str(bin_dir / "mlflow"), "models", "serve", "-m", str(model)]
    command += ["--env-manager", "local", "--host", "127.0.0.1", "-p", str(port)]
    command += ["-w", str(workers)]
    return command, {"PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}
