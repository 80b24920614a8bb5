"""What reaches a person's terminal: text made safe to print, and the consoles that print it.

Everything the runtime shows on a terminal comes from somewhere an attacker can write: model text,
tool output, file names, a workspace's personas, session titles. `safe_text.for_terminal` is the
one function that neutralises that text; `console.terminal_console` is the one way to make the
rich console that prints it.
"""
