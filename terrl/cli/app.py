"""The `terrl` command line: a click group whose commands load lazily.

Each command lives in `terrl/cli/<name>.py`; importing only the one that runs
keeps `terrl check` fast to start. Exit codes, for every command: 0 success, 1 the
input has errors (or a check failed), 2 usage errors and unreadable files,
3 an internal error in terrl itself.
"""

from __future__ import annotations

import importlib
import os
import sys
import traceback

import click

from terrl import __version__

from terrl.cli.errors import EXIT_ERRORS, EXIT_INTERNAL, EXIT_OK, EXIT_USAGE, UserError, no_terr_files  # noqa: F401  (re-exported)


# command name -> "module:attribute"
COMMANDS: dict[str, str] = {
    "check": "terrl.cli.check:check",
    "docs": "terrl.cli.docs:docs",
    "assign": "terrl.cli.assign:assign",
    "explain": "terrl.cli.explain:explain",
    "compile": "terrl.cli.compile:compile",
    "test": "terrl.cli.test:test",
    "fmt": "terrl.cli.fmt:fmt",
}


class LazyGroup(click.Group):
    def list_commands(self, ctx):
        return sorted(COMMANDS)

    def get_command(self, ctx, name):
        target = COMMANDS.get(name)
        if target is None:
            return None
        module, attr = target.split(":")
        return getattr(importlib.import_module(module), attr)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="terrl")
def cli() -> None:
    """terrl: territory rules as code.

    Check `.terr` files for gaps and overlaps, assign accounts to territories,
    compile evaluators and generate documentation.
    """


def main(argv: list[str] | None = None) -> None:
    """Entry point: user errors never raise; anything else is reported as an internal error."""
    try:
        code = cli.main(args=argv, prog_name="terrl", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        code = 130
    except click.ClickException as exc:
        exc.show()
        code = EXIT_USAGE if exc.exit_code == 2 else exc.exit_code
    except click.exceptions.Exit as exc:
        code = exc.exit_code
    except SystemExit as exc:  # a command's own sys.exit
        code = exc.code
    except BrokenPipeError:
        code = EXIT_OK  # `terrl ... | head` closed the pipe; not an error
    except KeyboardInterrupt:
        code = 130
    except RecursionError:
        click.echo("terrl: internal error: the input is nested too deeply for this version of terrl", err=True)
        code = EXIT_INTERNAL
    except Exception as exc:  # the last line of defence: no traceback reaches a user unasked
        click.echo(f"terrl: internal error: {type(exc).__name__}: {exc}", err=True)
        if os.environ.get("TERRL_DEBUG"):
            traceback.print_exc()
        else:
            click.echo("this is a bug in terrl; run again with TERRL_DEBUG=1 for details and report it", err=True)
        code = EXIT_INTERNAL
    code = code if isinstance(code, int) else EXIT_OK
    if argv is None and _SKIP_TEARDOWN:
        _exit_process(code)
    sys.exit(code)


_SKIP_TEARDOWN = False  # set by a command that ran to the end (`check`): see _exit_process


def skip_teardown() -> None:
    """Called by `check` when its report is written: as the program, `main` then ends the process
    without freeing the model (`_exit_process`)."""
    global _SKIP_TEARDOWN
    _SKIP_TEARDOWN = True


def _exit_process(code: int) -> None:
    """End the process without freeing what `check` built: tearing down the millions of objects of a
    big model one by one took a fifth of the run (10,000 leaves: 0.3 of 1.7 s CPU) and is
    what the operating system does at once. Only for `check` run as the program (it writes
    nothing but its report, flushed here); called in-process, `main` raises SystemExit as usual."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe (`terrl check | head`) or stream
            pass
    os._exit(code)
