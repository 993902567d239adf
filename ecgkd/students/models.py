"""The classical students: a ResNet-1D and a lightweight CNN-1D for 256-sample single-lead windows.

- :class:`ResNet1D` follows Wang et al. (2017), "Time series classification from scratch with deep
  neural networks", as used on PTB-XL by Strodthoff et al. (2021, ``resnet1d_wang``): residual
  blocks of three convolutions (kernels 8, 5, 3) with batch norm and ReLU, a 1x1 projection shortcut
  when the width changes, global average pooling and a linear head. Our changes, to make it a
  student rather than a second teacher: half of Wang's widths (3 blocks of 32/64/64 channels, about
  126 k parameters) and a max-pool halving the length between blocks, as ECG ResNets usually
  downsample (Hannun et al., 2019; Ribeiro et al., 2020). Wang's full-width, full-length network
  (about 0.5 M parameters) trained about ten times more slowly on 2 CPU cores and scored a window
  hardly faster than the 31 M-parameter teacher (``benchmarks/students.py`` prints both ratios); it
  is ``ResNet1D.wang()``.
- :class:`CNN1D` is our lightweight student: four conv-BN-ReLU-maxpool stages (16/32/48/64
  channels), global average pooling and a linear head, about 20 k parameters (80 kB of float32),
  small enough for a microcontroller.

Both output one logit per window (abnormal vs normal) and accept a ``width`` multiplier and a
``depth``. With ``rhythm=k`` (MIT-BIH) a student reads the window with the beat's ``k`` rhythm
features appended (:func:`ecgkd.data.rhythm.join_rhythm`), and its classifier is the anchored
head (:class:`ecgkd.data.rhythm.RhythmClassifier`, our choice): the rhythm-only baseline's logit,
fixed, plus a linear layer on the pooled morphology features that starts at zero, so the model
keeps the rhythm where the shape of a beat from an unseen patient misleads.
"""

from __future__ import annotations

from typing import Literal

import torch
from torch import nn

from ..rhythm_head import RhythmClassifier

StudentName = Literal["resnet1d", "cnn1d"]


def same_conv(in_channels: int, out_channels: int, kernel: int) -> nn.Sequential:
    """A bias-free convolution padded to keep the length (even kernels padded one more on the
    right)."""
    return nn.Sequential(
        nn.ConstantPad1d(((kernel - 1) // 2, kernel // 2), 0.0),
        nn.Conv1d(in_channels, out_channels, kernel, bias=False),
    )


class ResidualBlock(nn.Module):
    """Three convolutions (kernels 8, 5, 3, 'same' length) with BN and ReLU, plus a shortcut."""

    def __init__(self, in_channels: int, out_channels: int, kernels: tuple[int, ...] = (8, 5, 3)):
        super().__init__()
        layers: list[nn.Module] = []
        channels = in_channels
        for i, k in enumerate(kernels):
            layers += [same_conv(channels, out_channels, k), nn.BatchNorm1d(out_channels)]
            if i < len(kernels) - 1:
                layers.append(nn.ReLU())
            channels = out_channels
        self.body = nn.Sequential(*layers)
        self.shortcut = (
            nn.Identity()
            if in_channels == out_channels
            else nn.Sequential(
                nn.Conv1d(in_channels, out_channels, 1, bias=False), nn.BatchNorm1d(out_channels)
            )
        )
        self.act = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.body(x) + self.shortcut(x))


class ResNet1D(nn.Module):
    """Wang et al.'s ResNet for time series: residual blocks, global average pooling, one logit.

    ``pool``: a max-pool of size 2 between blocks (our default), so deeper blocks see half the
    length.
    """

    def __init__(
        self,
        in_channels: int = 1,
        width: float = 1.0,
        depth: int = 3,
        channels: tuple[int, ...] = (32, 64, 64),
        pool: bool = True,
        rhythm: int = 0,
    ):
        super().__init__()
        if depth < 1 or width <= 0:
            raise ValueError(f"ResNet1D: depth={depth} must be >= 1 and width={width} > 0")
        widths = [
            max(4, int(round(channels[min(i, len(channels) - 1)] * width))) for i in range(depth)
        ]
        self.channels = tuple(widths)  # per residual block, after the width multiplier
        blocks: list[nn.Module] = []
        previous = in_channels
        for i, w in enumerate(widths):
            if pool and i > 0:
                blocks.append(nn.MaxPool1d(2))
            blocks.append(ResidualBlock(previous, w))
            previous = w
        self.blocks = nn.Sequential(*blocks)
        self.head = RhythmClassifier(previous, rhythm)
        self.depth = depth
        self.min_length = 2 ** (depth - 1) if pool else 1

    @classmethod
    def wang(cls, in_channels: int = 1) -> ResNet1D:
        """Wang et al.'s own network (64/128/128 channels, no pooling): a reference, not our
        student."""
        return cls(in_channels=in_channels, channels=(64, 128, 128), pool=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x, coded = self.head.split(x)
        if x.shape[-1] < self.min_length:
            raise ValueError(
                f"ResNet1D: windows of {x.shape[-1]} samples are too short for depth="
                f"{self.depth} with pooling (need >= {self.min_length}); "
                "lower depth or pass pool=False"
            )
        return self.head(self.blocks(x).mean(-1), coded)


class CNN1D(nn.Module):
    """A small plain CNN: ``depth`` conv-BN-ReLU-maxpool stages, global average pooling, one
    logit."""

    def __init__(
        self,
        in_channels: int = 1,
        width: float = 1.0,
        depth: int = 4,
        channels: tuple[int, ...] = (16, 32, 48, 64),
        kernels: tuple[int, ...] = (7, 5, 5, 3),
        rhythm: int = 0,
    ):
        super().__init__()
        if not 1 <= depth <= len(channels) or width <= 0:
            raise ValueError(
                f"CNN1D: depth={depth} must be in 1..{len(channels)} and width={width} > 0"
            )
        layers: list[nn.Module] = []
        previous = in_channels
        for c, k in zip(channels[:depth], kernels[:depth]):
            c = max(4, int(round(c * width)))
            layers += [same_conv(previous, c, k), nn.BatchNorm1d(c), nn.ReLU(), nn.MaxPool1d(2)]
            previous = c
        self.features = nn.Sequential(*layers)
        self.head = RhythmClassifier(previous, rhythm)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x, coded = self.head.split(x)
        return self.head(self.features(x).mean(-1), coded)


STUDENTS = {"resnet1d": ResNet1D, "cnn1d": CNN1D}
STUDENT_LABELS = {"resnet1d": "ResNet-1D", "cnn1d": "CNN-1D"}


def build_student(name: StudentName, seed: int, **kwargs) -> nn.Module:
    """A freshly initialised student; the same ``seed`` gives the same initial weights, bit for
    bit."""
    if name not in STUDENTS:
        raise ValueError(f"student={name!r}: use one of {sorted(STUDENTS)}")
    torch.manual_seed(seed)
    return STUDENTS[name](**kwargs)
