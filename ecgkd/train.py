"""The one training loop: the teacher, the classical students, the autoencoder and the quantum
student all use :func:`fit`.

What it does, and why:
- AdamW, with ReduceLROnPlateau on the validation score (our choice; ECGFounder's recipe uses Adam);
- the checkpoint kept is the epoch with the best validation score (AUROC for a classifier,
  reconstruction error for the autoencoder: an :class:`Objective`); training stops after
  ``patience`` epochs without improvement (the test split is never looked at);
- each epoch's sample order comes from a generator seeded by (seed, epoch), so a run resumed from
  its last saved epoch gives the same numbers as an uninterrupted one;
- the state is saved atomically after every epoch (model, optimiser, scheduler, history, best
  weights).

A loss is any ``loss(output, y, teacher_logits) -> scalar``: plain BCE for the teacher, the KD loss
of :mod:`ecgkd.students.kd` for the students, the mean squared error for the autoencoder.
:func:`train_step` is the one optimisation step all of them take.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import nn

from .cache import atomic_write, load_torch
from .progress import progress_bar
from .scoring.metrics import roc_auc

LossFn = Callable[[torch.Tensor, torch.Tensor, "torch.Tensor | None"], torch.Tensor]
Transform = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True)
class TrainSettings:
    """Optimisation settings. The defaults are the learning rate, weight decay and schedule of
    ECGFounder's official fine-tuning example (which uses Adam; :func:`fit` uses AdamW)."""

    epochs: int = 5
    batch_size: int = 256
    lr: float = 1e-4
    weight_decay: float = 1e-5
    patience: int = 3
    plateau_factor: float = 0.1
    plateau_patience: int = 1
    samples_per_epoch: int | None = None  # None: every training sample once per epoch
    eval_batch_size: int = 512

    def __post_init__(self) -> None:
        for name in ("epochs", "batch_size", "patience", "eval_batch_size"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"TrainSettings.{name}={getattr(self, name)!r} must be >= 1")
        if self.lr <= 0 or self.weight_decay < 0:
            raise ValueError(
                f"TrainSettings: lr={self.lr} must be > 0 and weight_decay={self.weight_decay} >= 0"
            )
        if self.samples_per_epoch is not None and self.samples_per_epoch < self.batch_size:
            raise ValueError(
                f"TrainSettings.samples_per_epoch={self.samples_per_epoch} is below one batch "
                f"({self.batch_size})"
            )

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class TrainData:
    """Inputs, labels and (for distillation) the teacher's logits, aligned row for row."""

    x: np.ndarray
    y: np.ndarray
    teacher: np.ndarray | None = None

    def __post_init__(self) -> None:
        if len(self.x) != len(self.y) or (
            self.teacher is not None and len(self.teacher) != len(self.y)
        ):
            raise ValueError(
                f"TrainData: x has {len(self.x)} rows, y {len(self.y)}, teacher "
                f"{None if self.teacher is None else len(self.teacher)}; they must be aligned"
            )
        if len(self.y) == 0:
            raise ValueError("TrainData is empty")

    def __len__(self) -> int:
        return len(self.y)


@dataclass
class FitResult:
    """What :func:`fit` did: one row per epoch, the epoch kept, and whether it resumed or reused a
    run."""

    history: pd.DataFrame
    best_epoch: int
    best_score: float  # the objective's monitored validation value at ``best_epoch``
    stopped_early: bool
    resumed_from: int | None = None
    reused: bool = False
    seconds: float = 0.0
    extra: dict = field(default_factory=dict)


def binary_logits(output: torch.Tensor | tuple) -> torch.Tensor:
    """The single logit per example of a model's output: (b,), (b, 1) or a (logits, features)
    tuple."""
    logits = output[0] if isinstance(output, tuple) else output
    if logits.ndim == 2 and logits.shape[1] == 1:
        logits = logits[:, 0]
    if logits.ndim != 1:
        raise ValueError(
            f"a binary model must output one logit per example, got shape {tuple(logits.shape)}"
        )
    return logits


def bce_loss(pos_weight: float = 1.0) -> LossFn:
    """Binary cross-entropy on logits; ``pos_weight`` > 1 up-weights the (rarer) abnormal class."""
    weight = torch.tensor(float(pos_weight))

    def loss(
        logits: torch.Tensor, y: torch.Tensor, teacher: torch.Tensor | None = None
    ) -> torch.Tensor:
        return nn.functional.binary_cross_entropy_with_logits(
            logits, y, pos_weight=weight.to(logits.device)
        )

    return loss


def balancing_weight(y: np.ndarray) -> float:
    """negatives / positives of the training labels: the usual ``pos_weight`` against class
    imbalance."""
    y = np.asarray(y)
    positives = int((y == 1).sum())
    if positives == 0 or positives == len(y):
        raise ValueError("the training labels hold one class only; cannot balance them")
    return (len(y) - positives) / positives


def reconstruction_loss() -> LossFn:
    """Mean squared error between a reconstruction and its input (the autoencoder's loss)."""

    def loss(
        output: torch.Tensor, target: torch.Tensor, teacher: torch.Tensor | None = None
    ) -> torch.Tensor:
        return nn.functional.mse_loss(output, target)

    return loss


Validator = Callable[[nn.Module, "TrainData", "TrainSettings", str, "Transform | None"], dict]


def validate_binary(
    model: nn.Module,
    val: TrainData,
    settings: TrainSettings,
    device: str,
    transform: Transform | None,
) -> dict[str, float]:
    """A classifier's validation AUROC and BCE."""
    logits = predict(
        model, val.x, batch_size=settings.eval_batch_size, device=device, transform=transform
    )
    y = val.y.astype(int)
    loss = nn.functional.binary_cross_entropy_with_logits(
        torch.from_numpy(logits), torch.from_numpy(y.astype(np.float32))
    )
    return {"val_loss": float(loss), "val_auroc": roc_auc(y, logits)}


@torch.inference_mode()
def validate_reconstruction(
    model: nn.Module,
    val: TrainData,
    settings: TrainSettings,
    device: str,
    transform: Transform | None,
) -> dict[str, float]:
    """An autoencoder's mean squared reconstruction error on validation, per sample."""
    was_training = model.training
    model.eval()
    total = 0.0
    for idx in _batches(len(val), settings.eval_batch_size):
        xb = _tensor(val.x[idx], transform, device)
        total += float(((model(xb) - xb) ** 2).sum())
    model.train(was_training)
    return {"val_mse": total / val.x.size}


@dataclass(frozen=True)
class Objective:
    """What :func:`fit` optimises and how it judges an epoch on validation.

    ``output`` maps the model's output to the loss's first argument; ``validate`` scores the model
    on the validation data; early stopping, the learning-rate schedule and the kept epoch follow
    ``validate(...)[monitor]``, higher or lower being better as ``higher_is_better`` says.
    """

    output: Callable[[Any], torch.Tensor]
    validate: Validator
    monitor: str
    higher_is_better: bool = True

    def better(self, value: float, best: float) -> bool:
        if not np.isfinite(value):
            return False
        return not np.isfinite(best) or (value > best if self.higher_is_better else value < best)


def _identity(output: torch.Tensor) -> torch.Tensor:
    return output


def _batches(n: int, size: int, order: np.ndarray | None = None) -> Iterator[np.ndarray]:
    order = np.arange(n) if order is None else order
    for start in range(0, len(order), size):
        yield order[start : start + size]


def _tensor(x: np.ndarray, transform: Transform | None, device: str) -> torch.Tensor:
    x = transform(x) if transform is not None else x
    return torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32)).to(device)


@torch.inference_mode()
def predict(
    model: nn.Module,
    x: np.ndarray,
    *,
    batch_size: int = 512,
    device: str = "cpu",
    transform: Transform | None = None,
    features: bool = False,
    progress: bool = False,
    desc: str = "predict",
) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """Logits (n,) float32 of a binary model, and its features when ``features`` (Net1D)."""
    was_training = model.training
    model.eval().to(device)
    logits, feats = [], []
    batches = _batches(len(x), batch_size)
    total = -(-len(x) // batch_size)
    for idx in progress_bar(batches, desc=desc, enabled=progress, total=total, leave=False):
        out = (
            model(_tensor(x[idx], transform, device), return_features=True)
            if features
            else model(_tensor(x[idx], transform, device))
        )
        logits.append(binary_logits(out).float().cpu().numpy())
        if features:
            feats.append(out[1].float().cpu().numpy())
    model.train(was_training)
    out_logits = np.concatenate(logits) if logits else np.zeros(0, np.float32)
    return (out_logits, np.concatenate(feats)) if features else out_logits


Batch = tuple[torch.Tensor, torch.Tensor, "torch.Tensor | None"]


def batch_tensors(
    data: TrainData, idx: np.ndarray, transform: Transform | None, device: str
) -> Batch:
    """Rows ``idx`` of ``data`` as tensors on ``device``: inputs (through ``transform``), labels
    and, for distillation, the teacher's logits (None without them)."""
    x = _tensor(data.x[idx], transform, device)
    y = torch.from_numpy(data.y[idx].astype(np.float32)).to(device)
    teacher = None if data.teacher is None else data.teacher[idx].astype(np.float32)
    return x, y, None if teacher is None else torch.from_numpy(teacher).to(device)


def train_step(
    model: nn.Module,
    batch: Batch,
    loss_fn: LossFn,
    optimizer: torch.optim.Optimizer,
    output: Callable[[Any], torch.Tensor] = binary_logits,
) -> float:
    """One optimisation step, the same for every model of the tutorial: the loss of the model's
    output on a batch against its labels (and the teacher's logits, when distilling), its
    gradient, one step of the optimiser. Returns the batch's loss."""
    x, y, teacher = batch
    optimizer.zero_grad(set_to_none=True)
    loss = loss_fn(output(model(x)), y, teacher)
    loss.backward()
    optimizer.step()
    return float(loss.detach())


def epoch_order(n: int, seed: int, epoch: int, samples: int | None) -> np.ndarray:
    """The training order of one epoch, a function of (seed, epoch) only: resuming reproduces it."""
    rng = np.random.default_rng([int(seed), int(epoch)])
    order = rng.permutation(n)
    return order[:samples] if samples is not None else order


def _state(
    model, optimizer, scheduler, history, best_state, best_epoch, best_score, bad, done, key
) -> dict:
    """What :func:`fit` saves after an epoch. A finished run keeps its best weights and its history
    only (no optimiser state): a grid keeps one such file per run, a fraction of the full state."""
    resume = (
        {}
        if done
        else {
            "model": model.state_dict(),
            "optimizer": optimizer.state_dict(),
            "scheduler": scheduler.state_dict(),
        }
    )
    return {
        **resume,
        "history": history,
        "best_state": best_state,
        "best_epoch": best_epoch,
        "best_score": best_score,
        "bad_epochs": bad,
        "done": done,
        "key": key,
    }


@contextmanager
def torch_threads(count: int) -> Iterator[None]:
    """Run torch's CPU operations on ``count`` threads, then restore the setting. A training run's
    numbers depend on its thread count (sums split across threads add up in another order, and
    training amplifies the last-bit differences), so every grid run uses one thread: the same
    numbers in the main process and in any joblib worker, whatever ``ECGKD_JOBS`` is."""
    before = torch.get_num_threads()
    torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(before)


BINARY = Objective(binary_logits, validate_binary, "val_auroc", higher_is_better=True)
RECONSTRUCTION = Objective(_identity, validate_reconstruction, "val_mse", higher_is_better=False)


def _checkpoint_key(key: str, settings: TrainSettings, objective: Objective) -> str:
    return f"{key}|{settings.as_dict()}|{objective.monitor}"


def _load_checkpoint(checkpoint: Path | None, full_key: str, device: str = "cpu") -> dict | None:
    """The state saved in ``checkpoint`` when it was written with ``full_key``, else None."""
    if checkpoint is None or not Path(checkpoint).is_file():
        return None
    saved = load_torch(checkpoint, device)
    return saved if saved.get("key") == full_key else None


def finished_checkpoint(
    checkpoint: Path, key: str, settings: TrainSettings, objective: Objective = BINARY
) -> bool:
    """Does ``checkpoint`` hold a finished :func:`fit` run of ``key`` and ``settings``? Then
    calling :func:`fit` with them again reloads its best weights and trains nothing."""
    saved = _load_checkpoint(checkpoint, _checkpoint_key(key, settings, objective))
    return saved is not None and bool(saved["done"])


def fit(
    model: nn.Module,
    train: TrainData,
    val: TrainData,
    loss_fn: LossFn,
    settings: TrainSettings,
    *,
    seed: int = 0,
    device: str = "cpu",
    checkpoint: Path | None = None,
    key: str = "",
    transform: Transform | None = None,
    progress: bool = True,
    desc: str = "train",
    objective: Objective = BINARY,
) -> FitResult:
    """Train ``model`` in place and leave it holding the weights of its best validation epoch.

    ``checkpoint``: a file to save the state to after every epoch; when it exists and was written
    with the same ``key`` (the caller's fingerprint of model, data and settings), training resumes
    from it, or is skipped entirely when that run had finished. ``transform`` maps a numpy batch to
    model inputs (the teacher's 500 Hz view, for example), so large inputs are never materialised
    twice. ``objective``: a binary classifier judged by validation AUROC (the default), or
    :data:`RECONSTRUCTION` for the autoencoder (``train.y`` then holds the targets, the inputs
    themselves).
    """
    started = time.perf_counter()
    model.to(device)
    params = [p for p in model.parameters() if p.requires_grad]
    if not params:
        raise ValueError("the model has no trainable parameters: unfreeze some, or do not train it")
    worst = -np.inf if objective.higher_is_better else np.inf
    history: list[dict] = []
    best_state, best_epoch, best_score, bad, done, resumed = None, 0, worst, 0, False, None
    full_key = _checkpoint_key(key, settings, objective)
    saved = _load_checkpoint(checkpoint, full_key, device)
    if saved is not None:
        history, best_state, best_epoch = saved["history"], saved["best_state"], saved["best_epoch"]
        best_score, bad, done = saved["best_score"], saved["bad_epochs"], saved["done"]
        resumed = len(history)
    # A finished run keeps only its best weights: nothing left to optimise, so no optimiser (the
    # first one in a process imports PyTorch's compiler, torch._dynamo, which notebooks that only
    # reload runs never need otherwise).
    optimizer = scheduler = None
    if not done:
        optimizer = torch.optim.AdamW(params, lr=settings.lr, weight_decay=settings.weight_decay)
        scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(
            optimizer,
            mode="max" if objective.higher_is_better else "min",
            factor=settings.plateau_factor,
            patience=settings.plateau_patience,
        )
        if saved is not None:
            model.load_state_dict(saved["model"])
            optimizer.load_state_dict(saved["optimizer"])
            scheduler.load_state_dict(saved["scheduler"])
    steps_per_epoch = -(
        -min(len(train), settings.samples_per_epoch or len(train)) // settings.batch_size
    )
    first = len(history) + 1
    bar = progress_bar(
        range(steps_per_epoch * max(0, settings.epochs - first + 1)),
        desc=desc,
        enabled=progress and not done,
    )
    steps = iter(bar)
    for epoch in range(first, settings.epochs + 1):
        if done:
            break
        tick = time.perf_counter()
        model.train()
        order = epoch_order(len(train), seed, epoch, settings.samples_per_epoch)
        losses = []
        if hasattr(bar, "set_description"):
            bar.set_description(f"{desc} epoch {epoch}/{settings.epochs}")
        for idx in _batches(len(train), settings.batch_size, order):
            next(steps, None)
            batch = batch_tensors(train, idx, transform, device)
            losses.append(train_step(model, batch, loss_fn, optimizer, objective.output))
        scores = objective.validate(model, val, settings, device, transform)
        score = scores[objective.monitor]
        lr = optimizer.param_groups[0]["lr"]
        scheduler.step(score if np.isfinite(score) else worst)
        if objective.better(score, best_score):
            best_score, best_epoch, bad = score, epoch, 0
            best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
        else:
            bad += 1
        done = bad >= settings.patience or epoch == settings.epochs
        history.append(
            {
                "epoch": epoch,
                "train_loss": float(np.mean(losses)),
                **scores,
                "lr": lr,
                "seconds": time.perf_counter() - tick,
            }
        )
        if hasattr(bar, "set_postfix"):
            bar.set_postfix({objective.monitor: f"{score:.4f}", "best": f"{best_score:.4f}"})
        if checkpoint is not None:
            payload = _state(
                model,
                optimizer,
                scheduler,
                history,
                best_state,
                best_epoch,
                best_score,
                bad,
                done,
                full_key,
            )
            atomic_write(Path(checkpoint), lambda tmp: torch.save(payload, tmp))
    if hasattr(bar, "close"):
        bar.close()
    if best_state is None:
        raise RuntimeError(
            f"{desc}: no epoch gave a finite validation {objective.monitor} (does the "
            "validation split hold both classes?)"
        )
    model.load_state_dict(best_state)
    return FitResult(
        pd.DataFrame(history),
        best_epoch,
        float(best_score),
        stopped_early=len(history) < settings.epochs,
        resumed_from=resumed,
        reused=resumed is not None and resumed == len(history),
        seconds=time.perf_counter() - started,
    )
