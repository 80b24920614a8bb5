"""The list of command modules; each registers its commands on `agent.cli.main.app`."""

# One import per command group, in the order `subagent --help` lists them.
from agent.cli import (
    run_cmd,  # noqa: F401
    agents_cmd,  # noqa: F401
    doctor_cmd,  # noqa: F401
)
