"""The one training loop, metrics and thresholds, on small synthetic problems."""

import numpy as np
import pytest
import torch
from torch import nn

from ecgkd.scoring.metrics import binary_metrics, roc_auc, sigmoid, youden_threshold
from ecgkd.train import (
    TrainData,
    TrainSettings,
    balancing_weight,
    bce_loss,
    binary_logits,
    epoch_order,
    finished_checkpoint,
    fit,
    predict,
)


def separable(n: int = 256, seed: int = 0) -> TrainData:
    """Two classes told apart by the mean of the signal, with noise."""
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.3).astype(np.int64)
    x = rng.normal(size=(n, 1, 32)).astype(np.float32) + 0.8 * y[:, None, None]
    return TrainData(x, y)


def small_model(seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(
        nn.Conv1d(1, 4, 5), nn.ReLU(), nn.AdaptiveAvgPool1d(1), nn.Flatten(), nn.Linear(4, 1)
    )


SETTINGS = TrainSettings(epochs=4, batch_size=32, lr=1e-2, patience=10)


def test_youden_threshold_and_metrics_by_hand():
    y = np.array([0, 0, 0, 0, 1, 1, 1])
    score = np.array([0.1, 0.2, 0.3, 0.6, 0.5, 0.8, 0.9])
    assert youden_threshold(y, score) == pytest.approx(
        0.5
    )  # J = 1 - 1/4 at 0.5 beats 2/3 - 0 at 0.8
    m = binary_metrics(y, score, 0.5)
    assert (m["sensitivity"], m["specificity"]) == (1.0, pytest.approx(3 / 4))
    assert m["auroc"] == pytest.approx(11 / 12) and m["n"] == 7
    assert m["f1"] == pytest.approx(2 * 0.75 * 1 / 1.75)
    assert m["balanced_accuracy"] == pytest.approx((1 + 3 / 4) / 2)


def test_metrics_reject_bad_input():
    with pytest.raises(ValueError, match="aligned"):
        binary_metrics(np.array([0, 1]), np.array([0.5]), 0.5)
    with pytest.raises(ValueError, match="NaN"):
        roc_auc(np.array([0, 1]), np.array([0.5, np.nan]))
    with pytest.raises(ValueError, match="both classes"):
        youden_threshold(np.array([1, 1]), np.array([0.2, 0.3]))
    assert np.isnan(roc_auc(np.array([1, 1]), np.array([0.2, 0.3])))


def test_sigmoid_is_stable():
    assert np.allclose(sigmoid(np.array([-1000.0, 0.0, 1000.0])), [0.0, 0.5, 1.0])


def test_settings_and_data_are_validated():
    with pytest.raises(ValueError, match="epochs"):
        TrainSettings(epochs=0)
    with pytest.raises(ValueError, match="samples_per_epoch"):
        TrainSettings(batch_size=64, samples_per_epoch=10)
    with pytest.raises(ValueError, match="aligned"):
        TrainData(np.zeros((3, 1, 4)), np.zeros(2))
    with pytest.raises(ValueError, match="one class"):
        balancing_weight(np.zeros(5))
    assert balancing_weight(np.array([0, 0, 0, 1])) == 3.0


def test_binary_logits_shapes():
    assert binary_logits(torch.zeros(4, 1)).shape == (4,)
    assert binary_logits((torch.zeros(4), torch.zeros(4, 8))).shape == (4,)
    with pytest.raises(ValueError, match="one logit"):
        binary_logits(torch.zeros(4, 2))


def test_epoch_order_depends_on_seed_and_epoch_only():
    a, b = epoch_order(100, 0, 1, None), epoch_order(100, 0, 1, None)
    assert np.array_equal(a, b) and sorted(a) == list(range(100))
    assert not np.array_equal(a, epoch_order(100, 0, 2, None))
    assert not np.array_equal(a, epoch_order(100, 1, 1, None))
    assert len(epoch_order(100, 0, 1, 30)) == 30


def test_fit_learns_and_keeps_the_best_epoch():
    train, val = separable(), separable(128, seed=1)
    model = small_model()
    before = roc_auc(val.y, predict(model, val.x))
    result = fit(model, train, val, bce_loss(balancing_weight(train.y)), SETTINGS, progress=False)
    after = roc_auc(val.y, predict(model, val.x))
    assert after > 0.9 > before or after > before + 0.2
    assert after == pytest.approx(result.best_score)
    assert result.history["val_auroc"].max() == pytest.approx(result.best_score)
    assert list(result.history.columns) == [
        "epoch",
        "train_loss",
        "val_loss",
        "val_auroc",
        "lr",
        "seconds",
    ]


def test_fit_is_reproducible():
    train, val = separable(), separable(128, seed=1)
    runs = []
    for _ in range(2):
        model = small_model()
        fit(model, train, val, bce_loss(), SETTINGS, seed=3, progress=False)
        runs.append(predict(model, val.x))
    assert np.array_equal(runs[0], runs[1])


def test_resumed_run_equals_uninterrupted_run(tmp_path):
    train, val = separable(), separable(128, seed=1)
    whole = small_model()
    fit(whole, train, val, bce_loss(), SETTINGS, seed=1, progress=False)

    calls = {"n": 0}
    hard = bce_loss()

    def crash_in_epoch_3(logits, y, teacher):
        calls["n"] += 1
        if calls["n"] == 2 * 8 + 1:  # 256 / 32 = 8 batches per epoch: the first batch of epoch 3
            raise KeyboardInterrupt
        return hard(logits, y, teacher)

    ckpt = tmp_path / "state.pt"
    with pytest.raises(KeyboardInterrupt):
        fit(
            small_model(),
            train,
            val,
            crash_in_epoch_3,
            SETTINGS,
            seed=1,
            checkpoint=ckpt,
            key="k",
            progress=False,
        )
    resumed = small_model(
        seed=99
    )  # different initial weights: everything must come from the checkpoint
    result = fit(
        resumed, train, val, bce_loss(), SETTINGS, seed=1, checkpoint=ckpt, key="k", progress=False
    )
    assert result.resumed_from == 2 and len(result.history) == 4
    assert np.array_equal(predict(whole, val.x), predict(resumed, val.x))


def test_finished_run_is_reused_and_other_keys_start_over(tmp_path):
    train, val = separable(), separable(128, seed=1)
    ckpt = tmp_path / "state.pt"
    fit(small_model(), train, val, bce_loss(), SETTINGS, checkpoint=ckpt, key="k", progress=False)

    def must_not_train(*args):
        raise AssertionError("a finished run was trained again")

    def no_optimiser(*args, **kwargs):
        raise AssertionError("a finished run built an optimiser")

    again = small_model(seed=5)
    with pytest.MonkeyPatch.context() as patch:  # nothing to optimise: PyTorch's compiler unloaded
        patch.setattr(torch.optim, "AdamW", no_optimiser)
        result = fit(
            again, train, val, must_not_train, SETTINGS, checkpoint=ckpt, key="k", progress=False
        )
    assert result.reused and len(result.history) == SETTINGS.epochs
    first = small_model()
    fit(first, train, val, bce_loss(), SETTINGS, progress=False)
    assert np.array_equal(
        predict(again, val.x), predict(first, val.x)
    )  # the best weights, reloaded
    assert finished_checkpoint(ckpt, "k", SETTINGS) and not finished_checkpoint(ckpt, "x", SETTINGS)
    assert not finished_checkpoint(tmp_path / "missing.pt", "k", SETTINGS)
    with pytest.raises(AssertionError, match="trained again"):
        fit(
            small_model(),
            train,
            val,
            must_not_train,
            SETTINGS,
            checkpoint=ckpt,
            key="other",
            progress=False,
        )


def test_transform_is_applied_to_every_batch():
    train, val = separable(64), separable(64, seed=1)
    seen = []

    def double(x):
        seen.append(x.shape)
        return np.concatenate([x, x], axis=-1)

    model = small_model()
    fit(
        model,
        train,
        val,
        bce_loss(),
        TrainSettings(epochs=1, batch_size=32),
        transform=double,
        progress=False,
    )
    assert seen and all(shape[-1] == 32 for shape in seen)
    assert predict(model, val.x, transform=double).shape == (64,)


def test_guards_name_what_is_wrong():
    """The loop refuses a model with nothing to train and a validation split with one class."""
    frozen = small_model()
    for p in frozen.parameters():
        p.requires_grad_(False)
    train, val = separable(64), separable(64, seed=1)
    with pytest.raises(ValueError, match="no trainable parameters"):
        fit(frozen, train, val, bce_loss(), SETTINGS, progress=False)
    one_class = TrainData(val.x, np.zeros_like(val.y))
    with pytest.raises(RuntimeError, match="validation split hold both classes"):
        fit(small_model(), train, one_class, bce_loss(), SETTINGS, progress=False)


def test_the_autoencoder_objective_keeps_the_lowest_validation_error():
    """The same loop trains a reconstruction: it keeps the epoch of the lowest validation MSE."""
    from ecgkd.train import RECONSTRUCTION, reconstruction_loss

    rng = np.random.default_rng(0)
    x = rng.normal(size=(96, 1, 16)).astype(np.float32)
    torch.manual_seed(0)
    model = nn.Sequential(
        nn.Flatten(), nn.Linear(16, 4), nn.Linear(4, 16), nn.Unflatten(1, (1, 16))
    )
    settings = TrainSettings(epochs=5, batch_size=16, lr=1e-2, patience=5)
    result = fit(
        model,
        TrainData(x[:64], x[:64]),
        TrainData(x[64:], x[64:]),
        reconstruction_loss(),
        settings,
        objective=RECONSTRUCTION,
        progress=False,
    )
    history = result.history
    assert "val_mse" in history and "val_auroc" not in history
    assert result.best_score == history["val_mse"].min()
    assert result.best_epoch == int(history.loc[history["val_mse"].idxmin(), "epoch"])
