"""The runtime as an MCP client: tools from the MCP servers a user, an editor or a workspace names.

`config` (one server's definition and `${VAR}` expansion), `project_files` (`.mcp.json`,
`opencode.json`'s `mcp` block), `sources` (every server a run may use, where it came from),
`approvals` (the user's approvals of workspace servers), `gating` (which may start), `connection`
(one running server), `tools` (its tools as runtime tools), `hub` (the servers of one run).
"""
