"""The long fuzz campaign, not part of the suite: every parser, many inputs, one JSON line of
counts per parser and one per distinct failure (exception type and place).

    python -m tests.fuzz.campaign --inputs 25000 --seed 1
"""
from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from tests.fuzz.harness import fuzz
from tests.fuzz.targets import TARGETS


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--inputs", type=int, default=25_000, help="mutants per parser")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workdir", type=Path, help="where data trees and failing inputs go "
                        "(default: a temporary folder, removed)")
    parser.add_argument("--only", nargs="*", help="parsers to run (default: all)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as temporary:
        root = args.workdir or Path(temporary)
        for target in TARGETS:
            if args.only and target.name not in args.only:
                continue
            start = time.perf_counter()
            report = fuzz(target, args.inputs, args.seed, root / target.name)
            print(json.dumps({"parser": target.name, "inputs": report.inputs,
                              "accepted": report.accepted, "refused": report.refused,
                              "failures": len(report.failures),
                              "seconds": round(time.perf_counter() - start, 1)}), flush=True)
            for failure in report.distinct_failures().values():
                print(json.dumps({"parser": target.name, "failure": str(failure)}), flush=True)


if __name__ == "__main__":
    main()
