"""A local Messages API server that applies the prompt cache's prefix rule and a context window.

Tokens are estimated deterministically: each tool definition, system block and message content
block costs max(1, bytes // 4) of its compact JSON (cache_control left out). The prefix rule: a
request's cached part is its longest prefix, up to its last cache_control breakpoint, that equals
a prefix of an earlier request which had a breakpoint at that point (and was at least
`min_cache_tokens` long, below which nothing is cached). Usage is reported as the API does:
`cache_read_input_tokens` for the cached part, `cache_creation_input_tokens` from there to the
last breakpoint, `input_tokens` for what follows it. A request over `window` tokens, or one that
`tests.request_check` rejects, is answered 400 and recorded, so a test can assert none was sent.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Callable
from typing import Any

from tests.model import sse
from tests.model.local_api import ApiHandler, LocalApiServer, error_body
from tests.request_check import check_request


@dataclasses.dataclass
class Turn:
    """One scripted reply: text and/or tool calls `(id, name, input)`."""

    text: str = ""
    tools: list[tuple[str, str, dict[str, Any]]] = dataclasses.field(default_factory=list)
    stop_reason: str | None = None


@dataclasses.dataclass(frozen=True)
class CacheUsage:
    input_tokens: int
    cache_read_input_tokens: int
    cache_creation_input_tokens: int

    @property
    def total(self) -> int:
        return self.input_tokens + self.cache_read_input_tokens + self.cache_creation_input_tokens


def _canonical(block: Any) -> bytes:
    if isinstance(block, dict):
        block = {k: v for k, v in block.items() if k != "cache_control"}
    return json.dumps(block, separators=(",", ":"), sort_keys=True, ensure_ascii=False).encode()


def flatten(body: dict[str, Any]) -> list[tuple[str, bytes, bool]]:
    """(role, canonical bytes, has breakpoint) for every block, in prefix order."""
    out = [("tools", _canonical(t), "cache_control" in t) for t in body.get("tools", [])]
    system = body.get("system", [])
    if isinstance(system, str):
        system = [{"type": "text", "text": system}]
    out += [("system", _canonical(b), "cache_control" in b) for b in system]
    for index, message in enumerate(body["messages"]):
        content = message["content"]
        blocks = [{"type": "text", "text": content}] if isinstance(content, str) else content
        role = f"{message['role']}#{index}"
        out += [(role, _canonical(b), "cache_control" in b) for b in blocks]
    return out


class PromptCache:
    """The cache's prefix rule over flattened requests (see the module docstring)."""

    def __init__(self, min_cache_tokens: int = 1024) -> None:
        self.min_cache_tokens = min_cache_tokens
        self._entries: set[str] = set()

    def tokens(self, body: dict[str, Any]) -> int:
        return sum(max(1, len(data) // 4) for _, data, _ in flatten(body))

    def apply(self, body: dict[str, Any]) -> CacheUsage:
        """Usage of `body`, then remember its breakpoints for later requests."""
        blocks = flatten(body)
        sizes = [max(1, len(data) // 4) for _, data, _ in blocks]
        digest = hashlib.sha256()
        hashes: list[str] = []
        for role, data, _ in blocks:
            digest.update(role.encode() + b"\0" + data + b"\0")
            hashes.append(digest.copy().hexdigest())
        marks = [i for i, (_, _, mark) in enumerate(blocks) if mark]
        last = marks[-1] if marks else -1
        hit = next((j for j in range(last, -1, -1) if hashes[j] in self._entries), -1)
        read = sum(sizes[: hit + 1])
        upto_last = sum(sizes[: last + 1])
        write = upto_last - read if upto_last >= self.min_cache_tokens else 0
        for mark in marks:
            if sum(sizes[: mark + 1]) >= self.min_cache_tokens:
                self._entries.add(hashes[mark])
        return CacheUsage(sum(sizes) - read - write, read, write)


Replier = Callable[[dict[str, Any]], Turn]


class CachingMessagesServer(LocalApiServer):
    """`with CachingMessagesServer(replier, window=50_000) as server: ... server.url ...`."""

    def __init__(self, replier: Replier, window: int = 200_000, min_cache_tokens: int = 1024) -> None:
        super().__init__()
        self._replier = replier
        self.window = window
        self.cache = PromptCache(min_cache_tokens)
        self.usages: list[CacheUsage] = []
        self.over_window: list[int] = []
        """Token counts of requests refused for being over the window (a correct client sends none)."""
        self.violations: list[str] = []
        """What `check_request` found wrong in a request (a correct client sends none)."""

    def answer(self, body: dict[str, Any]) -> tuple[int, str]:
        """(status, body) for one request; also usable without HTTP."""
        with self._lock:
            self.requests.append(body)
            try:
                check_request(body)
            except AssertionError as exc:
                self.violations.append(str(exc))
                return 400, error_body(f"invalid request: {exc}")
            tokens = self.cache.tokens(body)
            if tokens > self.window:
                self.over_window.append(tokens)
                return 400, error_body(f"prompt is too long: {tokens} tokens > {self.window} maximum")
            usage = self.cache.apply(body)
            self.usages.append(usage)
            return 200, _sse(self._replier(body), usage)

    def handle_post(self, request: ApiHandler, body: dict[str, Any]) -> None:
        status, payload = self.answer(body)
        request.send_body(status, "text/event-stream" if status == 200 else "application/json", payload)


def _sse(turn: Turn, usage: CacheUsage) -> str:
    blocks = []
    if turn.text:
        blocks.append(sse.text_block(0, turn.text))
    for tool_id, name, data in turn.tools:
        blocks.append(sse.tool_block(len(blocks), tool_id, name, data))
    stop = turn.stop_reason or ("tool_use" if turn.tools else "end_turn")
    out_tokens = max(1, sum(len(b) for b in blocks) // 16)
    return (
        sse.message_start(
            usage.input_tokens, usage.cache_read_input_tokens, usage.cache_creation_input_tokens
        )
        + "".join(blocks)
        + sse.message_end(stop, out_tokens)
    )
