"""pytest plugin for scripts/mutation's test runs: a mutant only needs to be found out, not explained.

Example-based tests run first (one of them kills most mutants at once), property-based ones
after them; a failing property is not shrunk to its smallest example, which can take longer than
the rest of the run.
"""

from __future__ import annotations

import pytest
from hypothesis import Phase, settings

settings.register_profile("mutation", phases=[Phase.explicit, Phase.reuse, Phase.generate], deadline=None)
settings.load_profile("mutation")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    items.sort(key=lambda item: bool(getattr(getattr(item, "obj", None), "is_hypothesis_test", False)))
