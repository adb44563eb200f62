"""Command-line front end: a click group whose sub-commands live in `greenopt.commands`.

Sub-commands are imported only when invoked so that `greenopt check` does not pay
for numpy, numba or scikit-learn at start-up. Every expected failure becomes one
line on stderr and the exit code of its `GreenoptError`; nothing prints a traceback
unless `GREENOPT_DEBUG=1`. SIGTERM is handled like Ctrl-C (children killed, temporary
directories removed), then exits with 143.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import signal
import sys
import threading
from collections.abc import Iterator
from types import FrameType

import click

from greenopt import __version__
from greenopt.errors import GreenoptError

# command name -> "module:attribute" (loaded on demand)
COMMANDS: dict[str, str] = {
    "measure": "greenopt.commands.measure:measure",
    "rewrite": "greenopt.commands.rewrite:rewrite",
    "check": "greenopt.commands.check:check",
    "analyze": "greenopt.commands.analyze:analyze",
    "train": "greenopt.commands.train:train",
    "model": "greenopt.commands.model:model",
}


COMMAND_HELP: dict[str, str] = {
    "measure": "Measure the energy of a call or a script with the best available meter.",
    "rewrite": "Find, validate and apply energy-saving rewrites of a module.",
    "check": "Report energy-saving opportunities (pre-commit / CI); never runs code.",
    "analyze": "Batch static analysis of a code corpus with tables and an HTML report.",
    "train": "Measure the corpus and fit the energy cost model.",
    "model": "Inspect and evaluate the energy cost model.",
}


class CommandGroup(click.Group):
    """A command group that, run without a command, is a usage error: one line naming its
    commands on stderr and exit 2 (click's convention for a missing command), the same
    for `greenopt` and `greenopt model`. `--help` still prints the full help with exit 0."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if not args and not ctx.resilient_parsing:
            commands = ", ".join(self.list_commands(ctx))
            raise click.UsageError(
                f"missing command; usage: {ctx.command_path} COMMAND [ARGS]... with COMMAND "
                f"one of {commands} (see {ctx.command_path} --help)",
                ctx,
            )
        return super().parse_args(ctx, args)


class LazyGroup(CommandGroup):
    """A click group that imports each sub-command's module on first use."""

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        with formatter.section("Commands"):
            formatter.write_dl([(name, COMMAND_HELP[name]) for name in self.list_commands(ctx)])

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module_name, attr = target.split(":")
        return getattr(importlib.import_module(module_name), attr)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="greenopt")
def cli() -> None:
    """greenopt: find, validate and apply energy-saving rewrites of numerical Python."""


#: exit code after SIGTERM (128 + 15, what the shell reports for a process it killed)
TERMINATED_EXIT = 128 + signal.SIGTERM


class Terminated(KeyboardInterrupt):
    """SIGTERM arrived: a KeyboardInterrupt, so every Ctrl-C cleanup path runs for it too."""


@contextlib.contextmanager
def _sigterm_raises_terminated() -> Iterator[None]:
    """While the block runs, SIGTERM raises `Terminated` in the main thread.

    Only the first SIGTERM raises; later ones are ignored so they cannot cut the cleanup
    short. The previous handler is restored on exit. Outside the main thread (where
    handlers cannot be set) this does nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: FrameType | None) -> None:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        raise Terminated

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL if previous is None else previous)


def main(argv: list[str] | None = None) -> int:
    """Run the CLI and return its exit code (also used as the console-script entry)."""
    try:
        with _sigterm_raises_terminated():
            return _run(argv)
    except Terminated:  # arrived while an error was being reported
        click.echo("greenopt: terminated", err=True)
        return TERMINATED_EXIT


def _run(argv: list[str] | None) -> int:
    """`main` without the SIGTERM handling: every failure becomes a message and a code."""
    debug = os.environ.get("GREENOPT_DEBUG") == "1"
    args = sys.argv[1:] if argv is None else list(argv)
    try:
        # not `cli.main`: on Ctrl-C it prints an empty line before raising Abort
        with cli.make_context("greenopt", args) as ctx:
            rv = cli.invoke(ctx)
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except click.UsageError as exc:
        click.echo(f"greenopt: error: {exc.format_message()}", err=True)
        return 2
    except click.Abort as exc:  # click turns KeyboardInterrupt (and so Terminated) into Abort
        if isinstance(exc.__cause__, Terminated):
            click.echo("greenopt: terminated", err=True)
            return TERMINATED_EXIT
        click.echo("greenopt: interrupted", err=True)
        return 130
    except Terminated:
        click.echo("greenopt: terminated", err=True)
        return TERMINATED_EXIT
    except KeyboardInterrupt:
        click.echo("greenopt: interrupted", err=True)
        return 130
    except GreenoptError as exc:
        if debug:
            raise
        click.echo(f"greenopt: error: {exc}", err=True)
        return exc.exit_code
    except click.ClickException as exc:
        click.echo(f"greenopt: error: {exc.format_message()}", err=True)
        return exc.exit_code
    except BrokenPipeError:
        return 0
    except Exception as exc:  # a bug in greenopt: one line, details on request
        if debug:
            raise
        click.echo(
            f"greenopt: internal error: {type(exc).__name__}: {exc} "
            "(set GREENOPT_DEBUG=1 for a traceback)",
            err=True,
        )
        return 70
    return int(rv or 0)


def console_main() -> None:
    """Console-script entry point: exit with `main()`'s code."""
    sys.exit(main())


if __name__ == "__main__":
    console_main()
