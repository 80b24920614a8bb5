"""`AlwaysMemory`: the answers a person gave `always` to, kept for one session and only for it.

A session outlives a run: a chat runs once per prompt, an ACP session once per `session/prompt`,
an MCP session once per `run_task` and each `reply`, a dispatch once per subtask. The memory is
made by whoever owns the session (the front end), handed to every run of it
(`RunOptions.always`), and the permission gate of each run, and of its subagents, reads and
writes it. So no approver keeps answers of its own: an approver only puts the question
(`agent.permissions.models.Approver`), and a remembered answer is applied by the gate as a rule,
before anything is asked.

A remembered answer is a rule with `source="session"`: `allow` for `allow always`, `deny` for a
`reject always` (ACP offers it). Rules are matched like the config's (exact patterns here, as
asked), the last one wins, so a later answer for the same pattern replaces an earlier one. An
answer may also carry rule changes (`RuleUpdate`: the Agent SDK's `updatedPermissions`), which
`update` applies to the same list.
"""

from __future__ import annotations

from agent.permissions.models import AskAnswer, AskRequest, PermissionRule, RuleUpdate


class AlwaysMemory:
    """One session's `always` answers, as rules the gate evaluates after the configured ones."""

    def __init__(self) -> None:
        self._rules: list[PermissionRule] = []

    @property
    def rules(self) -> list[PermissionRule]:
        """The remembered answers, oldest first (a copy: only `remember` adds to them)."""
        return list(self._rules)

    def remember(self, request: AskRequest, answer: AskAnswer) -> None:
        """Keep `answer` for each of the request's patterns when its scope is `always`."""
        if answer.scope != "always":
            return
        for pattern in request.patterns:
            rule = PermissionRule(
                permission=request.permission, pattern=pattern, decision=answer.decision, source="session"
            )
            self._rules = [r for r in self._rules if (r.permission, r.pattern) != (rule.permission, pattern)]
            self._rules.append(rule)

    def update(self, update: RuleUpdate) -> None:
        """Apply a change an answer asked for; its rules become the session's (`source="session"`)."""
        rules = [rule.model_copy(update={"source": "session"}) for rule in update.rules]
        if update.action == "replace":
            self._rules = [r for r in self._rules if r.decision != update.decision]
        if update.action == "remove":
            self._rules = [r for r in self._rules if r not in rules]
            return
        for rule in rules:
            self._rules = [
                r for r in self._rules if (r.permission, r.pattern) != (rule.permission, rule.pattern)
            ]
            self._rules.append(rule)

    def allows(self, permission: str, pattern: str) -> bool:
        """Whether `permission` on exactly `pattern` was allowed always (a command that cannot be
        analysed is only ever allowed by the same line)."""
        wanted = PermissionRule(permission=permission, pattern=pattern, decision="allow", source="session")
        return wanted in self._rules
