"""Model clients: the Anthropic Messages API, and the scripted model for the demo and tests."""
