"""The policy's indexed lookup decides exactly as its definition: the deepest rule at or above."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from agent.sandbox.policy import FsPolicy, PathRule

_NAMES = st.sampled_from(["a", "b", "ab", "a.b", "home", ".git"])
_PATHS = st.lists(_NAMES, max_size=5).map(lambda parts: Path("/", *parts))
_LEVELS = st.sampled_from(["hidden", "private", "read", "write"])


def _by_definition(policy: FsPolicy, path: Path) -> PathRule:
    above = [r for r in policy.rules if path == r.path or path.is_relative_to(r.path)]
    deepest = max(len(r.path.parts) for r in above)
    return next(r for r in above if len(r.path.parts) == deepest)


@given(st.lists(st.tuples(_PATHS, _LEVELS), max_size=12), _PATHS)
def test_the_index_agrees_with_the_definition(rules: list[tuple[Path, str]], path: Path) -> None:
    policy = FsPolicy((PathRule(Path("/"), "read", "root"),
                       *(PathRule(p, level, f"rule {i}") for i, (p, level) in enumerate(rules))))  # type: ignore[arg-type]
    assert policy.rule_for(path) == _by_definition(policy, path)
