import numpy as np
import pytest

from ecgkd.data import preprocess as pp


def sine(freq: float, fs: float, seconds: float = 20.0) -> np.ndarray:
    t = np.arange(int(seconds * fs)) / fs
    return np.sin(2 * np.pi * freq * t)


def amplitude(x: np.ndarray, fs: float) -> np.ndarray:
    """Amplitude in the middle half (filters settle at the edges)."""
    n = len(x)
    return np.abs(x[n // 4 : 3 * n // 4]).max()


@pytest.mark.parametrize("freq", [2.0, 10.0, 25.0])
def test_bandpass_keeps_pass_band(freq):
    assert amplitude(pp.bandpass(sine(freq, 500), 500), 500) == pytest.approx(1.0, abs=0.02)


@pytest.mark.parametrize("freq", [0.05, 100.0, 150.0])
def test_bandpass_removes_stop_band(freq):
    assert amplitude(pp.bandpass(sine(freq, 500), 500), 500) < 0.02


def test_bandpass_refuses_band_above_nyquist():
    with pytest.raises(ValueError, match="Nyquist"):
        pp.bandpass(sine(5, 60), 60)


@pytest.mark.parametrize("mains", [50.0, 60.0])
def test_notch_removes_mains_keeps_neighbours(mains):
    assert amplitude(pp.notch(sine(mains, 500), 500, mains), 500) < 0.02
    assert amplitude(pp.notch(sine(10, 500), 500, mains), 500) == pytest.approx(1.0, abs=0.01)


def test_baseline_removal_removes_drift_keeps_qrs():
    fs = 500
    t = np.arange(10 * fs) / fs
    drift = 2.0 * np.sin(2 * np.pi * 0.2 * t)
    spikes = np.zeros_like(t)
    spikes[::fs] = 1.0
    spikes = np.convolve(spikes, np.hanning(21), mode="same")  # 40 ms wide "QRS"
    out = pp.remove_baseline(drift + spikes, fs)
    assert pp.baseline_window(fs) == 201 and pp.baseline_window(360) == 145
    assert np.abs(out - spikes)[fs:-fs].max() < 0.1


def test_resample_keeps_frequency_and_length():
    x = sine(5.0, 360, 10)
    y = pp.resample(x, 360, 500)
    assert len(y) == pp.resampled_length(len(x), 360, 500) == 5000
    spectrum = np.abs(np.fft.rfft(y))
    assert np.fft.rfftfreq(len(y), 1 / 500)[spectrum.argmax()] == pytest.approx(5.0, abs=0.1)
    assert pp.resampled_length(256, 360, 500) == 356


def test_zscore_one_mean_one_std_and_nan_to_zero():
    x = np.array([[1.0, 2.0, np.nan], [3.0, 4.0, 5.0]])
    z = pp.zscore(x)
    assert z[0, 2] == 0.0
    finite = z[np.isfinite(x)]
    assert finite.mean() == pytest.approx(0.0, abs=1e-9) and finite.std() == pytest.approx(
        1.0, abs=1e-6
    )
    assert np.all(pp.zscore(np.full(4, np.nan)) == 0)


def test_fill_nan_interpolates():
    assert pp.fill_nan(np.array([1.0, np.nan, 3.0])).tolist() == [1.0, 2.0, 3.0]


def beat_train(fs: float, st_mv: float, t_mv: float, seconds: float = 20.0) -> np.ndarray:
    """Beats at 60/min in mV: P, QRS, an ST segment shifted by ``st_mv`` from J to the T wave, and a
    T wave of ``t_mv`` above the ST level (tests only)."""
    t = np.arange(int(seconds * fs)) / fs
    x = np.zeros_like(t)
    for r in 0.4 + np.arange(int(seconds) - 1):
        bump = lambda centre, width, mv: mv * np.exp(-0.5 * ((t - centre) / width) ** 2)  # noqa: E731
        x += bump(r - 0.16, 0.025, 0.15) + bump(r, 0.010, 1.2) + bump(r + 0.025, 0.008, -0.25)
        x += st_mv * (np.abs(t - (r + 0.175)) < 0.125) + bump(r + 0.25, 0.04, t_mv)
    return x


def st_and_t(x: np.ndarray, fs: float) -> tuple[float, float]:
    """Mean over the middle beats of the ST level (J + 60 ms) and the T peak, both measured from
    the PR segment, as a reader of an ECG would."""
    levels = []
    for r in 0.4 + np.arange(4, int(len(x) / fs) - 4):
        at = lambda s: int(round((r + s) * fs))  # noqa: E731
        pr = x[at(-0.07) : at(-0.04) + 1].mean()
        levels.append((x[at(0.11)] - pr, x[at(0.2) : at(0.32)].max() - pr))
    st, t = np.mean(levels, axis=0)
    return float(st), float(t)


@pytest.mark.parametrize("fs", [100, 360, 500])
def test_bandpass_alone_keeps_st_elevation_and_t_wave(fs):
    x = beat_train(fs, st_mv=0.20, t_mv=0.30)
    true_st, true_t = st_and_t(x, fs)
    st, t = st_and_t(pp.clean(x, fs, None, "bandpass"), fs)
    assert st == pytest.approx(true_st, abs=0.01) and t == pytest.approx(true_t, rel=0.03)


@pytest.mark.parametrize("fs", [100, 360, 500])
def test_recipe_removes_most_of_an_st_elevation(fs):
    """The defect that keeps the recipe away from models trained here: it halves an ST elevation."""
    x = beat_train(fs, st_mv=0.20, t_mv=0.30)
    st, t = st_and_t(pp.clean(x, fs, None, "recipe"), fs)
    assert st < 0.5 * st_and_t(x, fs)[0]


@pytest.mark.parametrize("fs", [100, 360, 500])
def test_dechazal_keeps_t_wave_st_depression_and_more_elevation_than_the_recipe(fs):
    plain = beat_train(fs, st_mv=0.0, t_mv=0.30)
    assert st_and_t(pp.clean(plain, fs, None, "dechazal"), fs)[1] == pytest.approx(
        st_and_t(plain, fs)[1], rel=0.03
    )
    depressed = beat_train(fs, st_mv=-0.10, t_mv=0.30)
    assert st_and_t(pp.clean(depressed, fs, None, "dechazal"), fs)[0] == pytest.approx(
        st_and_t(depressed, fs)[0], abs=0.01
    )
    raised = beat_train(fs, st_mv=0.20, t_mv=0.30)
    kept = {f: st_and_t(pp.clean(raised, fs, None, f), fs)[0] for f in ("dechazal", "recipe")}
    assert kept["dechazal"] > kept["recipe"] + 0.01


def test_filters_remove_baseline_wander():
    fs = 100
    x = beat_train(fs, st_mv=0.0, t_mv=0.3)
    t = np.arange(len(x)) / fs
    wander = 1.0 * np.sin(2 * np.pi * 0.15 * t)
    for filters in pp.FILTERS:
        out = pp.clean(x + wander, fs, None, filters)
        ref = pp.clean(x, fs, None, filters)
        assert np.abs(out - ref)[2 * fs : -2 * fs].max() < 0.05, filters


def test_student_filters_are_named_per_dataset_and_bad_names_are_refused():
    assert set(pp.STUDENT_FILTERS) == {"mitbih", "ptbxl"}
    assert all(
        pp.student_filters(d) in pp.FILTERS and pp.student_filters(d) != pp.RECIPE
        for d in pp.STUDENT_FILTERS
    )
    with pytest.raises(ValueError, match="filters='median'"):
        pp.clean(np.zeros(1000), 100, None, "median")
    with pytest.raises(ValueError, match="dataset='chapman'"):
        pp.student_filters("chapman")


def test_running_median_matches_scipys_nd_filter_lead_by_lead():
    from scipy import ndimage

    x = np.random.default_rng(0).normal(size=(3, 2, 500))
    expected = ndimage.median_filter(x, size=(1, 1, 41), mode="nearest")
    assert np.array_equal(pp.running_median(x, 100, 0.4), expected)
