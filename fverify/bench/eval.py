"""``fverify bench eval``: exact k-fold threshold search against insightface's grid loop, and
the whole ``fverify evaluate`` command against the lean loop."""
from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from fverify.bench.insightface_loop import insightface_grid_loop
from fverify.bench.workload import lfw_shaped_pairs, synthetic_scores
from fverify.metrics.threshold import FoldThresholds, exact_kfold, grid_kfold
from fverify.scores import write_scores

DEFAULT_SIZES = (6_000, 1_000_000)
COMMAND_ROW = "fverify evaluate CSV --json (whole command)"
Results = tuple[np.ndarray, np.ndarray, np.ndarray]  # per-fold thresholds, train and test accuracy


@dataclass(frozen=True)
class Timed:
    """One method on one workload: best wall time (s) and per-fold results."""

    seconds: float
    thresholds: np.ndarray
    train_accuracy: np.ndarray
    test_accuracy: np.ndarray


def best_time(run: Callable[[], Results], repeats: int) -> Timed:
    """Best of ``repeats`` wall-clock runs (the least disturbed by other load)."""
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = run()
        seconds.append(time.perf_counter() - start)
    return Timed(min(seconds), *result)


def _search(
    method: Callable[[np.ndarray, np.ndarray, np.ndarray], FoldThresholds],
    scores: np.ndarray,
    labels: np.ndarray,
    folds: np.ndarray,
) -> Callable[[], Results]:
    def run() -> Results:
        result = method(scores, labels, folds)
        return result.thresholds, result.train_accuracy, result.test_accuracy

    return run


def evaluate_command(scores: np.ndarray, labels: np.ndarray, folds: np.ndarray, folder: str) -> Callable[[], Results]:
    """The whole ``fverify evaluate SCORES.csv --json OUT`` as a user runs it, in a fresh
    Python process (start-up, reading the CSV, search, ROC, JSON), on fverify's scores CSV of
    these pairs; the results are read back from the JSON it writes."""
    scores_csv, result_json = os.path.join(folder, "scores.csv"), os.path.join(folder, "run.json")
    write_scores(scores_csv, scores=scores, labels=labels, folds=folds)
    command = [sys.executable, "-m", "fverify", "evaluate", scores_csv, "--json", result_json]

    def run() -> Results:
        finished = subprocess.run(command, capture_output=True, text=True)
        if finished.returncode:
            raise RuntimeError(f"{' '.join(command)} failed:\n{finished.stderr}")
        with open(result_json, encoding="utf-8") as handle:
            folds_run = json.load(handle)["metrics"]["accuracy"]["folds"]
        return tuple(np.array([fold[field] for fold in folds_run])
                     for field in ("threshold", "train_accuracy", "accuracy"))

    return run


def bench_eval(sizes: Sequence[int] = DEFAULT_SIZES, *, seed: int = 0,
               repeats: int = 3) -> tuple[str, dict[str, Any]]:
    """Time the searches on LFW-shaped synthetic scores of each size; return the report and
    its figures (seconds; accuracies as fractions, averaged over folds).

    Baselines: insightface's loop as its evaluator writes it (training set sliced out per
    threshold) and the same loop slicing once per fold; each runs once per size (they are the
    slow ones). fverify's searches, and the whole ``fverify evaluate`` command on the scores
    written as fverify's scores CSV, take the best of ``repeats``. Checks printed with the
    figures: the vectorised grid finds exactly the loop's thresholds and accuracies, the exact
    search's training accuracy is never below the grid's in any fold, and the command finds
    exactly the exact search's thresholds and accuracies.
    """
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    lines = [
        "fverify bench eval: k-fold threshold search, exact vs insightface's grid loop, and the "
        "whole fverify evaluate command",
        f"machine: {platform.system()} {platform.machine()}, {os.cpu_count()} CPUs, "
        f"1-min load average {load:.2f} at start; numpy {np.__version__}",
        f"workload: synthetic cosine scores (d'=5), LFW-shaped (10 folds, each half same then "
        f"half different), seed {seed}; fverify times are best of {repeats}, loops run once; the "
        f"whole command runs in a new process on the scores written as fverify's scores CSV",
        "",
        f"{'pairs':>10}  {'method':<44}{'time (s)':>10}  {'train acc':>10}  {'test acc':>10}",
    ]
    figures: dict[str, Any] = {"seed": seed, "repeats": repeats, "load_average_1min": load, "sizes": []}
    for size in sizes:
        labels, folds = lfw_shaped_pairs(size)
        scores = synthetic_scores(labels, model_seed=seed + 1, pair_seed=seed)
        loop = best_time(lambda: insightface_grid_loop(scores, labels, folds), 1)
        lean_loop = best_time(lambda: insightface_grid_loop(scores, labels, folds, slice_per_threshold=False), 1)
        grid = best_time(_search(grid_kfold, scores, labels, folds), repeats)
        exact = best_time(_search(exact_kfold, scores, labels, folds), repeats)
        with tempfile.TemporaryDirectory() as folder:
            command = best_time(evaluate_command(scores, labels, folds, folder), repeats)
        rows = (
            ("insightface loop (slices per threshold)", loop),
            ("insightface loop, sliced once per fold", lean_loop),
            ("fverify grid (vectorised)", grid),
            ("fverify exact", exact),
            (COMMAND_ROW, command),
        )
        for name, timed in rows:
            lines.append(
                f"{f'{size:,}' if timed is loop else '':>10}  {name:<44}{timed.seconds:>10.4f}  "
                f"{100 * timed.train_accuracy.mean():>9.3f}%  {100 * timed.test_accuracy.mean():>9.3f}%"
            )
        identical = all(
            np.array_equal(getattr(candidate, field), getattr(loop, field))
            for candidate in (grid, lean_loop)
            for field in ("thresholds", "train_accuracy", "test_accuracy")
        )
        never_worse = bool(np.all(exact.train_accuracy >= loop.train_accuracy))
        command_exact = all(np.array_equal(getattr(command, field), getattr(exact, field))
                            for field in ("thresholds", "train_accuracy", "test_accuracy"))
        figures["sizes"].append({
            "pairs": size,
            "methods": {name: {"seconds": timed.seconds,
                               "train_accuracy": float(timed.train_accuracy.mean()),
                               "test_accuracy": float(timed.test_accuracy.mean())}
                        for name, timed in rows},
            "exact_speedup_over_loop": loop.seconds / exact.seconds,
            "exact_speedup_over_lean_loop": lean_loop.seconds / exact.seconds,
            "command_speedup_over_lean_loop": lean_loop.seconds / command.seconds,
            "grid_identical_to_loop": identical,
            "exact_train_accuracy_never_below_grid": never_worse,
            "command_identical_to_exact": command_exact,
        })
        lines += [
            f"{'':>10}  speed-up of exact: {loop.seconds / exact.seconds:,.0f}x over the loop as written, "
            f"{lean_loop.seconds / exact.seconds:,.0f}x over the lean loop "
            f"(vectorised grid: {loop.seconds / grid.seconds:,.0f}x, {lean_loop.seconds / grid.seconds:,.0f}x)",
            f"{'':>10}  vectorised grid and lean loop identical to the loop: {'yes' if identical else 'NO'}; "
            f"exact training accuracy >= grid in every fold: {'yes' if never_worse else 'NO'}",
            f"{'':>10}  whole command: lean loop time / command time = {lean_loop.seconds / command.seconds:,.2f}; "
            f"command's thresholds and accuracies identical to the in-memory exact search: "
            f"{'yes' if command_exact else 'NO'}",
            "",
        ]
    return "\n".join(lines), figures
