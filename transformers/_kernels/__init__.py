"""Vectorised numpy kernels shared by stage kinds (the sklearn fast path, sparkml ops).

Kernels take plain arrays built once at load time and work on all rows of a request
at once; they know nothing of scikit-learn, Spark or the HTTP request.
"""

from __future__ import annotations

__all__: list[str] = []
