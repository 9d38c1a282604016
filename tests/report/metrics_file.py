"""Write ``metrics.jsonl`` files in the trainer's schema (fverify.train-metrics/1) for tests,
and copies of runs whose model came from the trainer."""
import json
import shutil

import numpy as np

SCHEMA = "fverify.train-metrics/1"
BINS = [round(0.05 * i, 2) for i in range(21)]


def start(recipe="arcface", resumed_from=None):
    return {"schema": SCHEMA, "kind": "start", "recipe": recipe, "config": {"head": "arcface"},
            "fverify_version": "0.0", "world_size": 1, "resumed_from": resumed_from,
            "num_classes": 200, "num_images": 4000, "time": "2026-11-30T10:00:00Z"}


def interval(step, epoch, loss, base_loss=None, fraction=0.5):
    return {"schema": SCHEMA, "kind": "interval", "step": step, "epoch": epoch,
            "epoch_fraction": fraction, "lr": 0.01, "loss": loss,
            "base_loss": loss if base_loss is None else base_loss, "img_per_s": 100.0,
            "data_wait_fraction": 0.1}


def epoch(number, step, histogram, *, active=False, accuracy=0.8, se=0.01, weight_mean=0.9,
          validation=True):
    histogram = [int(c) for c in histogram]
    total = sum(histogram)
    hard = sum(histogram[:10]) / total
    return {"schema": SCHEMA, "kind": "epoch", "epoch": number, "step": step, "lr": 0.01,
            "loss": 2.0, "base_loss": 2.0, "seconds": 10.0, "decode_failures": 0,
            "validation": {"protocol": "lfw", "accuracy": accuracy, "se": se, "std": 3 * se,
                           "auc": 0.9, "eer": 0.1, "num_pairs": 600} if validation else None,
            "hard_mining": {"active": active, "form": "eq2", "reduction": "sample", "alpha": 1.5,
                            "beta": 1.1, "A": 35.0, "B": 0.75, "bins": BINS,
                            "p_y_histogram": histogram, "num_samples": total,
                            "hard_fraction": hard, "weight_mean": weight_mean,
                            "weight_quantiles": {"0.05": 0.0, "0.25": weight_mean / 2,
                                                 "0.5": weight_mean, "0.75": 1.5, "0.95": 1.5},
                            "base_loss_easy_mean": 0.1, "base_loss_hard_mean": 3.0}}


def write(path, records):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


def example_run(root, recipe, *, epochs=4, steps_per_epoch=20, active=False, seed=0):
    """A plausible run: loss falling, p_y mass moving from 0 to 1 epoch by epoch."""
    rng = np.random.default_rng(seed)
    records = [start(recipe)]
    centres = (np.arange(20) + 0.5) / 20
    for e in range(1, epochs + 1):
        for k in range(1, steps_per_epoch // 5 + 1):
            step = (e - 1) * steps_per_epoch + 5 * k
            base = 20 * np.exp(-step / 30) + 1 + 0.2 * rng.random()
            records.append(interval(step, e, base * (1.5 if active else 1.0), base,
                                    fraction=5 * k / steps_per_epoch))
        mass = np.exp(-((centres - e / (epochs + 1)) ** 2) / 0.05)
        histogram = np.round(1000 * mass / mass.sum()).astype(int)
        records.append(epoch(e, e * steps_per_epoch, histogram, active=active,
                             accuracy=0.6 + 0.3 * e / (epochs + 1) + (0.02 if active else 0), se=0.01 + 0.002 * e,
                             weight_mean=1.5 * histogram[:10].sum() / histogram.sum()))
    return write(root / "metrics.jsonl", records)


def trained(source, target, recipe, base_recipe, run_dir=None, **training):
    """A copy of the run at ``source`` whose model came from `fverify train`: the training
    record the trainer writes (more fields in ``training``), its run folder at ``run_dir``
    (default: the copy itself)."""
    shutil.copytree(source, target)
    result = json.loads((target / "result.json").read_text())
    result["model"]["training"] = {"recipe": recipe, "base_recipe": base_recipe, "hard_mining": base_recipe is not None,
                                   "head": "arcface", "run_dir": str(run_dir or target), "config_sha256": "0" * 64,
                                   **training}
    (target / "result.json").write_text(json.dumps(result))
    return str(target)
