"""The list of command modules; each registers its commands on `agent.cli.main.app`."""

# One import per command group, in the order `subagent --help` lists them.
from agent.cli import run_cmd  # noqa: F401
from agent.cli import (
    agents_cmd,  # noqa: F401
    doctor_cmd,  # noqa: F401
)
from agent.cli import acp_cmd  # noqa: F401
from agent.cli import mcp_cmd  # noqa: F401
