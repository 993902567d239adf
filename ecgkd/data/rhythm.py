"""Rhythm features of every MIT-BIH beat, from the annotated R peaks of its own record.

A 0.71 s window shows one beat's shape but not when it came. Since de Chazal et al. (2004), the
RR intervals around a beat are what makes a premature (AAMI S) beat detectable across patients.
For beat ``i`` of a record, with R peaks ``r`` in seconds (our choice of the standard set):

- ``pre_rr``: ``r[i] - r[i-1]``; ``post_rr``: ``r[i+1] - r[i]``;
- ``local_rr``: the mean ``pre_rr`` of the last :data:`LOCAL_BEATS` beats up to ``i`` (causal);
- ``record_rr``: the median RR of the whole record (or of the part read, in quick mode);
- the ratios ``pre_rr / local_rr``, ``post_rr / pre_rr``, ``pre_rr / record_rr`` and
  ``local_rr / record_rr``: rhythm relative to the patient's own, comparable across patients.

What they know of the future: ``post_rr`` needs the next beat, so a model that uses it decides one
beat late; ``record_rr`` uses the whole record, where a monitor would use a running value over the
past minutes. The first beat of a record has no ``pre_rr`` and takes its ``post_rr``; the last beat
has no ``post_rr`` and takes its ``pre_rr``. Nothing crosses a record boundary: each record is
computed alone.
"""

from __future__ import annotations

import numpy as np

RHYTHM_FEATURES = (
    "pre_rr",
    "post_rr",
    "local_rr",
    "record_rr",
    "pre/local",
    "post/pre",
    "pre/record",
    "local/record",
)
LOCAL_BEATS = 10  # our choice: about 10 s of rhythm at rest


def rr_features(r_peaks: np.ndarray, fs: float, local_beats: int = LOCAL_BEATS) -> np.ndarray:
    """Rhythm features (n_beats, len(RHYTHM_FEATURES)) float32 of the beats of one record.

    ``r_peaks``: sample index of every annotated beat of the record, increasing. Intervals are in
    seconds.
    """
    r = np.asarray(r_peaks, dtype=np.float64)
    if r.ndim != 1 or len(r) < 2:
        raise ValueError(f"rr_features needs two or more R peaks of one record, got {r.shape}")
    if not np.all(np.diff(r) > 0):
        raise ValueError("rr_features: R peaks must be strictly increasing within a record")
    if not fs > 0:
        raise ValueError(f"rr_features: fs={fs!r} must be a positive number of Hz")
    rr = np.diff(r) / fs
    pre = np.concatenate([rr[:1], rr])  # the first beat takes its next interval
    post = np.concatenate([rr, rr[-1:]])  # the last beat takes its previous one
    sums = np.concatenate([[0.0], np.cumsum(pre)])
    idx = np.arange(len(r))
    first = np.maximum(0, idx - local_beats + 1)
    local = (sums[idx + 1] - sums[first]) / (idx + 1 - first)
    record = np.full(len(r), np.median(rr))
    columns = (pre, post, local, record, pre / local, post / pre, pre / record, local / record)
    return np.stack(columns, axis=1).astype(np.float32)
