"""Claude Code's headless interface on `subagent`: `subagent -p`, stream-json in Claude Code's
shapes and the control protocol the Claude Agent SDK speaks on stdin (docs/headless.md).

`flags` reads Claude Code's command line into `HeadlessOptions`; `overrides` applies what those
flags change to the run's agent; `shapes` turns the event stream into Claude Code's messages;
`control` reads stdin (user messages, control requests) and asks the SDK (`can_use_tool`);
`session` drives one turn per user message over one subagent session.
"""
