"""Figures of training runs (``fverify plot training``), from their ``metrics.jsonl`` only.

Runs are given as ``{label: TrainMetrics}`` (:func:`read_runs` reads and labels them); several
runs are overlaid, one colour each, so an HM run and its base run compare at a glance. Each
``draw_*`` function draws on the matplotlib Axes it is given and returns whether there was
anything to draw, so ``fverify report`` can place the same figures in its own layout.
:func:`write_training_figures` writes every figure that has data into a folder;
:func:`plot_training` does it into a new folder, atomically.

Figures: ``loss.png`` (loss and base loss per step), ``validation.png`` (validation accuracy
per epoch, mean ± SE over folds), ``hard_mining.png`` (share of hard samples, p_y < 0.5, and
mean HM factor per epoch), ``p_y.png`` (per-epoch histograms of p_y as a ridgeline, one panel
per run).
"""
from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from fverify.atomic import atomic_directory, atomic_open, check_new_directory
from fverify.errors import FverifyError
from fverify.report.train_metrics import TrainMetrics, read_train_metrics

__all__ = ["TRAINING_FIGURES", "TrainMetrics", "draw_hard_fraction", "draw_hm_weight",
           "draw_loss", "draw_p_y_ridgeline", "draw_validation", "plot_training",
           "read_runs", "read_train_metrics", "run_labels", "write_training_figures"]

Runs = Mapping[str, TrainMetrics]
"""Runs to draw, label -> metrics, in drawing order (colour C0, C1, ...)."""
LOGGED_ONLY = "dashed: HM logged, not in the loss"


def read_runs(paths: Sequence[str | os.PathLike[str]]) -> dict[str, TrainMetrics]:
    """Read each run (folder or ``metrics.jsonl``) and label it (:func:`run_labels`)."""
    if not paths:
        raise FverifyError("no training runs given", fix="give one or more run folders")
    metrics = [read_train_metrics(path) for path in paths]
    resolved = [m.path.resolve() for m in metrics]
    if len(set(resolved)) < len(resolved):
        raise FverifyError("the same run is given twice", where=str(metrics[0].path),
                           fix="give each run once")
    return dict(zip(run_labels(metrics), metrics))


def run_labels(runs: Sequence[TrainMetrics]) -> list[str]:
    """The run's label (its recipe, ``hm-arcface``, or ``HM-arcface`` for hard mining set over
    ``arcface``); ``label (run folder)`` where labels repeat; the path where that still repeats."""
    labels = [m.label for m in runs]
    labels = [f"{m.label} ({m.path.parent.name})" if labels.count(label) > 1 else label
              for m, label in zip(runs, labels)]
    return [str(m.path.parent) if labels.count(label) > 1 else label
            for m, label in zip(runs, labels)]


def draw_loss(axes: Any, runs: Runs) -> bool:
    """Loss (solid) and base-head loss (dashed) per optimizer step, from the interval records
    (epoch means at each epoch's last step for a run without them). Log axis (when every value
    is positive and they span more than a decade)."""
    drawn = []
    for index, (label, metrics) in enumerate(runs.items()):
        records = metrics.intervals or metrics.epochs
        if not records:
            continue
        steps = np.array([r.step for r in records])
        # a missing loss (null: nothing decoded) becomes NaN, a gap in the line
        loss = np.array([r.loss for r in records], dtype=np.float64)
        base = np.array([r.base_loss for r in records], dtype=np.float64)
        marker = None if metrics.intervals else "o"
        axes.plot(steps, loss, color=f"C{index}", marker=marker, linewidth=1.6, label=label)
        axes.plot(steps, base, color=f"C{index}", marker=marker, linestyle="--", linewidth=1.2)
        drawn.extend([loss, base])
    if not drawn:
        return False
    values = np.concatenate(drawn)
    finite = values[np.isfinite(values)]
    # A log axis only where the losses span more than a decade: on a narrower range it shows
    # hardly any tick labels.
    if finite.size and finite.min() > 0 and finite.max() > 10 * finite.min():
        axes.set_yscale("log")
    axes.set_xlabel("optimizer step")
    axes.set_ylabel("loss (nats)")
    axes.set_title("training loss: solid = optimised loss (HM loss when HM is on), "
                   "dashed = the head's own loss", fontsize=8.5)
    axes.grid(True, which="both", alpha=0.3)
    axes.legend(fontsize=8)
    return True


def draw_validation(axes: Any, runs: Runs) -> bool:
    """Validation accuracy (percent) per epoch, error bars ± one standard error over folds."""
    protocols = set()
    for index, (label, metrics) in enumerate(runs.items()):
        records = [r for r in metrics.epochs if r.validation is not None]
        if not records:
            continue
        protocols.update(r.validation.protocol for r in records)
        axes.errorbar([r.epoch for r in records], [100 * r.validation.accuracy for r in records],
                      yerr=[100 * r.validation.se if r.validation.se is not None else np.nan
                            for r in records], color=f"C{index}",  # one tested fold: no bar
                      marker="o", markersize=4, capsize=3, linewidth=1.5, label=label)
    if not protocols:
        return False
    axes.set_xlabel("epoch")
    axes.set_ylabel("validation accuracy (%), mean ± SE over folds")
    axes.set_title(f"validation on {', '.join(sorted(protocols))}", fontsize=9)
    _integer_ticks(axes)
    axes.grid(True, alpha=0.3)
    axes.legend(fontsize=8)
    return True


def _finish_per_epoch(axes: Any, runs: Runs, ylabel: str) -> bool:
    """Label a per-epoch figure that starts at 0; False (nothing drawn) when no run has an epoch."""
    if not any(m.epochs for m in runs.values()):
        return False
    axes.set_ylabel(ylabel)
    axes.set_ylim(bottom=0)
    _epoch_axis(axes)
    return True


def draw_hard_fraction(axes: Any, runs: Runs) -> bool:
    """Share of the epoch's samples with p_y < 0.5, percent, per epoch."""
    for index, (label, metrics) in enumerate(runs.items()):
        _by_activity(axes, metrics, lambda e: e.hard_mining.hard_fraction, f"C{index}", label, scale=100)
    return _finish_per_epoch(axes, runs, "hard samples (%, p_y < 0.5)")


def draw_hm_weight(axes: Any, runs: Runs) -> bool:
    """Mean HM factor w per epoch, with the band between its 25% and 75% quantiles."""
    for index, (label, metrics) in enumerate(runs.items()):
        _by_activity(axes, metrics, lambda e: e.hard_mining.weight_mean, f"C{index}", label)
        quartiles = [(e.epoch, e.hard_mining.weight_quantiles.get("0.25"),
                      e.hard_mining.weight_quantiles.get("0.75")) for e in metrics.epochs]
        quartiles = [q for q in quartiles if q[1] is not None and q[2] is not None]
        if quartiles:
            epochs, low, high = zip(*quartiles)
            axes.fill_between(epochs, low, high, color=f"C{index}", alpha=0.15, linewidth=0)
    return _finish_per_epoch(axes, runs, "HM factor w (mean; band: 25-75%)")


def draw_p_y_ridgeline(axes: Any, label: str, metrics: TrainMetrics) -> bool:
    """One run's per-epoch p_y histograms stacked, epoch 1 at the top; each ridge's height is
    the share of samples per bin, on one scale for the whole panel."""
    epochs = metrics.epochs
    if not epochs:
        return False
    shares = [e.hard_mining.p_y_histogram / max(e.hard_mining.num_samples, 1) for e in epochs]
    tallest = max(float(s.max()) for s in shares) or 1.0
    scale = 1.2 / tallest  # the tallest bar spans 1.2 rows: ridges overlap a little
    for index, (epoch, share) in enumerate(zip(epochs, shares)):
        baseline = len(epochs) - 1 - index
        axes.stairs(baseline + scale * share, epoch.hard_mining.bins, baseline=baseline,
                    fill=True, facecolor=_ridge_colour(index, len(epochs)), edgecolor="black",
                    linewidth=0.6, alpha=0.9, zorder=index + 2)
    axes.axvline(0.5, color="C3", linestyle="--", linewidth=1, zorder=len(epochs) + 2)
    step = max(1, math.ceil(len(epochs) / 15))
    ticks = list(range(0, len(epochs), step))
    axes.set_yticks([len(epochs) - 1 - i for i in ticks], [f"epoch {epochs[i].epoch}" for i in ticks],
                    fontsize=7.5)
    axes.set_ylim(-0.2, len(epochs) - 1 + 1.35)
    axes.set_xlim(float(epochs[0].hard_mining.bins[0]), float(epochs[0].hard_mining.bins[-1]))
    axes.set_xlabel("p_y, softmax probability of the correct class")
    axes.set_title(f"{label}\n(tallest bar: {100 * tallest:.0f}% of the epoch's samples)",
                   fontsize=8.5)
    return True


@dataclass(frozen=True)
class TrainingFigure:
    """One PNG: its file name, size and how to draw it from the runs."""

    file: str
    size: Callable[[Runs], tuple[float, float]]
    layout: Callable[[Runs], tuple[int, int]]
    draw: Callable[[list[Any], Runs], bool]


def _draw_hard_mining(axes: list[Any], runs: Runs) -> bool:
    drawn = draw_hard_fraction(axes[0], runs)
    if drawn:
        draw_hm_weight(axes[1], runs)
        axes[0].set_title("hard mining per epoch (" + LOGGED_ONLY + ")", fontsize=9)
        axes[0].legend(fontsize=8)
        axes[0].set_xlabel("")
    return drawn


def _draw_ridgelines(axes: list[Any], runs: Runs) -> bool:
    drawn = any([draw_p_y_ridgeline(a, label, m) for a, (label, m) in zip(axes, runs.items())])
    axes[0].figure.suptitle("p_y per epoch, share of samples per bin\n"
                            "hard samples: left of the red line (p_y < 0.5)", fontsize=9)
    return drawn


TRAINING_FIGURES: tuple[TrainingFigure, ...] = (
    TrainingFigure("loss.png", lambda runs: (7.0, 4.5), lambda runs: (1, 1),
                   lambda axes, runs: draw_loss(axes[0], runs)),
    TrainingFigure("validation.png", lambda runs: (7.0, 4.5), lambda runs: (1, 1),
                   lambda axes, runs: draw_validation(axes[0], runs)),
    TrainingFigure("hard_mining.png", lambda runs: (7.0, 6.5), lambda runs: (2, 1),
                   _draw_hard_mining),
    TrainingFigure(
        "p_y.png",
        lambda runs: (max(4.5, 3.6 * len(runs) + 0.6),
                      min(12.0, 3.0 + 0.3 * max((len(m.epochs) for m in runs.values()), default=1))),
        lambda runs: (1, len(runs)), _draw_ridgelines),
)


def write_training_figures(runs: Runs | Sequence[TrainMetrics],
                           directory: str | os.PathLike[str]) -> list[Path]:
    """Write each figure of :data:`TRAINING_FIGURES` that has data into the existing folder
    ``directory`` (each file atomically); return the files written. ``runs`` is
    ``{label: TrainMetrics}`` or a list of TrainMetrics (labelled by :func:`run_labels`)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    if not isinstance(runs, Mapping):
        runs = dict(zip(run_labels(runs), runs))
    written = []
    for spec in TRAINING_FIGURES:
        rows, columns = spec.layout(runs)
        figure, axes = plt.subplots(rows, columns, figsize=spec.size(runs), dpi=120,
                                    squeeze=False, sharex=columns == 1)
        try:
            if spec.draw(list(axes.flat), runs):
                figure.tight_layout()
                path = Path(directory) / spec.file
                with atomic_open(path, "wb") as handle:
                    figure.savefig(handle, format="png")
                written.append(path)
        finally:
            plt.close(figure)
    return written


def plot_training(runs: Runs | Sequence[TrainMetrics],
                  out_dir: str | os.PathLike[str]) -> list[Path]:
    """Write the training figures (:func:`write_training_figures`) into the new folder
    ``out_dir`` (absent or empty; built beside it and renamed into place); return the files'
    final paths."""
    out = Path(out_dir)
    check_new_directory(out)
    with atomic_directory(out) as staging:
        names = [path.name for path in write_training_figures(runs, staging)]
    return [out / name for name in names]


def _by_activity(axes: Any, metrics: TrainMetrics, value: Callable[[Any], float | None], colour: str,
                 label: str, scale: float = 1.0) -> None:
    """Plot a per-epoch value times ``scale``: solid where HM was in the loss, dashed where
    only logged; an epoch without the value (null: no samples) is a gap."""
    epochs = metrics.epochs
    x = np.array([e.epoch for e in epochs])
    y = scale * np.array([value(e) for e in epochs], dtype=np.float64)  # None -> NaN
    active = np.array([e.hard_mining.active for e in epochs])
    axes.plot(x, np.where(active, y, np.nan), color=colour, marker="o", markersize=3.5,
              linewidth=1.6, label=label if active.any() else None)
    axes.plot(x, np.where(active, np.nan, y), color=colour, marker="o", markersize=3.5,
              linewidth=1.2, linestyle="--", markerfacecolor="white",
              label=None if active.any() else label)


def _epoch_axis(axes: Any) -> None:
    axes.set_xlabel("epoch")
    _integer_ticks(axes)
    axes.grid(True, alpha=0.3)


def _integer_ticks(axes: Any) -> None:
    from matplotlib.ticker import MaxNLocator

    axes.xaxis.set_major_locator(MaxNLocator(integer=True))


def _ridge_colour(index: int, count: int) -> Any:
    from matplotlib import colormaps

    return colormaps["viridis"](0.15 + 0.75 * index / max(count - 1, 1))
