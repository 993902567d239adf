"""Net1D, the architecture of ECGFounder, rebuilt so that the released checkpoints load key for key.

Facts from the official repository (PKUDigitalHealth/ECGFounder, MIT licence) as summarised in
``shared/ecgfounder/SPEC.md``; the code is ours. A "SAME"-padded stride-2 stem (64 filters, kernel
16, Swish), then 7 stages of pre-activation bottleneck blocks with squeeze-and-excitation, grouped
kernel-16 convolutions (16 channels per group), downsampling by 2 in the first block of each stage
(256x in all), an identity shortcut (max-pooled when downsampling, zero-padded on channels when they
grow), then the mean over time (the 1024-d feature) and a linear head.

Batch norm and dropout are off in the released models, yet their batch-norm tensors are in the
checkpoint: the modules exist here too (unused) so that the state-dict keys match exactly.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F
from torch import nn

from ..modelinfo import count_parameters
from ..rhythm_head import RhythmClassifier

if TYPE_CHECKING:
    import pandas as pd

GROUP_WIDTH = 16


@dataclass(frozen=True)
class Net1DConfig:
    """Hyper-parameters of a Net1D; :func:`ecgfounder_config` gives the released ones."""

    in_channels: int = 12
    n_outputs: int = 150
    base_filters: int = 64
    filters: tuple[int, ...] = (64, 160, 160, 400, 400, 1024, 1024)
    blocks: tuple[int, ...] = (2, 2, 2, 3, 3, 4, 4)
    kernel_size: int = 16
    stride: int = 2
    group_width: int = GROUP_WIDTH
    ratio: float = 1.0
    use_bn: bool = False
    use_dropout: bool = False
    rhythm: int = 0  # ours: rhythm features joined with the 1024-d features in the head (MIT-BIH)

    def __post_init__(self) -> None:
        if len(self.filters) != len(self.blocks):
            raise ValueError(
                f"filters {self.filters} and blocks {self.blocks} must have one entry per stage"
            )
        for channels in (*self.filters, *(int(f * self.ratio) for f in self.filters)):
            if channels % self.group_width:
                raise ValueError(
                    f"{channels} channels are not a multiple of the group width {self.group_width}"
                )

    @property
    def feature_dim(self) -> int:
        return self.filters[-1]

    def as_dict(self) -> dict:
        return asdict(self)


def ecgfounder_config(leads: int = 12, n_outputs: int = 150) -> Net1DConfig:
    """The configuration of the released ECGFounder checkpoints (12-lead or 1-lead)."""
    if leads not in (1, 12):
        raise ValueError(
            f"leads={leads}: ECGFounder was released for 12 leads and for 1 lead (lead I)"
        )
    return Net1DConfig(in_channels=leads, n_outputs=n_outputs)


def scaled_config(config: Net1DConfig, width: float = 1.0, depth: float = 1.0) -> Net1DConfig:
    """The same architecture, narrower and/or shallower (channels rounded to the group width)."""
    if not (0 < width <= 1 and 0 < depth <= 1):
        raise ValueError(f"width={width} and depth={depth} must be in (0, 1]")
    g = config.group_width
    filters = tuple(max(g, int(round(f * width / g)) * g) for f in config.filters)
    blocks = tuple(max(1, int(round(b * depth))) for b in config.blocks)
    return replace(
        config,
        base_filters=max(g, int(round(config.base_filters * width / g)) * g),
        filters=filters,
        blocks=blocks,
    )


def same_padding(length: int, kernel: int, stride: int) -> tuple[int, int]:
    """Left/right padding so that a convolution outputs ceil(length / stride) steps."""
    out = (length + stride - 1) // stride
    total = max(0, (out - 1) * stride + kernel - length)
    return total // 2, total - total // 2


class Swish(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.sigmoid(x)


class SameConv1d(nn.Module):
    """Conv1d with TensorFlow-style "SAME" padding computed at run time (wrapped as ``.conv``)."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        stride: int = 1,
        groups: int = 1,
    ):
        super().__init__()
        self.kernel_size, self.stride = kernel_size, stride
        self.conv = nn.Conv1d(in_channels, out_channels, kernel_size, stride, groups=groups)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(F.pad(x, same_padding(x.shape[-1], self.kernel_size, self.stride)))


class SameMaxPool1d(nn.Module):
    """Max-pool with kernel = stride, padded so that the output has ceil(length / stride) steps."""

    def __init__(self, kernel_size: int):
        super().__init__()
        self.kernel_size = kernel_size

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.pad(x, same_padding(x.shape[-1], self.kernel_size, 1))
        return F.max_pool1d(x, self.kernel_size)


class Block(nn.Module):
    """Pre-activation bottleneck: [act] 1x1 -> [act] grouped k -> [act] 1x1 -> squeeze-excite, +
    shortcut."""

    def __init__(
        self, in_channels: int, out_channels: int, config: Net1DConfig, stride: int, first: bool
    ):
        super().__init__()
        mid = int(out_channels * config.ratio)
        self.in_channels, self.out_channels, self.stride, self.first = (
            in_channels,
            out_channels,
            stride,
            first,
        )
        self.use_bn, self.use_dropout = config.use_bn, config.use_dropout
        self.bn1 = nn.BatchNorm1d(in_channels)
        self.conv1 = SameConv1d(in_channels, mid, 1)
        self.bn2 = nn.BatchNorm1d(mid)
        self.conv2 = SameConv1d(
            mid, mid, config.kernel_size, stride, groups=mid // config.group_width
        )
        self.bn3 = nn.BatchNorm1d(mid)
        self.conv3 = SameConv1d(mid, out_channels, 1)
        self.se_fc1 = nn.Linear(out_channels, out_channels // 2)
        self.se_fc2 = nn.Linear(out_channels // 2, out_channels)
        self.act = Swish()
        self.dropout = nn.Dropout(0.5)
        self.pool = SameMaxPool1d(stride) if stride > 1 else nn.Identity()

    def _pre(self, x: torch.Tensor, bn: nn.BatchNorm1d) -> torch.Tensor:
        if self.use_bn:
            x = bn(x)
        x = self.act(x)
        return self.dropout(x) if self.use_dropout else x

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = x if self.first else self._pre(x, self.bn1)
        out = self.conv1(out)
        out = self.conv2(self._pre(out, self.bn2))
        out = self.conv3(self._pre(out, self.bn3))
        scale = torch.sigmoid(self.se_fc2(self.act(self.se_fc1(out.mean(-1)))))
        out = out * scale.unsqueeze(-1)
        shortcut = self.pool(x)
        grow = self.out_channels - self.in_channels
        if grow:
            shortcut = F.pad(shortcut.transpose(1, 2), (grow // 2, grow - grow // 2)).transpose(
                1, 2
            )
        return out + shortcut


class Stage(nn.Module):
    """Blocks of one width; only the first one downsamples and changes the channel count."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        n_blocks: int,
        config: Net1DConfig,
        first_stage: bool,
    ):
        super().__init__()
        self.block_list = nn.ModuleList(
            Block(
                in_channels if b == 0 else out_channels,
                out_channels,
                config,
                stride=config.stride if b == 0 else 1,
                first=first_stage and b == 0,
            )
            for b in range(n_blocks)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for block in self.block_list:
            x = block(x)
        return x


class Net1D(nn.Module):
    """ECGFounder's network. ``forward(x)`` takes (batch, leads, time) and returns logits, or
    (logits, 1024-d features) with ``return_features=True`` (for feature-level distillation)."""

    def __init__(self, config: Net1DConfig | None = None):
        super().__init__()
        self.config = config = config or ecgfounder_config()
        self.first_conv = SameConv1d(
            config.in_channels, config.base_filters, config.kernel_size, stride=2
        )
        self.first_bn = nn.BatchNorm1d(config.base_filters)
        self.first_activation = Swish()
        widths = (config.base_filters, *config.filters)
        self.stage_list = nn.ModuleList(
            Stage(widths[s], widths[s + 1], n, config, first_stage=s == 0)
            for s, n in enumerate(config.blocks)
        )
        self.dense = dense_head(config.feature_dim, config.n_outputs, config.rhythm)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The 1024-d representation: mean over time of the last stage."""
        if x.ndim != 3 or x.shape[1] != self.config.in_channels:
            raise ValueError(
                f"Net1D expects (batch, {self.config.in_channels} leads, time), got "
                f"{tuple(x.shape)}"
            )
        out = self.first_conv(x)
        if self.config.use_bn:
            out = self.first_bn(out)
        out = self.first_activation(out)
        for stage in self.stage_list:
            out = stage(out)
        return out.mean(-1)

    def forward(self, x: torch.Tensor, return_features: bool = False):
        if self.config.rhythm:
            x, coded = self.dense.split(x)
            feats = self.features(x)
            logits = self.dense(feats, coded)
        else:
            feats = self.features(x)
            logits = self.dense(feats)
        return (logits, feats) if return_features else logits

    def replace_head(self, n_outputs: int, rhythm: int = 0) -> None:
        """A fresh head with ``n_outputs`` outputs (fine-tuning drops the 150-label head), reading
        ``rhythm`` features beside the 1024-d ones when > 0."""
        self.dense = dense_head(self.config.feature_dim, n_outputs, rhythm)
        self.config = replace(self.config, n_outputs=n_outputs, rhythm=rhythm)


def dense_head(features: int, outputs: int, rhythm: int = 0) -> nn.Module:
    """The released linear head (``dense``), or with ``rhythm`` > 0 the classifier that joins the
    features with the beat's rhythm (:class:`ecgkd.data.rhythm.RhythmClassifier`, our addition):
    the input is then the window with the rhythm features appended."""
    if not rhythm:
        return nn.Linear(features, outputs)
    return RhythmClassifier(features, rhythm, outputs)


def used_parameters(model: Net1D) -> int:
    """Parameters that take part in the forward pass (the unused batch-norm affine ones
    excluded)."""
    if model.config.use_bn:
        return count_parameters(model)
    bn = sum(
        p.numel() for m in model.modules() if isinstance(m, nn.BatchNorm1d) for p in m.parameters()
    )
    return count_parameters(model) - bn


def architecture_table(model: Net1D, length: int) -> pd.DataFrame:
    """One row per stage: channels, blocks, parameters and output length for an input of ``length``.

    The parameters column sums to :func:`count_parameters` (the stem row includes its unused batch
    norm).
    """
    import pandas as pd

    rows = [
        {
            "part": "stem (conv k16, stride 2)",
            "channels": model.config.base_filters,
            "blocks": 1,
            "parameters": count_parameters(model.first_conv) + count_parameters(model.first_bn),
            "time steps out": -(-length // 2),
        }
    ]
    steps = rows[0]["time steps out"]
    for s, stage in enumerate(model.stage_list):
        steps = -(-steps // model.config.stride)
        first = stage.block_list[0]
        rows.append(
            {
                "part": f"stage {s}",
                "channels": first.out_channels,
                "blocks": len(stage.block_list),
                "parameters": count_parameters(stage),
                "time steps out": steps,
            }
        )
    rows.append(
        {
            "part": "mean over time -> features",
            "channels": model.config.feature_dim,
            "blocks": 0,
            "parameters": 0,
            "time steps out": 1,
        }
    )
    rows.append(
        {
            "part": "dense head"
            + (f" (+ {model.config.rhythm} rhythm features)" if model.config.rhythm else ""),
            "channels": model.config.n_outputs,
            "blocks": 0,
            "parameters": count_parameters(model.dense),
            "time steps out": 1,
        }
    )
    return pd.DataFrame(rows).set_index("part")
