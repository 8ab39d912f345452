"""The project: `terrl.toml` / `[tool.terrl]` settings and where a project's root is."""
