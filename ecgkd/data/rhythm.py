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


# How a model reads a beat together with its rhythm (our choice): the rhythm features are appended
# to the window along time, one array per batch, so that the training loop, the caches and the
# latency measurement handle a rhythm model exactly like a window model. Only the model's head
# knows: :func:`split_rhythm` takes the tail off again.
N_RHYTHM = len(RHYTHM_FEATURES)
RHYTHM_DATASETS = ("mitbih",)  # whose examples carry rhythm features: MIT-BIH beats
RHYTHM_SUFFIX = " + rhythm"  # appended to the name of every model that reads the rhythm features


def join_rhythm(x: np.ndarray, rhythm: np.ndarray) -> np.ndarray:
    """Windows (n, leads, L) and rhythm features (n, k) -> (n, leads, L + k) float32, the features
    appended to every lead."""
    x, rhythm = np.asarray(x), np.asarray(rhythm)
    if x.ndim != 3 or rhythm.ndim != 2 or len(x) != len(rhythm):
        raise ValueError(
            f"join_rhythm: windows {x.shape} and rhythm {rhythm.shape} must be (n, leads, L) and "
            "(n, k) with the same n"
        )
    tail = np.broadcast_to(rhythm[:, None, :], (len(x), x.shape[1], rhythm.shape[1]))
    return np.concatenate([x, tail], axis=2).astype(np.float32, copy=False)


def has_rhythm(dataset: str) -> bool:
    """Whether the examples of ``dataset`` carry rhythm features (a PTB-XL record holds its own
    rhythm in its 10 s, so its windows carry none)."""
    return dataset in RHYTHM_DATASETS


def model_inputs(split, rhythm: bool) -> np.ndarray:
    """What a model reads from a split: the windows, with the rhythm features appended when
    ``rhythm`` (:func:`join_rhythm`)."""
    if not rhythm:
        return split.x
    if split.rhythm is None:
        raise ValueError(
            f"{split.dataset}/{split.name} has no rhythm features: only MIT-BIH beats carry them "
            "(a PTB-XL record holds its own rhythm); train this model with rhythm=False"
        )
    return join_rhythm(split.x, split.rhythm)


def split_rhythm(x, k: int = N_RHYTHM):
    """A joined batch (b, leads, L + k) -> (windows (b, leads, L), rhythm features (b, k))."""
    if x.shape[-1] <= k:
        raise ValueError(f"split_rhythm: a batch of {x.shape[-1]} samples cannot hold {k} features")
    return x[..., :-k], x[:, 0, -k:]
