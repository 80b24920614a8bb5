"""The list of command modules; each registers its commands on `agent.cli.main.app`."""

# One import per command group.
from agent.cli import (
    agents_cmd,  # noqa: F401
    chat_cmd,  # noqa: F401
    doctor_cmd,  # noqa: F401
    run_cmd,  # noqa: F401
    sessions_cmd,  # noqa: F401
    undo_cmd,  # noqa: F401
)
