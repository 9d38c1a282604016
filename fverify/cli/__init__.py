"""The ``fverify`` command: argument parsing and printing only; the work is in the library."""
from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from fverify import __version__
from fverify.errors import FverifyError

# Each subcommand module exposes ``register(subparsers)``, which adds its parser and sets
# ``func(args) -> int`` as the parser default. Order here is the order of ``--help``.
COMMANDS: tuple[str, ...] = ("bench",)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="fverify",
        description="Face verification on official protocols, with numbers you can trust.",
    )
    parser.add_argument("--version", action="version", version=f"fverify {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"fverify.cli.{name}").register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
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


if __name__ == "__main__":
    sys.exit(main())
