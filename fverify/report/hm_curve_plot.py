"""Figures of the Hard-Mining loss (``fverify plot hm-curve``): the paper's Fig. 1, the margin
heads against the target angle, and one batch under both reductions.

Each ``draw_*`` function draws on matplotlib Axes it is given (so a report can place it);
:func:`write_figure` and :func:`write_csv` save a figure and the plotted values atomically.
The values come from :mod:`fverify.report.hm_curves`; nothing is computed here.
"""
from __future__ import annotations

import csv
import os
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from fverify.atomic import atomic_open
from fverify.report.hm_curves import AngleCurves, BatchWeights, LikelihoodCurves

# One line style per HM setting, in order: settings are told apart by style, heads by colour.
SETTING_STYLES = ("--", ":", "-.", (0, (5, 1)), (0, (1, 3)), (0, (3, 1, 1, 1, 1, 1)))
SETTING_MARKERS = ("o", "s", "^", "D", "v", "P")


def draw_likelihood(axes: Any, curves: LikelihoodCurves) -> None:
    """Loss against p (the paper's Fig. 1): cross-entropy, each HM setting, crossings marked."""
    axes.plot(curves.p, curves.cross_entropy, color="black", linewidth=2,
              label="cross-entropy  −log p")
    for index, (setting, values) in enumerate(curves.hard_mining.items()):
        color = f"C{index}"
        axes.plot(curves.p, values, color=color, linestyle=SETTING_STYLES[index], linewidth=1.8,
                  label=setting.label)
        crossing = curves.crossings[setting]
        if crossing is not None:
            axes.plot([crossing.p], [crossing.loss], marker="o", color=color, markersize=7,
                      markerfacecolor="white", markeredgewidth=1.8, linestyle="none",
                      label=f"  crossing at p = {crossing.p:.4f} (loss {crossing.loss:.3f})")
    axes.set_xlim(0.0, 1.0)
    axes.set_ylim(bottom=0.0)
    axes.set_xlabel("p, softmax probability of the correct class")
    axes.set_ylabel("loss (nats)")
    axes.set_title("Hard-Mining cross-entropy vs cross-entropy (Srivastava et al. 2020, Fig. 1)",
                   fontsize=9)
    axes.grid(True, alpha=0.3)
    axes.legend(fontsize=7.5, loc="upper right")


def draw_angle_losses(axes: Any, curves: AngleCurves) -> None:
    """Each head's loss (solid) and HM loss (one style per setting) against the target angle;
    symmetric-log loss axis (linear below 1) so the HM step near L = 0.7 shows."""
    settings = _settings_of(curves.hard_mining)
    for index, (head, losses) in enumerate(curves.losses.items()):
        axes.plot(curves.angle_deg, losses, color=f"C{index}", linewidth=1.8)
        for number, setting in enumerate(settings):
            axes.plot(curves.angle_deg, curves.hard_mining[head, setting], color=f"C{index}",
                      linestyle=SETTING_STYLES[number], linewidth=1.4)
    axes.set_yscale("symlog", linthresh=1.0)
    axes.set_ylim(bottom=0.0)
    axes.set_ylabel("loss (nats; log scale above 1)")
    axes.set_title(f"loss against the target angle (default head settings; {curves.num_classes:,} "
                   f"classes, the others at 90°)", fontsize=9)
    _angle_axis(axes)
    _legend_heads_and_styles(axes, list(curves.losses), settings, base="the head's loss")


def draw_angle_factors(axes: Any, curves: AngleCurves) -> None:
    """The HM factor w = L_HM / L of each head against the target angle."""
    settings = _settings_of(curves.factors)
    for index, head in enumerate(curves.losses):
        for number, setting in enumerate(settings):
            axes.plot(curves.angle_deg, curves.factors[head, setting], color=f"C{index}",
                      linestyle=SETTING_STYLES[number], linewidth=1.4)
    axes.set_ylim(-0.05, 1.2 * max(float(f.max()) for f in curves.factors.values()) + 0.05)
    axes.set_ylabel("HM factor w = L_HM / L")
    axes.set_xlabel("θ_y, angle between embedding and its class weight (degrees)")
    _angle_axis(axes)
    _legend_heads_and_styles(axes, list(curves.losses), settings, base=None)


def draw_batch_losses(axes: Any, batch: BatchWeights) -> None:
    """Each sample's base loss against its target angle, and the batch mean."""
    axes.plot(batch.angle_deg, batch.base_losses, "o", color="0.3", markersize=4,
              label=f"one sample ({len(batch.angle_deg)} in the batch)")
    axes.axhline(batch.mean_loss, color="C3", linewidth=1.5,
                 label=f"batch-mean loss {batch.mean_loss:.3g}")
    steps_drawn: set[float] = set()
    for index, setting in enumerate(batch.sample):
        # The soft step of the HM sigmoid: w is half its maximum at beta L = B.
        if setting.B / setting.beta in steps_drawn:
            continue
        steps_drawn.add(setting.B / setting.beta)
        axes.axhline(setting.B / setting.beta, color=f"C{index}", linestyle=SETTING_STYLES[index],
                     linewidth=1, label=f"HM step L = B/β = {setting.B / setting.beta:.3g}")
    axes.set_yscale("symlog", linthresh=0.1)
    # Room above the largest loss (a log axis: double it) so no marker touches the frame.
    axes.set_ylim(0.0, 2.0 * max(float(batch.base_losses.max()), batch.mean_loss, 1.0))
    axes.set_ylabel(f"{batch.head} loss L (nats; log above 0.1)")
    axes.set_title(f"one batch of {len(batch.angle_deg)} samples, {batch.head} head", fontsize=9)
    axes.grid(True, alpha=0.3)
    axes.legend(fontsize=7, loc="upper left")


def draw_batch_factors(axes: Any, batch: BatchWeights) -> None:
    """The factor each sample gets: per sample (markers) and the batch's single factor (line)."""
    for index, (setting, weights) in enumerate(batch.sample.items()):
        color = f"C{index}"
        suffix = f", {setting.label}" if len(batch.sample) > 1 else ""
        axes.plot(batch.angle_deg, weights, SETTING_MARKERS[index], color=color, markersize=4,
                  alpha=0.8, label=f'reduction="sample": w(L_i) per sample{suffix}')
        axes.axhline(batch.batch[setting], color=color, linestyle=SETTING_STYLES[index],
                     linewidth=1.5,
                     label=f'reduction="batch": w(mean L) = {batch.batch[setting]:.3g} '
                     f"for every sample{suffix}")
    top = max([*batch.batch.values(), *(float(w.max()) for w in batch.sample.values()), 1.0])
    axes.set_ylim(-0.05, top * 1.35)
    axes.set_ylabel("HM factor w (L_HM = w · L)")
    axes.set_xlabel("θ_y, the sample's target angle (degrees)")
    axes.grid(True, alpha=0.3)
    axes.legend(fontsize=7, loc="upper left")


def write_figure(path: str | os.PathLike[str], draw: Callable[[Any], None], *, panels: int = 1,
                 size: tuple[float, float] = (6.4, 4.8)) -> None:
    """Draw ``panels`` stacked Axes (sharing x) with ``draw(axes_list)`` and write a PNG
    atomically."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    figure, axes = plt.subplots(panels, 1, figsize=size, dpi=120, sharex=True, squeeze=False)
    try:
        draw(list(axes[:, 0]))
        figure.tight_layout()
        with atomic_open(path, "wb") as handle:
            figure.savefig(handle, format="png")
    finally:
        plt.close(figure)


def write_csv(path: str | os.PathLike[str], columns: Mapping[str, np.ndarray]) -> None:
    """Write equal-length columns as a CSV with a header row, numbers at full precision
    (``repr`` of float64: they read back exactly)."""
    names = list(columns)
    rows = zip(*(np.asarray(columns[name]).tolist() for name in names))
    with atomic_open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(names)
        writer.writerows(rows)


def _angle_axis(axes: Any) -> None:
    axes.set_xlim(0.0, 180.0)
    axes.set_xticks(np.arange(0, 181, 30))
    axes.grid(True, alpha=0.3)


def _legend_heads_and_styles(axes: Any, heads: list[str], settings: list[Any],
                             base: str | None) -> None:
    """Two legends where the curves leave room: colour = head (upper left, where every loss is
    still 0), line style = what is drawn (lower right, where every loss is already large)."""
    from matplotlib.lines import Line2D

    colours = [Line2D([], [], color=f"C{i}", linewidth=2) for i in range(len(heads))]
    first = axes.legend(colours, heads, fontsize=7.5, loc="upper left", title="head",
                        title_fontsize=7.5)
    axes.add_artist(first)
    styles = [Line2D([], [], color="black", linestyle=SETTING_STYLES[i], linewidth=1.4)
              for i in range(len(settings))]
    labels = [s.label for s in settings]
    if base:
        styles.insert(0, Line2D([], [], color="black", linewidth=1.8))
        labels.insert(0, base)
    axes.legend(styles, labels, fontsize=7.5, loc="lower right")


def _settings_of(table: Mapping[tuple[str, Any], np.ndarray]) -> list[Any]:
    return list(dict.fromkeys(setting for _, setting in table))
