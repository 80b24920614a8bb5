"""The agent loop: one session of one agent, turn by turn, until the task is done.

`agent_loop` drives the session (request, reply, stop reason, results, compaction, budget);
`model_turn` streams one model reply into events; `tool_calls` runs one turn's tool calls
(validate, ask the gate, checkpoint, run, collect); `cancellable_stream` runs a piece of work as a
task and stops it at once on a cancel; `interrupted` is the one wording of a call that never
finished.
"""
