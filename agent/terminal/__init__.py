"""What reaches a person's terminal: text made safe to print, the consoles that print it, the
renderer of a run's events, and the permission prompt.

Everything the runtime shows on a terminal comes from somewhere an attacker can write: model text,
tool output, file names, a workspace's personas, session titles. `safe_text.for_terminal` is the
one function that neutralises that text; `console.terminal_console` is the one way to make the
rich console that prints it. `render.EventRenderer` shows a run's events (run, chat, dispatch,
demo); `approver.TerminalApprover` asks the person at the terminal, reading it through
`line_reader.TerminalLines`; `logs` passes warnings on stderr through the same sanitiser.
"""
