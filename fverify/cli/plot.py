"""``fverify plot hm-curve`` and ``fverify plot training``: figures of the Hard-Mining loss and
of training runs. Parsing and printing only; torch and matplotlib load when a plot is made."""
from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fverify.cli.options import add_seed

FORMS = ("eq2", "alg1")  # the choices of fverify.losses.hard_mining.FORMS, without importing torch


def _number_list(positive: bool) -> Callable[[str], tuple[float, ...]]:
    def parse(text: str) -> tuple[float, ...]:
        try:
            values = tuple(float(part) for part in text.split(","))
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a comma-separated list of numbers: {text!r}") from None
        if any(not abs(v) < float("inf") or (positive and v <= 0) for v in values):
            raise argparse.ArgumentTypeError(
                f"{text!r}: every value must be a finite number" + (" above 0" if positive else ""))
        return values

    return parse


def _form_list(text: str) -> tuple[str, ...]:
    forms = tuple(text.split(","))
    unknown = [f for f in forms if f not in FORMS]
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown forms {unknown}; choose from {', '.join(FORMS)}")
    return forms


def _name_list(text: str) -> tuple[str, ...]:
    return tuple(name for name in text.split(",") if name)


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


@dataclass(frozen=True)
class View:
    """One figure of ``plot hm-curve``: how to compute its data and how to draw it."""

    help: str
    compute: Callable[[argparse.Namespace, list[Any]], Any]
    draw: Callable[[list[Any], Any], None]
    panels: int
    size: tuple[float, float]
    summary: Callable[[Any], list[str]]


def _likelihood(args: argparse.Namespace, settings: list[Any]) -> Any:
    from fverify.report.hm_curves import likelihood_curves

    return likelihood_curves(settings, points=args.points)


def _draw_likelihood(axes: list[Any], curves: Any) -> None:
    from fverify.report.hm_curve_plot import draw_likelihood

    draw_likelihood(axes[0], curves)


def _likelihood_summary(curves: Any) -> list[str]:
    return [f"{setting.label}: crosses cross-entropy at p = {c.p:.6f} (loss {c.loss:.6f} nats)"
            if c else f"{setting.label}: stays below cross-entropy for every p"
            for setting, c in curves.crossings.items()]


def _angle(args: argparse.Namespace, settings: list[Any]) -> Any:
    from fverify.report.hm_curves import angle_curves

    return angle_curves(args.heads, settings, step_deg=args.step, num_classes=args.classes,
                        feature_norm=args.feature_norm)


def _draw_angle(axes: list[Any], curves: Any) -> None:
    from fverify.report.hm_curve_plot import draw_angle_factors, draw_angle_losses

    draw_angle_losses(axes[0], curves)
    draw_angle_factors(axes[1], curves)


def _angle_summary(curves: Any) -> list[str]:
    return [f"{len(curves.losses)} heads at {len(curves.angle_deg)} angles, "
            f"{curves.num_classes:,} classes, feature norm {curves.feature_norm:g}"]


def _batch(args: argparse.Namespace, settings: list[Any]) -> Any:
    from fverify.report.hm_curves import batch_weights, realistic_batch_angles

    angles = realistic_batch_angles(args.batch_size, args.angle_mean, args.angle_std, args.seed)
    return batch_weights(args.head, settings, angles, num_classes=args.classes,
                         feature_norm=args.feature_norm)


def _draw_batch(axes: list[Any], batch: Any) -> None:
    from fverify.report.hm_curve_plot import draw_batch_factors, draw_batch_losses

    draw_batch_losses(axes[0], batch)
    draw_batch_factors(axes[1], batch)


def _batch_summary(batch: Any) -> list[str]:
    lines = [f"batch of {len(batch.angle_deg)}, {batch.head} head: mean loss {batch.mean_loss:.4g}"]
    for setting, weights in batch.sample.items():
        lines.append(f"{setting.label}: per sample w from {weights.min():.3g} to "
                     f"{weights.max():.3g} (mean {weights.mean():.3g}); "
                     f"batch w = {batch.batch[setting]:.4g} for all")
    return lines


VIEWS: dict[str, View] = {
    "likelihood": View("loss against p, the likelihood of the correct class (the paper's Fig. 1)",
                       _likelihood, _draw_likelihood, 1, (6.4, 4.8), _likelihood_summary),
    "angle": View("margin heads and their HM versions against the target angle",
                  _angle, _draw_angle, 2, (7.0, 8.0), _angle_summary),
    "batch": View('the HM factor of each sample of one batch, reduction="sample" vs "batch"',
                  _batch, _draw_batch, 2, (7.0, 7.5), _batch_summary),
}


def run_hm_curve(args: argparse.Namespace) -> int:
    from fverify.report.hm_curve_plot import write_csv, write_figure
    from fverify.report.hm_curves import hm_settings

    view = VIEWS[args.view]
    settings = hm_settings(alpha=args.alpha, beta=args.beta, A=args.A, B=args.B, form=args.form)
    data = view.compute(args, settings)
    write_figure(args.out, lambda axes: view.draw(axes, data), panels=view.panels, size=view.size)
    print(f"wrote {args.out}")
    if args.csv:
        write_csv(args.csv, data.columns())
        print(f"wrote {args.csv}")
    for line in view.summary(data):
        print(line)
    return 0


def run_training(args: argparse.Namespace) -> int:
    from fverify.atomic import check_new_directory
    from fverify.report.training_plot import plot_training, read_runs

    check_new_directory(args.out)  # before reading: a wrong --out fails first
    runs = read_runs(args.runs)
    for label, metrics in runs.items():
        print(f"{label}: {metrics.path} ({len(metrics.intervals)} interval and "
              f"{len(metrics.epochs)} epoch records)")
    written = plot_training(runs, args.out)
    print(f"wrote {args.out}: {', '.join(path.name for path in written)}")
    if not any(path.name == "validation.png" for path in written):
        print("no validation records in any run: no validation.png")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "plot", help="figures: the Hard-Mining loss curves, training runs",
        description="Figures of the Hard-Mining loss and of fverify training runs.")
    kinds = parser.add_subparsers(dest="kind", metavar="KIND", required=True)

    views = "; ".join(f"{name}: {view.help}" for name, view in VIEWS.items())
    hm = kinds.add_parser(
        "hm-curve", help="Hard-Mining loss curves (the paper's Fig. 1 and beyond)",
        description="Hard-Mining loss curves, every value from fverify.losses. Each HM flag takes "
        "a comma-separated list; every combination is drawn (at most 6), e.g. --form eq2,alg1.")
    hm.add_argument("--view", choices=tuple(VIEWS), default="likelihood",
                    help=f"which figure (default: likelihood). {views}")
    hm.add_argument("--out", type=Path, required=True, metavar="FILE", help="PNG to write")
    hm.add_argument("--csv", type=Path, metavar="FILE",
                    help="also write the plotted values here (named columns)")
    group = hm.add_argument_group("Hard-Mining settings (L_HM = α L sigmoid(A (β L - B)), paper Eq. 2)")
    group.add_argument("--alpha", type=_number_list(True), default=(1.5,), metavar="LIST", help="default: 1.5")
    group.add_argument("--beta", type=_number_list(True), default=(1.1,), metavar="LIST", help="default: 1.1")
    group.add_argument("--A", type=_number_list(True), default=(35.0,), metavar="LIST",
                       help="steepness of the soft step (default: 35)")
    group.add_argument("--B", type=_number_list(False), default=(0.75,), metavar="LIST",
                       help="position of the step: at β L = B (default: 0.75)")
    group.add_argument("--form", type=_form_list, default=("eq2",), metavar="LIST",
                       help="eq2 (the paper's Eq. 2) and/or alg1 (its Algorithm 1: β L instead "
                       "of L, a factor β more) (default: eq2)")
    likelihood = hm.add_argument_group("likelihood view")
    likelihood.add_argument("--points", type=_positive_int, default=199,
                            help="evenly spaced p inside (0, 1) (default: 199: 0.005 to 0.995)")
    geometry = hm.add_argument_group(
        "angle and batch views (embedding at angle θ_y to its class weight, every other class "
        "at 90°)")
    geometry.add_argument("--heads", type=_name_list, default=("softmax", "sphereface", "arcface", "cosface"),
                          metavar="LIST", help="angle view: heads, default settings "
                          "(default: softmax,sphereface,arcface,cosface)")
    geometry.add_argument("--step", type=float, default=0.5, metavar="DEG",
                          help="angle view: angle step in degrees (default: 0.5)")
    geometry.add_argument("--head", default="arcface", help="batch view: the head (default: arcface)")
    geometry.add_argument("--classes", type=_positive_int, default=10_575,
                          help="number of classes (default: 10575, CASIA-WebFace identities)")
    geometry.add_argument("--feature-norm", type=float, default=64.0, metavar="R",
                          help="embedding norm, for heads without a scale: softmax, sphereface "
                          "(default: 64)")
    geometry.add_argument("--batch-size", type=_positive_int, default=64,
                          help="batch view: samples (default: 64, the paper's)")
    geometry.add_argument("--angle-mean", type=float, default=55.0, metavar="DEG",
                          help="batch view: mean target angle in degrees (default: 55)")
    geometry.add_argument("--angle-std", type=float, default=10.0, metavar="DEG",
                          help="batch view: spread of the target angles in degrees (default: 10)")
    add_seed(geometry)
    hm.set_defaults(func=run_hm_curve)

    training = kinds.add_parser(
        "training", help="curves of fverify training runs, overlaid",
        description="Loss per step, validation accuracy, hard fraction and HM factor per epoch, "
        "and per-epoch p_y histograms, from each run's metrics.jsonl (written by fverify train).")
    training.add_argument("runs", nargs="+", type=Path, metavar="RUN",
                          help="run folder (fverify train --out) or its metrics.jsonl")
    training.add_argument("--out", type=Path, required=True, metavar="DIR",
                          help="new (or empty) folder for the PNGs")
    training.set_defaults(func=run_training)
