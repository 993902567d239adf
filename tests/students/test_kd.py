"""The KD loss: limits, scaling with T, and gradients."""

import numpy as np
import pytest
import torch

from ecgkd.students.kd import binary_kl, kd_loss, soft_targets
from ecgkd.train import bce_loss


@pytest.fixture
def batch():
    g = torch.Generator().manual_seed(0)
    student = torch.randn(64, generator=g, dtype=torch.float64) * 3
    teacher = torch.randn(64, generator=g, dtype=torch.float64) * 3
    y = (torch.rand(64, generator=g) < 0.3).double()
    return student, teacher, y


def test_alpha_zero_is_the_hard_loss_exactly(batch):
    s, t, y = batch
    for temperature in (1, 2, 4, 8):
        assert torch.equal(kd_loss(temperature, 0.0, pos_weight=3.0)(s, y, t), bce_loss(3.0)(s, y))
    assert torch.equal(kd_loss(4, 0.0)(s, y, None), bce_loss()(s, y))  # no teacher needed


def test_zero_when_student_equals_teacher_at_alpha_one(batch):
    s, _, y = batch
    for temperature in (1, 4, 8):
        assert kd_loss(temperature, 1.0)(s, y, s.clone()).item() == pytest.approx(0.0, abs=1e-12)
    assert kd_loss(4, 1.0)(s, y, s + 1).item() > 0


def test_matches_the_two_class_softmax_kl(batch):
    s, t, _ = batch
    temperature = 3.0
    two = lambda z: torch.stack([torch.zeros_like(z), z], 1) / temperature  # noqa: E731
    reference = torch.nn.functional.kl_div(
        torch.log_softmax(two(s), 1),
        torch.log_softmax(two(t), 1),
        reduction="batchmean",
        log_target=True,
    )
    assert torch.allclose(binary_kl(s, t, temperature), reference)


def test_mixing_is_linear_in_alpha(batch):
    s, t, y = batch
    hard, soft = kd_loss(2, 0.0)(s, y, t), kd_loss(2, 1.0)(s, y, t)
    assert torch.allclose(kd_loss(2, 0.25)(s, y, t), 0.75 * hard + 0.25 * soft)


def test_t_squared_keeps_gradients_comparable(batch):
    s, t, y = batch
    norms = {}
    for temperature in (2, 4, 8, 16):
        x = s.clone().requires_grad_(True)
        kd_loss(temperature, 1.0)(x, y, t).backward()
        norms[temperature] = x.grad.norm().item()
        x.grad = None
        binary_kl(x, t, temperature).backward()
        norms[f"raw{temperature}"] = x.grad.norm().item()
    assert 0.7 < norms[16] / norms[4] < 1.3  # with T^2: the same size
    assert norms["raw16"] / norms["raw4"] < 0.1  # without: 1/T^2 smaller


def test_gradients_pass_a_finite_difference_check(batch):
    s, t, y = batch
    loss = kd_loss(3.0, 0.6, pos_weight=2.0)
    assert torch.autograd.gradcheck(
        lambda z: loss(z, y[:8], t[:8]), (s[:8].clone().requires_grad_(True),)
    )


def test_bad_settings_and_missing_teacher_are_named(batch):
    s, t, y = batch
    with pytest.raises(ValueError, match="temperature"):
        kd_loss(0, 0.5)
    with pytest.raises(ValueError, match="alpha"):
        kd_loss(2, 1.5)
    with pytest.raises(ValueError, match="teacher"):
        kd_loss(2, 0.5)(s, y, None)


def test_soft_targets_flatten_with_temperature():
    z = torch.tensor([-4.0, 0.0, 4.0])
    assert np.allclose(soft_targets(z, 1).numpy(), torch.sigmoid(z).numpy())
    assert soft_targets(z, 8)[2] < soft_targets(z, 1)[2] and soft_targets(z, 8)[1] == 0.5


def test_both_terms_weight_each_window_by_its_class(batch):
    """KD and no-KD runs train against the same class balance: the soft term weights each window
    as the hard term does (abnormal ones by ``pos_weight``), so alpha = 1 is not an unbalanced
    run set against a balanced baseline."""
    s, t, y = batch
    weight = 1 + (3.0 - 1) * y  # what BCE's pos_weight gives each window
    temperature = 2.0
    ps, pt = torch.sigmoid(s / temperature), torch.sigmoid(t / temperature)
    kl = pt * (pt.log() - ps.log()) + (1 - pt) * ((1 - pt).log() - (1 - ps).log())
    expected_soft = temperature**2 * (weight * kl).mean()
    soft = kd_loss(temperature, 1.0, pos_weight=3.0)(s, y, t)
    torch.testing.assert_close(soft, expected_soft)
    assert not torch.isclose(soft, kd_loss(temperature, 1.0, pos_weight=1.0)(s, y, t))
    hard = bce_loss(3.0)(s, y)
    mixed = kd_loss(temperature, 0.25, pos_weight=3.0)(s, y, t)
    torch.testing.assert_close(mixed, 0.75 * hard + 0.25 * expected_soft)
    # balanced by class: the abnormal windows' share of the weight is the same in both terms
    torch.testing.assert_close(
        binary_kl(s, t, temperature, weight), (weight * kl).mean(), rtol=1e-12, atol=0
    )
