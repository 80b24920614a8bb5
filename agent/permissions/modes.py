"""Permission modes: one switch applied on top of what the rules decided.

- `default`: the rules' decision as it is.
- `accept-edits`: `edit` asks become allow; everything else (bash, `external_directory`) as is.
- `plan`: nothing that changes files or runs anything but read-only commands: `edit` and `task`
  are denied, and `bash` is denied unless the command is on the read-only allowlist (and writes
  no file); what the rules allow or deny otherwise stays.
- `bypass`: asks become allow; denials stay denials; bash is still sandboxed.
"""

from __future__ import annotations

from agent.permissions.models import Decision, PermissionMode

_PLAN_DENIED = {"edit", "task"}


def apply_mode(mode: PermissionMode, permission: str, decision: Decision, *, read_only: bool = False) -> Decision:
    """The decision after `mode`; `read_only` says a bash command is on the read-only allowlist.

    Example: `apply_mode("plan", "bash", "allow", read_only=False)` is `"deny"`.
    """
    if mode == "accept-edits" and permission == "edit" and decision == "ask":
        return "allow"
    if mode == "plan":
        if permission in _PLAN_DENIED or (permission == "bash" and not read_only):
            return "deny"
    if mode == "bypass" and decision == "ask":
        return "allow"
    return decision
