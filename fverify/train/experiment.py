"""Hard-Mining experiments on synthetic data, end to end: train pairs of recipes (one with
Hard-Mining, one without, otherwise identical, seeds included) on synthetic identities, verify
each model on a synthetic LFW (10 folds) and YTF (10 splits) of other people through the run
path of ``fverify lfw`` / ``ytf`` (:func:`fverify.verification.verify`), and write the
``fverify report`` of the runs: the table, each HM-vs-base difference tested on the same pairs
(exact McNemar, bootstrap interval, Holm's correction), ROC, DET, the training curves and the
paper's Fig. 1 for the HM settings used.

:func:`run_experiment` is the one implementation; ``fverify train --experiment synthetic-hm``
(:func:`synthetic_hm`: the four synth-* recipes, the full 6,000-pair LFW) and ``fverify demo``
(:mod:`fverify.demo`: two small runs) call it with their own recipes and sizes. The synthetic
data sets are rendered once into a cache folder (:mod:`fverify.data.synth.cache`) and reused.

Output folder: ``experiment.json`` (what was run; ``complete`` false until the report is
written), ``runs/<recipe>/`` (training runs), ``eval/<protocol>-<recipe>/`` (RunResults) and
``report/`` (the report).
"""
from __future__ import annotations

import copy
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from fverify.atomic import check_new_directory, write_json
from fverify.errors import FverifyError
from fverify.train.config import TrainConfig, load_config, set_key

EXPERIMENT_JSON = "experiment.json"
SCHEMA = "fverify.experiment/1"
# What an experiment's folder holds; fverify demo replaces only a folder holding nothing else.
OUTPUTS = (EXPERIMENT_JSON, "runs", "eval", "report")
# (HM recipe, its base recipe) of ``fverify train --experiment synthetic-hm``.
SYNTHETIC_HM_PAIRS = (("synth-hm-ce", "synth-ce"), ("synth-hm-arcface", "synth-arcface"))
# The benchmarks are drawn from other seeds than the training identities (other people).
BENCHMARK_SEED_OFFSET = 1000
# Keys an HM run and its base may differ in; anything else differing is refused.
PAIR_DIFFERENCES = ("name", "hard_mining.enabled")


@dataclass(frozen=True)
class BenchmarkSize:
    """Sizes of the synthetic LFW (10 folds; ``lfw_pairs_per_fold`` matched and as many
    mismatched pairs per fold) and YTF (10 splits, the same way) of an experiment."""

    lfw_pairs_per_fold: int = 300  # 6,000 pairs, as the real LFW View 2
    lfw_people_per_fold: int = 60
    ytf_pairs_per_split: int = 50
    ytf_people_per_split: int = 30
    ytf_max_frames: int = 8


@dataclass(frozen=True, eq=False)
class ExperimentResult:
    """A finished experiment: its folder, the written report and its experiment.json document
    (with the seconds each stage took)."""

    out: Path
    report: Any  # fverify.report.build.WrittenReport
    document: dict[str, Any]


def synthetic_hm(out: str | Path, overrides: Sequence[str] = (), *, size: BenchmarkSize = BenchmarkSize(),
                 cache: str | Path | None = None, report: Callable[[str], None] = print) -> ExperimentResult:
    """``fverify train --experiment synthetic-hm``: CE vs HM-CE and ArcFace vs HM-ArcFace
    (``overrides``: ``--set`` texts applied to all four)."""
    pairs = [(load_config(hm, list(overrides)), load_config(base, list(overrides)))
             for hm, base in SYNTHETIC_HM_PAIRS]
    return run_experiment(pairs, out, size=size, cache=cache, made_by="fverify train --experiment synthetic-hm",
                          report=report)


def run_experiment(pairs: Sequence[tuple[TrainConfig, TrainConfig]], out: str | Path, *,
                   size: BenchmarkSize, cache: str | Path | None = None, made_by: str,
                   report: Callable[[str], None] = print, progress: bool = False) -> ExperimentResult:
    """Train each (HM, base) config pair, verify every model on the synthetic LFW and YTF, and
    write the report into ``out`` (new or empty). Synthetic training sets (``data.kind =
    "synth"``) and the benchmarks come from ``cache`` (default: the user's synth cache).
    ``progress`` shows progress bars while embedding. A run that fails or stops before its end
    fails the experiment with an :class:`FverifyError`."""
    from fverify.data.synth.cache import default_synth_cache_dir

    out = Path(out)
    check_new_directory(out)
    for hm, base in pairs:
        check_pair(hm, base)
    configs = {config.name: config for pair in pairs for config in (pair[1], pair[0])}  # bases first
    if len(configs) != 2 * len(pairs):
        raise FverifyError("two runs of the experiment have the same recipe name",
                           fix="give each config its own name")
    cache = Path(cache) if cache is not None else default_synth_cache_dir()
    seed = benchmark_seed(list(configs.values()))
    document: dict[str, Any] = {
        "schema": SCHEMA, "made_by": made_by, "complete": False,
        "pairs": [[hm.name, base.name] for hm, base in pairs], "benchmark_seed": seed,
        "benchmark_size": asdict(size), "cache": str(cache), "seconds": {}}
    write_json(out / EXPERIMENT_JSON, document)  # first: marks the folder as this experiment's
    seconds = document["seconds"]

    started = time.perf_counter()
    report(f"[data] synthetic data sets (cache {cache})")
    roots = benchmarks(cache, size, seed, report)
    configs = {name: with_cached_training_set(config, cache, report) for name, config in configs.items()}
    evalsets = load_benchmarks(roots)
    document["data"] = {**{name: str(root) for name, root in roots.items()},
                        **{f"train:{name}": config.data.path for name, config in configs.items()}}
    seconds["data"] = time.perf_counter() - started

    evaluated = []
    for number, (name, config) in enumerate(configs.items(), 1):
        started = time.perf_counter()
        report(f"[train {number}/{len(configs)}] {name}: {config.head.name} head"
               f"{', hard mining' if config.hard_mining.enabled else ''}, {config.optim.epochs} epochs")
        model = train_run(config, out / "runs" / name, report)
        seconds[f"train:{name}"] = time.perf_counter() - started
        started = time.perf_counter()
        for protocol, evalset in evalsets.items():
            report(f"[eval {number}/{len(configs)}] {name} on the synthetic {protocol}")
            evaluated.append(verify_run(evalset, model, config, out / "eval" / f"{protocol}-{name}",
                                        progress, report))
        seconds[f"eval:{name}"] = time.perf_counter() - started

    started = time.perf_counter()
    report("[report] tables, significance and figures")
    written = write_report(evaluated, out / "report", [hm for hm, _ in pairs])
    seconds["report"] = time.perf_counter() - started
    document["complete"] = True
    write_json(out / EXPERIMENT_JSON, document)
    return ExperimentResult(out, written, document)


def check_pair(hm: TrainConfig, base: TrainConfig) -> None:
    """An HM run and its base must differ only in the name and in hard mining being on."""
    if not hm.hard_mining.enabled or base.hard_mining.enabled:
        raise FverifyError(f"{hm.name} vs {base.name}: the first must train with hard mining, the "
                           "second without", fix="set hard_mining.enabled accordingly")
    first, second = _flat(hm.to_dict()), _flat(base.to_dict())
    differing = sorted(key for key in first.keys() | second.keys()
                       if key not in PAIR_DIFFERENCES and first.get(key) != second.get(key))
    if differing:
        raise FverifyError(f"{hm.name} and {base.name} differ in {', '.join(differing)}: the "
                           "comparison would not isolate hard mining",
                           fix="give both runs the same settings and seeds")


def benchmark_seed(configs: Sequence[TrainConfig]) -> int:
    """The seed of the benchmarks' people: the training identities' seed plus an offset, so
    that no benchmark person was trained on. All runs must share their seeds."""
    seeds = {(config.engine.seed, config.data.synth_seed) for config in configs}
    if len(seeds) > 1:
        raise FverifyError(f"the runs have different seeds (engine.seed, data.synth_seed): {sorted(seeds)}",
                           fix="train every run of an experiment with the same seeds")
    return next(iter(seeds))[1] + BENCHMARK_SEED_OFFSET


def benchmarks(cache: Path, size: BenchmarkSize, seed: int,
               report: Callable[[str], None]) -> dict[str, Path]:
    """The synthetic LFW and YTF folders of ``size`` and ``seed``, from the cache."""
    from fverify.data.synth import write_lfw, write_ytf
    from fverify.data.synth.cache import cached

    lfw = {"num_folds": 10, "pairs_per_fold": size.lfw_pairs_per_fold,
           "people_per_fold": size.lfw_people_per_fold, "max_images": 6, "seed": seed}
    ytf = {"num_splits": 10, "pairs_per_split": size.ytf_pairs_per_split,
           "people_per_split": size.ytf_people_per_split, "max_frames": size.ytf_max_frames, "seed": seed}
    return {"lfw": cached(cache, "lfw", lfw, lambda path: write_lfw(path, **lfw), report),
            "ytf": cached(cache, "ytf", ytf, lambda path: write_ytf(path, **ytf), report)}


def load_benchmarks(roots: dict[str, Path]) -> dict[str, Any]:
    from fverify.protocols.lfw import load_lfw
    from fverify.protocols.ytf import load_ytf

    return {"lfw": load_lfw(roots["lfw"], pairs=[roots["lfw"] / "pairs.txt"]),
            "ytf": load_ytf(roots["ytf"], splits=roots["ytf"] / "splits.txt")}


def with_cached_training_set(config: TrainConfig, cache: Path, report: Callable[[str], None]) -> TrainConfig:
    """``config`` reading its synthetic training set from the cache (an image folder of the
    same pictures, JPEG-encoded) instead of rendering it for every run; other kinds unchanged."""
    if config.data.kind != "synth":
        return config
    from fverify.data.synth.cache import cached
    from fverify.data.synth.folders import write_identity_folders

    data = config.data
    settings = {"num_identities": data.synth_identities, "images_per_identity": data.synth_images_per_identity,
                "seed": data.synth_seed}
    folder = cached(cache, "train", settings, lambda path: write_identity_folders(path, **settings), report)
    config = copy.deepcopy(config)
    where = "the experiment's cached synthetic training set"
    set_key(config, ["data", "kind"], "folder", where)
    set_key(config, ["data", "path"], str(folder), where)
    return config


def train_run(config: TrainConfig, run_dir: Path, report: Callable[[str], None]) -> Path:
    """Train one run to its end; its ``model.pt``. A run that stops early fails the experiment."""
    from fverify.train.loop import train

    done = train(config, run_dir, report=report)
    if done.stopped_by is not None or done.model is None:
        raise FverifyError(f"training {config.name} stopped ({done.stopped_by}) at epoch {done.epoch}, "
                           f"step {done.global_step}, before its end: the experiment compares finished "
                           "runs only", where=str(run_dir),
                           fix="run the experiment again into a new folder (or finish this run with "
                           f"fverify train --resume --out {run_dir}, then verify and report it by hand)")
    return done.model


def verify_run(evalset: Any, model: Path, config: TrainConfig, out: Path, progress: bool,
               report: Callable[[str], None]) -> Path:
    """One model on one benchmark through :func:`fverify.verification.verify`; the run folder."""
    from fverify.models.loading import load_embedder
    from fverify.verification import ExtractionSettings, verify

    embedder = load_embedder(str(model), device=config.engine.device)
    verified = verify(evalset, embedder, out, extraction=ExtractionSettings(progress=progress))
    accuracy = verified.evaluation.accuracy
    report(f"  {evalset.protocol.name}: accuracy {100 * accuracy.mean:.2f}% ± {100 * accuracy.se:.2f} (se), "
           f"AUC {verified.evaluation.auc:.4f}, {len(verified.evaluation.labels)} pairs")
    # The synthetic lists differ from the official ones by design: that warning is left in
    # result.json; the others (e.g. accuracy at chance level) are shown, first line only.
    for warning in verified.warnings:
        if warning not in evalset.warnings:
            report(f"  warning: {warning.splitlines()[0]}")
    return out


def write_report(runs: Sequence[Path], out: Path, hm_configs: Sequence[TrainConfig]) -> Any:
    """The fverify report of the runs, with the paper's Fig. 1 for the HM settings used."""
    from fverify.report.build import make_report
    from fverify.report.figures import likelihood_figure
    from fverify.report.hm_curves import hm_settings

    settings = list(dict.fromkeys(
        (c.hard_mining.alpha, c.hard_mining.beta, c.hard_mining.A, c.hard_mining.B, c.hard_mining.form)
        for c in hm_configs))
    curves = [setting for alpha, beta, A, B, form in settings
              for setting in hm_settings(alpha=(alpha,), beta=(beta,), A=(A,), B=(B,), form=(form,))]
    return make_report([str(run) for run in runs], out, extra_figures=[likelihood_figure(curves)])


def _flat(table: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for name, value in table.items():
        if isinstance(value, dict) and name != "options":
            flat.update(_flat(value, f"{prefix}{name}."))
        else:
            flat[f"{prefix}{name}"] = value
    return flat


EXPERIMENTS = {"synthetic-hm": synthetic_hm}
