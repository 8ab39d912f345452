import os
from pathlib import Path

import pytest
from hypothesis import settings

from support import REPO

# Property tests: a modest default so the whole suite stays fast; raise it locally
# with HYPOTHESIS_PROFILE=thorough.
settings.register_profile("default", max_examples=60, deadline=None)
settings.register_profile("thorough", max_examples=1000, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


@pytest.fixture
def repo() -> Path:
    return REPO


def pytest_collection_modifyitems(config, items):
    """Tests marked `slow` first (stable otherwise): run on several workers (pytest-xdist,
    `--dist worksteal`), the long ones then start at once instead of holding up the end."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)
