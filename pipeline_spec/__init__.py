"""The spec builder and local endpoint (issues #3 and #4); this package is still empty.

Planned in three rings: pure data (`model.py`), pure renderers (`render_*.py`,
no boto3), and a thin effect layer (`package.py`, `deploy.py`, `local/`).
"""

from __future__ import annotations

__all__: list[str] = []
