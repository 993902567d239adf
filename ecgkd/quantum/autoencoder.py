"""A 1-D convolutional autoencoder that compresses a 256-sample window to a few numbers for the VQC.

Our choices: four stride-2 convolutions (256 -> 16 time steps) and one linear layer to a latent of
size d (default 6, one value per qubit); the decoder mirrors it with transposed convolutions. It is
trained on the training windows only, to reconstruct them (mean squared error), in the one training
loop (:func:`ecgkd.train.fit`) with early stopping on the validation reconstruction error. It never
sees a label, so the latent summarises the waveform, not the diagnosis.

The latent is turned into rotation angles by :class:`AngleScaler`: each coordinate is mapped from
its 1st-99th percentile range **on the training split** to [0, pi] and clipped, so a test window
cannot change the scaling.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import torch
from torch import nn

from ..train import (
    RECONSTRUCTION,
    FitResult,
    TrainData,
    TrainSettings,
    fit,
    reconstruction_loss,
    validate_reconstruction,
)


class ConvAutoencoder(nn.Module):
    """(b, 1, 256) -> latent (b, d) -> (b, 1, 256)."""

    def __init__(
        self, latent: int = 6, channels: tuple[int, ...] = (16, 32, 32, 32), length: int = 256
    ):
        super().__init__()
        if length % 2 ** len(channels):
            raise ValueError(f"window length {length} must be divisible by 2**{len(channels)}")
        self.latent, self.length = latent, length
        self.steps = length // 2 ** len(channels)
        layers: list[nn.Module] = []
        previous = 1
        for c in channels:
            layers += [nn.Conv1d(previous, c, 7, stride=2, padding=3), nn.GELU()]
            previous = c
        self.encoder = nn.Sequential(
            *layers, nn.Flatten(), nn.Linear(previous * self.steps, latent)
        )
        layers = []
        for c in reversed((1,) + channels[:-1]):
            layers += [nn.ConvTranspose1d(previous, c, 8, stride=2, padding=3), nn.GELU()]
            previous = c
        self.decoder_input = nn.Linear(latent, channels[-1] * self.steps)
        self.decoder = nn.Sequential(*layers[:-1])  # no activation on the reconstruction
        self.channels = channels

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.encoder(x)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.decoder_input(z).reshape(len(z), self.channels[-1], self.steps))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decode(self.encode(x))


class AngleScaler(nn.Module):
    """Latent -> angles in [0, pi], from per-coordinate percentiles of the training latents."""

    def __init__(self, low: np.ndarray, high: np.ndarray):
        super().__init__()
        low, high = np.asarray(low, np.float32), np.asarray(high, np.float32)
        if np.any(high <= low):
            raise ValueError("AngleScaler: a latent coordinate is constant on the training split")
        self.register_buffer("low", torch.from_numpy(low))
        self.register_buffer("high", torch.from_numpy(high))

    @classmethod
    def fit(
        cls, latents: np.ndarray, percentiles: tuple[float, float] = (1.0, 99.0)
    ) -> AngleScaler:
        """Fit on the **training** latents only."""
        low, high = np.percentile(np.asarray(latents, np.float64), percentiles, axis=0)
        return cls(low, high)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return math.pi * torch.clamp((z - self.low) / (self.high - self.low), 0.0, 1.0)


def reconstruction_error(model: ConvAutoencoder, x: np.ndarray, batch_size: int = 1024) -> float:
    """Mean squared error per sample over all windows of ``x`` (what early stopping follows)."""
    settings = TrainSettings(eval_batch_size=batch_size)
    return validate_reconstruction(model, TrainData(x, x), settings, "cpu", None)["val_mse"]


@torch.inference_mode()
def encode(model: ConvAutoencoder, x: np.ndarray, batch_size: int = 1024) -> np.ndarray:
    """Latents (n, d) float32 of windows (n, 1, length)."""
    model.eval()
    out = [
        model.encode(
            torch.from_numpy(np.ascontiguousarray(x[s : s + batch_size], np.float32))
        ).numpy()
        for s in range(0, len(x), batch_size)
    ]
    return np.concatenate(out) if out else np.zeros((0, model.latent), np.float32)


def train_autoencoder(
    model: ConvAutoencoder,
    x_train: np.ndarray,
    x_val: np.ndarray,
    settings: TrainSettings,
    *,
    seed: int = 0,
    device: str = "cpu",
    checkpoint: Path | None = None,
    key: str = "",
    progress: bool = True,
) -> FitResult:
    """Train ``model`` in place to reconstruct the training windows, through the one training loop
    (:func:`ecgkd.train.fit` with the reconstruction objective); it keeps the best validation
    epoch."""
    result = fit(
        model,
        TrainData(x_train, x_train),
        TrainData(x_val, x_val),
        reconstruction_loss(),
        settings,
        seed=seed,
        device=device,
        checkpoint=checkpoint,
        key=key,
        progress=progress,
        desc="autoencoder",
        objective=RECONSTRUCTION,
    )
    model.cpu().eval()
    return result
