"""Every figure the notebooks show, so that the notebooks stay short and the figures consistent."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from .data.split import Split

AAMI_COLOURS = {"N": "#4C72B0", "S": "#DD8452", "V": "#C44E52", "F": "#8172B3", "Q": "#937860"}
AAMI_NAMES = {"N": "normal / bundle branch block", "S": "supraventricular ectopic", "V": "ventricular ectopic",
              "F": "fusion", "Q": "unknown / paced"}


def plot_record_beats(raw: np.ndarray, fs: float, r_peaks: np.ndarray, aami: np.ndarray, pre: int, post: int,
                      seconds: tuple[float, float], highlight: int, title: str = "") -> plt.Figure:
    """A stretch of one lead with its beat labels, one beat's window shaded."""
    lo, hi = (int(s * fs) for s in seconds)
    t = np.arange(lo, hi) / fs
    fig, ax = plt.subplots(figsize=(11, 3))
    ax.plot(t, raw[lo:hi], color="black", lw=0.8)
    for r, cls in zip(r_peaks, aami):
        if lo <= r < hi:
            ax.annotate(cls, (r / fs, raw[r]), xytext=(0, 8), textcoords="offset points", ha="center",
                        color=AAMI_COLOURS.get(cls, "grey"), fontweight="bold")
    r = r_peaks[highlight]
    ax.axvspan((r - pre) / fs, (r + post) / fs, color="gold", alpha=0.3, label=f"one window: {pre + post} samples")
    ax.axvline(r / fs, color="gold", lw=1)
    ax.set(xlabel="time (s)", ylabel="mV", title=title)
    ax.legend(loc="upper right")
    fig.tight_layout()
    return fig


def plot_class_examples(split: Split, r_offset: int, classes: tuple[str, ...] = ("N", "S", "V", "F", "Q"),
                        per_class: int = 20, seed: int = 0) -> plt.Figure:
    """Up to ``per_class`` random windows of each AAMI class (thin) and their mean (thick).

    ``r_offset``: sample of the R peak inside a window (time zero on the axis).
    """
    rng = np.random.default_rng(seed)
    present = [c for c in classes if (split.aami == c).any()]
    fig, axes = plt.subplots(1, len(present), figsize=(3.2 * len(present), 2.8), sharey=True, squeeze=False)
    t = (np.arange(split.length) - r_offset) / split.fs * 1000
    for ax, cls in zip(axes[0], present):
        idx = np.flatnonzero(split.aami == cls)
        pick = rng.choice(idx, size=min(per_class, len(idx)), replace=False)
        ax.plot(t, split.x[pick, 0].T, color=AAMI_COLOURS[cls], alpha=0.25, lw=0.7)
        ax.plot(t, split.x[idx, 0].mean(0), color="black", lw=1.8)
        ax.set(title=f"{cls}: {AAMI_NAMES[cls]}\n{len(idx)} beats", xlabel="ms from R")
        ax.title.set_fontsize(9)
    axes[0, 0].set_ylabel("z-scored amplitude")
    fig.suptitle(f"{split.dataset} {split.name}: windows per AAMI class (mean in black)")
    fig.tight_layout()
    return fig


def plot_12lead(x: np.ndarray, leads: tuple[str, ...], fs: float, title: str = "") -> plt.Figure:
    """A 12-lead record in the usual 6 x 2 layout."""
    fig, axes = plt.subplots(6, 2, figsize=(11, 8), sharex=True)
    t = np.arange(x.shape[-1]) / fs
    for k, ax in enumerate(axes.T.ravel()):
        ax.plot(t, x[k], color="black", lw=0.7)
        ax.set_ylabel(leads[k], rotation=0, labelpad=18)
        ax.grid(alpha=0.3)
    for ax in axes[-1]:
        ax.set_xlabel("time (s)")
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_record_windows(split: Split, record: str, title: str = "") -> plt.Figure:
    """The windows cut from one record, drawn at their place in the record."""
    idx = np.flatnonzero(split.record == record)
    fig, ax = plt.subplots(figsize=(11, 2.8))
    colours = plt.cm.viridis(np.linspace(0, 0.85, len(idx)))
    for k, (i, colour) in enumerate(zip(idx, colours)):
        t = (split.start[i] + np.arange(split.length)) / split.fs
        ax.plot(t, split.x[i, 0], color=colour, lw=0.9, label=f"window {k + 1}")
        ax.axvspan(t[0], t[-1], color=colour, alpha=0.08)
    label = "abnormal" if split.y[idx[0]] else "normal"
    ax.set(xlabel="time (s)", ylabel="z-scored",
           title=title or f"{split.dataset} record {record} ({label}), lead {split.leads[0]}: the student windows")
    ax.legend(ncol=len(idx), fontsize=8, loc="upper right")
    fig.tight_layout()
    return fig
