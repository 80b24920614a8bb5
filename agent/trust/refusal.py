"""`Refusal`: one key of a workspace file that the run goes on without, and why."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, eq=False, repr=False)
class Refusal:
    """A key refused because it would widen what the trusted config grants (or name a file the
    workspace may not name); printed as one line on every front end."""

    path: Path
    """The file that set the key (a config file or a persona)."""
    key: str
    """The key, dotted (`defaults.sandbox.kind`, `agents.x.network`, `permission.bash.*`)."""
    why: str
    """What the key would have done, in a few words."""
    workspace: Path
    agent: str | None = None
    """The agent the key concerns; None for a key that concerns every run."""
    lifted_by_trust: bool = True
    """False for what no trust allows (a file outside the workspace): the fix is then `fix`."""
    fix: str = ""

    def __str__(self) -> str:
        if self.lifted_by_trust:
            how = f"the folder is not trusted: `subagent trust {self.workspace}`, or --trust for one run"
        else:
            how = self.fix
        return f"{self.path}: {self.key}: refused ({self.why}); {how}"
