"""Answer a stdio protocol's handshake at once while its SDK loads, from the SDK's own answers.

The ACP and MCP SDKs take 0.6 to 0.8 s of CPU to import here, and a client waits for `initialize`
(MCP: and `tools/list`) before anything else: one orchestrator started its first turn before our
tools were listed. `StdioFront` sits between the client and the SDK: two threads copy the lines,
and the SDK serves over a pair of pipes as if they were stdin and stdout. A handshake request
(`initialize`, MCP's `server/discover`, `tools/list` without a cursor) whose answer the SDK gave
before, for the same protocol version and the same server code, is answered from that record at
once and still handed to the SDK under a private id (so the SDK's session knows the client; its
second answer is dropped). Any other request waits for the SDK, in order. The SDK's answers to
handshake requests are recorded (in `<data>/stdio-answers-<name>.json`, keyed by the subagent and
SDK versions and a hash of the server's source), so the first start after an install or upgrade
answers at the SDK's pace and every later one at once. A client that closes its input with every
request answered (a probe that only listed the tools) does not wait for the SDK to finish loading.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from agent import DEFAULT_AGENT
from agent._atomic_file import write_atomic
from agent.acp.stdio import ClaimedStdio

_HANDSHAKE = frozenset({"initialize", "server/discover", "tools/list"})
_PRIVATE = "subagent-front-"
_END = b"\x00subagent-front-end\n"
"""Written after the SDK's last line: the relay stops there (the SDK may keep a duplicate of its
stdout open, so the pipe's end of file cannot be waited for)."""
_MAX_RECORDED = 16
_VERSION_META = "io.modelcontextprotocol/protocolVersion"


def _lines(fd: int) -> Iterator[bytes]:
    """The newline-terminated lines read from `fd` until its end (a last unterminated one too)."""
    pending = b""
    with os.fdopen(fd, "rb", buffering=0, closefd=False) as source:
        while chunk := source.read(65536):
            *lines, pending = (pending + chunk).split(b"\n")
            yield from (line + b"\n" for line in lines)
    if pending.strip():
        yield pending + b"\n"


def _key(message: dict[str, Any]) -> str | None:
    """The record key of a handshake request (method and protocol version), or None."""
    method, params = message.get("method"), message.get("params") or {}
    if method not in _HANDSHAKE or "id" not in message or not isinstance(params, dict):
        return None
    if method == "tools/list" and params.get("cursor"):
        return None
    found = params.get("_meta")
    meta: dict[str, Any] = found if isinstance(found, dict) else {}
    version = params.get("protocolVersion", meta.get(_VERSION_META, ""))
    return f"{method} {json.dumps(version)}"


class _Record:
    """The SDK's answers to handshake requests, kept for the same server code and SDK."""

    def __init__(self, path: Path, fingerprint: dict[str, str]) -> None:
        self.path, self.fingerprint = path, fingerprint
        self.answers: dict[str, Any] = {}
        try:
            kept = json.loads(path.read_text(encoding="utf-8"))
            if kept.get("fingerprint") == fingerprint and isinstance(kept.get("answers"), dict):
                self.answers = kept["answers"]
        except (OSError, ValueError, AttributeError):
            pass

    def keep(self, key: str, result: Any) -> None:
        if self.answers.get(key) == result or len(self.answers) >= _MAX_RECORDED:
            return
        self.answers[key] = result
        record = json.dumps({"fingerprint": self.fingerprint, "answers": self.answers})
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(self.path, record, mode=0o600, fsync=False)
        except OSError:  # no record: the next start answers at the SDK's pace
            pass


def fingerprint(server_module: Path, sdk_distribution: str, *extra: str) -> dict[str, str]:
    """What a recorded answer depends on: our version and server source, and the SDK's version."""
    from importlib.metadata import version

    from agent import __version__

    source = hashlib.sha256(server_module.read_bytes())
    for part in extra:
        source.update(part.encode())
    return {"subagent": __version__, "sdk": version(sdk_distribution), "server": source.hexdigest()}


class StdioFront:
    """The client's stdio on one side, the SDK's pipes on the other (see the module docstring)."""

    def __init__(self, client: ClaimedStdio, record_file: Path, fingerprint: dict[str, str],
                 on_idle_end: Callable[[], None]) -> None:  # fmt: skip
        self._client = client
        self._on_idle_end = on_idle_end
        self._record = _Record(record_file, fingerprint)
        to_sdk, self._to_sdk = os.pipe()
        self._from_sdk, from_sdk = os.pipe()
        self.sdk = ClaimedStdio(to_sdk, from_sdk)
        """The descriptors the SDK serves over: its stdin and its stdout."""
        self._write_lock = threading.Lock()
        self._recording: dict[Any, str] = {}
        self._waiting: set[Any] = set()
        """Ids of the client's requests handed to the SDK and not answered yet."""
        self._count = 0
        self._to_client = threading.Thread(target=self._pump_answers, name="front-out", daemon=True)

    def start(self) -> None:
        """Begin reading the client (answering what the record knows) and relaying the SDK."""
        threading.Thread(target=self._pump_requests, name="front-in", daemon=True).start()
        self._to_client.start()

    def finish(self, timeout_s: float = 10.0) -> None:
        """After the SDK stopped serving: relay every line it wrote, then return."""
        try:
            _write_all(self.sdk.output_fd, _END)
        except OSError:  # the relay is gone already (the client closed its end)
            return
        self._to_client.join(timeout_s)

    def _answer(self, data: bytes) -> None:
        with self._write_lock:  # the two pumps both write to the client: whole lines only
            _write_all(self._client.output_fd, data)

    def _pump_requests(self) -> None:
        try:
            for line in _lines(self._client.input_fd):
                _write_all(self._to_sdk, self._route(line))
        except OSError:  # the SDK is gone: nothing more can be served
            pass
        if not self._waiting:  # the client left with every answer given: no need to wait for the SDK
            self._on_idle_end()
        os.close(self._to_sdk)

    def _route(self, line: bytes) -> bytes:
        """Answer a handshake request the record knows; what goes on to the SDK."""
        try:
            message = json.loads(line)
        except ValueError:
            return line  # the SDK answers with its parse error
        if not isinstance(message, dict):
            return line
        key = _key(message)
        if key is None:
            if "method" in message and "id" in message:
                self._waiting.add(message["id"])
            return line
        if key not in self._record.answers:
            self._recording[message["id"]] = key
            self._waiting.add(message["id"])
            return line
        answer = {"jsonrpc": "2.0", "id": message["id"], "result": self._record.answers[key]}
        self._answer(_dumps(answer))
        self._count += 1
        return _dumps({**message, "id": f"{_PRIVATE}{self._count}"})

    def _pump_answers(self) -> None:
        try:
            for line in _lines(self._from_sdk):
                if line == _END:
                    break
                if (relayed := self._relay(line)) is not None:
                    self._answer(relayed)
        except OSError:  # the client is gone
            pass
        finally:
            os.close(self._from_sdk)

    def _relay(self, line: bytes) -> bytes | None:
        """What the client gets of one SDK line: nothing for an answer the front already gave."""
        if b'"id"' not in line:
            return line  # notifications and requests to the client pass as they are
        try:
            message = json.loads(line)
        except ValueError:
            return line
        if not isinstance(message, dict) or "method" in message:
            return line
        request_id = message.get("id")
        if isinstance(request_id, str) and request_id.startswith(_PRIVATE):
            return None
        self._waiting.discard(request_id)
        key = self._recording.pop(request_id, None)
        if key is not None and "result" in message:
            self._record.keep(key, message["result"])
        return line


def _dumps(message: dict[str, Any]) -> bytes:
    """One line of JSON-RPC, compact as the SDKs write it."""
    return json.dumps(message, separators=(",", ":"), ensure_ascii=False).encode() + b"\n"


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def start_front(name: str, client: ClaimedStdio, server_module: str, sdk_distribution: str,
                on_idle_end: Callable[[], None]) -> StdioFront:  # fmt: skip
    """A started front for the `name` server (`agent.acp.server`, `agent.mcp.server`) over `client`;
    the SDK serves over `front.sdk`. `on_idle_end` is called (from the front's thread) when the
    client closes its input with every request answered: the process may end without waiting for
    the SDK. Nothing of the server or its SDK is imported here."""
    from importlib.metadata import PackageNotFoundError
    from importlib.util import find_spec

    from agent.paths import data_home

    spec = find_spec(server_module)
    assert spec is not None and spec.origin is not None, server_module
    try:
        kept = fingerprint(Path(spec.origin), sdk_distribution, DEFAULT_AGENT)
    except (OSError, PackageNotFoundError):
        kept = {"unknown": os.urandom(8).hex()}  # nothing recorded can match: the SDK answers
    front = StdioFront(client, data_home() / f"stdio-answers-{name}.json", kept, on_idle_end)
    front.start()
    return front
