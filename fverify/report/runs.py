"""The runs a report is made of: RunResult JSONs (or run folders, or globs of either), each
with its per-pair scores, checked once here so the statistics can trust them."""
from __future__ import annotations

import glob
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fverify.errors import FverifyError
from fverify.metrics.evaluation import Evaluation, evaluate
from fverify.metrics.threshold import THRESHOLD_SEARCHES
from fverify.report.train_metrics import METRICS_FILE, TrainMetrics, read_train_metrics
from fverify.results import RUN_SCHEMA
from fverify.scores import ScoreTable, read_scores

RESULT_JSON = "result.json"  # the names a run folder holds (fverify.verification writes them)
SCORES_CSV = "scores.csv"
# Metrics of result.json that the scores must reproduce exactly (same floats, same order).
RECOMPUTED_TOLERANCE = 1e-12


@dataclass(frozen=True, eq=False)
class Run:
    """One RunResult with its scores: ``evaluation`` is computed from ``scores`` with the run's
    threshold search and equals what ``result`` recorded (checked on load). ``label`` is the
    row it goes in; ``training`` the checkpoint's training record or None."""

    source: Path
    result: dict[str, Any]
    scores: ScoreTable
    evaluation: Evaluation
    label: str

    @property
    def protocol(self) -> str:
        return self.result["protocol"]["name"]

    @property
    def training(self) -> dict[str, Any] | None:
        return (self.result.get("model") or {}).get("training")

    @property
    def model_sha256(self) -> str | None:
        return (self.result.get("model") or {}).get("sha256")


def expand_inputs(inputs: Sequence[str]) -> list[Path]:
    """Result JSON paths from run folders, JSON files and globs of either, in the order given
    (a glob's matches sorted). A path given twice, or a glob matching nothing, is refused."""
    found: list[Path] = []
    for given in inputs:
        matches = [given] if Path(given).exists() or not glob.has_magic(given) else sorted(glob.glob(given))
        if not matches:
            raise FverifyError("matches no file or folder", where=given,
                               fix="give run folders, result JSON files, or a glob that matches some")
        for match in matches:
            path = Path(match)
            json_path = path / RESULT_JSON if path.is_dir() else path
            if not json_path.is_file():
                raise FverifyError("no such run: a run folder holds result.json" if path.is_dir()
                                   else "no such file", where=str(json_path),
                                   fix="give the folder a run wrote, or its result.json")
            if json_path.resolve() in {p.resolve() for p in found}:
                raise FverifyError("this run is given twice", where=str(json_path),
                                   fix="give each run once")
            found.append(json_path)
    if not found:
        raise FverifyError("no runs given", fix="give run folders or result JSON files")
    return found


def load_runs(inputs: Sequence[str], names: Mapping[str, str] | None = None) -> list[Run]:
    """Every run of ``inputs`` (see :func:`expand_inputs`), labelled. ``names`` maps a run (its
    folder or JSON path, as given or resolved) to a label; a name that matches no run is
    refused, so a typo never leaves a row labelled by default."""
    paths = expand_inputs(inputs)
    names = dict(names or {})
    chosen = {_identity(Path(run)): (run, label) for run, label in names.items()}
    runs = []
    for path in paths:
        keys = {_identity(path), _identity(path.parent)} if path.name == RESULT_JSON else {_identity(path)}
        label = next((chosen.pop(key)[1] for key in list(chosen) if key in keys), None)
        runs.append(load_run(path, label))
    if chosen:
        run, _ = next(iter(chosen.values()))
        raise FverifyError("--name names a run that is not in the report", where=run,
                           fix="use RUN=LABEL with RUN one of the run folders or JSON files given")
    return runs


def load_run(path: Path, label: str | None = None) -> Run:
    """Read one RunResult and its scores; the scores must reproduce the recorded metrics."""
    result = _read_result(path)
    scores = read_scores(_scores_path(path, result))
    method = result.get("threshold_method")
    if method not in THRESHOLD_SEARCHES:
        raise FverifyError(f"threshold_method {method!r} is not one fverify knows "
                           f"({', '.join(THRESHOLD_SEARCHES)})", where=str(path),
                           fix="give a RunResult written by fverify")
    # A fixed split (LFW View 1) is re-scored as it was run: fitted on the other folds, reported
    # on the recorded test fold alone.
    test_fold = (result.get("metrics") or {}).get("test_fold")
    evaluation = evaluate(scores.scores, scores.labels, scores.folds, method, test_fold)
    _check_reproduces(path, result, scores, evaluation)
    return Run(path, result, scores, evaluation, label or default_label(path, result))


def load_training_metrics(runs: Sequence[Run]) -> tuple[dict[str, TrainMetrics], list[str]]:
    """The trainer's ``metrics.jsonl`` of each row whose checkpoint came from ``fverify train``
    (its training record names the run folder), by row label; and a note for each such row
    whose training folder is not here (moved, or on another machine), which the report states
    instead of the curves. A metrics file that is there but malformed is refused."""
    found: dict[str, TrainMetrics] = {}
    notes: list[str] = []
    for run in runs:
        record = run.training
        if not record or run.label in found or any(note.startswith(f"{run.label}:") for note in notes):
            continue
        metrics = Path(str(record.get("run_dir") or "")) / METRICS_FILE
        if record.get("run_dir") and metrics.is_file():
            found[run.label] = read_train_metrics(metrics)
        else:
            notes.append(f"{run.label}: no training curves, {metrics} is not found (the training run "
                         "folder was moved or is on another machine)")
    return found, notes


def default_label(path: Path, result: Mapping[str, Any]) -> str:
    """The row label of a run: the training label (else recipe) of its checkpoint, else the model file (its
    stem; ``file:function`` for a Python model), else the run folder or JSON name."""
    model = result.get("model") or {}
    training = model.get("training")
    if training and (training.get("label") or training.get("recipe")):
        return str(training.get("label") or training["recipe"])
    if model.get("path"):
        file, _, function = str(model["path"]).partition(".py:")
        return f"{Path(file).stem}:{function}" if function else Path(file).stem
    return path.parent.name if path.name == RESULT_JSON else path.stem


def _identity(path: Path) -> Path:
    return path.resolve()


def _read_result(path: Path) -> dict[str, Any]:
    try:
        result = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as error:
        raise FverifyError(f"cannot read it: {error}", where=str(path), fix="check the path") from None
    except json.JSONDecodeError as error:
        raise FverifyError(f"not JSON: {error.msg}", where=f"{path}:{error.lineno}",
                           fix="give a result.json written by an fverify run") from None
    schema = result.get("schema") if isinstance(result, dict) else None
    if schema != RUN_SCHEMA:
        what = ("a paired comparison, not a run" if schema == "fverify.compare/1"
                else f"schema {schema!r}, not {RUN_SCHEMA!r}")
        raise FverifyError(what, where=str(path),
                           fix="give the result.json of each run (fverify lfw|ytf|bin|pairs, "
                           "or fverify evaluate --json)")
    return result


def _scores_path(path: Path, result: Mapping[str, Any]) -> Path:
    """The run's scores: ``scores.csv`` beside its result.json (a run folder moved as a whole
    still works), else the recorded path, as written or relative to the JSON's folder."""
    candidates = [path.parent / SCORES_CSV] if path.name == RESULT_JSON else []
    recorded = result.get("scores_csv")
    if recorded:
        candidates += [Path(recorded), path.parent / recorded]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    raise FverifyError("the per-pair scores of this run are not found (tried "
                       + ", ".join(map(str, candidates)) + ")" if candidates
                       else "the run records no scores file", where=str(path),
                       fix="keep scores.csv beside result.json, as the run wrote them")


def _check_reproduces(path: Path, result: Mapping[str, Any], scores: ScoreTable, evaluation: Evaluation) -> None:
    """Refuse a scores file that does not give the run's recorded numbers: the report would
    otherwise show one run's table beside another's significance."""
    recorded = result["metrics"]
    folds = [fold["accuracy"] for fold in recorded["accuracy"]["folds"]]
    computed = evaluation.search.test_accuracy
    evaluated = len(evaluation.labels)  # a fixed split reports its tested fold's pairs only
    same = (recorded["num_pairs"] == evaluated and len(folds) == len(computed)
            and all(math.isclose(a, b, abs_tol=RECOMPUTED_TOLERANCE) for a, b in zip(folds, computed))
            and math.isclose(recorded["auc"], evaluation.auc, abs_tol=RECOMPUTED_TOLERANCE))
    if not same:
        raise FverifyError(
            f"{scores.path} does not reproduce this run's metrics (it gives accuracy "
            f"{evaluation.accuracy.mean:.6f} and AUC {evaluation.auc:.6f} on {evaluated} pairs; "
            f"the run recorded {recorded['accuracy']['mean']:.6f} and {recorded['auc']:.6f} on "
            f"{recorded['num_pairs']})", where=str(path),
            fix="the scores file was replaced or belongs to another run: give the run folder as written")
