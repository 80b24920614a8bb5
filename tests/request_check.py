"""A validator for every request the loop sends: what the Messages API would refuse with a 400.

`check_request(body)` takes the JSON body (or `ModelRequest.to_api_kwargs()`) and raises
AssertionError naming the first rule broken: roles alternate starting with a user message;
every tool_use is answered by a tool_result with the same id in the very next user message,
results first and in tool_use order, no result without its call; at most 4 cache breakpoints.
"""

from __future__ import annotations

import itertools
from typing import Any

MAX_BREAKPOINTS = 4


def _blocks(message: dict[str, Any]) -> list[dict[str, Any]]:
    content = message["content"]
    return [{"type": "text", "text": content}] if isinstance(content, str) else content


def _count_breakpoints(body: dict[str, Any]) -> int:
    count = sum(1 for t in body.get("tools", []) if "cache_control" in t)
    system = body.get("system", [])
    if isinstance(system, list):
        count += sum(1 for b in system if "cache_control" in b)
    for message in body["messages"]:
        count += sum(1 for b in _blocks(message) if "cache_control" in b)
    return count


def check_request(body: dict[str, Any]) -> None:
    """Raise AssertionError when `body` breaks a rule the API enforces."""
    messages = body["messages"]
    assert messages, "a request needs at least one message"
    assert messages[0]["role"] == "user", "the first message must be a user message"
    for prev, cur in itertools.pairwise(messages):
        assert prev["role"] != cur["role"], f"two {cur['role']} messages in a row"
    for index, message in enumerate(messages):
        blocks = _blocks(message)
        assert blocks, f"message {index} is empty"
        if message["role"] != "assistant":
            continue
        uses = [b["id"] for b in blocks if b.get("type") == "tool_use"]
        if not uses:
            continue
        assert index + 1 < len(messages), f"tool_use {uses} at the end of the request without results"
        reply = _blocks(messages[index + 1])
        results = [b["tool_use_id"] for b in reply if b.get("type") == "tool_result"]
        assert results == uses, f"message {index + 1}: tool_results {results} do not answer {uses} in order"
        leading = [b.get("type") for b in reply[: len(results)]]
        assert leading == ["tool_result"] * len(results), f"message {index + 1}: tool_results must come first"
    answered: set[str] = set()
    for index, message in enumerate(messages):
        for block in _blocks(message):
            if block.get("type") == "tool_result":
                prev = _blocks(messages[index - 1]) if index else []
                ids = {b.get("id") for b in prev if b.get("type") == "tool_use"}
                assert block["tool_use_id"] in ids, f"message {index}: tool_result without its tool_use"
                answered.add(block["tool_use_id"])
    assert _count_breakpoints(body) <= MAX_BREAKPOINTS, (
        f"{_count_breakpoints(body)} cache breakpoints (max 4)"
    )
