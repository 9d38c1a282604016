"""The ``fverify`` command: argument parsing and printing only; the work is in the library."""
from __future__ import annotations

import argparse
import importlib
import io
import os
import sys
from collections.abc import Sequence

from fverify import __version__
from fverify.errors import FverifyError

# Each command is the module fverify/cli/<command>.py, exposing ``register(subparsers)``, which
# adds the parser of that command and sets ``func(args) -> int`` as its default. Order here is
# the order of ``--help``.
COMMANDS: tuple[str, ...] = (
    "demo", "evaluate", "lfw", "ytf", "bin", "pairs", "synth", "train", "report", "plot", "bench",
    "align",
)


def build_parser(commands: Sequence[str] = COMMANDS) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="fverify",
        description="Face verification on official protocols, with numbers you can trust.",
    )
    parser.add_argument("--version", action="version", version=f"fverify {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in commands:
        importlib.import_module(f"fverify.cli.{name}").register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    # A path that is not UTF-8 (decoded with surrogate escapes) is printed escaped, as Python
    # prints it on its own stderr, instead of failing the command at its first print.
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(errors="backslashreplace")
    # Import only the command being run (all of them for --help): a command's start-up then
    # never pays for another's imports (`fverify evaluate` must not load torch or OpenCV).
    chosen = [argv[0]] if argv and argv[0] in COMMANDS else COMMANDS
    parser = build_parser(chosen)
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except FverifyError as error:
        print(f"fverify {args.command}: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"fverify {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (`fverify ... | head`): stop quietly, as other Unix tools do, and
        # point stdout at devnull so the interpreter's final flush does not fail again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141

