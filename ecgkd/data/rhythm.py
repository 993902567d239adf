"""Rhythm features of every MIT-BIH beat, from the annotated R peaks of its own record.

A 0.71 s window shows one beat's shape but not when it came. Since de Chazal et al. (2004), the
RR intervals around a beat are what makes a premature (AAMI S) beat detectable across patients.
Two sets of eight, for beat ``i`` of a record with R peaks ``r`` in seconds (our choice of both):

- **causal** (what a bedside monitor knows when beat ``i`` arrives): ``pre_rr`` = ``r[i] -
  r[i-1]``; ``prev_rr`` = ``r[i-1] - r[i-2]``, the interval before; ``local_rr``, the mean
  ``pre_rr`` of the last :data:`LOCAL_BEATS` beats up to ``i``; ``median_rr``, the running median
  of the last :data:`MEDIAN_BEATS` ``pre_rr`` up to ``i`` (the patient's own rate, normalised
  causally); and the ratios ``pre/local``, ``pre/prev``, ``pre/median``, ``local/median``.
- **look-ahead** (the usual offline set): ``pre_rr``, ``post_rr`` = ``r[i+1] - r[i]``,
  ``local_rr``, ``record_rr`` (the median RR of the whole record, or of the part read in quick
  mode), and ``pre/local``, ``post/pre``, ``pre/record``, ``local/record``. ``post_rr`` needs the
  next beat (a decision one beat late), ``record_rr`` the whole record.

:data:`RHYTHM_SET` names the set every model reads; notebook 01 measures what the causal set
costs against the look-ahead one on validation (:func:`ecgkd.rhythm_head.feature_set_study`). The
first beat of a record has no ``pre_rr`` and takes its next interval (and ``prev_rr`` the same,
for the first two beats): one beat of look-ahead at the start of a recording only. Nothing crosses
a record boundary: each record is computed alone.
"""

from __future__ import annotations

import numpy as np

FEATURE_SETS = {
    "causal": (
        "pre_rr",
        "prev_rr",
        "local_rr",
        "median_rr",
        "pre/local",
        "pre/prev",
        "pre/median",
        "local/median",
    ),
    "lookahead": (
        "pre_rr",
        "post_rr",
        "local_rr",
        "record_rr",
        "pre/local",
        "post/pre",
        "pre/record",
        "local/record",
    ),
}
#: The rhythm features every model reads (our choice, measured on validation in notebook 01): a
#: monitor's, unless validation shows that looking ahead is worth a beat's delay.
RHYTHM_SET = "causal"
RHYTHM_FEATURES = FEATURE_SETS[RHYTHM_SET]
LOCAL_BEATS = 10  # our choice: about 10 s of rhythm at rest
MEDIAN_BEATS = 300  # our choice: the running median remembers about 5 minutes at rest


def running_median(values: np.ndarray, window: int) -> np.ndarray:
    """The median of ``values[max(0, i - window + 1) : i + 1]`` for every ``i``: the past only."""
    out = np.empty(len(values))
    for i in range(len(values)):
        out[i] = np.median(values[max(0, i - window + 1) : i + 1])
    return out


def rr_features(
    r_peaks: np.ndarray,
    fs: float,
    local_beats: int = LOCAL_BEATS,
    feature_set: str = RHYTHM_SET,
) -> np.ndarray:
    """Rhythm features (n_beats, 8) float32 of the beats of one record, the columns of
    ``FEATURE_SETS[feature_set]``.

    ``r_peaks``: sample index of every annotated beat of the record, increasing. Intervals are in
    seconds.
    """
    if feature_set not in FEATURE_SETS:
        raise ValueError(f"feature_set={feature_set!r}: use one of {sorted(FEATURE_SETS)}")
    r = np.asarray(r_peaks, dtype=np.float64)
    if r.ndim != 1 or len(r) < 2:
        raise ValueError(f"rr_features needs two or more R peaks of one record, got {r.shape}")
    if not np.all(np.diff(r) > 0):
        raise ValueError("rr_features: R peaks must be strictly increasing within a record")
    if not fs > 0:
        raise ValueError(f"rr_features: fs={fs!r} must be a positive number of Hz")
    rr = np.diff(r) / fs
    pre = np.concatenate([rr[:1], rr])  # the first beat takes its next interval
    sums = np.concatenate([[0.0], np.cumsum(pre)])
    idx = np.arange(len(r))
    first = np.maximum(0, idx - local_beats + 1)
    local = (sums[idx + 1] - sums[first]) / (idx + 1 - first)
    if feature_set == "causal":
        prev = np.concatenate([pre[:1], pre[:-1]])  # the interval before the previous beat
        median = running_median(pre, MEDIAN_BEATS)
        columns = (pre, prev, local, median, pre / local, pre / prev, pre / median, local / median)
    else:
        post = np.concatenate([rr, rr[-1:]])  # the last beat takes its previous one
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
