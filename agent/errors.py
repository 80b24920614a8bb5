"""The runtime's one error hierarchy.

Three families hang from one root, and each is handled in one place:

    SubagentError
    ├── ConfigError               developer or user misuse: bad config, bad persona, bad flag
    │   ├── PersonaError          a persona file that does not parse (file and line)
    │   ├── RegistryError         agents.yaml or .subagent/config.yaml is wrong (file and key)
    │   ├── UnknownAgentError     an agent name that is not registered
    │   ├── UnknownSessionError   a session id that names no session (or several)
    │   └── DispatchFileError     a dispatch file's task that cannot run (file, task, reason)
    ├── ToolFailure               the model should act on it: becomes an error tool result
    │   ├── ToolInputError        input that does not fit the tool's schema or rules
    │   ├── PathOutsideWorkspaceError
    │   ├── PolicyDeniedError     the run's filesystem policy forbids this access (path, rule)
    │   ├── StaleReadError        file not read in this session, or changed on disk since
    │   ├── EditMatchError        old_string not found, or found more than once
    │   ├── PatchApplyError       a patch hunk that does not apply (nothing was changed)
    │   ├── BashUnavailableError  bash has no sandbox to run in (why, and how to fix it)
    │   └── McpServerError    an MCP server that cannot start, answer or stay up (name, stderr)
    └── RunError                  the run itself cannot go on
        ├── ModelAPIError         the model API failed for good (status, type, retries used)
        │   └── ContextWindowError  the conversation cannot fit the window even after compaction
        ├── ModelReplyError       one attempt at a turn failed (the client retries or gives up)
        │   ├── ApiStatusError    the API answered an error (status, type, message, headers)
        │   ├── ApiConnectionError  no answer: refused, reset or timed out
        │   ├── StreamIncompleteError  the stream ended, or the connection dropped, before message_stop
        │   └── InvalidResponseError  a reply that is not the Messages API's stream
        │       └── StreamShapeError  an event that does not fit the stream so far
        ├── SandboxUnavailableError  bubblewrap missing or refused; says how to fix it
        ├── SessionError          a session that cannot be loaded, written or locked
        │   ├── SessionLockedError  another process is running this session
        │   └── StoreError        the session store cannot be opened or written (file, cause, remedy)
        │       ├── StoreLockedError  another process holds the store's lock (which, and what to do)
        │       └── StoreFullError    no space left where the store lives (path, bytes needed)
        ├── WorkspaceBusyError    another run is changing this workspace (session, pid, what to do)
        ├── RunCancelledError     the caller cancelled the run
        ├── RemoteDispatchError   a remote executor (Temporal) unreachable or refusing (address, subtasks)
        ├── WorkspaceFetchError   a worker cannot fetch a subtask's repository or commit
        ├── TreeMountError        a subagent's copy-on-write tree could not be mounted or unmounted
        └── HostGitError          a git command the runtime ran on the host failed or timed out
            ├── GitDirRefusedError  a .git, gitdir or commondir that points where git must not go
            ├── CheckpointRepoError  a workspace's checkpoint repository failed (which, and why)
            └── WorktreeError     a subagent's worktree could not be made, saved or merged (git's words)
                └── MergeRefusedError  a merge left out paths whose folder became a link meanwhile (which)
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any


class SubagentError(Exception):
    """Root of every error the runtime raises on purpose."""


# --- developer or user misuse -------------------------------------------------------------


class ConfigError(SubagentError):
    """Configuration or invocation that cannot work as written."""


class PersonaError(ConfigError):
    """A persona file that cannot be loaded."""

    def __init__(self, path: Path | str, reason: str, line: int | None = None) -> None:
        self.path = Path(path)
        self.reason = reason
        self.line = line
        where = f"{self.path}:{line}" if line is not None else str(self.path)
        super().__init__(f"{where}: {reason}")


class RegistryError(ConfigError):
    """agents.yaml (or a workspace config) that does not fit its schema."""

    def __init__(self, path: Path | str, reason: str, key: str | None = None) -> None:
        self.path = Path(path)
        self.reason = reason
        self.key = key
        prefix = f"{self.path}: {key}: " if key else f"{self.path}: "
        super().__init__(prefix + reason)


class UnknownSessionError(ConfigError):
    """A session id (or prefix) that names no session, or more than one."""


class UnknownAgentError(ConfigError):
    """An agent name that no persona or registry entry defines."""

    def __init__(self, name: str, known: list[str]) -> None:
        self.name = name
        self.known = known
        super().__init__(f"unknown agent {name!r}; known agents: {', '.join(sorted(known)) or 'none'}")


class DispatchFileError(ConfigError):
    """A task in a `subagent dispatch` file that cannot run as written."""

    def __init__(self, path: Path | str, reason: str, task: str | None = None) -> None:
        self.path = Path(path)
        self.reason = reason
        self.task = task
        where = f"{self.path}: task {task}" if task is not None else str(self.path)
        super().__init__(f"{where}: {reason}")


# --- failures the model should act on ------------------------------------------------------


class ToolFailure(SubagentError):
    """A tool call that failed in a way the model can fix; its message is the tool result."""


class ToolInputError(ToolFailure):
    """Input that does not fit the tool's schema or rules."""


class PathOutsideWorkspaceError(ToolFailure):
    """A path that resolves outside the workspace roots without permission."""

    def __init__(self, path: str, resolved: Path) -> None:
        self.path = path
        self.resolved = resolved
        super().__init__(
            f"{path} resolves to {resolved}, outside the workspace; "
            "use a path inside the workspace or ask for external_directory permission"
        )


class PolicyDeniedError(ToolFailure):
    """An access the run's filesystem policy forbids, whatever the permission mode."""

    def __init__(self, path: str, access: str, why: str) -> None:
        self.path = path
        self.access = access
        self.why = why
        super().__init__(f"{path}: {access} refused by the sandbox policy: {why}")


class StaleReadError(ToolFailure):
    """A change to a file that was not read in this session, or that changed since."""

    def __init__(self, path: Path, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"{path}: {reason}; read the file again before changing it")


class EditMatchError(ToolFailure):
    """An edit whose old_string was not found, or was found more than once."""


class PatchApplyError(ToolFailure):
    """A patch that does not apply; no file was changed."""


class BashUnavailableError(ToolFailure):
    """bash was called but this run has no sandbox; the model can go on without bash."""


class McpServerError(ToolFailure):
    """An MCP server that cannot start, answer or stay up; a call to its tools answers with it."""

    def __init__(self, server: str, reason: str) -> None:
        self.server = server
        self.reason = reason
        super().__init__(f"MCP server {server!r}: {reason}")


# --- run failures --------------------------------------------------------------------------


class RunError(SubagentError):
    """The run cannot go on."""


class ModelAPIError(RunError):
    """The model API failed and retrying did not help (or must not be tried)."""

    def __init__(
        self, message: str, *, status: int | None = None, error_type: str | None = None, attempts: int = 1
    ) -> None:
        self.status = status
        self.error_type = error_type
        self.attempts = attempts
        super().__init__(message)


class ModelReplyError(RunError):
    """One attempt at a model turn went wrong. The model client raises it where the failure enters
    (a status, a dropped connection, a stream it cannot read) and `agent.model._errors` turns it
    into a retry or a `ModelAPIError`; it never reaches a user as is."""


class ApiStatusError(ModelReplyError):
    """The API answered with an error: an error status, or an `error` event in a 200 stream."""

    def __init__(self, status: int, body: object, headers: Mapping[str, str] | None = None) -> None:
        self.status = status
        found = body.get("error") if isinstance(body, dict) else None
        error: dict[str, Any] = found if isinstance(found, dict) else {}
        found = error.get("details")
        details: dict[str, Any] = found if isinstance(found, dict) else {}
        self.error_type: str = _text(error.get("type")) or f"http_{status}"
        self.error_code: str = _text(details.get("error_code"))
        self.message: str = _text(error.get("message")) or _body_text(status, body)
        self.headers: Mapping[str, str] = headers or {}
        super().__init__(f"{status} {self.error_type}: {self.message}")

    @classmethod
    def from_body(cls, status: int, raw: bytes, headers: Mapping[str, str]) -> ApiStatusError:
        """From an error reply's body, JSON or not."""
        text = raw.decode("utf-8", "replace").strip()
        try:
            body: object = json.loads(text)
        except ValueError:
            body = text
        return cls(status, body, headers)


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _body_text(status: int, body: object) -> str:
    if body in ("", None):
        return f"{status} status code (no body)"
    text = body if isinstance(body, str) else json.dumps(body, separators=(",", ":"), ensure_ascii=False)
    return text[:500]


class ApiConnectionError(ModelReplyError):
    """The request got no answer: the connection was refused, reset or timed out before one."""

    def __init__(self, cause: BaseException, *, timed_out: bool) -> None:
        self.timed_out = timed_out
        super().__init__(str(cause))


class StreamIncompleteError(ModelReplyError):
    """The stream ended without `message_stop`: closed early, cleanly, or the connection dropped."""

    @classmethod
    def connection_lost(cls, cause: BaseException) -> StreamIncompleteError:
        """The connection dropped while the stream was read (`cause`: the transport's error)."""
        return cls(f"connection lost mid-stream: {type(cause).__name__}: {cause}")


class InvalidResponseError(ModelReplyError):
    """A reply that is not the Messages API's stream (data that is not JSON, events out of order)."""


class StreamShapeError(InvalidResponseError):
    """An event that does not fit the stream so far (a delta for a block never started, an event
    before `message_start`)."""


class SandboxUnavailableError(RunError):
    """The sandbox cannot start here; the message says why and how to fix it."""


class SessionError(RunError):
    """A session that cannot be found or loaded."""


class SessionLockedError(SessionError):
    """Another process holds this session."""


class StoreError(SessionError):
    """The session store (`sessions.db`) cannot be opened, read or written; the message names the
    file, the cause and what to do."""

    passing = False
    """The cause passes (a lock released, space freed) and the store is whole: a run it stopped can
    be resumed once it has. False for damage: that store is moved aside."""

    def __init__(self, path: Path | str, reason: str) -> None:
        self.path = Path(path)
        self.reason = reason
        super().__init__(f"session store {self.path}: {reason}")


class StoreLockedError(StoreError):
    """Another process holds the store's write lock longer than a run waits."""

    passing = True


class StoreFullError(StoreError):
    """No space left on the disk that holds the store (or the data dir beside it)."""

    passing = True

    def __init__(self, path: Path | str, reason: str, *, needed: int, free: int) -> None:
        self.needed = needed
        self.free = free
        super().__init__(path, reason)


class WorkspaceBusyError(RunError):
    """Another run is changing this workspace; the message names its session and pid."""

    def __init__(self, workspace: Path | str, holder: str) -> None:
        self.workspace = Path(workspace)
        self.holder = holder
        super().__init__(
            f"workspace {self.workspace} is busy: {holder} is changing it. Wait for that run to "
            "finish (or stop it), or run this one in another checkout (`git worktree add`)"
        )


class RunCancelledError(RunError):
    """The caller cancelled the run."""


class RemoteDispatchError(RunError):
    """A remote executor (Temporal) that cannot be reached or refused the dispatch."""

    def __init__(self, message: str, *, address: str, subtask_ids: list[str]) -> None:
        self.address = address
        self.subtask_ids = subtask_ids
        super().__init__(message)


class WorkspaceFetchError(RunError):
    """A worker that cannot fetch a subtask's workspace (repository or commit)."""

    def __init__(self, subtask_id: str, source: str, commit: str | None, reason: str) -> None:
        self.subtask_id = subtask_id
        self.source = source
        self.commit = commit
        self.reason = reason
        super().__init__(
            f"subtask {subtask_id}: cannot fetch commit {commit or 'HEAD'} from {source}: {reason}; "
            "push the commit to a remote the workers can reach, or pass a git URL as the task's cwd"
        )


class ContextWindowError(ModelAPIError):
    """The conversation cannot be made to fit the model's context window, even after compaction."""

    def __init__(self, message: str) -> None:
        super().__init__(message, error_type="context_window_exceeded")


class HostGitError(RunError):
    """A git command the runtime itself ran (checkpoints, worktrees, status) failed or timed out."""


class GitDirRefusedError(HostGitError):
    """A repository whose `.git`, gitdir or commondir redirects git where the runtime will not follow."""

    def __init__(self, path: Path, points_to: Path | str, reason: str) -> None:
        self.path = Path(path)
        self.points_to = str(points_to)
        self.reason = reason
        super().__init__(
            f"refusing to run git through {self.path}: it points at {self.points_to}, {reason}; "
            "remove or repair it if you did not put it there"
        )


class CheckpointRepoError(HostGitError):
    """A workspace's shadow repository of checkpoints failed (git, or its folder); names it.

    Raised where the checkpoints meet git (`agent.sessions._shadow_git`), so `/diff`, `/undo`,
    `subagent undo` and the loop's snapshots all say which repository failed, and whether its
    snapshots are gone, instead of git's bare words.
    """

    def __init__(self, git_dir: Path, detail: str) -> None:
        self.git_dir = git_dir
        self.detail = detail
        super().__init__(f"the checkpoint repository {git_dir}: {detail}")


class WorktreeError(HostGitError):
    """A git step of the orchestrator's worktrees or merges failed; the message holds git's stderr."""


class MergeRefusedError(WorktreeError):
    """A merge wrote the workspace but for paths it refused (`refused`: relative path to why): a
    folder on their path became a symbolic link or a file while it wrote, and it follows no link."""

    def __init__(self, workspace: Path, refused: dict[str, str]) -> None:
        self.workspace = workspace
        self.refused = refused
        listed = "; ".join(f"{path}: {why}" for path, why in refused.items())
        super().__init__(
            f"the merge into {workspace} wrote everything else but not these paths, and follows no "
            f"link: {listed}"
        )


class TreeMountError(RunError):
    """A subagent's copy-on-write tree could not be mounted or unmounted (the kernel's words)."""
