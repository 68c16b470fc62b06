"""The spec side's errors, rooted in the protocol's tree so the CLI catches one class.

InferpipeError (inferpipe.protocol.errors)
├── SpecError     400 spec-error    a spec or a CLI invocation is wrong (exit 2)
└── DeployError   500 deploy-error  AWS, Docker or a registry refused or failed (exit 1)
"""

from __future__ import annotations

from inferpipe.protocol.errors import InferpipeError


class SpecError(InferpipeError):
    """A pipeline spec, or a CLI invocation, is wrong; the CLI exits 2."""

    status = 400
    code = "spec-error"


class DeployError(InferpipeError):
    """An external system (AWS, Docker, a registry) refused or failed."""

    code = "deploy-error"
