"""What `subagent dispatch --executor temporal` shows on stderr while remote subtasks run: one line
when a subtask's attempt, turn or tool changes, and a warning when no worker polls the queue.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console

    from agent.orchestrator.temporal.connection import TemporalSettings
    from agent.orchestrator.temporal.models import ProgressSnapshot


class ProgressPrinter:
    """Prints one line when a remote subtask's attempt, turn or tool changes."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.last: dict[str, tuple[int, int, str]] = {}

    def __call__(self, subtask_id: str, progress: ProgressSnapshot) -> None:
        key = (progress.attempt, progress.turn, progress.tool)
        if self.last.get(subtask_id) == key:
            return
        self.last[subtask_id] = key
        resumed = f" (resumed after turn {progress.resumed_from_turn})" if progress.resumed_from_turn else ""
        self.console.print(
            f"{subtask_id}: attempt {progress.attempt} on {progress.worker}{resumed} · turn {progress.turn}"
            f" · {progress.tool or '-'} · {progress.input_tokens}/{progress.output_tokens} tokens",
            highlight=False,
            markup=False,
        )

    def no_worker(self, settings: TemporalSettings) -> None:
        """Warn that nothing polls the queue: the subtasks would wait silently otherwise."""
        self.console.print(
            f"warning: no worker polls task queue {settings.task_queue!r} at {settings.address}; the "
            f"subtasks wait until one starts: subagent worker --temporal-address {settings.address} "
            f"--task-queue {settings.task_queue}",
            style="yellow",
            highlight=False,
            markup=False,
        )
