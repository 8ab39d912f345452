"""One module per CLI command (see terrl/cli.py)."""
