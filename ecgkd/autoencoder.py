"""A 1-D convolutional autoencoder that compresses a 256-sample window to a few numbers for the VQC.

Our choices: four stride-2 convolutions (256 -> 16 time steps) and one linear layer to a latent of size
d (default 6, one value per qubit); the decoder mirrors it with transposed convolutions. It is trained
on the training windows only, to reconstruct them (mean squared error), with AdamW and early stopping
on the validation reconstruction error. It never sees a label, so the latent summarises the waveform,
not the diagnosis.

The latent is turned into rotation angles by :class:`AngleScaler`: each coordinate is mapped from its
1st-99th percentile range **on the training split** to [0, pi] and clipped, so a test window cannot
change the scaling.
"""

from __future__ import annotations

import copy
import math
import time
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
import torch
from torch import nn

from .progress import progress_bar
from .train import epoch_order


class ConvAutoencoder(nn.Module):
    """(b, 1, 256) -> latent (b, d) -> (b, 1, 256)."""

    def __init__(self, latent: int = 6, channels: tuple[int, ...] = (16, 32, 32, 32), length: int = 256):
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
        self.encoder = nn.Sequential(*layers, nn.Flatten(), nn.Linear(previous * self.steps, latent))
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
    def fit(cls, latents: np.ndarray, percentiles: tuple[float, float] = (1.0, 99.0)) -> "AngleScaler":
        """Fit on the **training** latents only."""
        low, high = np.percentile(np.asarray(latents, np.float64), percentiles, axis=0)
        return cls(low, high)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return math.pi * torch.clamp((z - self.low) / (self.high - self.low), 0.0, 1.0)


@dataclass(frozen=True)
class AESettings:
    """Optimisation of the autoencoder (our choice; quick mode uses fewer epochs and samples)."""

    epochs: int = 30
    batch_size: int = 256
    lr: float = 2e-3
    weight_decay: float = 1e-5
    patience: int = 4
    samples_per_epoch: int | None = None

    def as_dict(self) -> dict:
        return asdict(self)


@torch.inference_mode()
def reconstruction_error(model: ConvAutoencoder, x: np.ndarray, batch_size: int = 1024) -> float:
    """Mean squared error per sample over all windows of ``x``."""
    model.eval()
    total = 0.0
    for start in range(0, len(x), batch_size):
        xb = torch.from_numpy(np.ascontiguousarray(x[start:start + batch_size], np.float32))
        total += float(((model(xb) - xb) ** 2).sum())
    return total / x.size


@torch.inference_mode()
def encode(model: ConvAutoencoder, x: np.ndarray, batch_size: int = 1024) -> np.ndarray:
    """Latents (n, d) float32 of windows (n, 1, length)."""
    model.eval()
    out = [model.encode(torch.from_numpy(np.ascontiguousarray(x[s:s + batch_size], np.float32))).numpy()
           for s in range(0, len(x), batch_size)]
    return np.concatenate(out) if out else np.zeros((0, model.latent), np.float32)


def train_autoencoder(model: ConvAutoencoder, x_train: np.ndarray, x_val: np.ndarray, settings: AESettings,
                      seed: int = 0, progress: bool = True) -> pd.DataFrame:
    """Train ``model`` in place to reconstruct the training windows; keep the best validation epoch.

    Returns the history (one row per epoch: train and validation MSE). Same seed, same numbers.
    """
    torch.manual_seed(seed)
    optimizer = torch.optim.AdamW(model.parameters(), lr=settings.lr, weight_decay=settings.weight_decay)
    n = min(len(x_train), settings.samples_per_epoch or len(x_train))
    steps = -(-n // settings.batch_size)
    bar = progress_bar(range(steps * settings.epochs), desc="autoencoder", enabled=progress)
    ticks = iter(bar)
    history, best, best_state, bad = [], math.inf, None, 0
    for epoch in range(1, settings.epochs + 1):
        tick = time.perf_counter()
        model.train()
        order = epoch_order(len(x_train), seed, epoch, settings.samples_per_epoch)
        losses = []
        for start in range(0, len(order), settings.batch_size):
            next(ticks, None)
            xb = torch.from_numpy(np.ascontiguousarray(x_train[order[start:start + settings.batch_size]], np.float32))
            optimizer.zero_grad(set_to_none=True)
            loss = nn.functional.mse_loss(model(xb), xb)
            loss.backward()
            optimizer.step()
            losses.append(float(loss.detach()))
        val = reconstruction_error(model, x_val)
        history.append({"epoch": epoch, "train_mse": float(np.mean(losses)), "val_mse": val,
                        "seconds": time.perf_counter() - tick})
        if val < best:
            best, bad, best_state = val, 0, copy.deepcopy(model.state_dict())
        else:
            bad += 1
        if hasattr(bar, "set_postfix"):
            bar.set_postfix(val_mse=f"{val:.4f}", best=f"{best:.4f}")
        if bad >= settings.patience:
            break
    if hasattr(bar, "close"):
        bar.close()
    model.load_state_dict(best_state)
    model.eval()
    return pd.DataFrame(history)
