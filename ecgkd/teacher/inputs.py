"""The teacher's view of a sample: one function, used by fine-tuning and by inference alike.

Our choice (the paper does not say), for both datasets: the data stage has already filtered the
signal at its own rate, with the ECGFounder recipe (notch, 0.67-40 Hz band-pass, 0.4 s median
baseline removal) when the released weights are loaded, else with the students' filters
(:func:`ecgkd.teacher.stage.teacher_filters`); :func:`teacher_inputs` then resamples to the 500 Hz
ECGFounder was trained at and z-scores each example with one mean and one std over all its leads,
as the official recipe does.

- MIT-BIH: the same 256-sample MLII beat window the students see (0.71 s; 356 samples at 500 Hz), so
  the teacher knows nothing the students could not know, and the 1-lead release applies.
- PTB-XL: the whole 10 s 12-lead record (5000 samples at 500 Hz), ECGFounder's native input. Its
  labels belong to the record, so the record's logit is the soft target of each of its four student
  windows.

Filtering before resampling rather than after is the one departure from the recipe's order: the
filters are linear (the median filters nearly so) and the band ends at 40 Hz, below every Nyquist
frequency here, so the result is the same signal, computed 10x faster than at 500 Hz.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import numpy as np

from ..data.preprocess import EPS, TEACHER_FS, resample, resampled_length
from ..data.rhythm import N_RHYTHM, join_rhythm
from ..data.split import Split


def teacher_inputs(x: np.ndarray, fs: float, rhythm: int = 0) -> np.ndarray:
    """Cleaned signals ``(n, leads, time)`` at ``fs`` -> float32 ``(n, leads, time * 500 / fs)``,
    z-scored per example over leads x time.

    ``rhythm`` > 0: the last ``rhythm`` samples of each row are rhythm features
    (:func:`ecgkd.data.rhythm.join_rhythm`); they pass through unchanged, appended again after the
    resampled window.
    """
    x = np.asarray(x)
    if x.ndim != 3:
        raise ValueError(f"teacher_inputs expects (n, leads, time), got {x.shape}")
    if rhythm:
        return join_rhythm(teacher_inputs(x[..., :-rhythm], fs), x[:, 0, -rhythm:])
    y = resample(x, fs, TEACHER_FS) if fs != TEACHER_FS else x.astype(np.float64)
    mean = y.mean(axis=(1, 2), keepdims=True)
    std = y.std(axis=(1, 2), keepdims=True)
    return ((y - mean) / (std + EPS)).astype(np.float32)


def teacher_transform(split: Split, rhythm: bool = False) -> Callable[[np.ndarray], np.ndarray]:
    """:func:`teacher_inputs` bound to a split's rate (and to the rhythm features' count when the
    teacher reads them): the per-batch transform of the training loop."""
    return partial(teacher_inputs, fs=split.fs, rhythm=N_RHYTHM if rhythm else 0)


def teacher_length(split: Split, rhythm: bool = False) -> int:
    """Samples per lead the teacher reads for this split (356 for a MIT-BIH window, 5000 for
    PTB-XL), plus the rhythm features when it reads them."""
    return resampled_length(split.length, split.fs, TEACHER_FS) + (N_RHYTHM if rhythm else 0)
