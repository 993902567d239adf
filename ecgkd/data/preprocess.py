"""Signal preprocessing: ECGFounder's published recipe, built from scipy.signal pieces.

ECGFounder expects 10 s at 500 Hz, filtered per lead with zero-phase filters (50 Hz notch, Q 30;
4th-order Butterworth band-pass 0.67-40 Hz; baseline removal by subtracting a median filter of
``int(0.4 * fs) + 1`` samples) and then z-scored with one mean and one std over the whole record.
Arrays are ``(..., time)``: filters run along the last axis, so one call handles one lead or twelve.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
from scipy import ndimage, signal

BAND_HZ = (0.67, 40.0)
BAND_ORDER = 4
NOTCH_Q = 30.0
TEACHER_FS = 500
EPS = 1e-8


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


def baseline_window(fs: float) -> int:
    """Median-filter length of the recipe: int(0.4 * fs) + 1, made odd (201 at 500 Hz)."""
    n = int(0.4 * _check_fs(fs)) + 1
    return n if n % 2 else n + 1


def remove_baseline(x: np.ndarray, fs: float) -> np.ndarray:
    """Subtract a running median of 0.4 s: removes wander, keeps the QRS (much shorter than 0.4
    s)."""
    size = [1] * (np.ndim(x) - 1) + [baseline_window(fs)]
    return x - ndimage.median_filter(x, size=size, mode="nearest")


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


def clean(x: np.ndarray, fs: float, mains_hz: float | None = 50.0) -> np.ndarray:
    """The recipe's filters at the signal's own rate: notch, band-pass, baseline removal.

    The notch is skipped when the mains frequency is at or above Nyquist (PTB-XL at 100 Hz cannot
    carry 50 Hz hum: there is nothing to remove) or when ``mains_hz`` is None.
    """
    fs = _check_fs(fs)
    y = fill_nan(x)
    if mains_hz is not None and mains_hz < fs / 2:
        y = notch(y, fs, mains_hz)
    y = bandpass(y, fs)
    return remove_baseline(y, fs)
