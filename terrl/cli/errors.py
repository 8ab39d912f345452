"""Exit codes and the one user-facing error of every command.

Exit codes, for every command: 0 success, 1 the input has errors (or a check failed),
2 usage errors and unreadable files, 3 an internal error in terrl itself.
"""

from __future__ import annotations

import click

EXIT_OK, EXIT_ERRORS, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 3



class UserError(click.ClickException):
    """A mistake the user can fix that is not in how the command was typed (a folder with
    no `.terr` files, an invalid configuration): one line `terrl: error: ...`, an optional
    `help:` line, exit status 2, and no usage banner (which would point at the wrong thing)."""

    exit_code = EXIT_USAGE

    def __init__(self, message: str, help: str | None = None) -> None:
        super().__init__(message)
        self.help = help

    def show(self, file=None) -> None:
        click.echo(f"terrl: error: {self.message}", file=file, err=file is None)
        if self.help:
            click.echo(f"  help: {self.help}", file=file, err=file is None)


def no_terr_files(paths) -> UserError:
    """The error of `check` and `test` when the paths hold no `.terr` file."""
    return UserError("no .terr files found in " + ", ".join(f"`{p}`" for p in paths))
