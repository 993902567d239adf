"""The autoencoder of the latent students, trained once per dataset and latent size, and cached.

A convolutional autoencoder (:mod:`.autoencoder`; Hinton and Salakhutdinov 2006 for the idea, ours
for the architecture) compresses a 256-sample window to a few numbers, one per qubit; an
:class:`~ecgkd.quantum.autoencoder.AngleScaler` fitted on the training latents turns them into
rotation angles. The encoder never sees a label. On MIT-BIH a second, smaller encoder leaves two
of the six angles to the beat's rhythm (:data:`ecgkd.quantum.model.RHYTHM_ANGLES`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from .. import cache
from ..config import Config, seed_everything
from ..data.rhythm import N_RHYTHM, has_rhythm, model_inputs
from ..data.split import Split
from ..students.grid import StudentJob
from ..students.inputs import StudentData
from ..train import TrainSettings
from . import autoencoder as ae_mod
from .autoencoder import (
    AngleScaler,
    ConvAutoencoder,
    encode,
    reconstruction_error,
    train_autoencoder,
)
from .circuit import VQCSpec
from .model import RHYTHM_ANGLES, RHYTHM_COLUMNS, QuantumBuilder

LATENT = 6  # latent size of the autoencoder: one number per qubit (with rhythm: 4 + 2 angles)


def ae_settings(cfg: Config, dataset: str) -> TrainSettings:
    """Our choice. MIT-BIH: many beats, so a budget of samples per epoch; PTB-XL: few windows, small
    batches and more epochs (its 2.56 s windows hold several beats at any phase: harder to
    compress). The learning rate is lowered tenfold after two epochs without a better validation
    error."""
    common = {"lr": 2e-3, "weight_decay": 1e-5, "plateau_patience": 2}
    if dataset == "ptbxl":
        return TrainSettings(
            epochs=20 if cfg.quick else 80, batch_size=64, patience=4 if cfg.quick else 8, **common
        )
    if cfg.quick:
        return TrainSettings(epochs=4, batch_size=256, patience=4, samples_per_epoch=4096, **common)
    return TrainSettings(epochs=30, batch_size=256, patience=4, samples_per_epoch=16384, **common)


@dataclass
class AutoencoderRun:
    """A trained encoder, its angle scaler (fitted on training latents) and how training went."""

    dataset: str
    model: ConvAutoencoder
    scaler: AngleScaler
    history: pd.DataFrame
    reconstruction: dict[str, float]
    key: str
    rhythm_scaler: AngleScaler | None = None  # the rhythm angles' scaler, when they are read

    @property
    def reads_rhythm(self) -> bool:
        return self.rhythm_scaler is not None

    def angles(self, split: Split) -> np.ndarray:
        """The angles (n, 6) a circuit on this encoder receives for a split's examples: the
        latent's, then the rhythm's when read."""
        angles = self.scaler(torch.from_numpy(encode(self.model, split.x))).numpy()
        if self.rhythm_scaler is None:
            return angles
        rhythm = torch.from_numpy(split.rhythm[:, RHYTHM_COLUMNS])
        return np.concatenate([angles, self.rhythm_scaler(rhythm).numpy()], axis=1)

    def builder(self, spec: VQCSpec | None = None, end_to_end: bool = False) -> QuantumBuilder:
        """The builder of the VQC and control students on this encoder."""
        return QuantumBuilder(
            self.model, self.scaler, self.key, spec or VQCSpec(), end_to_end, self.rhythm_scaler
        )


@dataclass
class LatentEncoders:
    """A dataset's encoders for the latent students: ``window``, the paper's 6-d latent of the
    window alone (every dataset), and ``rhythm``, a 4-d latent with the 2 rhythm angles of
    :data:`ecgkd.quantum.model.RHYTHM_ANGLES` (MIT-BIH: our main latent students; the window-only
    ones are its ablation rows)."""

    window: AutoencoderRun
    rhythm: AutoencoderRun | None = None

    @property
    def main(self) -> AutoencoderRun:
        """The encoder of the study's latent students: with rhythm wherever there is one."""
        return self.rhythm or self.window

    def for_job(self, job: StudentJob) -> AutoencoderRun:
        """The encoder a job's student reads through."""
        if job.rhythm and self.rhythm is None:
            raise ValueError(f"{job.dataset}: no rhythm encoder for a job with rhythm=True")
        return self.rhythm if job.rhythm else self.window


def prepare_encoders(
    cfg: Config,
    data: StudentData,
    settings: TrainSettings | None = None,
    progress: bool = True,
    latent: int = LATENT,
) -> LatentEncoders:
    """The window-only autoencoder of ``data`` (``latent`` numbers, one per qubit) and, where the
    data carry rhythm features, the smaller one that leaves two of the angles to the rhythm (both
    cached)."""
    window = prepare_autoencoder(cfg, data, latent, settings, progress)
    if not has_rhythm(data.dataset):
        return LatentEncoders(window)
    smaller = latent - len(RHYTHM_ANGLES)
    rhythm = prepare_autoencoder(cfg, data, smaller, settings, progress, rhythm=True)
    return LatentEncoders(window, rhythm)


def measures(model: ConvAutoencoder, splits: dict) -> tuple[AngleScaler, dict[str, float]]:
    """The trained autoencoder's angle scaler (fitted on the training latents) and its
    reconstruction error on every split."""
    scaler = AngleScaler.fit(encode(model, splits["train"].x))
    return scaler, {name: reconstruction_error(model, split.x) for name, split in splits.items()}


def saved_measures(saved: dict) -> tuple[AngleScaler, dict[str, float]] | None:
    """:func:`measures` as the checkpoint stored them; None in a checkpoint from before they
    were stored (they are then computed again)."""
    if "scaler" not in saved:
        return None
    return AngleScaler(saved["scaler"]["low"], saved["scaler"]["high"]), dict(saved["errors"])


def prepare_autoencoder(
    cfg: Config,
    data: StudentData,
    latent: int = LATENT,
    settings: TrainSettings | None = None,
    progress: bool = True,
    rhythm: bool = False,
) -> AutoencoderRun:
    """Train the autoencoder on the training windows (or reload it from
    ``<cache>/autoencoder/``). ``rhythm``: the run's students read the rhythm angles too, scaled
    to [0, pi] from the training split's percentiles as the latent is."""
    settings = settings or ae_settings(cfg, data.dataset)
    splits = data.splits
    key = cache.fingerprint(
        {
            "data": {n: s.fingerprint() for n, s in splits.items()},
            "latent": latent,
            "settings": settings.as_dict(),
            "seed": cfg.seed,
            "code": cache.code_version(ae_mod),
        }
    )
    path = Path(cfg.cache_root) / "autoencoder" / f"{data.dataset}-latent{latent}-{key}.pt"
    seed_everything(cfg.seed)
    model = ConvAutoencoder(latent)
    if path.is_file():
        saved = cache.load_torch(path)
        model.load_state_dict(saved["model"])
        model.eval()
        history = pd.DataFrame(saved["history"])
        scaler, errors = saved_measures(saved) or measures(model, splits)
    else:
        result = train_autoencoder(
            model,
            splits["train"].x,
            splits["val"].x,
            settings,
            seed=cfg.seed,
            checkpoint=path.with_suffix(".fit-state.pt"),
            key=key,
            progress=progress,
        )
        history = result.history
        model.eval()
        scaler, errors = measures(model, splits)
        payload = {
            "model": model.state_dict(),
            "history": history.to_dict("list"),
            "key": key,
            # what every reload would compute again (encoding the training split, decoding all)
            "scaler": {"low": scaler.low.numpy(), "high": scaler.high.numpy()},
            "errors": errors,
        }
        cache.atomic_write(path, lambda tmp: torch.save(payload, tmp))
        path.with_suffix(".fit-state.pt").unlink(missing_ok=True)
    rhythm_scaler = None
    if rhythm:
        train_rhythm = model_inputs(splits["train"], True)[:, 0, -N_RHYTHM:]  # checks it is there
        rhythm_scaler = AngleScaler.fit(train_rhythm[:, RHYTHM_COLUMNS])
    return AutoencoderRun(data.dataset, model, scaler, history, errors, key, rhythm_scaler)
