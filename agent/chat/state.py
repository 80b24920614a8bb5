"""What a chat knows between prompts: the session, the agent and model, and what it has cost.

Each prompt is one `run_agent` call that resumes the same session id, so the totals here add up
the runs (each run's ResultEvent reports its own usage and cost). The status line reads them.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from agent.events import Usage
from agent.terminal.safe_text import for_terminal


@dataclasses.dataclass(eq=False, repr=False)
class ChatState:
    """The chat's own record; the session store holds the transcript."""

    cwd: Path
    agent: str
    model: str | None = None
    """A `/model` or `--model` override (None: the agent's own model)."""
    session_id: str | None = None
    """None until the first prompt starts a session (or --resume/--continue named one)."""
    trust: bool = False
    """`--trust`: the workspace's own config and personas apply as written in this chat."""
    model_id: str = ""
    """The model the last run used, as the API knows it."""
    context_window: int = 0
    context_tokens: int = 0
    """Prompt tokens of the latest request: how full the context window is."""
    usage: Usage = dataclasses.field(default_factory=Usage)
    cost_usd: float = 0.0
    turns: int = 0
    running: bool = False
    _cost_before_run: float = 0.0
    """The cost of the runs already finished (a run's usage events report its own cost so far)."""

    def absorb(self, event: Any) -> None:
        """Update from one event of the root session (a subagent's events are its own)."""
        if event.parent_tool_use_id is not None:
            return
        if event.type == "session_started":
            self.session_id = event.session_id
            self.model_id = event.model
        elif event.type == "usage":
            self.context_tokens = event.usage.context_tokens
            self.cost_usd = self._cost_before_run + event.cost_usd
        elif event.type == "compaction":
            self.context_tokens = event.tokens_after
        elif event.type == "result":
            self.usage = self.usage + event.usage
            self._cost_before_run += event.total_cost_usd
            self.cost_usd = self._cost_before_run
            self.turns += event.num_turns

    def status_text(self) -> str:
        """The bottom toolbar: agent, model, context used against the window, cost so far."""
        model = self.model or self.model_id or "(agent's model)"
        if self.context_window:
            share = 100 * self.context_tokens / self.context_window
            context = f"ctx {_k(self.context_tokens)}/{_k(self.context_window)} ({share:.0f}%)"
        else:
            context = f"ctx {_k(self.context_tokens)}"
        session = self.session_id or "new session"
        busy = " · working (Ctrl-C stops)" if self.running else ""
        line = f" {self.agent} · {model} · {context} · ${self.cost_usd:.4f} · {session}{busy}"
        return for_terminal(line, name=True, one_line=True)

    def cost_text(self) -> str:
        """`/cost`: tokens and cost of this chat so far."""
        u = self.usage
        return (
            f"{self.turns} model turns · {u.input_tokens} input tokens, {u.cache_read_input_tokens} cache "
            f"reads, {u.cache_creation_input_tokens} cache writes, {u.output_tokens} output · "
            f"${self.cost_usd:.4f}"
        )


def _k(tokens: int) -> str:
    return f"{tokens / 1000:.1f}k" if tokens >= 1000 else str(tokens)
