"""Rhythm features: computed within one record, from its annotated R peaks (synthetic peaks);
how a model reads them with its window."""

import numpy as np
import pytest
import torch

from ecgkd.data.rhythm import (
    FEATURE_SETS,
    LOCAL_BEATS,
    MEDIAN_BEATS,
    N_RHYTHM,
    RHYTHM_FEATURES,
    has_rhythm,
    join_rhythm,
    model_inputs,
    rr_features,
    split_rhythm,
)
from ecgkd.rhythm_head import RhythmClassifier

FS = 360.0


def column(features: np.ndarray, name: str, feature_set: str = "lookahead") -> np.ndarray:
    return features[:, FEATURE_SETS[feature_set].index(name)]


def lookahead(peaks: np.ndarray) -> np.ndarray:
    return rr_features(peaks, FS, feature_set="lookahead")


def test_steady_rhythm_gives_its_interval_and_ratios_of_one():
    peaks = np.arange(20) * 288  # 0.8 s
    f = lookahead(peaks)
    assert f.shape == (20, len(RHYTHM_FEATURES)) and f.dtype == np.float32
    for name in ("pre_rr", "post_rr", "local_rr", "record_rr"):
        assert np.allclose(column(f, name), 0.8)
    for name in ("pre/local", "post/pre", "pre/record", "local/record"):
        assert np.allclose(column(f, name), 1.0)


def test_first_and_last_beats_borrow_their_only_neighbouring_interval():
    peaks = np.array([0, 360, 900, 1260])  # 1.0 s, 1.5 s, 1.0 s
    f = lookahead(peaks)
    assert column(f, "pre_rr")[0] == column(f, "post_rr")[0] == pytest.approx(1.0)
    assert column(f, "post_rr")[-1] == column(f, "pre_rr")[-1] == pytest.approx(1.0)
    assert np.allclose(column(f, "pre_rr"), [1.0, 1.0, 1.5, 1.0])
    assert np.allclose(column(f, "post_rr"), [1.0, 1.5, 1.0, 1.0])
    assert np.allclose(column(f, "record_rr"), 1.0)  # the median of 1.0, 1.5, 1.0


def test_a_premature_beat_stands_out_in_its_ratios():
    peaks = np.cumsum([0] + [288] * 12 + [180, 396] + [288] * 10)  # early beat, compensatory pause
    f = lookahead(peaks)
    early = 13
    assert column(f, "pre/local")[early] < 0.75 < 0.95 < column(f, "pre/local")[early - 1]
    assert column(f, "post/pre")[early] > 2.0
    assert column(f, "pre/record")[early] == pytest.approx(0.5 / 0.8)


def test_local_average_is_causal_and_follows_a_rate_change():
    peaks = np.cumsum([0] + [360] * 30 + [180] * 30)  # 1.0 s, then 0.5 s
    f = lookahead(peaks)
    local = column(f, "local_rr")
    assert np.allclose(local[:31], 1.0)  # nothing of the faster beats leaks backwards
    assert local[31] == pytest.approx((0.5 + (LOCAL_BEATS - 1) * 1.0) / LOCAL_BEATS)
    assert np.allclose(local[31 + LOCAL_BEATS - 1 :], 0.5)
    changed = lookahead(np.concatenate([peaks[:31], peaks[31:] + 100]))
    assert np.array_equal(column(changed, "local_rr")[:31], local[:31])


def test_records_are_computed_alone_and_bad_peaks_are_refused():
    a, b = np.arange(10) * 300, np.arange(10) * 200
    assert np.array_equal(rr_features(a, FS), rr_features(a, FS))
    assert not np.allclose(column(lookahead(b), "record_rr"), 300 / FS)
    with pytest.raises(ValueError, match="two or more"):
        rr_features(np.array([5]), FS)
    with pytest.raises(ValueError, match="increasing"):
        rr_features(np.array([0, 300, 300]), FS)
    with pytest.raises(ValueError, match="feature_set='psychic'"):
        rr_features(a, FS, feature_set="psychic")


def test_causal_features_of_a_beat_know_nothing_of_later_beats():
    """What a bedside monitor knows: change every beat after beat j, and the causal features of
    beats 1..j stay as they were (beat 0 borrows its next interval, the one exception); the
    look-ahead set does change there, which is why it is the one with a delay."""
    rng = np.random.default_rng(0)
    peaks = np.cumsum(rng.integers(200, 400, size=400))
    later = peaks.copy()
    j = 250
    later[j + 1 :] += rng.integers(1, 50, size=len(peaks) - j - 1).cumsum()
    causal, moved = rr_features(peaks, FS), rr_features(later, FS)
    assert FEATURE_SETS["causal"] == RHYTHM_FEATURES  # the set every model reads
    assert np.array_equal(causal[1 : j + 1], moved[1 : j + 1])
    assert not np.array_equal(lookahead(peaks)[1 : j + 1], lookahead(later)[1 : j + 1])


def test_the_running_median_follows_the_past_and_flags_a_premature_beat():
    peaks = np.cumsum([0] + [360] * (MEDIAN_BEATS + 20) + [180] * (MEDIAN_BEATS + 20))
    f = rr_features(peaks, FS)
    median = column(f, "median_rr", "causal")
    assert np.allclose(median[: MEDIAN_BEATS + 21], 1.0)  # nothing of the faster beats leaks back
    assert np.allclose(median[-10:], 0.5)  # a window's worth of fast beats later: the new rate
    early = np.cumsum([0] + [288] * 12 + [180, 396] + [288] * 10)
    g = rr_features(early, FS)
    assert column(g, "pre/prev", "causal")[13] == pytest.approx(0.5 / 0.8)
    assert column(g, "pre/median", "causal")[13] == pytest.approx(0.5 / 0.8)
    assert column(g, "prev_rr", "causal")[14] == pytest.approx(0.5)


def test_joined_inputs_carry_the_window_and_the_rhythm_unchanged():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(5, 2, 16)).astype(np.float32)
    rhythm = rng.uniform(0.3, 1.5, size=(5, N_RHYTHM)).astype(np.float32)
    joined = join_rhythm(x, rhythm)
    assert joined.shape == (5, 2, 16 + N_RHYTHM)
    assert np.array_equal(joined[:, 1, 16:], rhythm)  # every lead carries the features
    window, tail = split_rhythm(torch.from_numpy(joined))
    assert torch.equal(window, torch.from_numpy(x))
    assert torch.equal(tail, torch.from_numpy(rhythm))
    with pytest.raises(ValueError, match="same n"):
        join_rhythm(x, rhythm[:4])


def test_model_inputs_refuse_a_split_without_rhythm():
    from conftest import windows

    beats, records = windows("val", 6, 0), windows("val", 8, 0, "ptbxl")
    assert model_inputs(beats, False) is beats.x
    assert model_inputs(beats, True).shape == (6, 1, 256 + N_RHYTHM)
    assert has_rhythm("mitbih") and not has_rhythm("ptbxl")
    with pytest.raises(ValueError, match="ptbxl/val has no rhythm features"):
        model_inputs(records, True)


def test_rhythm_classifier_needs_its_anchor_and_reads_the_rhythm_through_it():
    torch.manual_seed(0)
    head = RhythmClassifier(4, N_RHYTHM).eval()
    x = torch.cat([torch.randn(3, 1, 10), torch.full((3, 1, N_RHYTHM), 0.8)], dim=2)
    window, rhythm = head.split(x)
    pooled = window.mean(-1).repeat(1, 4)
    with pytest.raises(RuntimeError, match="no anchor"):
        head(pooled, rhythm)
    assert not any(p.requires_grad for n, p in head.named_parameters() if n.startswith("anchor"))
    plain = RhythmClassifier(4)
    assert plain.split(x)[1] is None and plain(pooled).shape == (3, 1)
    assert plain.linear.weight.abs().sum() > 0  # a window-only head keeps torch's initialisation
