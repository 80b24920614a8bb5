"""Context economy: prompt-cache friendly requests, elision, compaction, prompt size reports."""

from agent.context.manager import Compaction, ContextManager, ContextPolicy

__all__ = ["Compaction", "ContextManager", "ContextPolicy"]
