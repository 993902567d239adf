"""Cross-fitted soft targets: fold teachers that never saw the patient they score."""

from dataclasses import replace

import numpy as np
import pytest
import torch
from test_finetune import TINY, beat_split

import ecgkd.config
from ecgkd.data.rhythm import model_inputs
from ecgkd.data.split import PreparedData
from ecgkd.rhythm_head import RHYTHM, anchor_rhythm, fit_rhythm_model
from ecgkd.scoring.bootstrap import ABOVE, BELOW, HOLDS_ZERO
from ecgkd.scoring.metrics import roc_auc
from ecgkd.students.grid import GridPlan, results_path, run_grid
from ecgkd.students.inputs import StudentData
from ecgkd.students.stage import targets_study, targets_table
from ecgkd.teacher import teacher_outputs, train_teacher
from ecgkd.teacher.crossfit import cross_fit, fold_settings, patient_folds
from ecgkd.teacher.finetune import build_teacher, teacher_spec
from ecgkd.teacher.inputs import teacher_transform
from ecgkd.teacher.stage import WINDOW_ONLY_SPLITS, PreparedTeacher, rhythm_ablation
from ecgkd.train import TrainSettings


def small_stage(tmp_path) -> tuple[ecgkd.config.Config, PreparedTeacher]:
    """A tiny stand-in teacher on synthetic beats (16 patients of 2), with its outputs."""
    cfg = ecgkd.config.load(env={"ECGKD_QUICK": "1"}, cache_root=tmp_path / "cache")
    splits = {s: beat_split(s, 32, i) for i, s in enumerate(("train", "val", "test"))}
    data = PreparedData("mitbih", splits)
    run = train_teacher(cfg, splits["train"], splits["val"], settings=TINY, progress=False)
    return cfg, PreparedTeacher(run, data, data, teacher_outputs(cfg, run, data, progress=False))


def test_folds_keep_patients_whole_balance_rows_and_follow_the_seed():
    patients = np.repeat(["a", "b", "c", "d", "e", "f"], [50, 40, 30, 20, 10, 10])
    folds = patient_folds(patients, 2, seed=0)
    for p in set(patients):
        assert len(set(folds[patients == p])) == 1  # a patient never straddles two folds
    sizes = np.bincount(folds)
    assert len(sizes) == 2 and abs(sizes[0] - sizes[1]) <= 10
    assert np.array_equal(folds, patient_folds(patients, 2, seed=0))
    assert len(np.bincount(patient_folds(patients, 3, seed=1))) == 3
    with pytest.raises(ValueError, match="at least k patients"):
        patient_folds(np.array(["a", "a"]), 2)


def test_fold_teachers_make_the_main_teachers_passes_over_their_share():
    beats = TrainSettings(epochs=3, batch_size=64, samples_per_epoch=4096)
    assert fold_settings(beats, 0.5).samples_per_epoch == 2048
    assert (
        fold_settings(beats, 0.5).epochs == 3 and fold_settings(beats, 0.01).samples_per_epoch == 64
    )
    passes = TrainSettings(epochs=3, batch_size=16)  # PTB-XL: an epoch is one pass already
    assert fold_settings(passes, 0.5) == passes


def test_each_training_window_is_scored_by_a_teacher_that_never_saw_its_patient(tmp_path):
    cfg, stage = small_stage(tmp_path)
    fitted = cross_fit(cfg, stage, 2, progress=False)
    train, run = stage.student_data.train, stage.run
    for fold, teacher in enumerate(fitted.runs):
        held = fitted.folds == fold
        settings = fold_settings(run.spec.settings, float(np.mean(fitted.folds != fold)))
        assert teacher.key != run.key and teacher.spec == replace(run.spec, settings=settings)
        np.testing.assert_array_equal(fitted.logits[held], teacher.logits(train.subset(held)))
    assert not np.allclose(fitted.logits, stage.outputs["train"].logits)
    again = cross_fit(cfg, stage, 2, progress=False)  # fold teachers and logits come from the cache
    assert again.fingerprint == fitted.fingerprint
    np.testing.assert_array_equal(again.logits, fitted.logits)

    in_sample = StudentData.from_teacher(stage, targets="in-sample")
    with pytest.raises(ValueError, match="no fold teachers"):
        StudentData.from_teacher(stage)
    stage.cross_fitted = fitted
    crossed = StudentData.from_teacher(stage)
    assert crossed.targets == "cross-fitted" and in_sample.targets == "in-sample"
    np.testing.assert_array_equal(crossed.teacher_logits["train"], fitted.logits)
    np.testing.assert_array_equal(crossed.teacher_logits["test"], in_sample.teacher_logits["test"])
    assert crossed.fingerprint() != in_sample.fingerprint()
    with pytest.raises(ValueError, match="targets"):
        StudentData.from_teacher(stage, targets="oracle")


def test_targets_study_retrains_the_grids_cells_on_in_sample_targets(tmp_path):
    cfg, stage = small_stage(tmp_path)
    stage.cross_fitted = cross_fit(cfg, stage, 2, progress=False)
    settings = TrainSettings(epochs=2, batch_size=8, lr=3e-3, patience=2)
    plan = GridPlan((2.0,), (0.0, 1.0), (0,))
    grid = run_grid(
        plan.jobs("mitbih", ("cnn1d",), rhythm=True),
        StudentData.from_teacher(stage),
        settings,
        results_path(cfg, "students", "mitbih"),
        progress=False,
    )
    study = targets_study(cfg, stage, grid, settings, progress=False)
    assert sorted(study["targets"]) == ["cross-fitted"] * 2 + ["in-sample"] * 2
    plain = study[study["alpha"] == 0].set_index("targets")["test_auroc"]
    assert plain["cross-fitted"] == plain["in-sample"]  # no KD never reads the targets
    table = targets_table(study)
    assert set(table["targets"]) == {"cross-fitted", "in-sample"} and (table["seeds"] == 1).all()


def test_rhythm_ablation_sets_the_teacher_against_its_window_and_its_anchor(tmp_path):
    cfg, stage = small_stage(tmp_path)
    data = stage.student_data
    run = train_teacher(cfg, data.train, data.val, settings=TINY, rhythm=False, progress=False)
    window_only = PreparedTeacher(run, data, data, teacher_outputs(cfg, run, data, progress=False))
    table = rhythm_ablation(stage, window_only, resamples=50)
    assert list(table.index) == [
        stage.label,
        window_only.label,
        f"its rhythm anchor alone: {RHYTHM}",
    ]
    anchor, _, _ = fit_rhythm_model(data.splits)
    test = data.test
    assert table["test auroc"].iloc[2] == roc_auc(test.y, anchor.decision_function(test.rhythm))
    assert np.isnan(table.iloc[0]["teacher with rhythm - this row"])
    for i in (1, 2):
        row = table.iloc[i]
        expected = table["test auroc"].iloc[0] - row["test auroc"]
        assert row["teacher with rhythm - this row"] == pytest.approx(expected)
        assert row["distinguishable from zero"] in (ABOVE, BELOW, HOLDS_ZERO)


def test_an_anchored_teacher_starts_as_the_rhythm_baseline():
    train, val, test = (beat_split(s, 32, i) for i, s in enumerate(("train", "val", "test")))
    cfg = ecgkd.config.load(env={"ECGKD_QUICK": "1"})
    model, _ = build_teacher(teacher_spec(cfg, "mitbih", settings=TINY), seed=0)
    assert anchor_rhythm(model.eval(), train, val) == 1
    baseline, _, _ = fit_rhythm_model({"train": train, "val": val})
    transform = teacher_transform(test, True)
    with torch.no_grad():
        logits = model(torch.from_numpy(transform(model_inputs(test, True))))[:, 0].numpy()
    np.testing.assert_allclose(logits, baseline.decision_function(test.rhythm), atol=1e-4)


def test_fold_teachers_share_the_students_rhythm_anchor(tmp_path):
    """Cross-fitting refits the window term only: every fold teacher's rhythm anchor is the one
    fitted on the whole training split, the anchor each student holds, so a soft target is (the
    student's own anchor + a window term that never saw the patient). An anchor refitted on the
    fold's half of the patients would pull the student away from its own."""
    cfg, teacher = small_stage(tmp_path)
    splits = teacher.student_data.splits
    full, _, _ = fit_rhythm_model(splits)
    fitted = cross_fit(cfg, teacher, 2, progress=False)
    students_anchor = teacher.run.model.dense.anchor
    for fold, run in enumerate(fitted.runs):
        anchor = run.model.dense.anchor
        for name in ("mean", "scale", "coef", "bias"):
            torch.testing.assert_close(getattr(anchor, name), getattr(students_anchor, name))
        own, _, _ = fit_rhythm_model(
            {"train": splits["train"].subset(fitted.folds != fold), "val": splits["val"]}
        )
        assert not np.allclose(own[-1].coef_[0], full[-1].coef_[0])  # a refit would differ
    np.testing.assert_allclose(
        students_anchor.coef.numpy(), full[-1].coef_[0].astype(np.float32), rtol=1e-6
    )


def test_cross_fitted_student_data_needs_no_in_sample_training_outputs(tmp_path):
    """The window-only teacher's outputs skip the training split (its students learn from the
    cross-fitted targets): the students' data are the same as with them, and asking for in-sample
    targets it lacks is a clear error."""
    cfg, teacher = small_stage(tmp_path)
    teacher.cross_fitted = cross_fit(cfg, teacher, progress=False)
    data = teacher.student_data
    partial = replace(
        teacher,
        outputs=teacher_outputs(cfg, teacher.run, data, progress=False, splits=WINDOW_ONLY_SPLITS),
    )
    assert sorted(partial.outputs) == ["test", "val"]
    full, crossed = StudentData.from_teacher(teacher), StudentData.from_teacher(partial)
    assert crossed.fingerprint() == full.fingerprint()
    for name in ("train", "val", "test"):
        assert np.array_equal(crossed.teacher_logits[name], full.teacher_logits[name])
    with pytest.raises(ValueError, match="no outputs on train"):
        StudentData.from_teacher(partial, targets="in-sample")
