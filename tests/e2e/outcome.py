"""Whether a test's call phase failed, for fixtures that print logs only then."""

from __future__ import annotations

import pytest

CALL_FAILED = pytest.StashKey[bool]()
"""Set on each test item by the e2e conftest's report hook."""


def call_failed(request: pytest.FixtureRequest) -> bool:
    return request.node.stash.get(CALL_FAILED, False)
