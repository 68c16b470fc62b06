"""Stage kinds: one module each (sklearn, postprocess, script, ...), loaded by import string.

Stage modules never import each other; shared helpers live in underscored modules.
Importing this package imports no stage, so an image loads only the one it serves.
"""

from __future__ import annotations

__all__: list[str] = []
