"""The attacker's seat for every security test (see tests/security/attacker.py)."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.conftest import sandbox_available
from tests.security.attacker import Site, can_drop_privileges, make_site, remove_site


@pytest.fixture
def site() -> Iterator[Site]:
    """A HOME with secrets and a git workspace under /var/tmp, owned by an unprivileged user."""
    problem = can_drop_privileges()
    if problem is not None:
        if os.environ.get("SUBAGENT_REQUIRE_SANDBOX"):
            pytest.fail(problem)
        pytest.skip(problem)
    if not sandbox_available() and not os.environ.get("SUBAGENT_REQUIRE_SANDBOX"):
        pytest.skip("bubblewrap is not installed or user namespaces are refused here")
    made = make_site()
    try:
        yield made
    finally:
        remove_site(made)
