"""The report's figures, drawn once from the statistics as PNG bytes: the report folder holds
them as files and the HTML embeds the same bytes."""
from __future__ import annotations

import io
import re
import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from fverify.metrics.roc import Roc
from fverify.report.statistics import Column, ReportStatistics

DPI = 100
PALETTE_COLOURS = 128
# Normal-deviate ticks of the DET axes (fractions), filtered to the range the data resolves.
DET_TICKS = (1e-4, 2e-4, 5e-4, 1e-3, 2e-3, 5e-3, 0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5,
             0.6, 0.7, 0.8, 0.9, 0.95, 0.98, 0.99)
DET_TICK_GAP = 0.25  # normal deviates between two labelled DET ticks (about 20 px at 6 in wide)


@dataclass(frozen=True)
class Figure:
    """One PNG of the report: ``name`` is its file name in the report folder; width and height
    in pixels."""

    name: str
    title: str
    caption: str
    png: bytes
    width: int
    height: int


def draw_figures(statistics: ReportStatistics) -> list[Figure]:
    """Every figure of the report: protocol by protocol in the order of FIGURES, then the
    training curves of the models that came from ``fverify train``."""
    return ([draw(statistics, column) for column in statistics.columns for draw in FIGURES.values()]
            + training_figures(statistics))


# Title and caption of each figure of fverify.report.training_plot in the report.
TRAINING_CAPTIONS = {
    "loss.png": ("Training loss", "per optimizer step, from the trainer's metrics.jsonl: solid the "
                 "optimised loss (the HM loss when hard mining is on), dashed the head's own loss."),
    "validation.png": ("Validation during training", "accuracy per epoch, mean ± standard error over folds."),
    "hard_mining.png": ("Hard mining during training", "per epoch, the share of samples with p_y < 0.5 "
                        "and the mean HM factor (band: 25-75% quantiles); dashed where HM was only "
                        "logged, not in the loss."),
    "p_y.png": ("p_y during training", "per-epoch histograms of p_y, the softmax probability of the "
                "correct class, one panel per model."),
}


def training_figures(statistics: ReportStatistics) -> list[Figure]:
    """The training curves (fverify plot training's figures) of every row with trainer
    metrics, overlaid; a figure without data is left out."""
    if not statistics.training:
        return []
    from fverify.report.training_plot import TRAINING_FIGURES

    plt = _pyplot()
    runs = statistics.training
    figures = []
    for spec in TRAINING_FIGURES:
        rows, columns = spec.layout(runs)
        figure, axes = plt.subplots(rows, columns, figsize=spec.size(runs), dpi=DPI, squeeze=False,
                                    sharex=columns == 1)
        if not spec.draw(list(axes.flat), runs):
            plt.close(figure)
            continue
        title, caption = TRAINING_CAPTIONS[spec.file]
        figures.append(_finish(figure, f"training-{spec.file}", title, f"{title}: {caption}", suptitle=False))
    return figures


def likelihood_figure(settings: Sequence[Any]) -> Figure:
    """The paper's Fig. 1 (loss against p, cross-entropy and HM) for the hard-mining
    ``settings`` (:class:`fverify.report.hm_curves.HMSetting`), as ``fverify plot hm-curve``
    draws it, for a report to show beside the runs trained with them."""
    from fverify.report.hm_curve_plot import draw_likelihood
    from fverify.report.hm_curves import likelihood_curves

    plt = _pyplot()
    figure, axes = plt.subplots(figsize=(6.4, 4.8), dpi=DPI)
    draw_likelihood(axes, likelihood_curves(settings))
    title = "Hard-Mining loss against likelihood"
    return _finish(figure, "hm-curve.png", title,
                   f"{title} (the paper's Fig. 1) for the hard-mining settings of these runs: loss "
                   "of the correct class's softmax probability p, cross-entropy and HM "
                   "cross-entropy, where they cross marked.", suptitle=False)


def roc_overlay(statistics: ReportStatistics, column: Column) -> Figure:
    """Pooled ROC of each model on a log FAR axis, down to 1/n_negatives."""
    plt = _pyplot()
    smallest = 1.0 / column.num_negative
    figure, axes = plt.subplots(figsize=(6.0, 4.4), dpi=DPI)
    lowest = 1.0
    for index, (row, run) in enumerate(statistics.runs_of(column.protocol)):
        roc = run.evaluation.roc
        resolved = roc.fpr >= smallest
        lowest = min(lowest, float(roc.tpr[resolved].min(initial=1.0)))
        axes.plot(roc.fpr[resolved], roc.tpr[resolved], color=f"C{index}",
                  label=f"{row} (AUC {run.evaluation.auc:.4f})")
    axes.set_xscale("log")
    axes.set_xlim(smallest, 1.0)
    axes.set_ylim(max(0.0, lowest - 0.02), 1.005)
    axes.set_xlabel(f"FAR (false accept rate, log scale down to 1/{column.num_negative})")
    axes.set_ylabel("TAR (true accept rate)")
    axes.grid(True, which="both", alpha=0.3)
    axes.legend(loc="lower right", fontsize=8)
    title = f"ROC on {column.protocol}"
    return _finish(figure, f"roc-{_slug(column.protocol)}.png", title,
                   f"{title}: pooled ROC of all {column.num_pairs} pairs per model; FARs below "
                   f"1/{column.num_negative} negative pairs cannot be resolved and are not drawn.")


def det_curves(statistics: ReportStatistics, column: Column) -> Figure:
    """DET: false reject rate against false accept rate, both on normal-deviate (probit) axes."""
    from scipy.stats import norm

    plt = _pyplot()
    figure, axes = plt.subplots(figsize=(6.0, 4.4), dpi=DPI)
    low_far, low_frr = 1.0 / column.num_negative, 1.0 / column.num_positive
    highest = 0.5
    for index, (row, run) in enumerate(statistics.runs_of(column.protocol)):
        far, frr = det_points(run.evaluation.roc)
        if len(frr):
            highest = max(highest, float(frr.max()))
        axes.plot(norm.ppf(far), norm.ppf(frr), color=f"C{index}",
                  label=f"{row} (EER {100 * run.evaluation.eer.rate:.2f}%)")
    highest = min(highest, 0.99)
    bounds = (norm.ppf(min(low_far, low_frr)) - 0.1, norm.ppf(highest) + 0.1)
    axes.plot(bounds, bounds, color="0.6", linestyle="--", linewidth=0.8, label="FAR = FRR")
    for axis, low, setter, lim in ((axes.xaxis, low_far, axes.set_xticks, axes.set_xlim),
                                   (axes.yaxis, low_frr, axes.set_yticks, axes.set_ylim)):
        ticks = _spaced([t for t in DET_TICKS if low <= t <= highest], norm.ppf)
        setter(norm.ppf(ticks), [f"{100 * t:g}" for t in ticks])
        lim(norm.ppf(low) - 0.1, norm.ppf(highest) + 0.1)
    axes.set_xlabel("FAR (%, normal-deviate scale)")
    axes.set_ylabel("FRR (%, normal-deviate scale)")
    axes.grid(True, alpha=0.3)
    axes.legend(loc="upper right", fontsize=8)
    title = f"DET on {column.protocol}"
    return _finish(figure, f"det-{_slug(column.protocol)}.png", title,
                   f"{title}: both axes are normal deviates (scipy.stats.norm.ppf) labelled in percent, "
                   f"from 1/{column.num_negative} negatives and 1/{column.num_positive} positives; "
                   "points with a rate of 0 or 1 lie at infinity and are not drawn.")


def _spaced(ticks: list[float], position: Callable[[Any], Any]) -> list[float]:
    """The ticks kept, outward from the one nearest 50%, when at least ``DET_TICK_GAP`` from
    the last one kept: near 0 and 1 the probit scale packs ticks too close to label."""
    if not ticks:
        return ticks
    where = [float(position(t)) for t in ticks]
    centre = min(range(len(ticks)), key=lambda i: abs(where[i]))
    kept = [centre]
    for side in (range(centre + 1, len(ticks)), range(centre - 1, -1, -1)):
        last = where[centre]
        for i in side:
            if abs(where[i] - last) >= DET_TICK_GAP:
                kept.append(i)
                last = where[i]
    return [ticks[i] for i in sorted(kept)]


def det_points(roc: Roc) -> tuple[np.ndarray, np.ndarray]:
    """(FAR, FRR) of the ROC's operating points that a DET can draw: a rate of 0 or 1 lies at
    infinity on normal-deviate axes, so those points are left out."""
    frr = 1.0 - roc.tpr
    shown = (roc.fpr > 0) & (roc.fpr < 1) & (frr > 0) & (frr < 1)
    return roc.fpr[shown], frr[shown]


def score_histograms(statistics: ReportStatistics, column: Column) -> Figure:
    """Genuine (same) and impostor (different) pair scores, one panel per model."""
    plt = _pyplot()
    from matplotlib.ticker import MaxNLocator

    runs = statistics.runs_of(column.protocol)
    figure, axes = plt.subplots(len(runs), 1, figsize=(6.0, 1.2 + 1.6 * len(runs)), dpi=DPI, squeeze=False)
    for panel, (row, run) in zip(axes[:, 0], runs):
        scores, same = run.scores.scores, run.scores.labels
        bins = np.histogram_bin_edges(scores, bins=30)
        panel.hist(scores[same], bins=bins, color="C2", alpha=0.6, label=f"genuine ({int(same.sum())})")
        panel.hist(scores[~same], bins=bins, color="C3", alpha=0.6, label=f"impostor ({int((~same).sum())})")
        panel.set_title(row, fontsize=9, loc="left")
        # Scores packed near 1 (cosines of 0.9999...) would get an offset label that collides
        # with the axis label: plain numbers, fewer ticks.
        panel.ticklabel_format(axis="x", useOffset=False, style="plain")
        panel.xaxis.set_major_locator(MaxNLocator(6))
        panel.set_ylabel("pairs")
        panel.yaxis.get_major_locator().set_params(integer=True)  # counts of pairs
        panel.legend(fontsize=7, loc="best")
    axes[-1, 0].set_xlabel("pair score (the model's similarity; higher = more alike)")
    title = f"Score distributions on {column.protocol}"
    return _finish(figure, f"scores-{_slug(column.protocol)}.png", title,
                   f"{title}: genuine (same identity) and impostor pairs, per model, 30 bins each.")


def fold_accuracy(statistics: ReportStatistics, column: Column) -> Figure:
    """Each fold's held-out accuracy as a dot, the mean with its standard-error bar."""
    plt = _pyplot()
    runs = statistics.runs_of(column.protocol)
    figure, axes = plt.subplots(figsize=(max(4.0, 1.2 + 1.1 * len(runs)), 4.0), dpi=DPI)
    spread = np.linspace(-0.12, 0.12, column.num_folds)  # folds side by side, in fold order
    for index, (row, run) in enumerate(runs):
        accuracy = run.evaluation.accuracy
        axes.plot(index + spread, 100 * accuracy.folds, "o", color=f"C{index}", alpha=0.55, markersize=4,
                  label="one fold" if index == 0 else None)
        # A fixed split (LFW View 1) tests one fold: its mean has no spread over folds to draw.
        spread_bar = None if accuracy.se is None else [100 * accuracy.se]
        axes.errorbar([index + 0.3], [100 * accuracy.mean], yerr=spread_bar, fmt="s",
                      color="black", capsize=4, markersize=5, label="mean ± se" if index == 0 else None)
    axes.set_xticks(range(len(runs)), [row for row, _ in runs], rotation=20 if len(runs) > 3 else 0,
                    ha="right" if len(runs) > 3 else "center", fontsize=8)
    axes.set_xlim(-0.5, len(runs) - 0.3)
    axes.set_ylabel("held-out accuracy per fold (%)")
    axes.grid(True, axis="y", alpha=0.3)
    axes.legend(fontsize=8, loc="best")
    title = f"Per-fold accuracy on {column.protocol}"
    return _finish(figure, f"folds-{_slug(column.protocol)}.png", title,
                   f"{title}: dots are the {column.num_folds} folds (left to right in fold order); "
                   "the black square is the mean, its bar ± the standard error std(ddof=1)/sqrt(k).")


FIGURES: dict[str, Callable[[ReportStatistics, Column], Figure]] = {
    "roc": roc_overlay,
    "det": det_curves,
    "scores": score_histograms,
    "folds": fold_accuracy,
}


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    return pyplot


def _finish(figure, name: str, title: str, caption: str, suptitle: bool = True) -> Figure:
    """Title (unless the drawing titled it), lay out and encode the figure as PNG bytes; the
    figure is closed."""
    plt = _pyplot()
    try:
        if suptitle:
            figure.suptitle(title, fontsize=10)
        figure.tight_layout()
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=DPI)
    finally:
        plt.close(figure)
    png = _palette_png(buffer.getvalue())
    width, height = struct.unpack(">II", png[16:24])  # the PNG's IHDR chunk: the pixels written
    return Figure(name, title, caption, png, width, height)


def _palette_png(png: bytes) -> bytes:
    """The PNG re-encoded with a 128-colour palette: a line plot has few colours, and the file
    (embedded in the HTML as base64) comes out about 3x smaller with no visible change."""
    from PIL import Image  # matplotlib's own image dependency

    palette = Image.open(io.BytesIO(png)).convert("RGB").quantize(colors=PALETTE_COLOURS,
                                                                  method=Image.Quantize.MEDIANCUT)
    buffer = io.BytesIO()
    palette.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def _slug(protocol: str) -> str:
    """A file-name-safe form of a protocol name (``cfp_fp.bin`` -> ``cfp_fp.bin``, spaces and
    slashes -> ``-``)."""
    return re.sub(r"[^A-Za-z0-9._-]+", "-", protocol).strip("-.") or "protocol"
