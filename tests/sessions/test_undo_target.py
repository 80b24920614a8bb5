"""`choose_undo_target`, the one rule of `subagent undo` and chat's `/undo`, as a property."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agent.errors import ConfigError
from agent.sessions.base import CheckpointRecord, MarkRecord
from agent.sessions.undo_target import choose_undo_target

_T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _checkpoints(steps: int) -> list[CheckpointRecord]:
    return [
        CheckpointRecord(session_id="s", step=k, commit=f"c{k}", created=_T0 + timedelta(seconds=k))
        for k in range(1, steps + 1)
    ]


@given(steps=st.integers(min_value=1, max_value=12), undos=st.integers(min_value=1, max_value=15))
def test_each_plain_undo_goes_one_step_further_back_and_never_redoes(steps: int, undos: int) -> None:
    checkpoints = _checkpoints(steps)
    marks: list[MarkRecord] = []
    applied = steps  # checkpoint k is the workspace with k - 1 steps applied
    for n in range(undos):
        target = choose_undo_target(checkpoints, marks, "s", None, lambda c, now=applied: c.step - 1 != now)
        if applied == 0:
            assert target is None
            continue
        assert target is not None and target.step == applied  # exactly one step back
        applied = target.step - 1
        when = _T0 + timedelta(hours=1, seconds=n)
        marks.append(
            MarkRecord(workspace="w", commit="x", kind="undo", session_id="s", step=target.step, created=when)
        )


def test_a_step_taken_after_an_undo_starts_again_and_other_sessions_marks_do_not_count() -> None:
    checkpoints = _checkpoints(3)
    old = MarkRecord(workspace="w", commit="x", kind="undo", session_id="s", step=2, created=_T0)
    other = MarkRecord(
        workspace="w", commit="x", kind="undo", session_id="other", step=1, created=_T0 + timedelta(hours=1)
    )
    target = choose_undo_target(checkpoints, [old, other], "s", None, lambda c: True)
    assert target is not None and target.step == 3


def test_a_missing_step_names_the_session_and_the_steps_there_are() -> None:
    with pytest.raises(ConfigError, match=r"session s has no checkpoint for step 9; steps: 1, 2"):
        choose_undo_target(_checkpoints(2), [], "s", 9, lambda c: True)
