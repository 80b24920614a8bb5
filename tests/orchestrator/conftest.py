"""Fixtures of the orchestrator tests."""

from tests.orchestrator._xfs import reflink_home  # noqa: F401  (a loop-mounted reflink XFS, root only)
