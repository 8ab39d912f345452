"""Which `.terr` files a command works on, and the configuration that says so.

`check`, `fmt` and `test` share this (`terrl.pipeline.select_files`): PATHS (files or folders)
minus the configuration's excludes; without PATHS, the configuration's `include` patterns,
else the current folder.
"""

from __future__ import annotations

from pathlib import Path

from terrl.cli.errors import UserError
from terrl.project.config import Config, ConfigError, discover, load_config
from terrl import pipeline


def command_config(config_path: Path | None, no_config: bool) -> Config:
    """The configuration given by `--config` / `--no-config`, else the one found upwards."""
    if no_config:
        return Config()
    try:
        return load_config(config_path) if config_path is not None else discover()
    except ConfigError as exc:
        raise UserError(str(exc), help=exc.help)


def select_files(paths: tuple[Path, ...], config: Config) -> tuple[list[Path], bool]:
    """`terrl.pipeline.select_files`, a missing path being a usage error."""
    try:
        return pipeline.select_files(paths, config)
    except pipeline.UsageError as exc:
        raise UserError(str(exc))
