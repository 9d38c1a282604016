"""``fverify demo``: the whole story on a laptop CPU in minutes, with no data and no GPU.

Two small models are trained on synthetic identities with the bundled recipes ``demo`` and
``demo-hm`` (the same loss without and with Hard-Mining; identical settings and seeds), verified
on a synthetic LFW and YTF, and compared in an ``fverify report``: all of it is
:func:`fverify.train.experiment.run_experiment`, as ``fverify train --experiment`` runs it,
with smaller sizes. The synthetic data sets are cached and reused by the next demo.
"""
from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from fverify.errors import FverifyError
from fverify.train.config import HEAD_NAMES, TrainConfig, load_config
from fverify.train.experiment import (EXPERIMENT_JSON, OUTPUTS, BenchmarkSize, ExperimentResult,
                                      run_experiment)

DEFAULT_OUT = Path("reports/demo")
MADE_BY = "fverify demo"
BASE_RECIPE, HM_RECIPE = "demo", "demo-hm"
# --loss name -> head name (fverify.losses.HEADS); "ce" is the paper's name for plain softmax.
LOSSES = {"ce": "softmax", **{name: name for name in HEAD_NAMES if name != "softmax"}}


@dataclass(frozen=True)
class DemoSize:
    """The benchmarks' size and the ``--set`` overrides of the training size."""

    benchmarks: BenchmarkSize
    training: tuple[str, ...]


SIZES = {
    # The full demo: the recipes as bundled; LFW 10 x 200 pairs, YTF 10 x 60 video pairs.
    "full": DemoSize(BenchmarkSize(lfw_pairs_per_fold=100, lfw_people_per_fold=40, ytf_pairs_per_split=30,
                                   ytf_people_per_split=20, ytf_max_frames=6), ()),
    # --quick: a reduced end-to-end run (tests, a first look): a few seconds of training.
    "quick": DemoSize(BenchmarkSize(lfw_pairs_per_fold=8, lfw_people_per_fold=8, ytf_pairs_per_split=3,
                                    ytf_people_per_split=5, ytf_max_frames=4),
                      ("data.synth_identities=32", "data.synth_images_per_identity=6", "optim.epochs=2",
                       "optim.milestones=[]", "engine.log_every_steps=1")),
}


def demo_configs(loss: str = "arcface", seed: int = 0, quick: bool = False) -> tuple[TrainConfig, TrainConfig]:
    """(HM config, base config) of the demo: the bundled ``demo-hm`` and ``demo`` recipes with
    head ``loss`` (a key of LOSSES; another head than the recipe's takes its default settings)
    and ``seed`` as both the weights' and the identities' seed."""
    if loss not in LOSSES:
        raise FverifyError(f"unknown loss {loss!r}", fix=f"choose one of: {', '.join(LOSSES)}")
    head = LOSSES[loss]
    overrides = [*SIZES["quick" if quick else "full"].training, f"engine.seed={seed}", f"data.synth_seed={seed}"]
    if head != load_config(BASE_RECIPE).head.name:
        overrides += [f"head.name={head}", "head.options={}"]
    base = load_config(BASE_RECIPE, [*overrides, f"name=demo-{loss}"])
    hm = load_config(HM_RECIPE, [*overrides, f"name=demo-hm-{loss}"])
    return hm, base


def run_demo(*, loss: str = "arcface", seed: int = 0, quick: bool = False, out: str | Path = DEFAULT_OUT,
             cache: str | Path | None = None, report: Callable[[str], None] = print) -> ExperimentResult:
    """Run the demo into ``out``: a folder that an earlier demo wrote is replaced, any other
    non-empty folder refused (before any work)."""
    pair = demo_configs(loss, seed, quick)  # a bad --loss fails before anything is removed
    out = Path(out)
    replace_own_output(out, report)
    size = SIZES["quick" if quick else "full"].benchmarks
    return run_experiment([pair], out, size=size, cache=cache, made_by=MADE_BY, report=report, progress=True)


def replace_own_output(out: Path, report: Callable[[str], None]) -> None:
    """Remove ``out`` when an earlier demo wrote it (its experiment.json says so and it holds
    nothing else than what a demo writes); refuse any other non-empty folder."""
    if not out.exists() or (out.is_dir() and not any(out.iterdir())):
        return
    manifest = out / EXPERIMENT_JSON
    try:
        made_by = json.loads(manifest.read_text(encoding="utf-8")).get("made_by")
    except (OSError, ValueError, AttributeError):
        made_by = None
    others = sorted(entry.name for entry in out.iterdir() if entry.name not in OUTPUTS) if out.is_dir() else []
    if made_by != MADE_BY or others:
        why = (f"it holds {', '.join(others[:3])}, which a demo does not write" if made_by == MADE_BY
               else f"{manifest.name} does not say that fverify demo wrote it")
        raise FverifyError(f"exists and is not an earlier demo's output ({why}); the demo replaces "
                           "only a folder it wrote itself", where=str(out),
                           fix="choose another --out, or remove this folder")
    report(f"replacing the earlier demo in {out}")
    shutil.rmtree(out)
