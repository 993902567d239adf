"""Cutting fixed-length windows out of a record, with a reason for every window that is dropped."""

from __future__ import annotations

import numpy as np

from .preprocess import Filters, clean, zscore

#: A window whose raw peak-to-peak amplitude is below this (mV) is a flat line (lead off,
#  saturation).
FLAT_PTP_MV = 0.05
KEPT, EDGE, NAN, FLAT = "", "edge", "nan", "flat"
DROP_REASONS = (EDGE, NAN, FLAT)


def student_signal(
    raw: np.ndarray, fs: float, mains_hz: float | None, filters: Filters
) -> np.ndarray:
    """A record as the models see it: ``filters`` (:func:`clean`) at the native rate, one z-score.

    ``raw`` is (leads, time) in mV. Filtering the whole record (not each window) avoids edge effects
    of the 0.67 Hz high-pass inside a 0.7 s window.
    """
    return zscore(clean(raw, fs, mains_hz, filters)).astype(np.float32)


def cut_windows(
    clean_signal: np.ndarray, raw: np.ndarray, starts: np.ndarray, length: int
) -> tuple[np.ndarray, np.ndarray]:
    """Windows ``clean_signal[:, s:s+length]`` for each start, and a drop reason per start.

    Reasons: ``edge`` (window leaves the record), ``nan`` (raw signal has a missing sample inside),
    ``flat`` (raw peak-to-peak below :data:`FLAT_PTP_MV` in some lead). Kept windows have ``""``.
    Returns (windows of kept starts, float32 (k, leads, length); reasons, (len(starts),)).
    """
    starts = np.asarray(starts, dtype=np.int64)
    n_leads, n = raw.shape
    reasons = np.full(len(starts), KEPT, dtype=object)
    reasons[(starts < 0) | (starts + length > n)] = EDGE
    inside = np.flatnonzero(reasons == KEPT)
    if len(inside):
        idx = starts[inside, None] + np.arange(length)[None, :]
        raw_w = raw[:, idx]  # (leads, k, length)
        has_nan = ~np.isfinite(raw_w).all(axis=(0, 2))
        reasons[inside[has_nan]] = NAN
        finite = ~has_nan
        is_flat = (np.ptp(raw_w[:, finite], axis=2) < FLAT_PTP_MV).any(axis=0)
        reasons[inside[finite][is_flat]] = FLAT
    kept = np.flatnonzero(reasons == KEPT)
    idx = starts[kept, None] + np.arange(length)[None, :]
    windows = (
        clean_signal[:, idx].transpose(1, 0, 2) if len(kept) else np.zeros((0, n_leads, length))
    )
    return np.ascontiguousarray(windows, dtype=np.float32), reasons.astype(str)
