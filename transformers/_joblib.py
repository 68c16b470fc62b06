"""Load joblib artifacts with the image's scikit-learn, refusing version mismatches.

Unpickling runs code from the file: load only artifacts you built, never request data.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

from inferpipe.protocol.errors import ArtifactError


def load_joblib(path: Path) -> Any:
    """Load a joblib artifact, turning scikit-learn's version warning into an error."""
    import joblib
    from sklearn import __version__ as sklearn_version
    from sklearn.exceptions import InconsistentVersionWarning

    if not path.is_file():
        raise ArtifactError(f"{path} is missing")
    with warnings.catch_warnings():
        warnings.simplefilter("error", InconsistentVersionWarning)
        try:
            return joblib.load(path)
        except InconsistentVersionWarning as warning:
            raise ArtifactError(
                f"{path} was saved with scikit-learn {warning.original_sklearn_version} but "
                f"this image has scikit-learn {sklearn_version}; rebuild the image with "
                f"./build.sh --sklearn-version {warning.original_sklearn_version} or retrain"
            ) from None
        except Exception as exc:
            raise ArtifactError(f"{path} cannot be loaded: {type(exc).__name__}: {exc}") from exc
