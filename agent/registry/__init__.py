"""Agent definitions: what agents a workspace has, and what each may do.

`schema`: the config's shape (agents.yaml and its overrides); `layers`: the built-in, user and
workspace config merged key by key; `persona`: one markdown persona file read into a spec;
`spec`: `AgentSpec`, the one resolved definition the runtime uses; `discovery`: every agent a
workspace can use, from every source, in order (`load_registry_for`).
"""
