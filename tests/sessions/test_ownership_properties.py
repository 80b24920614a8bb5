"""Properties, with real SQLite and real git: the stored transcript merges as the loop sends it, and
the owners of each change are the sessions whose steps made it, whatever the history."""

from __future__ import annotations

import itertools
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agent.sessions.base import CheckpointRecord, MarkRecord
from agent.sessions.checkpoints import ShadowRepo
from agent.sessions.ownership import owners_since
from agent.sessions.store import SqliteSessionStore
from agent.transcript import blocks_to_wire, parse_blocks

_ROLES = st.sampled_from(["user", "assistant"])
_APPENDS = st.lists(st.tuples(_ROLES, st.integers(0, 999), st.booleans()), min_size=1, max_size=12)


def _as_sent(appends: list[tuple[str, int, bool]]) -> list[dict[str, Any]]:
    """What the loop holds (and sends): a user message after a user message joins it."""
    sent: list[dict[str, Any]] = []
    for role, n, _ in appends:
        block = {"type": "text", "text": f"m{n}"}
        if sent and sent[-1]["role"] == role == "user":
            sent[-1]["content"].append(block)
        else:
            sent.append({"role": role, "content": [block]})
    return sent


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(appends=_APPENDS)
def test_stored_messages_are_the_messages_sent(appends: list[tuple[str, int, bool]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        store = SqliteSessionStore(Path(tmp) / "s.db")
        sid = store.create(agent="a", workspace=Path(tmp)).id
        for role, n, _ in appends:
            store.append_message(sid, role, parse_blocks([{"type": "text", "text": f"m{n}"}]), merge=True)
        stored = [{"role": m.role, "content": blocks_to_wire(m.content)} for m in store.messages(sid)]
        assert stored == _as_sent(appends)
        assert all(a["role"] != b["role"] or a["role"] == "assistant" for a, b in itertools.pairwise(stored))
        store.close()


_FILES = [f"f{i}.txt" for i in range(4)]
_STEP = st.lists(st.sampled_from(_FILES), min_size=1, max_size=3, unique=True)
_RUN = st.tuples(
    st.integers(0, 2), st.lists(_STEP, min_size=1, max_size=3), st.lists(st.sampled_from(_FILES), max_size=2)
)
"""(which of three sessions runs, its steps (files each step writes), a person's edits afterwards)."""


@settings(max_examples=15, deadline=None)
@given(runs=st.lists(_RUN, min_size=1, max_size=4), since_run=st.integers(0, 3))
def test_each_change_is_owned_by_the_sessions_whose_steps_made_it(
    runs: list[tuple[int, list[list[str]], list[str]]], since_run: int
) -> None:
    with tempfile.TemporaryDirectory(dir="/var/tmp") as tmp:
        ws, data = Path(tmp) / "ws", Path(tmp) / "data"
        ws.mkdir()
        for name in _FILES:
            (ws / name).write_text("start\n")
        store = SqliteSessionStore(data / "s.db")
        repo = ShadowRepo(ws, data_dir=data / "checkpoints")
        sessions = [store.create(agent="a", workspace=ws).id for _ in range(3)]
        counter = itertools.count()
        expected: dict[str, list[str | None]] = {}
        since = None
        for index, (who, steps, by_hand) in enumerate(runs):
            sid = sessions[who]
            for step, files in enumerate(steps, 1):
                commit = repo.snapshot(f"step {step}")
                record = CheckpointRecord(
                    session_id=sid, step=index * 10 + step, commit=commit, created=datetime.now(UTC)
                )
                store.record_checkpoint(record)
                if index == min(since_run, len(runs) - 1) and since is None:
                    since = store.checkpoints(sid)[-1].created
                for name in files:
                    (ws / name).write_text(f"{next(counter)}\n")
                    if since is not None and sid not in expected.setdefault(name, []):
                        expected[name].append(sid)
            store.record_mark(
                MarkRecord(
                    workspace=str(ws),
                    commit=repo.snapshot("end"),
                    kind="end",
                    session_id=sid,
                    created=datetime.now(UTC),
                )
            )
            for name in by_hand:  # a person, between runs
                (ws / name).write_text(f"{next(counter)}\n")
                if since is not None and None not in expected.setdefault(name, []):
                    expected[name].append(None)
        assert since is not None
        owners = owners_since(store, repo, since, repo.snapshot("now"))
        assert {p: sorted(w, key=str) for p, w in owners.by_path.items()} == {
            p: sorted(w, key=str) for p, w in expected.items()
        }
        store.close()
