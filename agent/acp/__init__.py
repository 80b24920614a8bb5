"""`subagent acp`: the Agent Client Protocol front end for editors (Zed, JetBrains, Neovim).

`server`: the ACP agent over stdio; `session`: what it keeps per session; `prompt_text`: ACP
prompt blocks to the run's prompt; `updates`: runtime events to `session/update`s (and a stored
session replayed); `client_requests`: permission asks and the editor's file buffers, answered by
the client; `stdio`: stdout kept for the protocol alone.
"""
