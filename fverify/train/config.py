"""The training config: a typed schema, TOML recipes, ``--set`` overrides, checked before any
compute.

A recipe is a TOML file whose tables are the sections below (``[model]``, ``[head]``, ...).
``extends = "NAME"`` at the top starts from another recipe (a bundled name or a path relative
to the file) and changes only the keys it lists. ``--set section.key=value`` then overrides
single keys; the value is read as TOML (``--set optim.lr=0.1``, ``--set
optim.milestones=[2,4]``, ``--set head.options.margin=0.4``); a bare word is a string.

Every key is declared once here, with its type, default, documentation and valid choices;
:func:`schema_table` renders the README table from the same declarations. This module does not
import torch.
"""
from __future__ import annotations

import dataclasses
import math
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, get_args, get_origin, get_type_hints

from fverify.errors import FverifyError
from fverify.models.registry import BACKBONES

RECIPES_PACKAGE = "fverify.train.recipes"
MAX_EXTENDS_DEPTH = 8
# Head settings (``[head.options]``) are checked against the head's own signature; these are
# its names. Kept here, not imported, so the config stays free of torch.
HEAD_NAMES = ("softmax", "sphereface", "arcface", "cosface", "npt", "amm")
DATA_KINDS = ("folder", "recordio", "synth")
VALIDATION_PROTOCOLS = ("none", "lfw", "ytf", "bin", "pairs")


def key(default: Any, doc: str, choices: tuple[Any, ...] | None = None,
        minimum: float | None = None, maximum: float | None = None) -> Any:
    """Declare a config key: its default, one line of documentation, and what it accepts."""
    metadata = {"doc": doc, "choices": choices, "minimum": minimum, "maximum": maximum}
    if isinstance(default, (list, dict)):
        return field(default_factory=lambda: type(default)(default), metadata=metadata)
    return field(default=default, metadata=metadata)


@dataclass
class ModelConfig:
    arch: str = key("iresnet18", "backbone (fverify.models.registry)", choices=tuple(BACKBONES))
    embedding_dim: int = key(512, "embedding size", minimum=1)
    input_size: list[int] = key([112, 112], "[height, width] of the aligned faces, pixels")


@dataclass
class HeadConfig:
    name: str = key("arcface", "loss head (fverify.losses.HEADS)", choices=HEAD_NAMES)
    options: dict[str, Any] = key({}, "the head's settings, e.g. {margin = 0.5, scale = 64.0}; "
                                  "names and defaults in the README's loss-head table")


@dataclass
class HardMiningConfig:
    enabled: bool = key(False, "wrap the head in HardMining (the loss is L_HM)")
    alpha: float = key(1.5, "HM alpha (paper Eq. 2)", minimum=0.0)
    beta: float = key(1.1, "HM beta", minimum=0.0)
    A: float = key(35.0, "HM A, sigmoid steepness", minimum=0.0)
    B: float = key(0.75, "HM B, sigmoid offset")
    form: str = key("eq2", "eq2: alpha L sig(...); alg1: alpha beta L sig(...)",
                    choices=("eq2", "alg1"))
    reduction: str = key("sample", "sample: weight each sample's loss; batch: the batch mean "
                         "(per process and micro-batch)", choices=("sample", "batch"))


@dataclass
class DataConfig:
    kind: str = key("folder", "training set kind (fverify.data.training)", choices=DATA_KINDS)
    path: str = key("", "folder of identity sub-folders, or train.rec; unused for synth")
    synth_identities: int = key(200, "synth: number of identities", minimum=2)
    synth_images_per_identity: int = key(20, "synth: images per identity", minimum=1)
    synth_seed: int = key(0, "synth: seed of the identities and images", minimum=0)
    flip: bool = key(True, "random horizontal flip, p = 0.5, decided per sample from "
                     "(seed, epoch, index)")
    workers: int = key(2, "DataLoader worker processes per training process (0: in-process)",
                       minimum=0)
    max_decode_failure_fraction: float = key(
        0.001, "stop when more than this fraction of an epoch's samples failed to decode "
        "(also checked before training, on the images decoded then)", minimum=0.0, maximum=1.0)
    decode_check_fraction: float = key(
        1.0, "share of the images decoded before training, once per run, by rank 0 (1: all; "
        "a random sample, seeded by engine.seed; 0: none)", minimum=0.0, maximum=1.0)


@dataclass
class OptimConfig:
    epochs: int = key(20, "epochs to train", minimum=1)
    batch_size: int = key(64, "global batch: images per optimiser step over all processes",
                          minimum=1)
    accumulation: int = key(1, "micro-batches per optimiser step (gradient accumulation)",
                            minimum=1)
    lr: float = key(0.01, "SGD learning rate at epoch 1", minimum=0.0)
    momentum: float = key(0.9, "SGD momentum", minimum=0.0, maximum=1.0)
    weight_decay: float = key(5e-4, "SGD weight decay (backbone and head)", minimum=0.0)
    milestones: list[int] = key([8, 12, 16], "epochs (1-based) after which lr is multiplied "
                                "by gamma")
    gamma: float = key(0.1, "lr factor at each milestone", minimum=0.0)
    grad_clip: float = key(0.0, "clip the global gradient norm to this (0: off)", minimum=0.0)


@dataclass
class EngineConfig:
    seed: int = key(0, "seed of the weights, the sample order and the flips", minimum=0)
    device: str = key("auto", "auto (CUDA when available), cpu, cuda; under torchrun each "
                      "process takes cuda:LOCAL_RANK")
    precision: str = key("auto", "auto: float16 AMP on CUDA, float32 on CPU; bfloat16: "
                         "bf16 autocast (CPU or CUDA)",
                         choices=("auto", "float32", "bfloat16", "float16"))
    channels_last: bool = key(True, "channels_last memory format for the backbone")
    log_every_steps: int = key(50, "steps per interval record in metrics.jsonl", minimum=1)
    checkpoint_every_steps: int = key(0, "also checkpoint every this many steps (0: only at "
                                      "epoch ends)", minimum=0)
    keep_checkpoints: int = key(3, "training checkpoints kept (oldest removed)", minimum=1)
    stop_after_steps: int = key(0, "stop (checkpoint saved, as on SIGINT) after this many "
                                "global steps; 0: run to the end; for time-limited jobs",
                                minimum=0)
    progress: bool = key(True, "progress bar (tqdm) with img/s and ETA")
    tensorboard: bool = key(False, "also write TensorBoard events to RUN/tensorboard "
                            "(needs the tensorboard extra)")


@dataclass
class ValidationConfig:
    protocol: str = key("none", "verification protocol run after each epoch, through the "
                        "run path of fverify lfw, ytf, bin and pairs", choices=VALIDATION_PROTOCOLS)
    data: str = key("", "image folder (lfw, ytf, pairs) or the .bin file (bin)")
    pairs: str = key("", "lfw: pairs file (default: the shipped pairs.txt); ytf: splits "
                     "file; pairs: the pairs CSV")
    flip: str = key("sum", "flip test", choices=("sum", "concat", "none"))
    batch_size: int = key(64, "images per embedding batch", minimum=1)


@dataclass
class TrainConfig:
    name: str = key("custom", "recipe name recorded with the run and the model")
    model: ModelConfig = field(default_factory=ModelConfig)
    head: HeadConfig = field(default_factory=HeadConfig)
    hard_mining: HardMiningConfig = field(default_factory=HardMiningConfig)
    data: DataConfig = field(default_factory=DataConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    engine: EngineConfig = field(default_factory=EngineConfig)
    validation: ValidationConfig = field(default_factory=ValidationConfig)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


SECTIONS = {f.name: f.type for f in dataclasses.fields(TrainConfig) if f.name != "name"}


def _section_classes() -> dict[str, type]:
    hints = get_type_hints(TrainConfig)
    return {name: hints[name] for name in SECTIONS}


# --- reading -------------------------------------------------------------------------------

def list_recipes() -> list[str]:
    """Names of the bundled recipes (``fverify train --list-recipes``)."""
    folder = resources.files(RECIPES_PACKAGE)
    return sorted(p.name[:-len(".toml")] for p in folder.iterdir() if p.name.endswith(".toml"))


def recipe_text(name: str) -> tuple[str, str]:
    """(TOML text, where) of a bundled recipe name or a TOML file path."""
    if name in list_recipes():
        return resources.files(RECIPES_PACKAGE).joinpath(f"{name}.toml").read_text("utf-8"), \
            f"recipe {name!r}"
    path = Path(name)
    if not path.is_file():
        raise FverifyError(f"no bundled recipe and no file named {name!r}", where=str(path),
                           fix=f"give a TOML file or one of: {', '.join(list_recipes())}")
    return path.read_text("utf-8"), str(path)


def _read_layers(name: str, depth: int = 0) -> list[tuple[dict[str, Any], str]]:
    """The recipe's tables, base first: [(table, where), ...] following ``extends``."""
    if depth > MAX_EXTENDS_DEPTH:
        raise FverifyError(f"recipe {name!r}: 'extends' is nested deeper than "
                           f"{MAX_EXTENDS_DEPTH} (a cycle?)", fix="break the extends chain")
    text, where = recipe_text(name)
    try:
        table = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise FverifyError(f"not valid TOML: {error}", where=where,
                           fix="fix the TOML syntax") from None
    parent = table.pop("extends", None)
    if parent is None:
        return [(table, where)]
    if not isinstance(parent, str):
        raise FverifyError("'extends' must be a recipe name or a file path", where=where)
    if parent not in list_recipes() and not Path(parent).is_absolute() and where != f"recipe {name!r}":
        parent = str(Path(where).parent / parent)
    return [*_read_layers(parent, depth + 1), (table, where)]


def parse_override(text: str) -> tuple[list[str], Any]:
    """``section.key=value`` -> (path, value); the value is TOML, a bare word a string."""
    dotted, sep, raw = text.partition("=")
    if not sep or not dotted.strip():
        raise FverifyError(f"--set {text!r} is not key=value",
                           fix="write e.g. --set optim.lr=0.1")
    try:
        value = tomllib.loads(f"v = {raw.strip()}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw.strip()
    return [part.strip() for part in dotted.split(".")], value


def load_config(recipe: str, overrides: list[str] = ()) -> TrainConfig:
    """The resolved, validated config of ``recipe`` (bundled name or TOML path) plus the
    ``--set`` ``overrides``; any unknown key or bad value is an :class:`FverifyError` that names
    the key, where it came from and what is valid."""
    config = TrainConfig()
    for table, where in _read_layers(recipe):
        apply_table(config, table, where)
    for text in overrides:
        path, value = parse_override(text)
        set_key(config, path, value, f"--set {text}")
    check_config(config, "the resolved config")
    return config


def config_from_dict(table: dict[str, Any], where: str) -> TrainConfig:
    """A config saved by :meth:`TrainConfig.to_dict` (a checkpoint's, or config.toml)."""
    config = TrainConfig()
    apply_table(config, table, where)
    check_config(config, where)
    return config


def apply_table(config: TrainConfig, table: dict[str, Any], where: str) -> None:
    for name, value in table.items():
        if isinstance(value, dict) and name in SECTIONS:
            for sub, sub_value in value.items():
                set_key(config, [name, sub], sub_value, where)
        else:
            set_key(config, [name], value, where)


def set_key(config: TrainConfig, path: list[str], value: Any, where: str) -> None:
    """Set one key, checking that it exists and that ``value`` has its type and is valid."""
    dotted = ".".join(path)
    sections = _section_classes()
    if path == ["name"]:
        setattr(config, "name", _coerce("name", str, value, where))
        return
    if len(path) >= 2 and path[0] in sections:
        section = getattr(config, path[0])
        fields = {f.name: f for f in dataclasses.fields(section)}
        hints = get_type_hints(type(section))
        if path[1] in fields:
            if path[:2] == ["head", "options"] and len(path) == 3:
                section.options = {**section.options, path[2]: value}
                return
            if len(path) == 2:
                item = fields[path[1]]
                value = _coerce(dotted, hints[path[1]], value, where)
                _check_choice(dotted, value, item.metadata, where)
                setattr(section, path[1], value)
                return
        valid = ", ".join(f"{path[0]}.{name}" for name in fields)
        raise FverifyError(f"unknown config key {dotted!r}", where=where,
                           fix=f"keys of [{path[0]}]: {valid}")
    valid = ", ".join(["name", *(f"[{name}]" for name in sections)])
    raise FverifyError(f"unknown config key {dotted!r}", where=where,
                       fix=f"top-level keys and sections: {valid}")


def _coerce(dotted: str, kind: Any, value: Any, where: str) -> Any:
    origin = get_origin(kind)
    ok = False
    if kind is bool:
        ok = isinstance(value, bool)
    elif kind is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif kind is float:
        if isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        ok = isinstance(value, float) and math.isfinite(value)
    elif kind is str:
        ok = isinstance(value, str)
    elif origin is list:
        (item,) = get_args(kind)
        ok = isinstance(value, list) and all(
            isinstance(v, item) and not isinstance(v, bool) for v in value)
    elif origin is dict:
        ok = isinstance(value, dict)
    if not ok:
        raise FverifyError(f"config key {dotted!r} must be {_type_name(kind)}, got {value!r}",
                           where=where, fix=f"give {dotted} a value of type {_type_name(kind)}")
    return value


def _check_choice(dotted: str, value: Any, metadata: Any, where: str) -> None:
    choices, low, high = metadata["choices"], metadata["minimum"], metadata["maximum"]
    if choices is not None and value not in choices:
        raise FverifyError(f"config key {dotted!r} cannot be {value!r}", where=where,
                           fix=f"valid choices: {', '.join(map(str, choices))}")
    if low is not None and value < low or high is not None and value > high:
        bounds = f"[{low if low is not None else -math.inf:g}, {high if high is not None else math.inf:g}]"
        raise FverifyError(f"config key {dotted!r} = {value!r} is outside {bounds}",
                           where=where, fix=f"choose {dotted} in {bounds}")


def check_config(config: TrainConfig, where: str) -> None:
    """Checks that span keys: sizes, divisibility, the head's own settings."""
    def fail(dotted: str, what: str, fix: str) -> None:
        raise FverifyError(f"config key {dotted!r}: {what}", where=where, fix=fix)

    size = config.model.input_size
    if len(size) != 2 or min(size) < 1:
        fail("model.input_size", f"{size} is not [height, width]", "write e.g. [112, 112]")
    optim = config.optim
    if optim.batch_size % optim.accumulation:
        fail("optim.batch_size", f"{optim.batch_size} is not divisible by optim.accumulation "
             f"= {optim.accumulation}", "make the global batch a multiple of the accumulation")
    if sorted(optim.milestones) != optim.milestones or any(m < 1 for m in optim.milestones):
        fail("optim.milestones", f"{optim.milestones} must be increasing epochs >= 1",
             "write e.g. [8, 12, 16]")
    if config.data.kind in ("folder", "recordio") and not config.data.path:
        fail("data.path", f"data.kind = {config.data.kind!r} needs a path",
             "set data.path (a folder of identity folders, or train.rec)")
    if config.validation.protocol not in ("none", "lfw") and not config.validation.data:
        fail("validation.data", f"protocol {config.validation.protocol!r} needs data",
             "set validation.data")
    if config.validation.protocol == "pairs" and not config.validation.pairs:
        fail("validation.pairs", "protocol 'pairs' needs the pairs CSV", "set validation.pairs")
    if config.validation.protocol == "lfw" and not config.validation.data:
        fail("validation.data", "protocol 'lfw' needs the image folder", "set validation.data")
    device = config.engine.device
    if device not in ("auto", "cpu", "cuda") and not device.startswith("cuda:"):
        fail("engine.device", f"{device!r} is not a device", "valid: auto, cpu, cuda, cuda:N")
    check_head_options(config.head, where)


def check_head_options(head: HeadConfig, where: str) -> None:
    """The head's options must be settings it has, of the type of their defaults."""
    from fverify.losses import head_options  # imports torch: only when a config is checked

    accepted = head_options(head.name)
    for name, value in head.options.items():
        dotted = f"head.options.{name}"
        if name not in accepted:
            listed = ", ".join(f"{k}={v!r}" for k, v in accepted.items()) or "none"
            raise FverifyError(f"head {head.name!r} has no setting {name!r}", where=where,
                               fix=f"its settings (with defaults): {listed}")
        kind = type(accepted[name])
        _coerce(dotted, kind, value, where)
        if kind is float and isinstance(value, int):
            head.options[name] = float(value)


def _type_name(kind: Any) -> str:
    if get_origin(kind) is list:
        return f"a list of {get_args(kind)[0].__name__}"
    if get_origin(kind) is dict:
        return "a table"
    return {bool: "true or false", int: "an integer", float: "a number",
            str: "a string"}.get(kind, str(kind))


# --- writing -------------------------------------------------------------------------------

def to_toml(config: TrainConfig) -> str:
    """The resolved config as TOML (``RUN/config.toml``); :func:`load_config` reads it back."""
    lines = [f"name = {_toml_value(config.name)}"]
    for section in SECTIONS:
        values = dataclasses.asdict(getattr(config, section))
        lines.append(f"\n[{section}]")
        for name, value in values.items():
            lines.append(f"{name} = {_toml_value(value)}")
    return "\n".join(lines) + "\n"


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} = {_toml_value(v)}" for k, v in value.items()) + "}"
    raise TypeError(f"cannot write {value!r} as TOML")


def schema_table() -> str:
    """The README's table of every config key: name, type, default, valid values, meaning."""
    rows = ["| key | type | default | valid | meaning |", "|---|---|---|---|---|",
            f"| `name` | {_type_name(str)} | `\"custom\"` | | "
            f"{dataclasses.fields(TrainConfig)[0].metadata['doc']} |"]
    for section, cls in _section_classes().items():
        hints = get_type_hints(cls)
        for item, default in zip(dataclasses.fields(cls), dataclasses.asdict(cls()).values()):
            meta = item.metadata
            valid = ""
            if meta["choices"]:
                valid = ", ".join(f"`{c}`" for c in meta["choices"])
            elif meta["minimum"] is not None or meta["maximum"] is not None:
                low = "" if meta["minimum"] is None else f">= {meta['minimum']:g}"
                high = "" if meta["maximum"] is None else f"<= {meta['maximum']:g}"
                valid = ", ".join(part for part in (low, high) if part)
            rows.append(f"| `{section}.{item.name}` | {_type_name(hints[item.name])} | "
                        f"`{_toml_value(default)}` | {valid} | {meta['doc']} |")
    return "\n".join(rows)
