"""The studies of notebook 07 on small synthetic inputs: the transfer set's loss and data, the
patients that give their labels away, seed-and-record intervals and Holm's correction."""

from dataclasses import replace

import numpy as np
import pytest
import torch

from conftest import student_data
from ecgkd.evaluation import transfer
from ecgkd.scoring.bootstrap import (
    bootstrap_p_value,
    holm,
    paired_auroc_difference,
    seeded_auroc_draws,
)
from ecgkd.students.grid import StudentJob, train_student
from ecgkd.students.kd import class_weights, kd_loss, labelled_bce
from ecgkd.train import TrainSettings, bce_loss

SETTINGS = TrainSettings(epochs=2, batch_size=16, lr=1e-2, patience=2)


def grouped_data():
    """The synthetic student data with six training windows per patient (both classes in each)."""
    data = student_data()
    train = data.splits["train"]
    patients = np.array([f"p{i // 6}" for i in range(len(train))])
    return replace(data, splits=data.splits | {"train": replace(train, patient=patients)})


def test_the_hard_term_reads_only_labelled_examples():
    g = torch.Generator().manual_seed(0)
    logits, teacher = torch.randn(10, generator=g), torch.randn(10, generator=g)
    y = torch.tensor([1.0, 0, float("nan"), 1, float("nan"), 0, 0, 1, float("nan"), 0])
    seen = ~torch.isnan(y)
    hard = bce_loss(2.0)(logits[seen], y[seen])
    assert torch.isclose(labelled_bce(2.0)(logits, y), hard)
    assert torch.isclose(kd_loss(4.0, 0.0, 2.0)(logits, y), hard)
    # a batch without a label trains on the soft term alone, and has a gradient through it
    none = torch.full((10,), float("nan"))
    assert float(labelled_bce(2.0)(logits, none)) == 0.0
    student = logits.clone().requires_grad_(True)
    kd_loss(4.0, 0.5, 2.0)(student, none, teacher).backward()
    assert torch.isfinite(student.grad).all() and student.grad.abs().sum() > 0
    # the loss does not look at what the NaN stands for: filled labels give another loss
    filled = torch.where(seen, y, torch.zeros(10))
    assert not torch.isclose(
        kd_loss(4.0, 0.5, 2.0)(logits, y, teacher), kd_loss(4.0, 0.5, 2.0)(logits, filled, teacher)
    )


def test_unlabelled_examples_weigh_as_the_teacher_expects_their_class():
    y = torch.tensor([1.0, 0.0, float("nan")])
    teacher = torch.tensor([0.0, 0.0, 0.0])  # p = 1/2 for the unlabelled one
    assert torch.allclose(class_weights(y, 3.0, teacher), torch.tensor([3.0, 1.0, 2.0]))
    with pytest.raises(ValueError, match="teacher"):
        class_weights(y, 3.0)


def test_train_labels_must_fit_the_split_and_key_the_run():
    data = student_data()
    n = len(data.splits["train"])
    with pytest.raises(ValueError, match="shape"):
        data.with_train_labels(np.zeros(n - 1), "short")
    with pytest.raises(ValueError, match="both classes"):
        data.with_train_labels(np.r_[np.zeros(n - 1), np.nan], "one class")
    y = data.splits["train"].y.astype(np.float32)
    hidden = data.with_train_labels(np.where(np.arange(n) < n // 2, y, np.nan), "half")
    assert hidden.fingerprint(teacher=False) != data.fingerprint(teacher=False)
    assert np.isnan(hidden.train_y).sum() == n - n // 2
    few = data.restricted(np.arange(n) < n // 2, "half, alone")
    assert len(few.splits["train"]) == len(few.teacher_logits["train"]) == n // 2
    assert few.splits["val"] is data.splits["val"]


def test_a_student_never_learns_from_a_hidden_label():
    """Training on labels hidden as NaN equals training with those labels flipped and hidden: the
    run cannot depend on what it may not see."""
    data = student_data()
    train = data.splits["train"]
    hide = np.arange(len(train)) % 2 == 1
    y = train.y.astype(np.float32)
    job = StudentJob("mitbih", "cnn1d", 2.0, 0.5, 0)
    first = train_student(job, data.with_train_labels(np.where(hide, np.nan, y), "a"), SETTINGS)
    flipped = data.splits | {"train": train.subset(np.arange(len(train)))}
    flipped["train"].y[hide] = 1 - flipped["train"].y[hide]
    other = type(data)(flipped, data.teacher_logits, data.teacher_label, "f" * 16)
    second = train_student(job, other.with_train_labels(np.where(hide, np.nan, y), "a"), SETTINGS)
    assert first.record["val_auroc"] == second.record["val_auroc"]
    assert first.record["labels"] == "a"
    rhythm = StudentJob("mitbih", "cnn1d", 2.0, 0.5, 0, rhythm=True)
    with pytest.raises(ValueError, match="window-only"):
        train_student(rhythm, data.with_train_labels(np.where(hide, np.nan, y), "a"), SETTINGS)


def test_labelled_patients_are_nested_and_the_first_holds_both_classes():
    patients = np.repeat(["a", "b", "c", "d", "e"], 4)
    y = np.zeros(20, np.int64)
    y[[9, 13]] = 1  # only c and d hold both classes
    for seed in range(5):
        order = transfer.patient_order(patients, y, seed)
        assert order[0] in {"c", "d"} and sorted(order) == list("abcde")
    with pytest.raises(ValueError, match="both classes"):
        transfer.patient_order(patients, np.zeros(20, np.int64), 0)
    data = grouped_data()
    masks = [transfer.labelled_rows(data, k, 0) for k in (1, 2, 4, transfer.ALL)]
    assert all((a <= b).all() for a, b in zip(masks, masks[1:]))  # nested
    assert masks[-1].all() and 0 < masks[0].sum() < masks[1].sum()


def test_each_arm_sees_what_it_should():
    data = grouped_data()
    rows = transfer.labelled_rows(data, 4, 0)
    y = data.splits["train"].y
    alone = transfer.scarce_data(data, 4, 0, transfer.LABELS_ONLY, 0.0)
    assert len(alone.splits["train"]) == rows.sum() and np.isfinite(alone.train_y).all()
    kd = transfer.scarce_data(data, 4, 0, transfer.KD, 0.0)
    assert np.array_equal(np.isnan(kd.train_y), ~rows)
    pseudo = transfer.scarce_data(data, 4, 0, transfer.PSEUDO, 0.0)
    teacher = (data.teacher_logits["train"] >= 0).astype(np.float32)
    assert np.array_equal(pseudo.train_y[rows], y[rows])
    assert np.array_equal(pseudo.train_y[~rows], teacher[~rows])
    assert transfer.scarce_data(data, transfer.ALL, 0, transfer.KD, 0.0) is data
    with pytest.raises(ValueError, match="arm"):
        transfer.scarce_data(data, 4, 0, "other", 0.0)


def test_one_seed_is_the_paired_cluster_bootstrap_and_seeds_widen_it():
    rng = np.random.default_rng(0)
    y = np.tile([0, 1], 200)
    groups = np.repeat(np.arange(40), 10)
    a, b = y + rng.normal(size=400), y + rng.normal(size=400) * 1.5
    estimate, draws = seeded_auroc_draws(y, [a], [b], groups, 300, 7)
    difference, low, high = paired_auroc_difference(y, a, b, groups, 300, 7)
    assert estimate == pytest.approx(difference)
    assert np.percentile(draws, 2.5) == pytest.approx(low)
    # seeds that disagree widen the interval beyond any one seed's
    far = y + rng.normal(size=400) * 3
    _, mixed = seeded_auroc_draws(y, [a, far], [b, b], groups, 300, 7)
    assert np.ptp(np.percentile(mixed, [2.5, 97.5])) > np.ptp([low, high])


def test_holm_and_the_bootstrap_p_value():
    assert np.allclose(holm([0.01, 0.04, 0.03]), [0.03, 0.06, 0.06])
    assert np.allclose(holm([0.5, 0.001]), [0.5, 0.002])
    assert bootstrap_p_value(np.ones(99)) == pytest.approx(0.01)
    assert bootstrap_p_value(np.r_[np.ones(50), -np.ones(50)]) == 1.0


def test_the_primary_contrasts_are_three_and_named():
    assert list(transfer.PRIMARY_CONTRASTS) == [
        "privileged information",
        "scarce labels",
        "teacher vs its anchor",
    ]
