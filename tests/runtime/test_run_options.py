"""RunOptions, the one entry for a run: bad options are refused by name before anything starts,
and the model and the keyword form run the same thing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import agent
from agent.api import run_agent, run_events
from agent.errors import ConfigError
from agent.runtime.options import RunOptions
from agent.runtime.parts import RuntimeParts
from agent.transcript import blocks_to_wire
from tests.loop.fakes import MemoryStore
from tests.model import sse
from tests.model.messages_server import MessagesServer
from tests.runtime.test_run_agent import parts_for


def _refusing_parts() -> RuntimeParts:
    """Parts whose every factory fails the test: a refused option must not reach any of them."""

    def never(*_: Any) -> Any:
        raise AssertionError("the run started although its options were invalid")

    factories = ("load_registry", "load_tools", "make_sandbox", "make_gate", "open_store", "repair",
                 "make_snapshot", "headless_approver")  # fmt: skip
    return RuntimeParts(**dict.fromkeys(factories, never))


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        ({"max_turns": 0}, "max_turns"),
        ({"max_budget_usd": -1.0}, "max_budget_usd"),
        ({"permission_mode": "yolo"}, "permission_mode"),
        ({"max_turn": 3}, "max_turn"),  # a misspelt option is refused, not ignored
        ({"fork": "maybe"}, "fork"),
    ],
)
async def test_a_bad_option_is_refused_by_name_before_the_run_starts(
    tmp_path: Path, fields: dict[str, Any], named: str
) -> None:
    with pytest.raises(ConfigError, match=f"run option `{named}`"):
        async for _ in run_agent("x", cwd=tmp_path, parts=_refusing_parts(), **fields):
            pass


async def test_compact_only_needs_a_stored_session_and_no_prompt(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="compact_only compacts an existing session"):
        async for _ in run_agent(
            "a prompt", cwd=tmp_path, compact_only=True, resume="s1", parts=_refusing_parts()
        ):
            pass
    with pytest.raises(ConfigError, match="compact_only"):
        RunOptions.build(cwd=tmp_path, compact_only=True)
    assert RunOptions.build(cwd=tmp_path, compact_only=True, resume="s1").compact_only


async def test_the_python_api_names_the_bad_option(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="run option `max_turns`"):
        await agent.run("x", cwd=str(tmp_path), max_turns=-2, parts=_refusing_parts())


@given(st.integers(max_value=0))
def test_any_turn_limit_below_one_is_refused(turns: int) -> None:
    with pytest.raises(ConfigError, match="max_turns"):
        RunOptions.build(cwd=Path("."), max_turns=turns)


def test_options_are_frozen_and_take_a_string_workspace() -> None:
    options = RunOptions(cwd="ws")  # type: ignore[arg-type]  # the API's callers pass strings
    assert options.cwd == Path("ws") and options.agent == agent.DEFAULT_AGENT
    with pytest.raises(ValueError, match="frozen"):
        options.max_turns = 3  # type: ignore[misc]


async def test_run_events_and_the_keyword_form_run_the_same_task(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "test-key")
    replies = [sse.reply(sse.text_block(0, "done")), sse.reply(sse.text_block(0, "done"))]
    stores = [MemoryStore(), MemoryStore()]
    with MessagesServer(replies) as server:
        monkeypatch.setenv("ANTHROPIC_BASE_URL", server.url)
        options = RunOptions(
            prompt="hi", agent="backend-engineer", cwd=tmp_path, parts=parts_for(stores[0], [])
        )
        by_model = [e async for e in run_events(options)]
        by_keywords = [
            e
            async for e in run_agent(
                "hi", agent="backend-engineer", cwd=tmp_path, parts=parts_for(stores[1], [])
            )
        ]
    assert [e.type for e in by_model] == [e.type for e in by_keywords]
    assert by_model[-1].type == "result" and by_model[-1].result == "done"
    stored = [
        [(m.role, blocks_to_wire(m.content)) for m in store.messages(events[-1].session_id)]
        for store, events in zip(stores, (by_model, by_keywords), strict=True)
    ]
    assert stored[0] == stored[1]
    assert stored[0][0] == ("user", [{"type": "text", "text": "hi"}])
