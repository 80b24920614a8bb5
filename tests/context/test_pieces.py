"""The parts of context economy on their own: the cache rule, token tracking, elision, summaries."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from agent.context.elide import ELIDED_PREFIX, elidable_chars, elide_tool_outputs
from agent.context.summary import (
    SUMMARY_INSTRUCTION,
    files_touched,
    original_goal,
    split_index,
    summary_message,
    summary_request_messages,
)
from agent.context.tokens import ContextTracker, json_bytes
from agent.events import Usage
from agent.model.base import ModelRequest
from agent.prompt.request import system_blocks, with_cache_breakpoints
from agent.transcript import messages_to_wire, parse_messages, text_of
from tests.context.cache_server import PromptCache
from tests.request_check import check_request

TOOLS = [{"name": "read", "description": "Read a file. " * 200, "input_schema": {"type": "object"}}]


def body(
    messages: list[dict[str, Any]], env: str = "<env>a</env>", persona: str = "You code."
) -> dict[str, Any]:
    return {
        "model": "m",
        "max_tokens": 10,
        "tools": TOOLS,
        "system": system_blocks(persona, env),
        "messages": with_cache_breakpoints(messages),
    }


def turns(count: int, output: str = "ok") -> list[dict[str, Any]]:
    """A prompt and `count` read turns, ending with the last turn's tool result."""
    messages: list[dict[str, Any]] = [{"role": "user", "content": [{"type": "text", "text": "the goal"}]}]
    for n in range(count):
        messages.append(
            {
                "role": "assistant",
                "content": [
                    {"type": "tool_use", "id": f"t{n}", "name": "read", "input": {"file_path": f"f{n}"}}
                ],
            }
        )
        messages.append(
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": f"t{n}", "content": output}]}
        )
    return messages


def test_the_cache_reads_the_previous_prefix_and_writes_the_new_part() -> None:
    cache = PromptCache(min_cache_tokens=100)
    first = cache.apply(body(turns(1)))
    assert first.cache_read_input_tokens == 0 and first.cache_creation_input_tokens > 0
    second = cache.apply(body(turns(2)))
    assert second.cache_read_input_tokens == first.total
    assert second.input_tokens == 0  # the breakpoint is on the last block
    # Without breakpoints nothing is read or written.
    plain = body(turns(3))
    plain["system"] = [{k: v for k, v in b.items() if k != "cache_control"} for b in plain["system"]]
    plain["messages"] = turns(3)
    assert cache.apply(plain).cache_read_input_tokens == 0


def test_a_prefix_counts_only_where_an_earlier_request_had_a_breakpoint() -> None:
    cache = PromptCache(min_cache_tokens=100)
    cache.apply(body(turns(4)))
    # Two turns shorter: its end was never a breakpoint, so only the system part matches.
    shorter = cache.apply(body(turns(2)))
    assert shorter.cache_read_input_tokens == cache.tokens({"tools": TOOLS, "messages": []}) + sum(
        max(1, json_bytes({k: v for k, v in b.items() if k != "cache_control"}) // 4)
        for b in system_blocks("You code.", "<env>a</env>")
    )


def test_a_new_session_with_another_environment_reads_tools_and_persona_from_the_cache() -> None:
    cache = PromptCache(min_cache_tokens=100)
    cache.apply(body(turns(1), env="<env>git: clean</env>"))
    other = cache.apply(body([{"role": "user", "content": "new task"}], env="<env>git: 3 changed</env>"))
    tools_and_persona = cache.tokens(
        {"tools": TOOLS, "system": system_blocks("You code.", ""), "messages": []}
    )
    assert other.cache_read_input_tokens == tools_and_persona


def test_requests_carry_at_most_four_breakpoints() -> None:
    for count in (0, 1, 5):
        check_request(body(turns(count) if count else [{"role": "user", "content": "hi"}]))


def test_the_tracker_starts_from_bytes_and_then_follows_reported_usage() -> None:
    tracker = ContextTracker()
    assert tracker.estimate(4_000) == 1_000
    tracker.observe(4_000, Usage(input_tokens=10, cache_read_input_tokens=1_190))
    assert tracker.estimate(4_000) == 1_200
    assert tracker.estimate(8_000) >= 1_200 + 1_000  # growth is never under 1 token / 4 bytes
    assert tracker.estimate(2_000) >= 600  # a shrink is never overestimated


def test_elision_saves_the_output_and_keeps_every_result_with_its_call(tmp_path: Path) -> None:
    big = "line of output\n" * 400
    messages = turns(4, output=big)
    messages[2]["content"].append({"type": "text", "text": "a note from the user"})
    typed = parse_messages(messages)
    assert elidable_chars(typed, 5, 2_000) == 2 * len(big)
    result = elide_tool_outputs(typed, 5, 2_000, tmp_path)
    assert result.count == 2 and result.chars_removed == 2 * len(big)
    wire = messages_to_wire(result.messages)
    check_request({"messages": wire})
    first = wire[2]["content"][0]["content"]
    assert first.startswith(ELIDED_PREFIX) and "read output" in first
    assert (tmp_path / "t0.txt").read_text() == big
    assert wire[2]["content"][1]["text"] == "a note from the user"
    assert wire[6]["content"][0]["content"] == big  # after `end`: untouched
    # Eliding again changes nothing, and short or image results are never elided.
    again = elide_tool_outputs(result.messages, 5, 2_000, tmp_path)
    assert again.count == 0 and again.messages == result.messages
    images = turns(1)
    images[2]["content"][0]["content"] = [{"type": "image", "source": {"type": "base64", "data": "x" * 5000}}]
    assert elide_tool_outputs(parse_messages(images), 3, 10, tmp_path).count == 0


def test_the_split_never_separates_a_call_from_its_result() -> None:
    messages = parse_messages(turns(10, output="x" * 1000))
    for budget in (0, 500, 2_000, 5_000, 100_000):
        split = split_index(messages, budget)
        assert split == len(messages) or messages[split].role == "assistant"
        new = [summary_message("the goal", "s", messages[:split]), *messages[split:]]
        check_request({"messages": messages_to_wire(new)})
    assert split_index(messages, 100_000) == 1


def test_the_summary_keeps_the_goal_verbatim_and_lists_the_files() -> None:
    messages = turns(2)
    messages[1]["content"].append(
        {"type": "tool_use", "id": "p", "name": "patch", "input": {"patch_text": "*** Update File: app.py\n"}}
    )
    messages[2]["content"].append({"type": "tool_result", "tool_use_id": "p", "content": "ok"})
    typed = parse_messages(messages)
    message = summary_message(original_goal(typed), "Goal: g\nNext step: n", typed)
    (text,) = text_of(message.content)
    assert "<task>\nthe goal\n</task>" in text and "Next step: n" in text
    assert "Files changed before this point: app.py" in text
    assert "Files read before this point: f0, f1" in text
    # A second compaction finds the same goal and keeps the earlier file lists.
    later = [message, *parse_messages(turns(1)[1:])]
    assert original_goal(later) == "the goal"
    assert files_touched(later) == (["f0", "f1"], ["app.py"])
    asked = summary_request_messages(typed)
    assert text_of(asked[-1].content)[-1] == SUMMARY_INSTRUCTION
    check_request({"messages": messages_to_wire(asked)})


def test_a_request_is_measured_by_the_parts_that_fill_the_window() -> None:
    request = ModelRequest(model="m", system=[], messages=[{"role": "user", "content": "hi"}], max_tokens=5)
    from agent.context.tokens import request_bytes

    assert request_bytes(request) == json_bytes([]) + json_bytes([]) + json_bytes(request.messages)
