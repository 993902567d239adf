"""The teacher stage: input view, zero-shot head, stand-in and real-weights fine-tuning, cached
outputs."""

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

import ecgkd.config
from conftest import synthetic_rhythm
from ecgkd.config import ConfigError
from ecgkd.data.rhythm import N_RHYTHM, model_inputs
from ecgkd.data.split import PreparedData, Split
from ecgkd.modelinfo import count_parameters
from ecgkd.scoring.metrics import roc_auc
from ecgkd.teacher import (
    ECGFOUNDER,
    STAND_IN,
    CheckpointError,
    Net1D,
    StaleOutputsError,
    ZeroShot,
    ecgfounder_config,
    load_outputs,
    scaled_config,
    teacher_inputs,
    teacher_outputs,
    teacher_spec,
    train_teacher,
)
from ecgkd.teacher.checkpoint import read_checkpoint, released_weights
from ecgkd.teacher.finetune import (
    ZERO_SHOT_OUTPUTS,
    teacher_finished,
    train_teachers,
)
from ecgkd.teacher.net1d import architecture_table
from ecgkd.teacher.outputs import expand_to_windows
from ecgkd.train import TrainSettings

TASKS = Path(ecgkd.config.PACKAGE_DIR) / "teacher" / "ecgfounder_tasks.txt"
TINY = TrainSettings(epochs=2, batch_size=8, lr=1e-3, patience=2)


def beat_split(
    name: str,
    n: int,
    seed: int,
    dataset: str = "mitbih",
    leads: int = 1,
    length: int = 256,
    fs: float = 360,
) -> Split:
    """Windows whose abnormal ones carry an extra fast oscillation: learnable, not trivial."""
    rng = np.random.default_rng(seed)
    y = np.tile([0, 1], n // 2).astype(np.int64)
    t = np.arange(length) / fs
    x = rng.normal(scale=0.3, size=(n, leads, length)) + np.sin(2 * np.pi * 1.5 * t)
    x += y[:, None, None] * np.sin(2 * np.pi * 12 * t)
    rec = np.array([f"{name}{i // 2}" for i in range(n)])
    return Split(
        name,
        dataset,
        x.astype(np.float32),
        y,
        rec,
        rec,
        np.zeros(n, np.int64),
        fs,
        tuple(f"L{i}" for i in range(leads)),
        rhythm=synthetic_rhythm(rng, y) if dataset == "mitbih" else None,
    )


@pytest.fixture
def cfg(tmp_path):
    return ecgkd.config.load(
        env={"ECGKD_QUICK": "1", "ECGKD_DEVICE": "cpu"}, cache_root=tmp_path / "cache"
    )


def test_teacher_inputs_resample_and_zscore_each_example():
    fs, n = 360, 256
    t = np.arange(n) / fs
    x = np.stack([np.sin(2 * np.pi * 5 * t) * 3 + 2, np.cos(2 * np.pi * 5 * t)])[:, None, :]
    view = teacher_inputs(x, fs)
    assert view.shape == (2, 1, 356) and view.dtype == np.float32
    assert np.allclose(view.mean(axis=(1, 2)), 0, atol=1e-6) and np.allclose(
        view.std(axis=(1, 2)), 1, atol=1e-4
    )
    spectrum = np.abs(np.fft.rfft(view[0, 0]))
    assert np.argmax(spectrum) * 500 / 356 == pytest.approx(
        5, abs=1.5
    )  # still 5 Hz after resampling
    assert teacher_inputs(np.zeros((1, 12, 1000)), 100).shape == (1, 12, 5000)
    with pytest.raises(ValueError, match="n, leads, time"):
        teacher_inputs(np.zeros((12, 1000)), 100)


def test_zero_shot_is_abnormal_minus_normal_output():
    names = TASKS.read_text().splitlines()
    assert len(names) == 150 and names[0] == "ABNORMAL ECG" and names[2] == "NORMAL ECG"
    assert ZERO_SHOT_OUTPUTS == {"abnormal": 0, "normal": 2}
    model = Net1D(scaled_config(ecgfounder_config(1, 150), 0.25, 0.25))
    x = torch.randn(3, 1, 356)
    full = model(x)
    assert torch.allclose(ZeroShot(model)(x), full[:, 0] - full[:, 2])
    with pytest.raises(ValueError, match="150-label"):
        ZeroShot(Net1D(scaled_config(ecgfounder_config(1, 1), 0.25, 0.25)))


def test_architecture_table_adds_up():
    model = Net1D(ecgfounder_config(12))
    table = architecture_table(model, 5000)
    assert table["parameters"].sum() == count_parameters(model) == 30_819_014
    assert table.loc["stage 6", "time steps out"] == 20


def test_weights_folder_errors_name_the_file(tmp_path):
    assert released_weights(None, 12) is None
    with pytest.raises(CheckpointError, match="12_lead_ECGFounder.pth"):
        released_weights(tmp_path, 12)
    with pytest.raises(ConfigError, match="ECGKD_WEIGHTS"):
        ecgkd.config.load(env={"ECGKD_WEIGHTS": str(tmp_path / "nowhere")})
    assert ecgkd.config.load(env={"ECGKD_WEIGHTS": str(tmp_path)}).weights == tmp_path.resolve()


def test_specs_follow_the_mode(cfg):
    quick = teacher_spec(cfg, "mitbih")
    assert (
        quick.is_stand_in
        and quick.label.startswith(STAND_IN)
        and (quick.width, quick.depth) == (0.25, 0.5)
    )
    full = teacher_spec(cfg.with_(quick=False), "ptbxl")
    assert full.label == STAND_IN and full.leads == 12
    real = teacher_spec(cfg, "mitbih", weights="x.pth")
    assert (
        real.label == f"{ECGFOUNDER} (fine-tuned) + rhythm" and real.settings.lr == 1e-4
    )  # the official recipe, with the beats' rhythm in the head
    window_only = teacher_spec(cfg, "mitbih", weights="x.pth", rhythm=False)
    assert window_only.label == f"{ECGFOUNDER} (fine-tuned)" and not full.rhythm
    with pytest.raises(ValueError, match="no rhythm features"):
        teacher_spec(cfg, "ptbxl", rhythm=True)
    with pytest.raises(ValueError, match="pretrained"):
        teacher_spec(cfg, "mitbih", method="linear")
    with pytest.raises(ValueError, match="dataset"):
        teacher_spec(cfg, "ptb")


def test_stand_in_is_labelled_cached_and_reproducible(cfg, tmp_path):
    train, val = beat_split("train", 48, 0), beat_split("val", 24, 1)
    run = train_teacher(cfg, train, val, settings=TINY, progress=False)
    saved = read_checkpoint(run.checkpoint)
    assert saved["teacher"].startswith(STAND_IN) and saved["key"] == run.key
    assert set(saved) >= {
        "epoch",
        "step",
        "state_dict",
        "optimizer",
        "scheduler",
        "val_auroc",
    }  # official keys
    assert not (run.checkpoint.parent / "fit-state.pt").exists()
    again = train_teacher(cfg, train, val, settings=TINY, progress=False)
    assert again.fit.reused and again.threshold == run.threshold
    assert np.array_equal(again.logits(val), run.logits(val))
    other = train_teacher(
        cfg.with_(cache_root=tmp_path / "elsewhere"), train, val, settings=TINY, progress=False
    )
    assert not other.fit.reused and np.array_equal(other.logits(val), run.logits(val))


@pytest.fixture(scope="module")
def released_1lead(tmp_path_factory) -> Path:
    """A 1-lead checkpoint in the official format (random weights), standing in for the real
    file."""
    torch.manual_seed(1)
    model = Net1D(ecgfounder_config(1))
    folder = tmp_path_factory.mktemp("weights")
    torch.save(
        {
            "epoch": 3,
            "step": 10,
            "state_dict": model.state_dict(),
            "optimizer": {},
            "scheduler": {},
            "val_auroc": 0.9,
        },
        folder / "1_lead_ECGFounder.pth",
    )
    return folder


def test_real_weights_path_fine_tunes_with_zero_shot(cfg, released_1lead):
    train, val, test = beat_split("train", 16, 0), beat_split("val", 8, 1), beat_split("test", 8, 2)
    weights = released_weights(released_1lead, 1)
    run = train_teacher(
        cfg,
        train,
        val,
        weights=weights,
        test=test,
        progress=False,
        settings=TrainSettings(epochs=1, batch_size=8),
    )
    assert (
        run.label == f"{ECGFOUNDER} (fine-tuned) + rhythm"
        and STAND_IN not in read_checkpoint(run.checkpoint)["teacher"]
    )
    assert set(run.zero_shot) == {"val", "test"} and len(run.zero_shot["test"]) == 8
    original = Net1D(ecgfounder_config(1))
    original.load_state_dict(torch.load(weights, weights_only=True)["state_dict"])
    expected = (
        ZeroShot(original.eval())(torch.from_numpy(teacher_inputs(test.x, test.fs)))
        .detach()
        .numpy()
    )
    assert np.allclose(run.zero_shot["test"], expected, atol=1e-5)


@pytest.mark.parametrize("rhythm", [False, True])
def test_linear_probe_changes_only_the_head(cfg, released_1lead, rhythm):
    train, val = beat_split("train", 16, 0), beat_split("val", 8, 1)
    weights = released_weights(released_1lead, 1)
    run = train_teacher(
        cfg,
        train,
        val,
        weights=weights,
        method="linear",
        progress=False,
        settings=TrainSettings(epochs=3, batch_size=8, lr=1e-2),
        rhythm=rhythm,
    )
    assert run.label == f"{ECGFOUNDER} (linear probe)" + (" + rhythm" if rhythm else "")
    state = torch.load(weights, weights_only=True)["state_dict"]
    trained = run.model.state_dict()
    assert all(torch.equal(trained[k], v) for k, v in state.items() if not k.startswith("dense."))
    head = "dense.linear.weight" if rhythm else "dense.weight"
    assert trained[head].shape == (1, 1024)  # the window's layer; rhythm goes through the anchor
    if rhythm:
        assert trained["dense.anchor.coef"].shape == (N_RHYTHM,) and run.model.dense.anchor.is_set
    # the probe's head is the model's head: its logits on validation are the probe's
    assert np.isclose(run.fit.best_score, roc_auc(val.y, run.logits(val)), atol=1e-6)


def test_teacher_with_rhythm_reads_window_and_rhythm(cfg):
    train, val = beat_split("train", 48, 0), beat_split("val", 24, 1)
    x = model_inputs(val, rhythm=True)
    joined = teacher_inputs(x, val.fs, rhythm=N_RHYTHM)
    assert np.array_equal(joined[..., -N_RHYTHM:], x[..., -N_RHYTHM:])
    assert np.array_equal(joined[..., :-N_RHYTHM], teacher_inputs(val.x, val.fs))
    run = train_teacher(cfg, train, val, settings=TINY, progress=False)
    assert run.spec.rhythm and run.model.config.rhythm == N_RHYTHM
    earlier = replace(val, rhythm=val.rhythm * 0.5)
    assert not np.allclose(run.logits(val), run.logits(earlier))
    window_only = train_teacher(cfg, train, val, settings=TINY, progress=False, rhythm=False)
    assert window_only.key != run.key and not window_only.spec.rhythm
    assert np.allclose(window_only.logits(val), window_only.logits(earlier))


def test_outputs_are_cached_checked_and_expanded(cfg, monkeypatch):
    splits = {s: beat_split(s, 16, i) for i, s in enumerate(("train", "val", "test"))}
    data = PreparedData("mitbih", splits)
    run = train_teacher(cfg, splits["train"], splits["val"], settings=TINY, progress=False)
    first = teacher_outputs(cfg, run, data, progress=False, features=True)
    assert first["test"].features.shape == (16, run.model.config.feature_dim)
    assert np.allclose(first["test"].logits, run.logits(splits["test"]))
    assert first["test"].teacher.startswith(STAND_IN)
    monkeypatch.setattr(
        type(run), "logits", lambda *a, **k: (_ for _ in ()).throw(AssertionError("recomputed"))
    )
    again = teacher_outputs(cfg, run, data, progress=False)
    assert np.array_equal(again["train"].logits, first["train"].logits)
    with pytest.raises(StaleOutputsError, match="other windows"):
        again["test"].check(splits["train"])
    with pytest.raises(StaleOutputsError, match="model"):
        again["test"].check(splits["test"], model_fingerprint="0" * 16)
    files = sorted((Path(cfg.cache_root) / "teacher_outputs").glob("*.npz"))
    assert len(files) == 3 and load_outputs(files[0]).model_fingerprint == run.fingerprint


def test_records_outputs_go_to_their_windows():
    windows = beat_split("test", 8, 0, dataset="ptbxl", length=256, fs=100)
    records = np.array(sorted(set(windows.record)))
    logits = np.arange(len(records), dtype=np.float32)
    expanded = expand_to_windows(logits, records, windows)
    assert np.array_equal(expanded, [logits[list(records).index(r)] for r in windows.record])
    with pytest.raises(ValueError, match="no teacher output"):
        expand_to_windows(logits[:1], records[:1], windows)


def test_nan_teacher_logits_are_refused_by_name():
    from ecgkd.teacher.finetune import finite_logits

    ok = np.array([0.5, -1.0], dtype=np.float32)
    assert finite_logits(ok, "teacher on mitbih/train") is ok
    with pytest.raises(FloatingPointError, match="teacher on mitbih/train.*NaN"):
        finite_logits(np.array([0.5, np.nan]), "teacher on mitbih/train")


def test_teacher_filters_keep_the_recipe_for_released_weights_only():
    from ecgkd.data import RECIPE, student_filters
    from ecgkd.teacher.stage import teacher_filters

    for dataset in ("mitbih", "ptbxl"):
        assert teacher_filters("ECGFounder.pth", dataset) == RECIPE
        assert teacher_filters(None, dataset) == student_filters(dataset) != RECIPE


def test_outputs_of_a_differently_filtered_view_stay_row_for_row(cfg):
    """MIT-BIH under released weights: the teacher reads the recipe-filtered copies of the
    students' windows (another object, same rows); its logits must not be spread by record."""
    splits = {s: beat_split(s, 16, i) for i, s in enumerate(("train", "val", "test"))}
    students = PreparedData("mitbih", splits)
    view = PreparedData("mitbih", {s: sp.subset(np.arange(len(sp))) for s, sp in splits.items()})
    for split in view.splits.values():
        split.x = split.x * 0.5 + 0.1
    run = train_teacher(cfg, view.train, view.val, settings=TINY, progress=False)
    out = teacher_outputs(cfg, run, students, view, progress=False)
    assert np.allclose(out["test"].logits, run.logits(view["test"]))
    assert not np.allclose(out["test"].logits, run.logits(students["test"]))


def test_a_stand_in_teacher_survives_one_epoch_without_a_gain(cfg):
    """Issue 32, defect 2: a stand-in stopped at its first epoch without a better validation AUROC
    (patience 1), after 64 steps in full mode. Now it trains until two epochs in a row bring none,
    within a cap of several epochs, in both modes and for the fold teachers too."""
    from ecgkd.teacher.crossfit import fold_settings

    for mode in (cfg, cfg.with_(quick=False)):
        settings = teacher_spec(mode, "mitbih").settings
        assert settings.patience >= 2 and settings.epochs >= settings.patience + 3
        assert fold_settings(settings, 0.5).patience == settings.patience


def test_teachers_trained_side_by_side_equal_those_trained_one_after_another(cfg, tmp_path):
    """train_teachers (two workers, one thread each) caches the same teachers as train_teacher
    called in this process, whatever this process's own thread count."""
    train, val = beat_split("train", 48, 0), beat_split("val", 24, 1)
    calls = [
        {"train": train, "val": val, "settings": TINY},
        {"train": train.subset(np.arange(24)), "val": val, "settings": TINY},
    ]
    side_by_side = cfg.with_(n_jobs=2)
    assert not any(teacher_finished(side_by_side, **call) for call in calls)
    train_teachers(side_by_side, calls, progress=False)
    assert all(teacher_finished(side_by_side, **call) for call in calls)
    alone = cfg.with_(cache_root=tmp_path / "alone", n_jobs=1)
    torch.set_num_threads(2)  # this process's setting plays no part in a teacher's training
    try:
        for call in calls:
            reloaded = train_teacher(side_by_side, **call, progress=False)
            trained = train_teacher(alone, **call, progress=False)
            assert reloaded.fit.reused and not trained.fit.reused
            for name, weights in trained.model.state_dict().items():
                assert torch.equal(weights, reloaded.model.state_dict()[name]), name
    finally:
        torch.set_num_threads(1)


def test_both_views_teachers_train_in_one_pool_where_the_data_carry_rhythm():
    """Asking for the MIT-BIH teacher trains the window-only one beside it (one pool of six);
    the window-only teacher alone, and PTB-XL, pool their own view only."""
    from ecgkd.teacher.stage import teacher_views

    assert teacher_views("mitbih") == teacher_views("mitbih", True) == (True, False)
    assert teacher_views("mitbih", False) == (False,)
    assert teacher_views("ptbxl") == teacher_views("ptbxl", False) == (False,)
