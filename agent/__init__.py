"""subagent: a runtime for coding agents defined as markdown personas."""

__version__ = "0.1.0"

__all__ = ["__version__"]
