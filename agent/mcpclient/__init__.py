"""The runtime as an MCP client: tools from the MCP servers a user, an editor or a workspace names.

`config` (one server's definition and `${VAR}` expansion), `project_files` (`.mcp.json`,
`opencode.json`'s `mcp` block), `sources` (every server a run may use, where it came from),
`approvals` (the user's approvals of workspace servers), `connection` (one running server),
`tools` (its tools as runtime tools), `listing` (each server's last listing, for the next run's
first request), `hub` (the servers of one run, started in the background), `deferred` (the two
tools that load definitions on demand and reach servers still starting), `resources`
(`mcp_resources`), `for_run` (what `run_agent` gets).
"""
