"""Small real implementations of the loop's collaborators, for tests without the other packages."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

from agent.events import FileChange
from agent.permissions.models import AskAnswer, AskRequest
from agent.sessions.base import (
    CheckpointRecord,
    CompactionRecord,
    ResumeHistory,
    SessionRecord,
    StoredMessage,
)
from agent.tool import PermissionRequest, Tool, ToolContext, ToolInput, ToolResult
from agent.transcript import Block, Message, blocks_to_wire


class NoteInput(ToolInput):
    name: str
    text: str = ""


class ReadNoteTool(Tool[NoteInput]):
    """Reads a file of the workspace; waits on `gate_event` when given, to prove concurrency."""

    name: ClassVar[str] = "read_note"
    description: ClassVar[str] = "Read a note."
    input_model: ClassVar[type[ToolInput]] = NoteInput
    kind: ClassVar = "read"
    barrier: ClassVar[asyncio.Barrier | None] = None
    started: ClassVar[asyncio.Event | None] = None

    async def run(self, input: NoteInput, ctx: ToolContext) -> ToolResult:
        if self.started is not None:
            self.started.set()
        if self.barrier is not None:
            await asyncio.wait_for(self.barrier.wait(), 5)
        path = ctx.workspace / input.name
        return ToolResult(output=path.read_text(), files_touched=[str(path)])

    def permission_requests(self, input: NoteInput, ctx: ToolContext) -> list[PermissionRequest]:
        return [PermissionRequest(permission="read", patterns=[input.name])]

    def title(self, input: NoteInput) -> str:
        return f"read {input.name}"


class WriteNoteTool(Tool[NoteInput]):
    """Appends to a file; same-file calls share a conflict key and must run in order."""

    name: ClassVar[str] = "write_note"
    description: ClassVar[str] = "Append to a note."
    input_model: ClassVar[type[ToolInput]] = NoteInput
    kind: ClassVar = "edit"
    mutates: ClassVar[bool] = True
    order: ClassVar[list[str]] = []

    async def run(self, input: NoteInput, ctx: ToolContext) -> ToolResult:
        path = ctx.workspace / input.name
        before = path.read_text() if path.exists() else ""
        await asyncio.sleep(0.01 if input.text.startswith("slow") else 0)
        self.order.append(input.text)
        path.write_text(before + input.text)
        return ToolResult(output="ok", changes=[FileChange(path=str(path), action="update")])

    def permission_requests(self, input: NoteInput, ctx: ToolContext) -> list[PermissionRequest]:
        return [PermissionRequest(permission="edit", patterns=[input.name])]

    def conflict_key(self, input: NoteInput, ctx: ToolContext) -> str | None:
        return input.name


class SleepTool(Tool[NoteInput]):
    name: ClassVar[str] = "sleep"
    description: ClassVar[str] = "Sleep a long time."
    input_model: ClassVar[type[ToolInput]] = NoteInput
    kind: ClassVar = "execute"
    started: ClassVar[asyncio.Event | None] = None

    async def run(self, input: NoteInput, ctx: ToolContext) -> ToolResult:
        if self.started is not None:
            self.started.set()
        await asyncio.sleep(60)
        return ToolResult(output="woke")

    def permission_requests(self, input: NoteInput, ctx: ToolContext) -> list[PermissionRequest]:
        return [PermissionRequest(permission="bash", patterns=["sleep"])]


class Verdict:
    def __init__(self, decision: str, reason: str, permission: str, patterns: list[str]) -> None:
        self.decision, self.reason, self.permission, self.patterns = decision, reason, permission, patterns


class TableGate:
    """Decides by permission name from a table; asks are answered by `answer`."""

    def __init__(self, table: dict[str, str] | None = None, answer: str = "allow") -> None:
        self.table = table or {}
        self.answer = answer
        self.asked: list[AskRequest] = []

    def evaluate(
        self, tool_name: str, tool_input: dict[str, Any], requests: list[PermissionRequest]
    ) -> Verdict:
        for req in requests:
            decision = self.table.get(req.permission, "allow")
            if decision != "allow":
                return Verdict(
                    decision, f"{req.permission} is {decision} by rule", req.permission, req.patterns
                )
        return Verdict("allow", "", "", [])

    async def ask(self, request: AskRequest) -> AskAnswer:
        self.asked.append(request)
        return AskAnswer(decision=self.answer, message="" if self.answer == "allow" else "the user said no")  # type: ignore[arg-type]


class MemoryStore:
    """The SessionStore protocol kept in memory (what the loop and run_agent use of it)."""

    def __init__(self, outputs: Path = Path("/tmp")) -> None:
        self.outputs = outputs
        """Where `output_dir` puts each session's saved outputs."""
        self.rows: list[StoredMessage] = []
        self.updates: list[dict[str, Any]] = []
        self.sessions: dict[str, SessionRecord] = {}
        self.checkpoint_rows: list[CheckpointRecord] = []
        self.mark_rows: list[Any] = []
        self.started: dict[str, set[str]] = {}
        self.compaction_rows: list[CompactionRecord] = []

    def create(
        self,
        *,
        agent: str,
        workspace: Path,
        model: str = "",
        parent_id: str | None = None,
        parent_tool_use_id: str | None = None,
        title: str = "",
        session_id: str | None = None,
    ) -> SessionRecord:
        now = datetime.now(UTC)
        record = SessionRecord(
            id=session_id or f"sess{len(self.sessions) + 1}",
            agent=agent,
            model=model,
            workspace=str(workspace),
            title=title,
            parent_id=parent_id,
            parent_tool_use_id=parent_tool_use_id,
            created=now,
            updated=now,
        )
        self.sessions[record.id] = record
        return record

    def get(self, session_id: str) -> SessionRecord:
        return self.sessions[session_id]

    def latest(self, workspace: Path) -> SessionRecord | None:
        mine = [r for r in self.sessions.values() if r.workspace == str(workspace)]
        return mine[-1] if mine else None

    def fork(self, session_id: str) -> SessionRecord:
        old = self.sessions[session_id]
        new = self.create(agent=old.agent, workspace=Path(old.workspace), model=old.model)
        for row in self.messages(session_id):
            self.append_message(new.id, row.role, row.content)
        return new

    def mark_tool_started(self, session_id: str, tool_use_id: str) -> None:
        self.started.setdefault(session_id, set()).add(tool_use_id)

    def started_tools(self, session_id: str) -> set[str]:
        return set(self.started.get(session_id, set()))

    def append_message(
        self, session_id: str, role: str, content: Sequence[Block], *, merge: bool = False
    ) -> int:
        mine = self.messages(session_id)
        covered = max((c.upto_seq for c in self.compactions(session_id)[-1:]), default=0)
        if merge and role == "user" and mine and mine[-1].role == "user" and mine[-1].seq > covered:
            mine[-1].content = [*mine[-1].content, *content]
            return mine[-1].seq
        self.rows.append(
            StoredMessage(
                session_id=session_id,
                seq=len(self.rows) + 1,
                role=role,  # type: ignore[arg-type]
                content=list(content),
                created=datetime.now(UTC),
            )
        )
        return len(self.rows)

    def wire_rows(self) -> list[dict[str, Any]]:
        """Every stored message in its wire form, as SQLite would hold it."""
        return [{"role": r.role, "content": blocks_to_wire(r.content)} for r in self.rows]

    def messages(self, session_id: str) -> list[StoredMessage]:
        return [r for r in self.rows if r.session_id == session_id]

    def record_compaction(
        self,
        session_id: str,
        upto_seq: int,
        messages: Sequence[Message],
        method: str,
        tokens_before: int,
        tokens_after: int,
    ) -> None:
        self.compaction_rows.append(
            CompactionRecord(
                session_id=session_id,
                upto_seq=upto_seq,
                messages=list(messages),
                method=method,  # type: ignore[arg-type]
                tokens_before=tokens_before,
                tokens_after=tokens_after,
                created=datetime.now(UTC),
            )
        )

    def compactions(self, session_id: str) -> list[CompactionRecord]:
        return [r for r in self.compaction_rows if r.session_id == session_id]

    def messages_for_resume(self, session_id: str) -> ResumeHistory:
        done = self.compactions(session_id)
        upto = done[-1].upto_seq if done else 0
        rows = self.messages(session_id)
        head = done[-1].messages if done else []
        tail = [Message(role=r.role, content=r.content) for r in rows if r.seq > upto]
        last = rows[-1].seq if rows else 0
        return ResumeHistory(messages=[*head, *tail], last_seq=last, compacted_upto=upto)

    def update(self, session_id: str, **fields: Any) -> None:
        self.updates.append(fields)

    @contextmanager
    def lock(self, session_id: str) -> Iterator[None]:
        yield

    def record_checkpoint(self, record: CheckpointRecord) -> None:
        self.checkpoint_rows.append(record)

    def checkpoints(self, session_id: str) -> list[CheckpointRecord]:
        return [r for r in self.checkpoint_rows if r.session_id == session_id]

    def record_mark(self, record: Any) -> None:
        self.mark_rows.append(record)

    def output_dir(self, session_id: str) -> Path:
        return self.outputs / session_id


def build_setup(tmp_path: Path, client: Any, gate: TableGate | None = None, **kw: Any) -> Any:
    """A LoopSetup over the fake tools, for any model client."""
    from agent.loop.agent_loop import LoopSetup
    from agent.loop.tool_calls import ToolRunner
    from agent.model.resolve import ResolvedModel
    from agent.registry.schema import PriceConfig
    from agent.registry.spec import AgentSpec
    from agent.tool import ToolContext

    ctx = ToolContext(workspace=tmp_path, data_dir=tmp_path / ".data")
    tools = {t.name: t for t in (ReadNoteTool(), WriteNoteTool(), SleepTool())}
    runner = ToolRunner(session_id="s1", agent="tester", tools=tools, ctx=ctx, gate=gate or TableGate())
    price = PriceConfig(input=3.0, output=15.0, cache_read=0.3, cache_write=3.75)
    spec = kw.pop("spec", None) or AgentSpec(name="tester", prompt="You test.")
    return LoopSetup(
        session_id="s1",
        spec=spec,
        model=ResolvedModel("claude-sonnet-5-5", 200_000, 8_000, price, True),
        client=client,
        runner=runner,
        env_block="<env>x</env>",
        **kw,
    )
