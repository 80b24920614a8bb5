"""Process isolation for the bash tool."""
