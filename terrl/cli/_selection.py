"""Which `.terr` files a command works on, and the configuration that says so.

`check`, `fmt` and `test` share this: PATHS (files or folders) minus the configuration's
excludes; without PATHS, the configuration's `include` globs, else the current folder.
"""

from __future__ import annotations

from pathlib import Path

from terrl.cli.errors import UserError
from terrl.project.config import Config, ConfigError, discover, load_config
from terrl.pipeline import UsageError, collect_files


def command_config(config_path: Path | None, no_config: bool) -> Config:
    """The configuration given by `--config` / `--no-config`, else the one found upwards."""
    if no_config:
        return Config()
    try:
        return load_config(config_path) if config_path is not None else discover()
    except ConfigError as exc:
        raise UserError(str(exc), help=exc.help)


def select_files(paths: tuple[Path, ...], config: Config) -> tuple[list[Path], bool]:
    """(files, all_excluded): all_excluded when PATHS named files and the configuration
    excludes every one (pre-commit passes changed files by name: nothing to do is success)."""
    try:
        if paths:
            given = collect_files(list(paths))
            files = [f for f in given if not config.is_excluded(f)]
            return files, bool(given) and not files
        if config.include:
            return config.included_files(), False
        return [f for f in collect_files([Path(".")]) if not config.is_excluded(f)], False
    except UsageError as exc:
        raise UserError(str(exc))
