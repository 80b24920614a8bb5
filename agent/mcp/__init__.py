"""`subagent mcp`: the Model Context Protocol server that orchestrator agents call (`server`)."""
