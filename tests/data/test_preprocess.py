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
