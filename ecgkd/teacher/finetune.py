"""Fine-tuning ECGFounder (or training its stand-in) for normal vs abnormal, cached and resumable.

Two teachers come out of :func:`train_teacher`, and every result says which one it is:
- **ECGFounder**: the released weights (pass ``weights=``), with a fresh one-logit head, fine-tuned
  end to end (``method="full"``) or as a linear probe on the frozen 1024-d features
  (``method="linear"``);
- **stand-in teacher, not ECGFounder**: when no weights are available, the same Net1D (full mode) or
  the same architecture at a quarter of the width and half the depth (quick mode), trained from
  scratch on the training split. Its numbers say nothing about ECGFounder.

The recipe follows ECGFounder's official example (BCE on logits, lr 1e-4 and weight decay 1e-5,
ReduceLROnPlateau on validation AUROC, threshold by Youden's J on validation), with AdamW where the
example uses Adam (our one training loop's optimiser) and our choices on top: the abnormal class
up-weighted by negatives/positives; a larger learning rate (1e-3) and more epochs for the stand-in,
which starts from random weights; batches of 64 windows or 16 records so that a CPU copes. Every
teacher trains until its validation AUROC has not improved for :data:`PATIENCE` epochs (the
learning rate drops tenfold after each epoch without a gain), within a cap: :data:`QUICK_EPOCHS`
epochs in quick mode (a stand-in at a quarter of the width, epochs of 2,048 random beats on
MIT-BIH), :data:`FULL_EPOCHS` of 4,096 beats in full mode, in the full-mode batches (larger ones
were faster but scored lower on validation when we chose).
"""

from __future__ import annotations

import math
import re
import sys
from contextlib import nullcontext
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
import torch
from sklearn.pipeline import Pipeline
from torch import nn

from .. import cache
from .. import rhythm_head as rhythm_head_mod
from .. import train as train_mod
from ..config import Config, seed_everything
from ..data import rhythm as rhythm_mod
from ..data.rhythm import N_RHYTHM, RHYTHM_DATASETS, RHYTHM_SUFFIX, has_rhythm, model_inputs
from ..data.split import Split
from ..modelinfo import count_parameters, model_fingerprint
from ..rhythm_head import RhythmClassifier
from ..scoring.metrics import youden_threshold
from ..train import FitResult, TrainData, TrainSettings, balancing_weight, bce_loss, fit, predict
from . import inputs as inputs_mod
from . import net1d as net1d_mod
from .checkpoint import N_LABELS, head_labels, load_ecgfounder, read_checkpoint, save_checkpoint
from .net1d import Net1D, dense_head, ecgfounder_config, scaled_config

STAND_IN = "stand-in teacher, not ECGFounder"
ECGFOUNDER = "ECGFounder"
ZERO_SHOT_OUTPUTS = {
    "abnormal": head_labels().index("ABNORMAL ECG"),
    "normal": head_labels().index("NORMAL ECG"),
}
LEADS = {"mitbih": 1, "ptbxl": 12}
QUICK_SCALE = (0.25, 0.5)  # (width, depth) of the quick-mode stand-in
BEATS_PER_EPOCH = 4096  # MIT-BIH epochs: random training beats (a tenth of full DS1)
QUICK_BEATS_PER_EPOCH = 2048  # quick mode: the anchored head starts from the rhythm baseline
FULL_EPOCHS = 8  # full mode, MIT-BIH: the cap (our 2-core budget); early stopping ends most
# runs first: after two epochs without a gain the learning rate has dropped a hundredfold
# Quick mode: the cap of a coffee-break budget. Five, not six (issue 33): only PTB-XL's teachers
# reach it, and their sixth epoch added at most 0.009 validation AUROC (the main one 0.913 -> 0.914)
# for a sixth of notebook 02's PTB-XL cell; each MIT-BIH teacher had its best epoch by the fifth
# (the same weights).
QUICK_EPOCHS = 5
# Epochs without a better validation AUROC before a teacher stops: two, so that one noisy epoch
# (the learning rate drops tenfold after it) does not end training, as one did before (issue 32)
PATIENCE = 2
Method = Literal["full", "linear"]


@dataclass(frozen=True)
class TeacherSpec:
    """Everything that decides which teacher is trained and how."""

    dataset: str
    leads: int
    weights: str | None
    method: Method
    width: float
    depth: float
    settings: TrainSettings
    rhythm: bool = False  # the head also reads the beat's rhythm features (MIT-BIH)

    @property
    def is_stand_in(self) -> bool:
        return self.weights is None

    @property
    def label(self) -> str:
        """The name every table, figure title and saved file carries."""
        if self.is_stand_in:
            size = (
                ""
                if (self.width, self.depth) == (1.0, 1.0)
                else f", width x{self.width:g}, depth x{self.depth:g}"
            )
            return f"{STAND_IN}{size}{RHYTHM_SUFFIX if self.rhythm else ''}"
        kind = "fine-tuned" if self.method == "full" else "linear probe"
        return f"{ECGFOUNDER} ({kind}){RHYTHM_SUFFIX if self.rhythm else ''}"

    @property
    def rhythm_features(self) -> int:
        """How many rhythm features the head reads (0: the window alone)."""
        return N_RHYTHM if self.rhythm else 0


def teacher_spec(
    cfg: Config,
    dataset: str,
    weights: str | Path | None = None,
    method: Method = "full",
    settings: TrainSettings | None = None,
    rhythm: bool | None = None,
) -> TeacherSpec:
    """The teacher this tutorial trains for ``dataset`` in ``cfg``'s mode (``settings``
    overrides). ``rhythm``: the head reads the rhythm features too; by default wherever the data
    carry them (:func:`ecgkd.data.rhythm.has_rhythm`: MIT-BIH beats)."""
    if dataset not in LEADS:
        raise ValueError(f"dataset={dataset!r}: use one of {sorted(LEADS)}")
    rhythm = has_rhythm(dataset) if rhythm is None else bool(rhythm)
    if rhythm and not has_rhythm(dataset):
        raise ValueError(
            f"rhythm=True: {dataset} carries no rhythm features (only {RHYTHM_DATASETS} do)"
        )
    if method not in ("full", "linear"):
        raise ValueError(
            f"method={method!r}: use 'full' (fine-tune everything) or 'linear' (probe the features)"
        )
    if weights is None and method == "linear":
        raise ValueError("method='linear' probes pretrained features: pass the ECGFounder weights")
    records = dataset == "ptbxl"
    if weights is not None:
        default = (
            TrainSettings(epochs=30, batch_size=256, lr=1e-3, patience=5)
            if method == "linear"
            else TrainSettings(batch_size=16 if records else 256)
        )  # official: 5 epochs, lr 1e-4
    elif cfg.quick:  # a coffee-break budget: 9 teachers (2 views x (main + 2 folds), PTB-XL's 3)
        default = TrainSettings(
            epochs=QUICK_EPOCHS,
            batch_size=16 if records else 64,
            lr=1e-3,
            patience=PATIENCE,  # until validation has not improved for two epochs, or the cap
            samples_per_epoch=None if records else QUICK_BEATS_PER_EPOCH,
        )
    else:  # a compute budget: one full-size stand-in epoch of 4,096 beats costs ~2 min on 2 cores
        default = TrainSettings(
            epochs=12 if records else FULL_EPOCHS,
            batch_size=16 if records else 64,
            lr=1e-3,
            patience=3 if records else PATIENCE,
            samples_per_epoch=None if records else BEATS_PER_EPOCH,
        )
    width, depth = QUICK_SCALE if (weights is None and cfg.quick) else (1.0, 1.0)
    return TeacherSpec(
        dataset,
        LEADS[dataset],
        None if weights is None else str(Path(weights).expanduser()),
        method,
        width,
        depth,
        settings or default,
        rhythm,
    )


def build_teacher(spec: TeacherSpec, seed: int = 0) -> tuple[Net1D, dict]:
    """The untrained teacher with a one-logit head, and what loading reported (empty for the
    stand-in)."""
    seed_everything(seed)
    if spec.is_stand_in:
        config = scaled_config(ecgfounder_config(spec.leads, 1), spec.width, spec.depth)
        return Net1D(replace(config, rhythm=spec.rhythm_features)), {}
    model, report = load_ecgfounder(spec.weights, leads=spec.leads, n_outputs=N_LABELS)
    zero_shot_model = ZeroShot(model)
    head_free = Net1D(ecgfounder_config(spec.leads, N_LABELS))
    head_free.load_state_dict(model.state_dict())
    head_free.replace_head(1, rhythm=spec.rhythm_features)
    return head_free, {"report": report, "zero_shot": zero_shot_model}


class ZeroShot(nn.Module):
    """The released 150-label model read as one abnormal-vs-normal logit: output 0 minus output 2.

    "ABNORMAL ECG" minus "NORMAL ECG" (tasks.txt) ranks recordings before any fine-tuning; it only
    means something with the real weights.
    """

    def __init__(self, model: Net1D):
        super().__init__()
        if model.config.n_outputs != N_LABELS:
            raise ValueError(
                f"zero-shot needs the 150-label head, this model has {model.config.n_outputs} "
                "outputs"
            )
        self.model = model

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        logits = self.model(x)
        return logits[:, ZERO_SHOT_OUTPUTS["abnormal"]] - logits[:, ZERO_SHOT_OUTPUTS["normal"]]


@dataclass
class TeacherRun:
    """A trained teacher: the model (best validation epoch), its curves and its validation
    threshold."""

    spec: TeacherSpec
    model: Net1D
    fit: FitResult
    threshold: float  # on the logit scale, chosen on validation by Youden's J
    checkpoint: Path
    key: str
    zero_shot: dict | None = None  # validation/test logits of the 150-label model (real weights)

    @property
    def label(self) -> str:
        return self.spec.label

    @property
    def fingerprint(self) -> str:
        return model_fingerprint(self.model)

    def logits(
        self, split: Split, *, features: bool = False, progress: bool = False, device: str = "cpu"
    ):
        """The teacher's logits for a split (and 1024-d features when asked), through the one input
        view."""
        return predict(
            self.model,
            model_inputs(split, self.spec.rhythm),
            batch_size=self.spec.settings.eval_batch_size,
            device=device,
            transform=inputs_mod.teacher_transform(split, self.spec.rhythm),
            features=features,
            progress=progress,
            desc=f"teacher {split.dataset}/{split.name}",
        )

    def summary(self) -> pd.DataFrame:
        """One row: which teacher, its size, the epoch kept and its validation AUROC."""
        return pd.DataFrame(
            [
                {
                    "teacher": self.label,
                    "dataset": self.spec.dataset,
                    "leads": self.spec.leads,
                    "parameters": count_parameters(self.model),
                    "method": self.spec.method,
                    "epochs run": len(self.fit.history),
                    "best epoch": self.fit.best_epoch,
                    "val AUROC": round(self.fit.best_score, 4),
                    "threshold (logit)": round(self.threshold, 4),
                }
            ]
        ).set_index("teacher")


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:40]


def run_key(
    spec: TeacherSpec, train: Split, val: Split, seed: int, anchor: Pipeline | None = None
) -> str:
    """Fingerprint of a teacher run: spec, data, seed, weights file, a rhythm anchor fitted
    elsewhere (``anchor``) and the code that trains it."""
    weights = None
    if spec.weights is not None:
        path = Path(spec.weights)
        weights = (
            [path.name, path.stat().st_size, path.stat().st_mtime_ns]
            if path.is_file()
            else str(path)
        )
    return cache.fingerprint(
        {
            "spec": {**asdict(spec), "settings": spec.settings.as_dict(), "weights": weights},
            "train": train.fingerprint(),
            "val": val.fingerprint(),
            "seed": seed,
            **({"anchor": rhythm_head_mod.anchor_fingerprint(anchor)} if anchor else {}),
            "code": cache.code_version(
                net1d_mod, inputs_mod, train_mod, rhythm_mod, rhythm_head_mod, sys.modules[__name__]
            ),
        }
    )


class ProbeHead(nn.Module):
    """The teacher's head trained alone on frozen features: reads (n, 1, 1024 [+ rhythm]) rows
    (features with the rhythm features appended, as the whole teacher reads windows)."""

    def __init__(self, dense: nn.Module):
        super().__init__()
        self.dense = dense

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if isinstance(self.dense, RhythmClassifier):
            feats, coded = self.dense.split(x)
            return self.dense(feats[:, 0], coded)
        return self.dense(x[:, 0])


def _linear_probe(
    model: Net1D,
    train: Split,
    val: Split,
    spec: TeacherSpec,
    seed: int,
    device: str,
    progress: bool,
    anchor: Pipeline | None = None,
) -> FitResult:
    """Frozen features computed once, then the head (``dense``, with the rhythm features when the
    teacher reads them, anchored as :func:`train_teacher` says) fitted on them and put back."""

    def probe_inputs(split: Split) -> np.ndarray:
        _, feats = predict(
            model,
            model_inputs(split, spec.rhythm),
            transform=inputs_mod.teacher_transform(split, spec.rhythm),
            features=True,
            device=device,
            progress=progress,
            desc=f"features {split.name}",
        )
        return model_inputs(replace(split, x=feats[:, None, :]), spec.rhythm)

    head = ProbeHead(dense_head(model.config.feature_dim, 1, spec.rhythm_features))
    rhythm_head_mod.anchor_rhythm(head, train, val, anchor)
    result = fit(
        head,
        TrainData(probe_inputs(train), train.y),
        TrainData(probe_inputs(val), val.y),
        bce_loss(balancing_weight(train.y)),
        spec.settings,
        seed=seed,
        device=device,
        progress=progress,
        desc="linear probe",
    )
    model.dense.load_state_dict(head.dense.state_dict())
    return result


# A teacher trains on one CPU thread, as every grid run does: its numbers then do not depend on the
# machine's cores (a training run's sums add up in another order on another thread count), and
# the fold teachers train beside the main one (train_teachers) instead of after it: on 2 cores,
# two teachers on one thread each make more steps than one on two (``benchmarks/teacher.py
# --threads 1`` and ``--threads 2`` print the steps a second of each).
TRAIN_THREADS = 1


def teacher_folder(
    cfg: Config, spec: TeacherSpec, train: Split, val: Split, anchor: Pipeline | None = None
) -> tuple[Path, str]:
    """(the cache folder, the run's key) of the teacher ``spec`` trained on these splits."""
    key = run_key(spec, train, val, cfg.seed, anchor)
    return Path(cfg.cache_root) / "teacher" / f"{train.dataset}-{_slug(spec.label)}-{key}", key


def teacher_finished(cfg: Config, train: Split, val: Split, **options) -> bool:
    """Whether :func:`train_teacher` with these arguments would only reload a finished run."""
    spec = teacher_spec(
        cfg,
        train.dataset,
        options.get("weights"),
        options.get("method", "full"),
        options.get("settings"),
        options.get("rhythm"),
    )
    folder, key = teacher_folder(cfg, spec, train, val, options.get("anchor"))
    final = folder / "teacher.pth"
    return final.is_file() and cache.read_cached(final, read_checkpoint).get("key") == key


def train_teachers(cfg: Config, calls: list[dict], progress: bool = True) -> None:
    """Train the teachers of ``calls`` (keyword arguments of :func:`train_teacher`) not finished
    yet, up to ``ECGKD_JOBS`` at once on the CPU: the main teacher and its fold teachers, which do
    not depend on each other. Their numbers are those of :func:`train_teacher` called one after
    another (one thread each). The callers then reload them; on a GPU, or with one job, this does
    nothing and they train one after another there."""
    from joblib import Parallel, delayed

    from ..progress import progress_bar

    todo = [call for call in calls if not teacher_finished(cfg, **call)]
    jobs = min(cfg.n_jobs, len(todo))
    if cfg.device != "cpu" or jobs < 2:
        return
    runner = Parallel(n_jobs=jobs, return_as="generator_unordered")(
        delayed(_train_and_forget)(cfg, call) for call in todo
    )
    dataset = todo[0]["train"].dataset
    for _ in progress_bar(runner, desc=f"{dataset} teachers", enabled=progress, total=len(todo)):
        pass


def _train_and_forget(cfg: Config, call: dict) -> None:
    """A worker's task: train one teacher into the cache (its epoch bar off: bars of parallel
    workers would interleave)."""
    train_teacher(cfg, **{**call, "progress": False})


def train_teacher(
    cfg: Config,
    train: Split,
    val: Split,
    *,
    weights: str | Path | None = None,
    method: Method = "full",
    settings: TrainSettings | None = None,
    rhythm: bool | None = None,
    test: Split | None = None,
    progress: bool = True,
    anchor: Pipeline | None = None,
) -> TeacherRun:
    """Train (or reload) the teacher for ``train.dataset`` on the teacher's view of the splits.

    A teacher that reads rhythm starts from the rhythm-only regression fitted on ``train``, or
    from ``anchor``, one fitted elsewhere: the fold teachers of :mod:`.crossfit` take the whole
    training split's, the anchor every student holds, and cross-fit the window term alone.

    Cached under ``<cache>/teacher/``: a finished run is reloaded from its checkpoint (official
    format, with the teacher's label, history and threshold in its metadata); an interrupted one
    resumes from its last saved epoch.
    """
    spec = teacher_spec(cfg, train.dataset, weights, method, settings, rhythm)
    folder, key = teacher_folder(cfg, spec, train, val, anchor)
    final = folder / "teacher.pth"
    model, loaded = build_teacher(spec, cfg.seed)
    zero_shot = None
    if final.is_file():
        saved = cache.read_cached(final, read_checkpoint)  # ours: damaged means delete it
        if saved.get("key") == key:
            model.load_state_dict(saved["state_dict"])
            history = pd.DataFrame(saved["history"])
            result = FitResult(
                history,
                int(saved["epoch"]),
                float(saved["val_auroc"]),
                stopped_early=len(history) < spec.settings.epochs,
                reused=True,
            )
            return TeacherRun(
                spec, model, result, float(saved["threshold"]), final, key, saved.get("zero_shot")
            )
    if "zero_shot" in loaded:
        zero_shot = {
            s.name: predict(
                loaded["zero_shot"],
                s.x,
                transform=inputs_mod.teacher_transform(s),
                device=cfg.device,
                progress=progress,
                desc=f"zero-shot {s.name}",
            ).tolist()
            for s in (val, test)
            if s is not None
        }
    rhythm_head_mod.anchor_rhythm(model, train, val, anchor)  # the head starts at the baseline
    with train_mod.torch_threads(TRAIN_THREADS) if cfg.device == "cpu" else nullcontext():
        result = _fit_teacher(model, train, val, spec, method, cfg, folder, key, progress, anchor)
    model.cpu()
    unthresholded = TeacherRun(spec, model, result, math.nan, final, key)
    val_logits = unthresholded.logits(val, device=cfg.device)
    threshold = youden_threshold(val.y, val_logits)
    save_checkpoint(
        final,
        model,
        epoch=result.best_epoch,
        step=0,
        val_auroc=result.best_score,
        key=key,
        teacher=spec.label,
        history=result.history.to_dict("list"),
        threshold=threshold,
        spec={**asdict(spec), "settings": spec.settings.as_dict()},
        zero_shot=zero_shot,
    )
    (folder / "fit-state.pt").unlink(missing_ok=True)
    return TeacherRun(spec, model, result, threshold, final, key, zero_shot)


def stand_in_note(label: str) -> str:
    """The sentence printed under every stand-in result."""
    return (
        f"Results of the {label}: trained here from random weights because the ECGFounder weights "
        "are not available. They show the pipeline, not ECGFounder's performance."
        if label.startswith(STAND_IN)
        else f"Results of {label}."
    )


def finite_logits(logits: np.ndarray, where: str) -> np.ndarray:
    """Fail loudly on NaN/inf logits (a diverged teacher) instead of passing them to students."""
    if not np.isfinite(logits).all():
        raise FloatingPointError(
            f"{where}: the teacher produced NaN or infinite logits; retrain it"
        )
    return logits


def _fit_teacher(
    model: Net1D,
    train: Split,
    val: Split,
    spec: TeacherSpec,
    method: Method,
    cfg: Config,
    folder: Path,
    key: str,
    progress: bool,
    anchor: Pipeline | None,
) -> FitResult:
    """Fine-tune everything or probe the head (``method``), checkpointing each epoch."""
    if method == "linear":
        for p in model.parameters():
            p.requires_grad_(False)
        return _linear_probe(model, train, val, spec, cfg.seed, cfg.device, progress, anchor)
    return fit(
        model,
        TrainData(model_inputs(train, spec.rhythm), train.y),
        TrainData(model_inputs(val, spec.rhythm), val.y),
        bce_loss(balancing_weight(train.y)),
        spec.settings,
        seed=cfg.seed,
        device=cfg.device,
        checkpoint=folder / "fit-state.pt",
        key=key,
        transform=inputs_mod.teacher_transform(train, spec.rhythm),
        progress=progress,
        desc=f"teacher {train.dataset}",
    )
