"""What a request carries besides the conversation.

`request`: the system blocks (persona, environment), thinking and the cache breakpoints;
`instructions`: the project's AGENTS.md / CLAUDE.md files for the system prompt; `folder_notes`:
a subfolder's own instructions, appended to the first read there.
"""
