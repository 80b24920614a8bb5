"""`subagent chat`: the interactive terminal front end over `agent.api.run_events`.

`app.ChatApp` runs the prompt loop; `slash` holds the slash commands; `approver` asks permission
questions inline; `state` keeps the session id, agent, model and totals for the status line.
"""
