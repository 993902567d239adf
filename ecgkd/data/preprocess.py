"""Signal preprocessing: ECGFounder's published recipe and the filters our own models use.

ECGFounder expects 10 s at 500 Hz, filtered per lead with zero-phase filters (50 Hz notch, Q 30;
4th-order Butterworth band-pass 0.67-40 Hz; baseline removal by subtracting a median filter of
``int(0.4 * fs) + 1`` samples) and then z-scored with one mean and one std over the whole record.

The 0.4 s median takes away what lasts longer than a QRS: an ST-segment shift and much of the T
wave, the very features that define two of PTB-XL's abnormal superclasses (STTC, MI). So the recipe
(``"recipe"``) is used only where the released ECGFounder weights are loaded, which were trained on
it. The stand-in teacher and every student see one of two other :data:`FILTERS`, per dataset
(:data:`STUDENT_FILTERS`, our choice, measured on validation in notebook 01): ``"bandpass"`` (the
band-pass alone: its 0.67 Hz high-pass already removes baseline wander) or ``"dechazal"`` (the
band-pass, then the baseline of de Chazal et al. 2004, a 200 ms median followed by a 600 ms median,
subtracted).
Arrays are ``(..., time)``: filters run along the last axis, so one call handles one lead or twelve.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Literal

import numpy as np
from scipy import ndimage, signal

BAND_HZ = (0.67, 40.0)
BAND_ORDER = 4
NOTCH_Q = 30.0
TEACHER_FS = 500
EPS = 1e-8
Filters = Literal["recipe", "bandpass", "dechazal"]
FILTERS: tuple[Filters, ...] = ("recipe", "bandpass", "dechazal")
RECIPE: Filters = "recipe"
#: Our choice per dataset, from notebook 01's filter study (validation AUROC of the CNN-1D).
STUDENT_FILTERS: dict[str, Filters] = {"mitbih": "dechazal", "ptbxl": "bandpass"}


def _check_fs(fs: float) -> float:
    if not np.isfinite(fs) or fs <= 0:
        raise ValueError(f"sampling rate fs={fs!r} must be a positive number of Hz")
    return float(fs)


def bandpass(
    x: np.ndarray,
    fs: float,
    low: float = BAND_HZ[0],
    high: float = BAND_HZ[1],
    order: int = BAND_ORDER,
) -> np.ndarray:
    """Zero-phase Butterworth band-pass (second-order sections, stable at 0.67 Hz / 500 Hz)."""
    fs = _check_fs(fs)
    if not 0 < low < high < fs / 2:
        raise ValueError(
            f"band {low}-{high} Hz does not fit below Nyquist ({fs / 2} Hz) at fs={fs}"
        )
    sos = signal.butter(order, [low, high], btype="bandpass", fs=fs, output="sos")
    return signal.sosfiltfilt(sos, x, axis=-1)


def notch(x: np.ndarray, fs: float, freq: float = 50.0, q: float = NOTCH_Q) -> np.ndarray:
    """Zero-phase IIR notch at the power-line frequency ``freq``."""
    fs = _check_fs(fs)
    if not 0 < freq < fs / 2:
        raise ValueError(f"notch at {freq} Hz is not below Nyquist ({fs / 2} Hz) at fs={fs}")
    b, a = signal.iirnotch(freq, q, fs=fs)
    return signal.filtfilt(b, a, x, axis=-1)


def baseline_window(fs: float, seconds: float = 0.4) -> int:
    """Median-filter length: int(seconds * fs) + 1, made odd (the recipe's 201 at 500 Hz)."""
    n = int(seconds * _check_fs(fs)) + 1
    return n if n % 2 else n + 1


def running_median(x: np.ndarray, fs: float, seconds: float) -> np.ndarray:
    """Median of ``seconds`` around each sample, along the last axis (edges: nearest value).

    One 1-d filter per lead: scipy's 1-d median filter is some 40 times faster than its n-d one
    with a (1, k) footprint, and gives the same numbers.
    """
    x = np.asarray(x, dtype=float)
    size = baseline_window(fs, seconds)
    rows = x.reshape(-1, x.shape[-1])
    out = np.stack([ndimage.median_filter(row, size=size, mode="nearest") for row in rows])
    return out.reshape(x.shape)


def remove_baseline(x: np.ndarray, fs: float) -> np.ndarray:
    """The recipe: subtract a running median of 0.4 s. It removes wander and keeps the QRS, but
    also an ST shift and part of the T wave, which last longer than half of 0.4 s."""
    return x - running_median(x, fs, 0.4)


def remove_baseline_dechazal(x: np.ndarray, fs: float) -> np.ndarray:
    """De Chazal et al. (2004): the baseline is a 200 ms median (QRS and P gone) then a 600 ms
    median (T gone) of the signal; subtracting it keeps more of the ST level than the recipe."""
    return x - running_median(running_median(x, fs, 0.2), fs, 0.6)


def resample(x: np.ndarray, fs_in: float, fs_out: float) -> np.ndarray:
    """Polyphase resampling by the exact rational factor fs_out / fs_in (360 -> 500 Hz is 25/18)."""
    ratio = Fraction(_check_fs(fs_out) / _check_fs(fs_in)).limit_denominator(1000)
    if ratio == 1:
        return np.array(x, dtype=float, copy=True)
    return signal.resample_poly(x, ratio.numerator, ratio.denominator, axis=-1)


def resampled_length(n: int, fs_in: float, fs_out: float) -> int:
    """Length :func:`resample` returns for ``n`` samples (ceil(n * up / down))."""
    ratio = Fraction(_check_fs(fs_out) / _check_fs(fs_in)).limit_denominator(1000)
    return -(-n * ratio.numerator // ratio.denominator)


def zscore(x: np.ndarray, eps: float = EPS) -> np.ndarray:
    """One mean and one std over the whole array (all leads together), NaN -> 0, as ECGFounder
    does."""
    x = np.asarray(x, dtype=float)
    finite = np.isfinite(x)
    if not finite.any():
        return np.zeros_like(x)
    mean = x[finite].mean()
    std = x[finite].std()
    return np.where(finite, (x - mean) / (std + eps), 0.0)


def fill_nan(x: np.ndarray) -> np.ndarray:
    """Linear interpolation over NaN gaps (per lead), so that filters can run; the caller drops
    them."""
    x = np.array(x, dtype=float, copy=True)
    flat = x.reshape(-1, x.shape[-1])
    idx = np.arange(flat.shape[-1])
    for row in flat:
        bad = ~np.isfinite(row)
        if bad.all():
            row[:] = 0.0
        elif bad.any():
            row[bad] = np.interp(idx[bad], idx[~bad], row[~bad])
    return x


def student_filters(dataset: str) -> Filters:
    """The filters the stand-in teacher and the students see on ``dataset``."""
    if dataset not in STUDENT_FILTERS:
        raise ValueError(f"dataset={dataset!r}: use one of {tuple(STUDENT_FILTERS)}")
    return STUDENT_FILTERS[dataset]


def check_filters(filters: str) -> Filters:
    """``filters`` itself, or a ValueError naming the choices."""
    if filters not in FILTERS:
        raise ValueError(f"filters={filters!r}: use one of {FILTERS}")
    return filters  # type: ignore[return-value]


def clean(
    x: np.ndarray, fs: float, mains_hz: float | None = 50.0, filters: Filters = RECIPE
) -> np.ndarray:
    """Filters at the signal's own rate: notch, band-pass and, as ``filters`` says, a baseline.

    ``"recipe"`` subtracts the 0.4 s median, ``"dechazal"`` the 200/600 ms medians, ``"bandpass"``
    nothing more. The notch is skipped when the mains frequency is at or above Nyquist (PTB-XL at
    100 Hz cannot carry 50 Hz hum: there is nothing to remove) or when ``mains_hz`` is None.
    """
    fs = _check_fs(fs)
    check_filters(filters)
    y = fill_nan(x)
    if mains_hz is not None and mains_hz < fs / 2:
        y = notch(y, fs, mains_hz)
    y = bandpass(y, fs)
    if filters == "recipe":
        return remove_baseline(y, fs)
    if filters == "dechazal":
        return remove_baseline_dechazal(y, fs)
    return y
