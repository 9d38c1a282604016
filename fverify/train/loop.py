"""The training loop of ``fverify train``: one code path for CPU, one GPU and torchrun / DDP.

Per optimiser step each process loads its share of the global batch, mirrors the images chosen
by :func:`fverify.train.augment.flip_mask`, normalises ``(x - 127.5) / 128``, and runs
``optim.accumulation`` micro-batches through backbone and head (autocast in the configured
precision; gradient sync only on the last). Samples that failed to decode (label -1) are
counted and left out of the loss; the loss is normalised by the number of valid samples in the
whole global batch, so any split of the batch over processes and micro-batches computes the same
gradient. A step reads no value back from the device: the counts come from the labels on the
host, and the losses and hard-mining records are read back (:meth:`Trainer.settle`) at each
interval record, epoch end and checkpoint. Checkpoints at each epoch end, every
``engine.checkpoint_every_steps`` and on SIGINT/SIGTERM (then the run stops); ``model.pt`` at
the end.
"""
from __future__ import annotations

import contextlib
import datetime
import math
import shutil
import signal
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from fverify import __version__
from fverify.atomic import atomic_open, check_new_directory
from fverify.errors import FverifyError
from fverify.losses import HardMiningRecord, build_head
from fverify.models.checkpoint import save_checkpoint
from fverify.models.dtype import resolve_dtype
from fverify.models.preprocessing import Preprocessing
from fverify.models.registry import backbone_spec
from fverify.train import checkpoint as ckpt
from fverify.train.augment import flip_batch, flip_mask
from fverify.train.config import (TrainConfig, config_from_dict, load_config, parse_override,
                                  set_key, to_toml)
from fverify.train.distributed import (Process, all_sum, barrier, broadcast_object, epoch_indices,
                                       local_batch_size, start_process)
from fverify.train.heap import freed_memory_kept, release_freed_memory
from fverify.train.metrics_log import MetricsLog
from fverify.train.objective import Objective, TrainModel
from fverify.train.schedule import learning_rate, schedule_state
from fverify.train.tally import Tally
from fverify.train.validation import load_validation_set, validate_checkpoint

CONFIG_TOML = "config.toml"
METRICS_JSONL = "metrics.jsonl"
MODEL_PT = "model.pt"
PIXEL_MEAN, PIXEL_STD = 127.5, 128.0  # the HM paper's normalisation, (x - 127.5) / 128
# Keys (or key prefixes ending in ".") that may change when a run is resumed: they do not change
# what is computed. engine.seed, engine.precision and engine.channels_last do, so they stay.
RESUMABLE_CHANGES = ("engine.device", "engine.log_every_steps", "engine.checkpoint_every_steps",
                     "engine.keep_checkpoints", "engine.stop_after_steps", "engine.progress",
                     "engine.tensorboard", "validation.", "data.path", "data.workers",
                     "data.decode_check_fraction")
DECODE_CHECK_TIMEOUT = datetime.timedelta(hours=24)  # the others' wait for rank 0's image check
MAX_NAMED_FAILURES = 5  # undecodable images named in the error
# Steps whose losses may wait unread on the device (also at each log interval and epoch end):
# bounds the device memory they hold and how many steps late a divergence is seen.
SETTLE_STEPS = 50
ABANDONED_DIR = "abandoned"
PREFETCH_FACTOR = 4  # batches each DataLoader worker keeps decoded or in progress ahead of the loop
# The training loop's clock (seconds); a test replaces it to check the img/s arithmetic.
clock = time.perf_counter


@dataclass(frozen=True)
class TrainResult:
    """How a run ended: ``model`` is RUN/model.pt when it finished, None when it stopped early
    (``checkpoint`` then holds the state to resume from)."""

    run_dir: Path
    epoch: int
    global_step: int
    checkpoint: Path | None
    model: Path | None
    stopped_by: str | None  # None, "SIGINT", "SIGTERM" or "engine.stop_after_steps"


def resume_config(checkpoint: dict[str, Any], where: str, overrides: list[str]) -> TrainConfig:
    """The checkpoint's config with ``overrides`` limited to keys that do not change the math."""
    config = config_from_dict(checkpoint["config"], where)
    for text in overrides:
        path, value = parse_override(text)
        dotted = ".".join(path)
        if not any(dotted == key or (key.endswith(".") and dotted.startswith(key)) for key in RESUMABLE_CHANGES):
            raise FverifyError(f"--set {text}: {dotted} cannot change when resuming: it changes "
                               "what the run computes", where=where,
                               fix=f"start a new run, or change only {', '.join(RESUMABLE_CHANGES)}")
        set_key(config, path, value, f"--set {text}")
    return config


def model_label(config: TrainConfig) -> str:
    """The recipe name, or ``HM-<name>`` when hard mining is on over a recipe whose name does
    not say so (``--set hard_mining.enabled=true`` on ``arcface``), so the two runs differ."""
    says_hm = "hm" in config.name.lower().replace("_", "-").split("-")
    return f"HM-{config.name}" if config.hard_mining.enabled and not says_hm else config.name


def pairing_key(config: TrainConfig) -> str:
    """sha256 of the config less what may differ between an HM run and its base run: the
    name, the ``hard_mining`` section, and the keys that do not change the computation
    (``RESUMABLE_CHANGES``). ``data.path`` is one of those: a resume may read the same data
    from another mount, and the same data spelled two ways must still pair; two runs on
    different data under the same settings are told apart with ``fverify report --baseline``."""
    from fverify.hashing import json_sha256

    content = config.to_dict()
    del content["name"], content["hard_mining"]
    for dotted in RESUMABLE_CHANGES:
        section, _, key = dotted.partition(".")
        if key:
            content[section].pop(key, None)
        else:
            content.pop(section, None)
    return json_sha256(content)


@dataclass(frozen=True)
class _Unsettled:
    """A micro-batch's loss (on the device) and hard-mining record (None: no sample of it
    decoded), at (epoch, global step) counted from 1, waiting for :meth:`Trainer.settle`."""

    loss: torch.Tensor
    record: HardMiningRecord | None
    epoch: int
    step: int


class _StopSignals:
    """Turns SIGINT/SIGTERM into a request to checkpoint and stop at the next step boundary."""

    def __init__(self) -> None:
        self.received: str | None = None
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> _StopSignals:
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(ValueError):  # not the main thread: leave signals alone
                self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def _handle(self, signum: int, frame: Any) -> None:
        self.received = signal.Signals(signum).name

    def __exit__(self, *exc: Any) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)


class _Nothing:
    def close(self) -> None:
        pass


class Trainer:
    """One run: built from a config (new run) or a checkpoint (resume), then :meth:`run`."""

    def __init__(self, config: TrainConfig, run_dir: Path, dataset: Any, process: Process,
                 report: Callable[[str], None], state: dict[str, Any] | None = None,
                 resumed_from: str | None = None, images_checked: dict[str, Any] | None = None):
        self.config, self.run_dir, self.dataset, self.process = config, run_dir, dataset, process
        self.report = report if process.is_main else (lambda line: None)
        engine = config.engine
        self.dtype = resolve_dtype(engine.precision, process.device.type)
        self.local_batch = local_batch_size(config.optim.batch_size, config.optim.accumulation,
                                            process.world)
        self.steps_per_epoch = len(dataset) // config.optim.batch_size
        if self.steps_per_epoch < 1:
            raise FverifyError(f"the training set has {len(dataset)} images, fewer than one "
                               f"batch of {config.optim.batch_size}",
                               fix="lower optim.batch_size or add images")
        self.evalset = load_validation_set(config.validation)  # checked before any training
        self.preprocessing = Preprocessing(input_size=tuple(config.model.input_size),
                                           mean=(PIXEL_MEAN,) * 3, std=(PIXEL_STD,) * 3)
        torch.manual_seed(engine.seed)
        backbone = backbone_spec(config.model.arch).build(config.model.embedding_dim)
        head = build_head(config.head.name, dataset.num_classes, config.model.embedding_dim,
                          **config.head.options)
        hm = config.hard_mining
        objective = Objective(head, active=hm.enabled, alpha=hm.alpha, beta=hm.beta, A=hm.A,
                              B=hm.B, form=hm.form, reduction=hm.reduction)
        memory = torch.channels_last if engine.channels_last else torch.contiguous_format
        self.model = TrainModel(backbone, objective).to(process.device, memory_format=memory)
        self.memory_format = memory
        # One optimiser over backbone and head (the head's weights reached through HardMining).
        self.optimizer = sgd(self.model.parameters(), config)
        self.scaler = torch.amp.GradScaler(process.device.type, enabled=self.dtype == "float16")
        self.epoch, self.step_in_epoch, self.global_step = 1, 0, 0
        self.epoch_tally, self.interval_tally = Tally(), Tally()
        self.unsettled: list[_Unsettled] = []  # micro-batches stepped, not yet in the tallies
        self.resumed_from = resumed_from
        self.images_checked = images_checked  # the check before training; None: not run now
        # The epoch that ended at the last epoch-end checkpoint while its validation and
        # record are not yet written: {"epoch", "lr", "seconds", "tally"}, else None.
        self.pending_epoch: dict[str, Any] | None = None
        self.epoch_started = clock()  # set again as each epoch starts
        self.epoch_seconds_before = 0.0  # of an epoch resumed mid-way
        if state is not None:
            self._restore(state)
        # failures so far in this epoch, over all processes (a resumed run continues the count)
        self.epoch_failures = all_sum([self.epoch_tally.sums["decode_failures"]], process)[0]
        self.failed_indices: list[int] = []  # this process's, for the error message
        self.ddp: nn.Module = self.model
        if process.world > 1:
            from torch.nn.parallel import DistributedDataParallel

            ids = [process.device.index] if process.device.type == "cuda" else None
            self.ddp = DistributedDataParallel(self.model, device_ids=ids)
        self.log = MetricsLog(run_dir / METRICS_JSONL) if process.is_main else None
        self.tensorboard = self._tensorboard() if engine.tensorboard and process.is_main else None
        self.last_checkpoint: Path | None = None

    # --- state ----------------------------------------------------------------------------

    def _restore(self, state: dict[str, Any]) -> None:
        self.model.backbone.load_state_dict(state["state_dict"])
        self.model.objective.head.load_state_dict(state["head"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.scaler.load_state_dict(state["scaler"])
        position = state["position"]
        if position["steps_per_epoch"] != self.steps_per_epoch:
            raise FverifyError(
                f"the checkpoint's epochs had {position['steps_per_epoch']} steps, this training set "
                f"and batch give {self.steps_per_epoch}", where=self.resumed_from,
                fix="resume with the data the run was started on")
        self.epoch, self.step_in_epoch = position["epoch"], position["step_in_epoch"]
        self.global_step = position["global_step"]
        self.epoch_seconds_before = position.get("epoch_seconds", 0.0)  # absent from older checkpoints
        ckpt.restore_rng_state(state["rng"])
        worlds = {"saved_world": state["world_size"], "world": self.process.world}
        if self.process.is_main:  # the saved sums are totals over the processes that wrote them
            self.epoch_tally = Tally.from_state(state["tallies"]["epoch"], **worlds)
            self.interval_tally = Tally.from_state(state["tallies"]["interval"], **worlds)
        pending = state.get("pending_epoch")  # absent from checkpoints of older fverify versions
        if pending is not None:
            self.pending_epoch = {**pending, "tally": Tally.from_state(pending["tally"], **worlds)}

    def training_info(self) -> dict[str, Any]:
        """The ``training`` key of model.pt and every checkpoint (train-interfaces.md).

        ``label`` names the model in reports (:func:`model_label`); ``pairing_key`` is what
        an HM run shares with its base run, so a report pairs them whatever their names."""
        import hashlib

        hm, name = self.config.hard_mining, self.config.name
        return {"recipe": name, "label": model_label(self.config),
                "base_recipe": name.replace("hm-", "", 1) if hm.enabled else None,
                "hard_mining": hm.enabled, "head": self.config.head.name,
                "pairing_key": pairing_key(self.config),
                "run_dir": str(self.run_dir.resolve()),
                "config_sha256": hashlib.sha256(to_toml(self.config).encode()).hexdigest()}

    def save_checkpoint(self) -> Path:
        """Write the training checkpoint of the current position (collective: every process
        calls it; rank 0 writes)."""
        self.settle()
        epoch_tally, interval_tally = self.epoch_tally.reduced(), self.interval_tally.reduced()
        path = ckpt.checkpoint_path(self.run_dir, self.global_step)
        if self.process.is_main:
            save_checkpoint(
                path, self.model.backbone, self.config.model.arch, self.preprocessing,
                self.config.model.embedding_dim,
                head=self.model.objective.head.state_dict(),
                optimizer=self.optimizer.state_dict(),
                scheduler=schedule_state(self.epoch, self.config.optim.lr,
                                         self.config.optim.milestones, self.config.optim.gamma),
                scaler=self.scaler.state_dict(),
                position={"epoch": self.epoch, "step_in_epoch": self.step_in_epoch,
                          "global_step": self.global_step,
                          "steps_per_epoch": self.steps_per_epoch,
                          "epoch_seconds": clock() - self.epoch_started if self.step_in_epoch else 0.0},
                rng=ckpt.rng_state(), config=self.config.to_dict(),
                training=self.training_info(), fverify_version=__version__,
                world_size=self.process.world,
                tallies={"epoch": epoch_tally.state(), "interval": interval_tally.state()},
                pending_epoch=None if self.pending_epoch is None else
                {**self.pending_epoch, "tally": self.pending_epoch["tally"].state()})
            ckpt.prune_checkpoints(self.run_dir, self.config.engine.keep_checkpoints)
        barrier(self.process)
        self.last_checkpoint = path
        return path

    def save_model(self) -> Path:
        self.settle()  # a no-op after the last epoch's end; never a non-finite model.pt
        path = self.run_dir / MODEL_PT
        if self.process.is_main:
            save_checkpoint(path, self.model.backbone, self.config.model.arch, self.preprocessing,
                            self.config.model.embedding_dim, training=self.training_info())
        barrier(self.process)
        return path

    # --- the loop -------------------------------------------------------------------------

    def run(self) -> TrainResult:
        config = self.config
        if self.log is not None:
            self.log.write("start", recipe=config.name, label=model_label(config), config=config.to_dict(),
                           fverify_version=__version__, world_size=self.process.world,
                           resumed_from=self.resumed_from, num_classes=self.dataset.num_classes,
                           num_images=len(self.dataset), images_checked=self.images_checked,
                           time=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"))
        with _StopSignals() as signals, contextlib.closing(self.tensorboard or _Nothing()), \
                self.memory_kept():
            if self.pending_epoch is not None:  # resumed from an epoch's end: finish that epoch
                self._finish_epoch(Path(self.resumed_from))
            while self.epoch <= config.optim.epochs:
                stopped = self._run_epoch(signals)
                if stopped:
                    path = self.save_checkpoint()
                    return TrainResult(self.run_dir, self.epoch, self.global_step, path, None, stopped)
        return TrainResult(self.run_dir, config.optim.epochs, self.global_step,
                           self.last_checkpoint, self.save_model(), None)

    def memory_kept(self) -> contextlib.AbstractContextManager:
        """On CPU, each step reuses the memory the last one freed (:mod:`fverify.train.heap`)
        while training runs; on a GPU the host allocates little, so nothing changes."""
        return freed_memory_kept() if self.process.device.type == "cpu" else contextlib.nullcontext()

    def batches(self) -> Iterator[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
        """This process's (images, labels, indices) batches for the rest of the current epoch."""
        indices = epoch_indices(len(self.dataset), self.config.engine.seed, self.epoch, self.process)
        indices = indices[self.step_in_epoch * self.local_batch:self.steps_per_epoch * self.local_batch]
        workers = self.config.data.workers
        loader = torch.utils.data.DataLoader(
            self.dataset, batch_size=self.local_batch, sampler=indices.tolist(), num_workers=workers,
            pin_memory=self.process.device.type == "cuda", persistent_workers=False,
            prefetch_factor=PREFETCH_FACTOR if workers else None, worker_init_fn=_ignore_interrupts)
        if workers:  # forked next: they must not share the kept heap (fverify.train.heap)
            release_freed_memory()
        with _interrupts_held():  # the workers start here
            return iter(loader)

    def _run_epoch(self, signals: _StopSignals) -> str | None:
        config, engine = self.config, self.config.engine
        lr = learning_rate(self.epoch, config.optim.lr, config.optim.milestones, config.optim.gamma)
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        self.model.train()
        batches = self.batches()
        progress = self._progress()
        # An epoch resumed mid-way counts the seconds it had run before its checkpoint, not
        # the time the run was stopped.
        self.epoch_started = clock() - self.epoch_seconds_before
        self.epoch_seconds_before = 0.0
        while self.step_in_epoch < self.steps_per_epoch:
            started = clock()
            images, labels, indices = next(batches)
            loaded = clock()
            self.step(images, labels, indices)
            self.global_step += 1
            self.step_in_epoch += 1
            if (self.global_step % engine.log_every_steps == 0 or self.global_step % SETTLE_STEPS == 0
                    or self.step_in_epoch == self.steps_per_epoch):
                # before the clock stops: on a GPU, the interval's queued work ends in its steps
                self.settle()
            # Rates come from the steps' own time, not the wall clock between two records: an
            # interval may span an epoch end (checkpoint, validation) or a resume.
            self.interval_tally.add("wait_s", loaded - started)
            self.interval_tally.add("step_s", clock() - started)
            self.interval_tally.add("images", len(labels))
            if progress is not None:
                progress.update(len(labels) * self.process.world)
            if self.global_step % engine.log_every_steps == 0:
                self._log_interval(lr)
            stop = self._stop_reason(signals)
            if stop is not None:
                if progress is not None:
                    progress.close()
                return stop
            if (engine.checkpoint_every_steps and self.global_step % engine.checkpoint_every_steps == 0
                    and self.step_in_epoch < self.steps_per_epoch):
                self.save_checkpoint()
        if progress is not None:
            progress.close()
        self._end_epoch(lr, clock() - self.epoch_started)
        return None

    def _stop_reason(self, signals: _StopSignals) -> str | None:
        requested = 1.0 if signals.received else 0.0
        if self.process.world > 1:  # every process stops at the same step
            requested = all_sum([requested], self.process)[0]
        if requested:
            return signals.received or "SIGTERM"
        limit = self.config.engine.stop_after_steps
        if limit and self.global_step >= limit:
            return "engine.stop_after_steps"
        return None

    def step(self, images: torch.Tensor, labels: torch.Tensor, indices: torch.Tensor) -> None:
        """One optimiser step on this process's share of a global batch (uint8 images, labels and
        indices on the host). Nothing here waits for the device: the counts come from the host's
        labels, and each micro-batch's loss and hard-mining record wait in :attr:`unsettled`
        until :meth:`settle` reads them (a read per step would stall a GPU's queue every step)."""
        config, device = self.config, self.process.device
        valid = labels >= 0
        failed = int((~valid).sum())
        valid_total, failed_total = all_sum([float(len(labels) - failed), float(failed)], self.process)
        self.epoch_tally.add("decode_failures", failed)
        self.failed_indices.extend(indices[~valid].tolist())
        self._check_decode_failures(failed_total)
        mask = (flip_mask(config.engine.seed, self.epoch, indices.numpy()) if config.data.flip
                else np.zeros(len(labels), dtype=bool))
        images = flip_batch(images, mask).to(device, non_blocking=True)
        x = ((images.float() - PIXEL_MEAN) / PIXEL_STD).contiguous(memory_format=self.memory_format)
        targets_all = labels.to(device, non_blocking=True)
        chunks = config.optim.accumulation
        size = len(labels) // chunks
        # A head that anneals with its forward count (SphereFace's lambda) counts optimiser
        # steps: set from the global step before each micro-batch, so accumulation over n
        # micro-batches anneals as one batch n times larger does (the head adds 1 in forward).
        iteration = getattr(self.model.objective.head, "iteration", None)
        autocast = torch.autocast(device.type, dtype=getattr(torch, self.dtype),
                                  enabled=self.dtype != "float32")
        for chunk in range(chunks):
            part = slice(chunk * size, (chunk + 1) * size)
            keep = valid[part]
            count = int(keep.sum())
            sync = self.process.world > 1 and chunk < chunks - 1
            if iteration is not None:
                iteration.fill_(self.global_step)
            with (self.ddp.no_sync() if sync else contextlib.nullcontext()), autocast:
                if count:
                    inputs, targets = x[part], targets_all[part]
                    if count < size:  # the rows that decoded, picked by host indices (no sync)
                        rows = keep.nonzero().squeeze(1).to(device, non_blocking=True)
                        inputs = inputs.index_select(0, rows).contiguous(memory_format=self.memory_format)
                        targets = targets.index_select(0, rows)
                    loss = self.ddp(inputs, targets)
                    # mean over this micro-batch -> its share of the global batch mean
                    weight = count * self.process.world / valid_total
                else:  # nothing valid here: a zero-weight pass keeps DDP's processes in step
                    loss = self.ddp(x[part], targets_all[part].clamp_min(0))
                    weight = 0.0
            self.scaler.scale(loss * weight).backward()
            self.unsettled.append(_Unsettled(loss.detach(), self.model.objective.last_batch if count else None,
                                             self.epoch, self.global_step + 1))
        if config.optim.grad_clip:
            self.scaler.unscale_(self.optimizer)
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), config.optim.grad_clip)
        self.scaler.step(self.optimizer)
        self.scaler.update()
        self.optimizer.zero_grad(set_to_none=True)

    def settle(self) -> None:
        """Read back the micro-batches stepped since the last call: stop every process with one
        error when a loss was not finite on any of them (a process that stopped alone would
        leave the others waiting in the gradient all-reduce forever), else add each loss and
        record to the tallies in step order, as if added at its step. Collective: every
        process calls it at the same step; called before every tally read and every
        checkpoint, so no checkpoint holds weights stepped with a non-finite loss."""
        unsettled, self.unsettled = self.unsettled, []
        if not unsettled:  # the same on every process: each steps the same micro-batches
            return
        values = torch.stack([entry.loss for entry in unsettled]).tolist()  # one read
        diverged = all_sum([0.0 if math.isfinite(value) else 1.0 for value in values], self.process)
        for entry, value, processes in zip(unsettled, values, diverged):
            if processes:
                what = (f"not finite on {int(processes)} of {self.process.world} processes (this "
                        f"one's: {value})" if self.process.world > 1 else f"{value}")
                raise FverifyError(f"training diverged: the loss is {what} at epoch "
                                   f"{entry.epoch}, step {entry.step}", where=str(self.run_dir),
                                   fix="lower optim.lr or set optim.grad_clip, then start a new run "
                                   "or resume from an earlier checkpoint")
        for entry, value in zip(unsettled, values):
            if entry.record is not None:
                for tally in (self.epoch_tally, self.interval_tally):
                    tally.add_batch(value, entry.record)

    def _check_decode_failures(self, failed_in_step: float) -> None:
        self.epoch_failures += failed_in_step
        allowed = self.config.data.max_decode_failure_fraction * self.steps_per_epoch * self.config.optim.batch_size
        if self.epoch_failures > allowed:
            describe = getattr(self.dataset, "describe", str)
            named = ", ".join(describe(i) for i in self.failed_indices[:MAX_NAMED_FAILURES])
            raise FverifyError(
                f"{int(self.epoch_failures)} images failed to decode in epoch {self.epoch} "
                f"(more than data.max_decode_failure_fraction = "
                f"{self.config.data.max_decode_failure_fraction} of the epoch's "
                f"{self.steps_per_epoch * self.config.optim.batch_size}); this process's first: {named}",
                where=getattr(self.dataset, "source", None),
                fix="check the training files (fverify validates them before training), or "
                "raise data.max_decode_failure_fraction")

    def _log_interval(self, lr: float) -> None:
        self.settle()
        tally = self.interval_tally.reduced()
        self.interval_tally = Tally()
        if self.log is None:
            return
        wall = max(tally.sums["step_s"] / self.process.world, 1e-9)  # per process, in parallel
        record = self.log.write(
            "interval", step=self.global_step, epoch=self.epoch,
            epoch_fraction=self.step_in_epoch / self.steps_per_epoch, lr=lr,
            loss=tally.mean("loss_sum"), base_loss=tally.mean("base_loss_sum"),
            img_per_s=tally.sums["images"] / wall,
            data_wait_fraction=min(1.0, tally.sums["wait_s"] / self.process.world / wall))
        if self.tensorboard is not None:
            for name in ("loss", "base_loss", "img_per_s", "lr"):
                if record[name] is not None:
                    self.tensorboard.add_scalar(f"train/{name}", record[name], self.global_step)

    def _end_epoch(self, lr: float, seconds: float) -> None:
        """Checkpoint (holding the finished epoch's sums as pending), then validation and
        the record: a run killed in between redoes them when resumed from that checkpoint."""
        self.settle()
        self.pending_epoch = {"epoch": self.epoch, "lr": lr, "seconds": seconds,
                              "tally": self.epoch_tally.reduced()}
        self.epoch, self.step_in_epoch = self.epoch + 1, 0
        self.epoch_failures = 0.0
        self.epoch_tally = Tally()
        self._finish_epoch(self.save_checkpoint())

    def _finish_epoch(self, path: Path) -> None:
        """Validate the pending epoch's checkpoint ``path`` and write the epoch record."""
        pending, self.pending_epoch = self.pending_epoch, None
        finished, lr, seconds, tally = (pending[k] for k in ("epoch", "lr", "seconds", "tally"))
        validation = None
        if self.evalset is not None:
            self.model.eval()  # the head too: SphereFace's lambda must not anneal here
            release_freed_memory()  # validation's DataLoader workers fork too
            validation = validate_checkpoint(
                self.evalset, path, self.run_dir / "validation" / f"epoch-{finished:03d}",
                self.config.validation, str(self.process.device), "auto")
            self.model.train()
        if self.log is None:
            return
        hm = self.config.hard_mining
        settings = {"form": hm.form, "reduction": hm.reduction, "alpha": hm.alpha, "beta": hm.beta,
                    "A": hm.A, "B": hm.B}
        record = self.log.write(
            "epoch", epoch=finished, step=self.global_step, lr=lr, loss=tally.mean("loss_sum"),
            base_loss=tally.mean("base_loss_sum"), seconds=seconds,
            decode_failures=int(tally.sums["decode_failures"]), validation=validation,
            hard_mining=tally.hard_mining_record(settings, hm.enabled))
        self.report(epoch_line(record, self.config.optim.epochs))
        if self.tensorboard is not None:
            for name in ("loss", "base_loss"):
                if record[name] is not None:  # null: no image of the epoch decoded
                    self.tensorboard.add_scalar(f"epoch/{name}", record[name], record["step"])
            if validation:
                self.tensorboard.add_scalar("epoch/val_accuracy", validation["accuracy"], record["step"])

    def _progress(self):
        if not (self.config.engine.progress and self.process.is_main):
            return None
        from tqdm import tqdm

        total = self.steps_per_epoch * self.config.optim.batch_size
        return tqdm(total=total, initial=self.step_in_epoch * self.config.optim.batch_size,
                    unit="img", unit_scale=True, desc=f"epoch {self.epoch}/{self.config.optim.epochs}",
                    leave=False, dynamic_ncols=True)

    def _tensorboard(self):
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError:
            raise FverifyError("engine.tensorboard = true but TensorBoard is not installed",
                               fix="pip install tensorboard, or set engine.tensorboard = false") from None
        # A resumed run logs again the steps after its checkpoint: TensorBoard drops its points
        # from those steps on (purge_step), so no curve has them twice.
        purge = self.global_step + 1 if self.resumed_from is not None else None
        return SummaryWriter(str(self.run_dir / "tensorboard"), purge_step=purge)


def sgd(parameters: Iterator[nn.Parameter], config: TrainConfig) -> torch.optim.SGD:
    """The run's SGD (``optim``: lr, momentum, weight decay). Fused where torch has the
    kernel for CPU and CUDA (2.4 on): one pass over each parameter instead of one per term,
    the step about 2x faster on CPU, with the for-loop's update bit for bit."""
    optim = config.optim
    fused = {"fused": True} if torch.__version__ >= "2.4" else {}
    return torch.optim.SGD(parameters, lr=optim.lr, momentum=optim.momentum,
                           weight_decay=optim.weight_decay, **fused)


INTERRUPTS = {signal.SIGINT, signal.SIGTERM}


@contextlib.contextmanager
def _interrupts_held() -> Iterator[None]:
    """SIGINT and SIGTERM held back (blocked, not lost) while DataLoader workers are forked:
    a forked worker inherits the block, so a signal to the process group that lands between
    its fork and :func:`_ignore_interrupts` waits instead of killing it (torch's worker loop
    installs, before the init function runs, a SIGTERM handler that dies of any SIGTERM not
    sent by the parent). The main process gets its signal on release."""
    if not hasattr(signal, "pthread_sigmask"):  # not POSIX: no process groups to guard against
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, INTERRUPTS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _ignore_interrupts(worker_id: int) -> None:
    """DataLoader workers ignore SIGINT and SIGTERM, which Ctrl-C, schedulers and torchrun
    send to the whole process group: the main process finishes its step and checkpoints, which
    needs the workers alive until then (they end with the main process). Then the block
    inherited from :func:`_interrupts_held` is lifted: what was held back is ignored."""
    for number in INTERRUPTS:
        signal.signal(number, signal.SIG_IGN)
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, INTERRUPTS)


def epoch_line(record: dict[str, Any], epochs: int) -> str:
    """The one-line summary printed after each epoch."""
    hm = record["hard_mining"]
    parts = [f"epoch {record['epoch']}/{epochs}", f"step {record['step']}", f"lr {record['lr']:g}",
             f"loss {record['loss']:.4f} (base {record['base_loss']:.4f})"
             if record["loss"] is not None else "loss n/a"]
    if hm["hard_fraction"] is not None:
        parts.append(f"hard {100 * hm['hard_fraction']:.1f}%")
    if record["decode_failures"]:
        parts.append(f"decode failures {record['decode_failures']}")
    validation = record["validation"]
    if validation:
        parts.append(f"{validation['protocol']} {100 * validation['accuracy']:.2f}% "
                     f"± {100 * validation['se']:.2f} (se)")
    parts.append(f"{record['seconds']:.0f} s")
    return "  ".join(parts)


def continue_lineage(trainer: Trainer, report: Callable[[str], None]) -> Path | None:
    """Make the run folder the history of the checkpoint a run resumes from: metrics.jsonl is
    cut back to its step (the resumed run logs what follows again); checkpoints past that step
    and model.pt, with the validation folders and metrics records after it, belong to a
    continuation now abandoned and move to ``RUN/abandoned/after-step-<S>-<UTC time>/`` (never
    deleted, never taken as the newest checkpoint, never pruned). Returns that folder, if any.

    Rank 0 alone runs this, before the other processes pass the barrier. The order makes a
    kill at any point lose nothing: the abandoned records are copied out first and the log is
    cut last, so until the newer checkpoints have all moved the log still holds what they
    need, and a later ``--resume`` (which may take one of them) finds it whole."""
    run_dir, step = trainer.run_dir, trainer.global_step
    pending = trainer.pending_epoch["epoch"] if trainer.pending_epoch is not None else None
    first_unfinished = pending if pending is not None else trainer.epoch
    validated = run_dir / "validation"
    unfinished = [path for path in sorted(validated.glob("epoch-*")) if validated.is_dir()
                  and int(path.name.split("-")[1]) >= first_unfinished]
    newer = [path for path in ckpt.list_checkpoints(run_dir) if ckpt.checkpoint_step(path) > step]
    folder = None
    if newer:
        _, removed = trainer.log.split(step, epoch_pending=pending)
        stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        folder = run_dir / ABANDONED_DIR / f"after-step-{step:09d}-{stamp}"
        (folder / ckpt.CHECKPOINTS_DIR).mkdir(parents=True)
        if removed:
            with atomic_open(folder / METRICS_JSONL, "w", encoding="utf-8") as handle:
                handle.write("".join(line + "\n" for line in removed))
        for path in unfinished:
            (folder / "validation").mkdir(exist_ok=True)
            path.rename(folder / "validation" / path.name)
        if (run_dir / MODEL_PT).exists():
            (run_dir / MODEL_PT).rename(folder / MODEL_PT)
        for path in newer:
            path.rename(folder / ckpt.CHECKPOINTS_DIR / path.name)
        report(f"resuming at step {step}: the {len(newer)} newer checkpoints (and what else the run "
               f"wrote after step {step}) moved to {folder}")
    else:
        # An attempt at the pending epoch's validation cut short by the kill, redone from the
        # same checkpoint; removed here, by one process, not by every rank as it validates.
        for path in unfinished:
            shutil.rmtree(path)
    trainer.log.rewind(step, epoch_pending=pending)
    return folder


def open_dataset(config: TrainConfig) -> Any:
    """The training set the config names (indexed, not yet decoded)."""
    from fverify.data.training import open_training_set

    data = config.data
    return open_training_set(data.kind, data.path or None, input_size=tuple(config.model.input_size),
                             synth_identities=data.synth_identities,
                             synth_images_per_identity=data.synth_images_per_identity,
                             synth_seed=data.synth_seed)


def check_training_images(dataset: Any, config: TrainConfig, process: Process) -> dict[str, Any]:
    """The validation pass before training, run once per run by rank 0 (the other processes
    get its verdict: the same error, or the record for the start line). It decodes
    ``data.decode_check_fraction`` of the images and refuses a training set whose share of
    unreadable ones is already over ``data.max_decode_failure_fraction``."""
    verdict: dict[str, Any] = {}
    if process.is_main:
        try:
            verdict["record"] = _decode_check(dataset, config)
        except FverifyError as error:
            verdict["error"] = (error.what, error.where, error.fix)
    # Decoding all of MS1M on rank 0 takes longer than a collective's default timeout.
    verdict = broadcast_object(verdict, process, timeout=DECODE_CHECK_TIMEOUT)
    if "error" in verdict:
        what, where, fix = verdict["error"]
        raise FverifyError(what, where=where, fix=fix)
    return verdict["record"]


def _decode_check(dataset: Any, config: TrainConfig) -> dict[str, Any]:
    from fverify.data.training import validate_training_set

    data = config.data
    count = round(data.decode_check_fraction * len(dataset))
    sample = None
    if count < len(dataset):
        chosen = np.random.default_rng(config.engine.seed).choice(len(dataset), count, replace=False)
        sample = np.sort(chosen)
    checked = validate_training_set(dataset, decode=count > 0, sample=sample, workers=data.workers)
    unreadable = len(checked.unreadable)
    if count and unreadable / count > data.max_decode_failure_fraction:
        named = "; ".join(f"{where}: {why}" for where, why in checked.unreadable[:MAX_NAMED_FAILURES])
        raise FverifyError(
            f"{unreadable} of the {count} training images decoded before training are unreadable "
            f"({unreadable / count:.2%}), more than data.max_decode_failure_fraction = "
            f"{data.max_decode_failure_fraction}: {named}", where=dataset.source,
            fix="repair or remove the unreadable files, or raise data.max_decode_failure_fraction")
    return {"summary": checked.summary(), "num_images": len(dataset), "num_decoded": count,
            "unreadable": unreadable}


def check_dataset(dataset: Any, config: TrainConfig) -> None:
    if tuple(dataset.input_size) != tuple(config.model.input_size):
        raise FverifyError(f"the training images are {dataset.input_size[0]}x{dataset.input_size[1]} "
                           f"but model.input_size is {config.model.input_size}",
                           where=getattr(dataset, "source", None),
                           fix="set model.input_size to the images' size, or align them to it")


def train(config: TrainConfig | None, out: str | Path, *, resume: str | bool = False,
          overrides: list[str] = (), dataset: Any = None,
          report: Callable[[str], None] = print) -> TrainResult:
    """Train ``config`` into the run folder ``out`` (new: absent or empty), or with ``resume``
    (True: the newest checkpoint in ``out/checkpoints``; a path: that checkpoint) continue a
    run, ``overrides`` (``--set`` texts) limited to keys that do not change the math.
    ``dataset`` replaces the config's training set (any object with the TrainingSet
    interface). ``report`` receives the lines to print."""
    run_dir = Path(out)
    state = None
    where = None
    if resume:
        path = ckpt.latest_checkpoint(run_dir) if resume is True else Path(resume)
        state = ckpt.read_training_checkpoint(path)
        where = str(path)
        config = resume_config(state, where, list(overrides))
    elif config is None:
        raise ValueError("train() needs a config or resume")
    else:
        check_new_directory(run_dir)
    process = start_process(config.engine.device)
    if not process.is_main:  # one process speaks for the run
        report = lambda line: None  # noqa: E731
    images_checked = None
    if dataset is None:
        dataset = open_dataset(config)
        if state is None:
            images_checked = check_training_images(dataset, config, process)
            report(images_checked["summary"])
        else:
            report(f"{dataset.source}: the images were checked when the run started (the first "
                   "start record of metrics.jsonl); not checked again on resume")
    check_dataset(dataset, config)
    if state is not None and dataset.num_classes != state["head"]["weight"].shape[0]:
        raise FverifyError(f"the training set has {dataset.num_classes} identities, the "
                           f"checkpoint's head {state['head']['weight'].shape[0]}", where=where,
                           fix="resume with the data the run was started on")
    trainer = Trainer(config, run_dir, dataset, process, report, state, resumed_from=where,
                      images_checked=images_checked)
    if process.is_main and state is None:
        run_dir.mkdir(parents=True, exist_ok=True)
        with atomic_open(run_dir / CONFIG_TOML, "w", encoding="utf-8") as handle:
            handle.write(to_toml(config))
    elif process.is_main:
        continue_lineage(trainer, report)
    barrier(process)
    if state is not None and state["world_size"] != process.world:
        report(f"resuming a run of {state['world_size']} processes under {process.world}: "
               "same global batches and order; per-process batch is now "
               f"{trainer.local_batch} (batch norm statistics change)")
    return trainer.run()


__all__ = ["TrainResult", "Trainer", "train", "load_config", "epoch_line"]
