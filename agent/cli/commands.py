"""The list of command modules; each registers its commands on `agent.cli.main.app`."""

# One entry per command group (sorted, as ruff wants; typer lists them in this order).
from agent.cli import (
    acp_cmd,  # noqa: F401
    agents_cmd,  # noqa: F401
    chat_cmd,  # noqa: F401
    demo_cmd,  # noqa: F401
    dispatch_cmd,  # noqa: F401
    doctor_cmd,  # noqa: F401
    mcp_cmd,  # noqa: F401
    mcp_servers_cmd,  # noqa: F401
    run_cmd,  # noqa: F401
    sessions_cmd,  # noqa: F401
    trust_cmd,  # noqa: F401
    undo_cmd,  # noqa: F401
    worker_cmd,  # noqa: F401
)
from agent.orchestrator.temporal import cli as temporal_cli  # noqa: F401  `subagent dispatch-remote`
