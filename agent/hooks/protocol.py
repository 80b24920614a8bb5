"""What a hook is told and what its answer means (Claude Code's hook protocol).

Input: one JSON object on stdin: `session_id`, `transcript_path`, `cwd`, `permission_mode`,
`hook_event_name`, and the event's own fields (`tool_name`, `tool_input`, `tool_use_id`,
`tool_response`, `prompt`, `stop_hook_active`, `source`, `reason`, `trigger`, `message`).

Answer:
- exit 0: success. A JSON object on stdout is read: `continue: false` (with `stopReason`) ends
  the run; `systemMessage` is shown to the person; `decision: "block"` with `reason` blocks
  (a prompt, a stop, or, after a tool ran, tells the model why); `hookSpecificOutput` carries
  `permissionDecision` (`allow | deny | ask`) with `permissionDecisionReason` for PreToolUse
  (the older `decision: approve | block` too) and `additionalContext`. Plain stdout of
  UserPromptSubmit and SessionStart is context for the model.
- exit 2: a blocking answer; stderr is the reason (the model reads it for PreToolUse,
  PostToolUse, Stop and SubagentStop; the person for the others).
- any other exit, a timeout, output that starts like JSON and is not: the hook failed; the run
  goes on (as Claude Code does) and the failure is shown.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal

Decision = Literal["allow", "deny", "ask", "block"]
_BLOCKING = {"PreToolUse": "deny", "PostToolUse": "block", "UserPromptSubmit": "block", "Stop": "block"}
_BLOCKING["SubagentStop"] = "block"
_PLAIN_CONTEXT = ("UserPromptSubmit", "SessionStart")
_STRICTNESS = {None: 0, "allow": 1, "ask": 2, "deny": 3, "block": 3}


@dataclass(frozen=True)
class HookAnswer:
    """What one hook (or several, combined) answered."""

    decision: Decision | None = None
    reason: str = ""
    context: str = ""
    """For the model: `additionalContext`, or plain stdout where that counts."""
    stop: bool = False
    """`continue: false`: the run ends."""
    stop_reason: str = ""
    message: str = ""
    """For the person: `systemMessage`, or stderr of a non-blocking answer."""
    failed: bool = False


NO_ANSWER = HookAnswer()
"""What the loop goes on with where no hook runs (one instance: an answer is immutable)."""


def _from_json(event: str, data: dict[str, Any]) -> HookAnswer:
    raw = data.get("hookSpecificOutput")
    specific: dict[str, Any] = raw if isinstance(raw, dict) else {}
    decision: Decision | None = None
    reason = str(data.get("reason") or "")
    legacy: dict[str, Decision] = {"approve": "allow", "block": "deny" if event == "PreToolUse" else "block"}
    if str(data.get("decision")) in legacy:
        decision = legacy[str(data.get("decision"))]
    wanted = specific.get("permissionDecision")
    if event == "PreToolUse" and wanted in ("allow", "deny", "ask"):
        decision = wanted
        reason = str(specific.get("permissionDecisionReason") or reason)
    return HookAnswer(
        decision=decision,
        reason=reason,
        context=str(specific.get("additionalContext") or ""),
        stop=data.get("continue") is False,
        stop_reason=str(data.get("stopReason") or ""),
        message=str(data.get("systemMessage") or ""),
    )


def interpret(event: str, exit_code: int | None, stdout: str, stderr: str, *, timed_out: bool) -> HookAnswer:
    """The answer a hook gave by its exit code and output (see the module docstring)."""
    if timed_out or exit_code is None:
        return HookAnswer(failed=True, message="it did not finish in time and was stopped")
    if exit_code == 2:
        blocking = _BLOCKING.get(event)
        if blocking is None:
            return HookAnswer(message=stderr.strip())
        return HookAnswer(decision=blocking, reason=stderr.strip() or "blocked by a hook")  # type: ignore[arg-type]
    if exit_code != 0:
        return HookAnswer(failed=True, message=stderr.strip() or f"it exited with {exit_code}")
    text = stdout.strip()
    if text.startswith("{"):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            return HookAnswer(failed=True, message=f"its output starts like JSON but is not ({exc.msg})")
        if isinstance(data, dict):
            return _from_json(event, data)
    return HookAnswer(context=text if event in _PLAIN_CONTEXT else "")


def combine(answers: list[HookAnswer]) -> HookAnswer:
    """Several hooks of one event: the strictest decision (deny or block over ask over allow),
    every reason, context and message."""
    if not answers:
        return HookAnswer()
    strictest = max(answers, key=lambda a: _STRICTNESS[a.decision])

    def joined(field: str) -> str:
        return "\n".join(dict.fromkeys(getattr(a, field) for a in answers if getattr(a, field)))

    return HookAnswer(
        decision=strictest.decision,
        reason="\n".join(a.reason for a in answers if a.decision == strictest.decision and a.reason),
        context=joined("context"),
        stop=any(a.stop for a in answers),
        stop_reason=joined("stop_reason"),
        message=joined("message"),
        failed=any(a.failed for a in answers),
    )
