"""The seven tools the model can call: read, edit, write, grep, glob, bash, patch."""
