"""The list of command modules; each registers its commands on `agent.cli.main.app`."""

# One entry per command group (sorted, as ruff wants; typer lists them in this order).
from agent.cli import (
    agents_cmd,  # noqa: F401
    demo_cmd,  # noqa: F401  `subagent demo`
    dispatch_cmd,  # noqa: F401  `subagent dispatch FILE`
    doctor_cmd,  # noqa: F401
    run_cmd,  # noqa: F401
    sessions_cmd,  # noqa: F401  `subagent sessions list|show|export`
    undo_cmd,  # noqa: F401  `subagent undo`
    worker_cmd,  # noqa: F401  `subagent worker` (Temporal)
)
from agent.orchestrator.temporal import cli as temporal_cli  # noqa: F401  `subagent dispatch-remote`
