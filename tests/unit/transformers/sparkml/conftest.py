"""Fixtures shared by the sparkml tests: the real MLeap runtime, built once per run."""

from __future__ import annotations

import pytest
from inferpipe_testing.mleap_oracle import MleapOracle


@pytest.fixture(scope="session")
def oracle(tmp_path_factory: pytest.TempPathFactory) -> MleapOracle:
    return MleapOracle(tmp_path_factory.mktemp("mleap-oracle"))
