"""The local endpoint: every container of a spec on this machine, behind SageMaker Runtime's
InvokeEndpoint API, with SageMaker's header flow, limits and error shapes.

It reaches containers over HTTP only, whether they run as processes or in Docker.
"""

from __future__ import annotations

__all__: list[str] = []
