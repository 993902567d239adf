"""Students and the distillation sweep, on small synthetic windows."""

import math
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from torch import nn

import ecgkd.config
from conftest import student_data
from ecgkd.data.rhythm import N_RHYTHM
from ecgkd.modelinfo import describe, model_fingerprint, size_on_disk
from ecgkd.scoring.metrics import unit_scores
from ecgkd.students.grid import (
    Grid,
    StudentJob,
    finished_runs,
    job_key,
    results_path,
    run_grid,
    selected_jobs,
    train_student,
    weights_path,
)
from ecgkd.students.models import CNN1D, ResidualBlock, ResNet1D, build_student
from ecgkd.students.stage import (
    QUICK_WIDTH,
    chosen_filters,
    classical_jobs,
    filter_summary,
    grid_plan,
    window_only_jobs,
)
from ecgkd.students.tables import gain_table
from ecgkd.train import TrainSettings, predict, torch_threads

SETTINGS = TrainSettings(epochs=2, batch_size=16, lr=3e-3, patience=2)


@pytest.mark.parametrize("cls, limit", [(ResNet1D, 200_000), (CNN1D, 50_000)])
def test_students_shapes_and_sizes(cls, limit):
    model = cls()
    assert model(torch.randn(3, 1, 256)).shape == (3, 1)
    info = describe(model)
    assert 1_000 < info["parameters"] < limit
    assert info["bytes on disk"] == size_on_disk(model) > 4 * info["parameters"]


def test_width_and_depth_change_the_size():
    assert describe(ResNet1D(width=0.5))["parameters"] < describe(ResNet1D())["parameters"]
    assert describe(CNN1D(depth=2))["parameters"] < describe(CNN1D())["parameters"]
    with pytest.raises(ValueError, match="depth"):
        CNN1D(depth=9)
    with pytest.raises(ValueError, match="student"):
        build_student("lstm", 0)


@pytest.mark.parametrize("cls", [ResNet1D, CNN1D])
def test_students_with_rhythm_read_it_through_their_fixed_anchor(cls):
    torch.manual_seed(0)
    plain, joined = cls(), cls(rhythm=N_RHYTHM)
    # the anchor (scaler means and scales, weights, bias) is fixed; nothing trainable is added
    extra = describe(joined)["parameters"] - describe(plain)["parameters"]
    assert extra == 3 * N_RHYTHM + 1
    assert describe(joined)["trainable parameters"] == describe(plain)["trainable parameters"]
    window = torch.randn(4, 1, 256)
    beats = torch.cat([window, torch.full((4, 1, N_RHYTHM), 0.9)], dim=2)
    early = torch.cat([window, torch.full((4, 1, N_RHYTHM), 0.6)], dim=2)
    joined.eval()
    with pytest.raises(RuntimeError, match="no anchor"):
        joined(beats)
    rng = np.random.default_rng(0)
    rhythm = rng.uniform(0.5, 1.2, size=(40, N_RHYTHM))
    labels = (rhythm[:, 0] < 0.8).astype(int)  # early beats are abnormal
    baseline = make_pipeline(StandardScaler(), LogisticRegression()).fit(rhythm, labels)
    joined.head.set_anchor(baseline)
    assert joined(beats).shape == (4, 1)
    assert torch.all(joined(early) > joined(beats))  # it reads the rhythm
    with pytest.raises(ValueError):
        joined(torch.randn(4, 1, 4))  # too short to hold the rhythm features


def test_only_kd_runs_are_keyed_by_the_teachers_targets():
    data = student_data()
    other = replace(data, teacher_fingerprint="another teacher")
    no_kd = StudentJob("mitbih", "cnn1d", math.nan, 0.0, 0)
    with_kd = StudentJob("mitbih", "cnn1d", 2.0, 0.5, 0)
    assert job_key(no_kd, data, SETTINGS) == job_key(no_kd, other, SETTINGS)
    assert job_key(with_kd, data, SETTINGS) != job_key(with_kd, other, SETTINGS)


def test_rhythm_runs_read_the_rhythm_and_say_so():
    data = student_data()
    job = StudentJob("mitbih", "cnn1d", math.nan, 0.0, 0, rhythm=True)
    record = train_student(job, data, SETTINGS).record
    assert record["model"] == "CNN-1D + rhythm" and record["rhythm"]
    plain = train_student(replace(job, rhythm=False), data, SETTINGS).record
    assert plain["model"] == "CNN-1D" and not plain["rhythm"]
    assert record["parameters"] == plain["parameters"] + 3 * N_RHYTHM + 1
    assert job_key(job, data, SETTINGS) != job_key(replace(job, rhythm=False), data, SETTINGS)
    with pytest.raises(ValueError, match="no rhythm features"):
        train_student(replace(job, dataset="ptbxl"), student_data("ptbxl"), SETTINGS)


def test_window_only_ablation_takes_no_kd_and_the_rhythm_grids_best_cell():
    cfg = ecgkd.config.load(env={"ECGKD_QUICK": "1"})
    jobs = classical_jobs(cfg, "mitbih")
    assert all(j.rhythm for j in jobs) and not any(j.rhythm for j in classical_jobs(cfg, "ptbxl"))
    rows = []
    for j in jobs:
        best = (j.temperature, j.alpha) == (4.0, 0.5)  # validation prefers this cell
        rows.append({**j.as_dict(), "val_auroc": 0.9 if best else 0.8, "test_auroc": 0.5})
    grid = pd.DataFrame(rows).assign(model=lambda t: t["student"])
    ablation = window_only_jobs(grid)
    assert len(ablation) == 2 * 2  # two students x (no KD, best cell), one seed
    assert not any(j.rhythm for j in ablation)
    cells = {
        (j.student, j.alpha, None if math.isnan(j.temperature) else j.temperature) for j in ablation
    }
    assert cells == {(s, a, t) for s in ("cnn1d", "resnet1d") for a, t in ((0.0, None), (0.5, 4.0))}
    assert {j.width for j in ablation if j.student == "resnet1d"} == {
        QUICK_WIDTH["resnet1d"]
    }  # the grid's width
    assert window_only_jobs(pd.DataFrame(columns=["key"])) == []
    seeds = pd.concat([grid.assign(seed=s) for s in (2, 0, 1)], ignore_index=True)
    seeds.loc[(seeds.seed == 0) & (seeds.alpha == 0.5), "val_auroc"] = 0.7  # not on seed 0 alone
    assert window_only_jobs(seeds) == ablation  # the first seed, the best cell by the seeds' mean


def test_resnet_pools_between_blocks_and_keeps_wangs_network():
    """Our ResNet-1D halves the length between blocks; pool=False at 64/128/128 is Wang et al.'s
    own."""
    lengths = []
    model = ResNet1D()
    for block in model.blocks:
        block.register_forward_hook(
            lambda m, i, o: lengths.append(o.shape[-1]) if isinstance(m, ResidualBlock) else None
        )
    model(torch.randn(2, 1, 256))
    assert lengths == [256, 128, 64]
    wang = ResNet1D.wang()
    assert describe(wang)["parameters"] == 502_721 and not any(
        isinstance(m, nn.MaxPool1d) for m in wang.modules()
    )
    assert wang(torch.randn(2, 1, 256)).shape == (2, 1)


def test_resnet_names_depth_when_pooling_leaves_no_samples():
    """Nine pooled blocks need 256 samples; ten would pool a 256-sample window away inside torch."""
    assert ResNet1D(depth=9, channels=(4,))(torch.randn(2, 1, 256)).shape == (2, 1)
    with pytest.raises(ValueError, match="depth=10"):
        ResNet1D(depth=10, channels=(4,))(torch.randn(1, 1, 256))


def test_same_seed_same_initial_weights():
    assert model_fingerprint(build_student("cnn1d", 3)) == model_fingerprint(
        build_student("cnn1d", 3)
    )
    assert model_fingerprint(build_student("cnn1d", 3)) != model_fingerprint(
        build_student("cnn1d", 4)
    )


def test_kd_and_no_kd_runs_of_a_seed_start_from_the_same_weights():
    data = student_data()
    plain_run = train_student(StudentJob("mitbih", "cnn1d", math.nan, 0.0, 5), data, SETTINGS)
    kd_run = train_student(StudentJob("mitbih", "cnn1d", 4.0, 0.5, 5), data, SETTINGS)
    other = train_student(StudentJob("mitbih", "cnn1d", 4.0, 0.5, 6), data, SETTINGS).record
    (plain, plain_model), (kd, kd_model) = ((r.record, r.model) for r in (plain_run, kd_run))
    assert plain["initial_weights"] == kd["initial_weights"] != other["initial_weights"]
    assert plain["kd"] is False and kd["kd"] is True
    assert model_fingerprint(plain_model) != model_fingerprint(
        kd_model
    )  # same start, different loss


def test_record_is_tidy_and_reproducible():
    data = student_data()
    job = StudentJob("mitbih", "resnet1d", 2.0, 0.75, 0, width=0.25)
    first, second = (train_student(job, data, SETTINGS).record for _ in range(2))
    for key in (
        "dataset",
        "student",
        "temperature",
        "alpha",
        "seed",
        "kd",
        "teacher",
        "test_auroc",
        "test_f1",
        "val_auroc",
        "parameters",
        "bytes on disk",
        "best_epoch",
    ):
        assert key in first
    assert {k: v for k, v in first.items() if k != "seconds"} == {
        k: v for k, v in second.items() if k != "seconds"
    }


def test_ptbxl_is_scored_per_record():
    record = train_student(
        StudentJob("ptbxl", "cnn1d", 2.0, 0.5, 0), student_data("ptbxl"), SETTINGS
    ).record
    assert record["test_n"] == 12  # 48 windows, 4 per record


def test_grid_runs_alpha_zero_once_per_seed():
    cfg = ecgkd.config.load(env={"ECGKD_QUICK": "0"})
    jobs = [j for j in classical_jobs(cfg, "mitbih") if j.student == "cnn1d"]
    assert len(jobs) == 3 * (1 + 3 * 3)  # 3 seeds x (no KD + 3 T x 3 alpha > 0)
    assert sum(j.alpha == 0 for j in jobs) == 3 and all(
        math.isnan(j.temperature) for j in jobs if j.alpha == 0
    )
    quick = classical_jobs(cfg.with_(quick=True), "mitbih")
    assert {j.seed for j in quick} == {cfg.seed} and len(quick) == 2 * (1 + 2 * 2)


def test_run_grid_appends_and_skips_finished_runs(tmp_path, monkeypatch):
    data = student_data()
    jobs = [
        StudentJob("mitbih", "cnn1d", math.nan, 0.0, 0),
        StudentJob("mitbih", "cnn1d", 2.0, 1.0, 0),
    ]
    csv = tmp_path / "results.csv"
    table = run_grid(jobs[:1], data, SETTINGS, csv, progress=False)
    assert len(table) == 1 and len(pd.read_csv(csv)) == 1
    table = run_grid(jobs, data, SETTINGS, csv, progress=False)
    assert len(table) == 2 and len(pd.read_csv(csv)) == 2
    assert set(table["key"]) == {job_key(j, data, SETTINGS) for j in jobs}
    import ecgkd.students.grid as grid_mod

    monkeypatch.setattr(
        grid_mod, "train_student", lambda *a, **k: (_ for _ in ()).throw(AssertionError("rerun"))
    )
    assert len(run_grid(jobs, data, SETTINGS, csv, progress=False)) == 2  # nothing retrained
    more = jobs + [StudentJob("mitbih", "cnn1d", 4.0, 1.0, 0)]
    assert len(finished_runs(more, data, SETTINGS, csv)) == 2  # only what is done, nothing trained
    assert len(finished_runs(jobs, data, SETTINGS, csv, model_code="other builder")) == 0
    assert len(finished_runs(jobs, data, SETTINGS, tmp_path / "missing.csv")) == 0
    gains = gain_table(table)
    assert len(gains) == 1 and gains["gain"].iloc[0] == pytest.approx(
        table.loc[table.alpha == 1, "test_auroc"].iloc[0]
        - table.loc[table.alpha == 0, "test_auroc"].iloc[0]
    )


def test_grid_keeps_each_runs_weights_and_reloading_gives_its_row(tmp_path, monkeypatch, capsys):
    cfg = ecgkd.config.load(env={"ECGKD_QUICK": "1", "ECGKD_JOBS": "1"}, cache_root=tmp_path)
    grid = Grid(cfg, "students", SETTINGS)
    data = student_data()
    jobs = [
        StudentJob("mitbih", "cnn1d", math.nan, 0.0, 0),
        StudentJob("mitbih", "cnn1d", 2.0, 1.0, 0),
    ]
    table = grid.run(jobs, data, progress=False)
    csv = grid.path("mitbih")
    assert csv.parent == tmp_path / "results" and csv.is_file()
    for key in table["key"]:
        state = torch.load(weights_path(csv, key), weights_only=False)
        assert state["done"] and "optimizer" not in state  # best weights and curves only
    real_step = torch.optim.AdamW.step
    monkeypatch.setattr(
        torch.optim.AdamW, "step", lambda *a, **k: (_ for _ in ()).throw(AssertionError("trained"))
    )
    scores = [c for c in table.columns if c.startswith("test_") or c in ("val_auroc", "best_epoch")]
    for job, (_, row) in zip(jobs, table.iterrows(), strict=True):
        selection = grid.select(job, data)
        assert selection.key == row["key"] and selection.weights == weights_path(csv, row["key"])
        run = grid.load(selection, data)
        assert {c: run.record[c] for c in scores} == {c: row[c] for c in scores}
        assert len(run.history) == row["epochs_run"]
        for name, (y, logits) in run.scores.items():  # what the comparison reuses
            split = data.splits[name]
            with torch_threads(1):
                expected = unit_scores(split, predict(run.model, split.x))
            np.testing.assert_array_equal(y, expected[0])
            np.testing.assert_array_equal(logits, expected[1])
    assert capsys.readouterr().err == ""
    assert grid.finished(jobs, data)["key"].tolist() == table["key"].tolist()
    monkeypatch.setattr(torch.optim.AdamW, "step", real_step)
    weights_path(csv, table["key"].iloc[1]).unlink()  # lost: trained again from its seed, and said
    run = grid.load(grid.select(jobs[1], data), data)
    assert "no saved weights" in capsys.readouterr().err
    assert run.record["test_auroc"] == table["test_auroc"].iloc[1]
    assert weights_path(csv, table["key"].iloc[1]).is_file()


def test_selected_jobs_are_no_kd_and_the_best_kd_cell_by_mean_validation():
    """One rule picks every configuration a later step uses: per model, no KD and the KD cell with
    the best mean validation AUROC over seeds (never the test AUROC), for the seeds asked."""
    rows = pd.DataFrame(
        [
            # dataset, model, student, T, alpha, seed, val, test
            ("mitbih", "CNN-1D", "cnn1d", math.nan, 0.0, 0, 0.80, 0.99),
            ("mitbih", "CNN-1D", "cnn1d", math.nan, 0.0, 1, 0.80, 0.99),
            ("mitbih", "CNN-1D", "cnn1d", 2.0, 0.5, 0, 0.90, 0.10),  # best on validation
            ("mitbih", "CNN-1D", "cnn1d", 2.0, 0.5, 1, 0.88, 0.10),
            ("mitbih", "CNN-1D", "cnn1d", 4.0, 1.0, 0, 0.95, 0.99),  # best on one seed only
            ("mitbih", "CNN-1D", "cnn1d", 4.0, 1.0, 1, 0.70, 0.99),
            ("mitbih", "MLP", "mlp", math.nan, 0.0, 0, 0.6, 0.6),
        ],
        columns=[
            "dataset",
            "model",
            "student",
            "temperature",
            "alpha",
            "seed",
            "val_auroc",
            "test_auroc",
        ],
    ).assign(width=1.0, rhythm=False)
    jobs = selected_jobs(rows)
    cnn = [j for j in jobs if j.student == "cnn1d"]
    assert [(j.seed, j.alpha, j.temperature) for j in cnn if j.kd] == [(0, 0.5, 2.0), (1, 0.5, 2.0)]
    assert [j.seed for j in cnn if not j.kd] == [0, 1]
    assert [j.kd for j in jobs if j.student == "mlp"] == [False]  # no KD run, no KD cell
    one_seed = selected_jobs(rows, seeds=(1,), rhythm=True)
    assert {j.seed for j in one_seed} == {1} and all(j.rhythm for j in one_seed)
    assert all(j.rhythm for j in selected_jobs(rows.assign(rhythm=True)))  # the rows' own
    assert not any(j.rhythm for j in jobs)


def test_a_grid_interrupted_inside_a_run_resumes_from_its_last_epoch(tmp_path, monkeypatch):
    """Killed in epoch 3 of its second run, the grid keeps its first row and the second run's first
    two epochs; run again, it trains only what is left and writes the rows of an uninterrupted
    grid."""
    import ecgkd.train as train_mod

    data = student_data()
    settings = replace(SETTINGS, epochs=4, patience=4)
    jobs = [
        StudentJob("mitbih", "cnn1d", math.nan, 0.0, 0),
        StudentJob("mitbih", "cnn1d", 2.0, 1.0, 0),
    ]
    whole = run_grid(jobs, data, settings, tmp_path / "whole.csv", progress=False)
    csv = tmp_path / "interrupted.csv"
    run_grid(jobs[:1], data, settings, csv, progress=False)
    real_order, epochs = train_mod.epoch_order, []

    def order(n, seed, epoch, samples):
        epochs.append(epoch)
        if epoch == 3:
            raise KeyboardInterrupt  # as if the user stopped it, or the machine went down
        return real_order(n, seed, epoch, samples)

    monkeypatch.setattr(train_mod, "epoch_order", order)
    with pytest.raises(KeyboardInterrupt):
        run_grid(jobs, data, settings, csv, progress=False)
    assert len(pd.read_csv(csv)) == 1 and epochs == [1, 2, 3]
    epochs.clear()
    monkeypatch.setattr(
        train_mod, "epoch_order", lambda *a: (epochs.append(a[2]), real_order(*a))[1]
    )
    resumed = run_grid(jobs, data, settings, csv, progress=False)
    assert epochs == [3, 4]  # the first run is not retrained, the second resumes at epoch 3
    pd.testing.assert_frame_equal(
        resumed.drop(columns="seconds"), whole.drop(columns="seconds"), check_exact=True
    )


def test_joblib_workers_give_the_same_rows(tmp_path, monkeypatch):
    """Every run trains on one thread, in the main process (here set to two threads) as in a
    worker: its numbers do not depend on ECGKD_JOBS."""
    import ecgkd.students.grid as grid_mod

    data = student_data()
    jobs = [StudentJob("mitbih", "resnet1d", 2.0, 0.5, s, 0.5) for s in (0, 1)]
    threads, real_fit = [], grid_mod.fit
    monkeypatch.setattr(
        grid_mod,
        "fit",
        lambda *a, **k: (threads.append(torch.get_num_threads()), real_fit(*a, **k))[1],
    )
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        one = run_grid(jobs, data, SETTINGS, tmp_path / "a.csv", progress=False)
        assert threads == [1, 1] and torch.get_num_threads() == 2  # restored after each run
    finally:
        torch.set_num_threads(before)
    two = run_grid(jobs, data, SETTINGS, tmp_path / "b.csv", n_jobs=2, progress=False)
    cols = ["seed", "initial_weights", "test_auroc", "val_auroc", "best_epoch"]
    pd.testing.assert_frame_equal(
        one.sort_values("seed")[cols].reset_index(drop=True),
        two.sort_values("seed")[cols].reset_index(drop=True),
        check_exact=True,
    )


@pytest.mark.parametrize(
    "epoch_bars, n_jobs, shown", [(True, 1, True), (False, 1, False), (True, 2, False)]
)
def test_epoch_bars_only_when_asked_and_in_process(
    tmp_path, capfd, monkeypatch, epoch_bars, n_jobs, shown
):
    monkeypatch.setenv("ECGKD_PROGRESS", "1")
    data = student_data()
    jobs = [StudentJob("mitbih", "cnn1d", 2.0, 0.5, 0)]
    run_grid(
        jobs,
        data,
        SETTINGS,
        tmp_path / "r.csv",
        n_jobs=n_jobs,
        progress=True,
        epoch_bars=epoch_bars,
    )
    err = capfd.readouterr().err
    assert "mitbih students" in err  # the grid's own bar, always
    assert ("epoch 1/2" in err) == shown


def test_kd_heatmaps_name_the_teacher_of_their_runs():
    """A heatmap made from stand-in-teacher runs says so in its title, wherever the figure ends
    up."""
    import matplotlib

    matplotlib.use("Agg")
    from ecgkd import plots

    table = pd.DataFrame(
        {
            "dataset": "mitbih",
            "model": "CNN-1D",
            "temperature": [2.0, 2.0, 4.0, 4.0],
            "alpha": [0.0, 0.5, 0.0, 0.5],
            "test_auroc": [0.8, 0.85, 0.8, 0.84],
            "teacher": "stand-in teacher, not ECGFounder",
        }
    )
    fig = plots.plot_kd_heatmaps(table, "test_auroc", title="Test AUROC")
    assert fig._suptitle.get_text() == "Test AUROC\nteacher: stand-in teacher, not ECGFounder"
    assert (
        plots.plot_kd_heatmaps(
            table.drop(columns="teacher"), "test_auroc", title="T"
        )._suptitle.get_text()
        == "T"
    )


def filter_runs() -> pd.DataFrame:
    """A filter study's rows: two datasets, three filters, two seeds (made-up AUROCs)."""
    auroc = {
        ("mitbih", "recipe"): (0.80, 0.82),
        ("mitbih", "bandpass"): (0.84, 0.83),
        ("mitbih", "dechazal"): (0.86, 0.85),
        ("ptbxl", "recipe"): (0.90, 0.91),
        ("ptbxl", "bandpass"): (0.95, 0.93),
        ("ptbxl", "dechazal"): (0.92, 0.94),
    }
    return pd.DataFrame(
        [
            {"dataset": d, "filters": f, "model": "CNN-1D", "seed": s, "val_auroc": v[s]}
            for (d, f), v in auroc.items()
            for s in (0, 1)
        ]
    )


def test_filter_summary_pairs_seeds_and_the_rule_picks_per_dataset():
    table = filter_summary(filter_runs())
    row = table.loc[("mitbih", "bandpass")]
    assert row["minus recipe (mean)"] == pytest.approx(0.025)  # (0.04 + 0.01) / 2
    assert (row["minus recipe (min)"], row["minus recipe (max)"]) == pytest.approx((0.01, 0.04))
    assert table.loc[("ptbxl", "recipe"), "minus recipe (mean)"] == 0
    assert chosen_filters(filter_runs()) == {"mitbih": "dechazal", "ptbxl": "bandpass"}
    with pytest.raises(ValueError, match="none of"):
        chosen_filters(filter_runs().query("filters == 'recipe'"))


def test_filter_study_trains_on_each_filters_data_without_a_teacher(tmp_path, monkeypatch):
    from conftest import windows
    from ecgkd.data.split import PreparedData
    from ecgkd.students import stage

    asked = []

    def fake_load(cfg, dataset, filters, progress):
        asked.append(filters)
        shift = {"recipe": 0, "bandpass": 1, "dechazal": 2}[filters]
        splits = {
            s: windows(s, 48, i + shift, dataset) for i, s in enumerate(("train", "val", "test"))
        }
        return PreparedData(dataset, splits)

    monkeypatch.setattr(stage.data_mod, "load", fake_load)
    monkeypatch.setenv("ECGKD_CACHE", str(tmp_path))
    cfg = ecgkd.config.load()
    runs = stage.filter_study(cfg, "mitbih", progress=False)
    assert asked == list(stage.data_mod.FILTERS)
    assert len(runs) == 3 * len(stage.filter_seeds(cfg))
    assert runs["val_auroc"].between(0, 1).all()
    keys = pd.read_csv(results_path(cfg, "filters", "mitbih"))["key"]
    assert keys.nunique() == len(runs)  # one run per (filters, seed): each filter's own data
    again = stage.filter_study(cfg, "mitbih", progress=False)  # cached: nothing retrained
    pd.testing.assert_frame_equal(runs, again)


def test_best_cell_by_seed_says_when_seeds_disagree():
    from ecgkd.students.tables import best_cell_by_seed

    rows = [
        {
            "dataset": "mitbih",
            "model": "CNN-1D",
            "temperature": t,
            "alpha": a,
            "seed": s,
            "val_auroc": v,
        }
        for (t, a, s, v) in [
            (2.0, 0.5, 0, 0.90),
            (4.0, 0.5, 0, 0.80),
            (2.0, 0.5, 1, 0.85),
            (4.0, 0.5, 1, 0.86),
            (math.nan, 0.0, 0, 0.99),  # no KD: never a KD cell
        ]
    ]
    table = best_cell_by_seed(pd.DataFrame(rows)).set_index("seed")
    assert table.loc[0, "best T"] == 2.0 and table.loc[0, "same as the mean's choice"]
    assert table.loc[1, "best T"] == 4.0 and not table.loc[1, "same as the mean's choice"]


def test_full_mode_grid_is_wide_enough_for_a_sensitivity_curve():
    """Issue 32, item 9: at least 3 temperatures x 3 KD weights in full mode, and no KD."""
    full = grid_plan(ecgkd.config.load(env={"ECGKD_QUICK": "0"}))
    assert len(full.temperatures) >= 3 and len([a for a in full.alphas if a > 0]) >= 3
    assert 0.0 in full.alphas and len(full.seeds) >= 3


def test_a_reloaded_run_reads_its_kept_scores_instead_of_predicting(tmp_path, monkeypatch):
    """A finished run's (labels, logits) are kept beside its weights; reloading it reads them
    (no forward pass), and they are the numbers a fresh prediction gives."""
    from ecgkd.students import grid as grid_mod

    cfg = ecgkd.config.load(env={"ECGKD_QUICK": "1", "ECGKD_JOBS": "1"}, cache_root=tmp_path)
    grid = Grid(cfg, "students", SETTINGS)
    data = student_data()
    job = StudentJob("mitbih", "cnn1d", 2.0, 0.5, 0)
    (key,) = grid.run([job], data, progress=False)["key"]
    kept = grid_mod.scores_path(weights_path(grid.path("mitbih"), key))
    assert kept.is_file()
    row = grid.finished([job], data).iloc[0]
    monkeypatch.setattr(grid_mod, "predict", lambda *a, **k: pytest.fail("predicted again"))
    reloaded = grid.load(grid.select(job, data), data)
    for name in ("val", "test"):
        split = data.splits[name]
        with torch_threads(1):
            expected = unit_scores(split, predict(reloaded.model, split.x))
        for ours, theirs in zip(reloaded.scores[name], expected):
            np.testing.assert_array_equal(ours, theirs)
    assert reloaded.record["test_auroc"] == row["test_auroc"]
    # scores of another run (another key) are not taken for this one's
    assert grid_mod.saved_scores(kept, "another key", score_test=True) is None


def test_quick_mode_stops_at_the_first_epoch_without_a_gain_and_full_mode_at_the_second():
    """The students' patience: quick mode's budget (issue 33) and full mode's two epochs, for both
    datasets (the teachers keep theirs: tests/teacher)."""
    from ecgkd.students.stage import QUICK_PATIENCE, student_settings

    for dataset in ("mitbih", "ptbxl"):
        quick = student_settings(ecgkd.config.load(quick=True, env={}), dataset)
        full = student_settings(ecgkd.config.load(quick=False, env={}), dataset)
        assert (quick.patience, full.patience) == (QUICK_PATIENCE, 2) == (1, 2)
        assert quick.plateau_patience >= quick.patience  # the learning rate never drops first
