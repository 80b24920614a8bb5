"""Workspace trust: a repository cannot grant itself powers the user did not give.

A workspace (the folder `agent.registry.discovery.find_workspace` returns) is untrusted until the user
trusts it with `subagent trust` (`store`) or `--trust` for one run. Config comes in layers,
built-in < user < workspace; in an untrusted workspace the workspace's layer and personas may
only tighten what the trusted layers grant. `keys` is the one table that says, for every config
key, what counts as weakening; `config_filter` applies it to a config file, `agent_limits` to an
agent assembled from workspace files, `rule_limits` to permission rules, `confine` to file paths
a workspace names. What was refused is a `Refusal`; what a run starts with is told by `notice`.
"""
