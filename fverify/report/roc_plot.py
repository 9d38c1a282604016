"""The ROC figure of one run: pooled ROC of all pairs on a log FAR axis, EER marked."""
from __future__ import annotations

import os

import numpy as np

from fverify.atomic import atomic_open
from fverify.metrics.evaluation import FOLD_ROC_FPR, Evaluation


def plot_roc(evaluation: Evaluation, path: str | os.PathLike[str], title: str) -> None:
    """Write a PNG: TAR against FAR (log axis, down to 1/n_negatives, the smallest FAR the data
    resolves), the pooled ROC, the fold-averaged ROC (mean ± std over folds, on its linear
    FPR grid) and the EER point."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    roc = evaluation.roc
    smallest = 1.0 / roc.num_negative
    figure, axes = plt.subplots(figsize=(5.5, 4.5), dpi=120)
    try:
        resolved = roc.fpr >= smallest
        axes.plot(roc.fpr[resolved], roc.tpr[resolved], color="C0",
                  label=f"pooled ROC, AUC {evaluation.auc:.4f}")
        grid = FOLD_ROC_FPR >= smallest
        mean, std = evaluation.fold_roc_tpr_mean[grid], evaluation.fold_roc_tpr_std[grid]
        axes.fill_between(FOLD_ROC_FPR[grid], np.clip(mean - std, 0, 1), np.clip(mean + std, 0, 1),
                          color="C1", alpha=0.25, label=f"fold-averaged ROC ± std ({evaluation.num_folds} folds)")
        eer = evaluation.eer.rate
        if eer >= smallest:
            axes.plot([eer], [1 - eer], "o", color="C3", label=f"EER {100 * eer:.2f}%")
        axes.set_xscale("log")
        axes.set_xlim(smallest, 1.0)
        axes.set_ylim(max(0.0, float(roc.tpr[resolved].min(initial=1.0)) - 0.02), 1.0005)
        axes.set_xlabel(f"FAR (false accept rate; log scale from 1/{roc.num_negative} negatives)")
        axes.set_ylabel("TAR (true accept rate)")
        axes.set_title(title, fontsize=9)
        axes.grid(True, which="both", alpha=0.3)
        axes.legend(loc="lower right", fontsize=8)
        figure.tight_layout()
        with atomic_open(path, "wb") as handle:
            figure.savefig(handle, format="png")
    finally:
        plt.close(figure)
