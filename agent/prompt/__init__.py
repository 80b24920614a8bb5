"""What a request carries besides the conversation.

`request`: the request of a turn, with the system blocks (persona, environment), thinking and the
cache breakpoints; `instructions`: the project's AGENTS.md / CLAUDE.md files for the system
prompt, and a subfolder's own instructions, appended to the first read there (through
`ToolContext.read_notes`).
"""
