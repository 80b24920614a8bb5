"""The web fetch tool: a URL fetched by the runtime itself (not the sandbox), its HTML as markdown."""
