"""`inferpipe check-container`: the SageMaker container contract as a test suite for any image.

It reaches the container only through Docker and HTTP, like SageMaker does.
"""

from __future__ import annotations

__all__: list[str] = []
