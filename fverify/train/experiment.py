"""The synthetic Hard-Mining experiment: CE vs HM-CE and ArcFace vs HM-ArcFace trained on
synthetic identities with identical seeds, each model verified on a synthetic LFW (the full
6,000 pairs by default, so that a one-point difference can be significant) and a synthetic
YTF of other people, through the run path of ``fverify lfw`` / ``ytf``, and each HM-vs-base
difference tested on the same pairs (exact McNemar, bootstrap 95% interval).

``fverify train --experiment synthetic-hm --out DIR [--set key=value ...]`` writes
``DIR/data/`` (the two benchmarks), ``DIR/runs/<recipe>/`` (the training runs),
``DIR/eval/<protocol>-<recipe>/`` (RunResults) and ``DIR/table.md`` + ``DIR/experiment.json``.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fverify.atomic import atomic_open, check_new_directory, write_json
from fverify.metrics.compare import compare
from fverify.train.config import load_config

# (HM recipe, its base recipe); training runs in this order, bases first
PAIRS = (("synth-hm-ce", "synth-ce"), ("synth-hm-arcface", "synth-arcface"))
# The benchmarks are drawn from other seeds than the training identities (other people).
BENCHMARK_SEED_OFFSET = 1000


@dataclass(frozen=True)
class BenchmarkSize:
    """Sizes of the synthetic LFW (10 folds) and YTF (10 splits) of the experiment."""

    lfw_pairs_per_fold: int = 300  # 6,000 pairs, as the real LFW View 2
    lfw_people_per_fold: int = 60
    ytf_pairs_per_split: int = 50
    ytf_people_per_split: int = 30
    ytf_max_frames: int = 8


def write_benchmarks(root: Path, size: BenchmarkSize, seed: int) -> dict[str, Path]:
    from fverify.data.synth import write_lfw, write_ytf

    write_lfw(root / "lfw", num_folds=10, pairs_per_fold=size.lfw_pairs_per_fold,
              people_per_fold=size.lfw_people_per_fold, max_images=6, seed=seed)
    write_ytf(root / "ytf", num_splits=10, pairs_per_split=size.ytf_pairs_per_split,
              people_per_split=size.ytf_people_per_split, max_frames=size.ytf_max_frames, seed=seed)
    return {"lfw": root / "lfw", "ytf": root / "ytf"}


def run_experiment(out: str | Path, overrides: list[str] = (), *, size: BenchmarkSize = BenchmarkSize(),
                   report: Callable[[str], None] = print) -> dict[str, Any]:
    """Train the four recipes (``overrides``: ``--set`` texts for all of them), verify each on
    both benchmarks, compare each HM run with its base; returns the experiment document."""
    from fverify.models.loading import load_embedder
    from fverify.protocols.lfw import load_lfw
    from fverify.protocols.ytf import load_ytf
    from fverify.train.loop import train
    from fverify.verification import ExtractionSettings, verify

    out = Path(out)
    check_new_directory(out)
    configs = {name: load_config(name, list(overrides)) for pair in PAIRS for name in reversed(pair)}
    seeds = {(c.engine.seed, c.data.synth_seed) for c in configs.values()}
    seed = next(iter(seeds))[1] + BENCHMARK_SEED_OFFSET
    report(f"writing the synthetic LFW and YTF (seed {seed}) to {out / 'data'}")
    roots = write_benchmarks(out / "data", size, seed)
    evalsets = {"lfw": load_lfw(roots["lfw"], pairs=[roots["lfw"] / "pairs.txt"]),
                "ytf": load_ytf(roots["ytf"], splits=roots["ytf"] / "splits.txt")}
    evaluations: dict[tuple[str, str], Any] = {}
    results: dict[str, dict[str, Any]] = {}
    for name, config in configs.items():
        report(f"training {name}")
        done = train(config, out / "runs" / name, report=report)
        embedder = load_embedder(str(done.model), device=config.engine.device)
        for protocol, evalset in evalsets.items():
            verified = verify(evalset, embedder, out / "eval" / f"{protocol}-{name}",
                              extraction=ExtractionSettings(progress=False))
            evaluations[protocol, name] = verified.evaluation
            results.setdefault(name, {})[protocol] = verified.result["metrics"]["accuracy"]
    rows = []
    for protocol in evalsets:
        for hm_name, base_name in PAIRS:
            hm, base = evaluations[protocol, hm_name], evaluations[protocol, base_name]
            comparison = compare(hm, base)
            rows.append({"protocol": protocol, "hm": hm_name, "base": base_name,
                         "hm_accuracy": hm.accuracy.mean, "hm_se": hm.accuracy.se,
                         "base_accuracy": base.accuracy.mean, "base_se": base.accuracy.se,
                         "accuracy_diff": comparison.accuracy_diff, "ci95": list(comparison.ci95),
                         "hm_only": comparison.a_only, "base_only": comparison.b_only,
                         "mcnemar_p": comparison.p_value, "num_pairs": len(hm.labels)})
    document = {"schema": "fverify.train-experiment/1", "experiment": "synthetic-hm",
                "overrides": list(overrides), "benchmark_seed": seed, "benchmark_size": vars(size),
                "training_seeds": sorted(list(s) for s in seeds), "comparisons": rows}
    table = experiment_table(rows)
    with atomic_open(out / "table.md", "w", encoding="utf-8") as handle:
        handle.write(table + "\n")
    write_json(out / "experiment.json", document)
    report(table)
    return document


def experiment_table(rows: list[dict[str, Any]]) -> str:
    """Markdown: each HM-vs-base difference with its paired significance (percent points)."""
    lines = ["| protocol (pairs) | runs | base | HM | HM - base | 95% CI | HM only / base only | McNemar p |",
             "|---|---|---|---|---|---|---|---|"]
    for row in rows:
        lines.append(
            f"| {row['protocol']} ({row['num_pairs']}) | {row['hm']} vs {row['base']} | "
            f"{100 * row['base_accuracy']:.2f} ± {100 * row['base_se']:.2f} | "
            f"{100 * row['hm_accuracy']:.2f} ± {100 * row['hm_se']:.2f} | "
            f"{100 * row['accuracy_diff']:+.2f} | [{100 * row['ci95'][0]:+.2f}, {100 * row['ci95'][1]:+.2f}] | "
            f"{row['hm_only']} / {row['base_only']} | {row['mcnemar_p']:.3g} |")
    return "\n".join(lines)


EXPERIMENTS = {"synthetic-hm": run_experiment}
