"""The knowledge-distillation loss for a binary teacher, and nothing else.

Our formulation (Hinton et al., 2015, written for one logit): a logit z is a two-class distribution
[1 - sigmoid(z / T), sigmoid(z / T)] at temperature T. The distillation term is the KL divergence
from the teacher's softened distribution to the student's, summed over the two classes and averaged
over the batch ("batchmean"), times T^2: the gradient of the KL term shrinks like 1/T^2 once T is
large compared with the logits, so the factor keeps the two terms' balance from drifting with T (at
small T it does not hold exactly; notebook 03 measures it). It is mixed with the hard-label loss by
alpha:

    loss = (1 - alpha) * BCE(z_s, y) + alpha * T^2 * KL(p_t^T || p_s^T)

alpha = 0 is plain supervised training; alpha = 1 learns from the teacher alone. Both terms weight
each example by its class (abnormal ones by ``pos_weight``), so KD and no-KD runs train against the
same class balance.

A transfer set (notebook 07's scarce labels): a label of NaN marks an example whose label the
student may not see. The hard term then averages over the labelled examples of the batch only, and
the soft term weights an unlabelled example by its class as the teacher expects it (``pos_weight``
times the teacher's probability of "abnormal", plus 1 times the rest).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

from ..train import LossFn, bce_loss


def binary_kl(
    student_logits: torch.Tensor,
    teacher_logits: torch.Tensor,
    temperature: float,
    weight: torch.Tensor | None = None,
) -> torch.Tensor:
    """KL(teacher || student) of the two-class distributions at ``temperature``, averaged over the
    batch (each example counted ``weight`` times when given)."""
    s, t = student_logits / temperature, teacher_logits / temperature
    log_ps1, log_ps0 = F.logsigmoid(s), F.logsigmoid(-s)
    log_pt1, log_pt0 = F.logsigmoid(t), F.logsigmoid(-t)
    kl = log_pt1.exp() * (log_pt1 - log_ps1) + log_pt0.exp() * (log_pt0 - log_ps0)
    return kl.mean() if weight is None else (weight * kl).mean()


def class_weights(
    y: torch.Tensor, pos_weight: float, teacher: torch.Tensor | None = None
) -> torch.Tensor | None:
    """Each example's weight in a loss balanced by class: ``pos_weight`` for abnormal (y = 1), 1
    for normal, as binary cross-entropy's ``pos_weight`` counts them; None when all are 1. An
    unlabelled example (y NaN) counts as the ``teacher``'s logit expects its class to."""
    if pos_weight == 1:
        return None
    unlabelled = torch.isnan(y)
    if unlabelled.any():
        if teacher is None:
            raise ValueError("unlabelled examples (y NaN) need the teacher's logits to be weighted")
        y = torch.where(unlabelled, torch.sigmoid(teacher), y)
    return 1 + (pos_weight - 1) * y


def labelled_bce(pos_weight: float) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
    """Binary cross-entropy over the labelled examples of a batch (y not NaN); 0 when a batch holds
    none, so that a transfer set's unlabelled batches train on the soft term alone."""
    hard = bce_loss(pos_weight)

    def loss(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        labelled = ~torch.isnan(y)
        if bool(labelled.all()):
            return hard(logits, y)
        if not bool(labelled.any()):
            return logits.sum() * 0.0
        return hard(logits[labelled], y[labelled])

    return loss


def kd_loss(temperature: float = 4.0, alpha: float = 0.5, pos_weight: float = 1.0) -> LossFn:
    """``loss(student_logits, y, teacher_logits)`` for :func:`ecgkd.train.fit`.

    ``pos_weight`` up-weights abnormal examples in both terms alike (:func:`class_weights`), so
    that a KD run trains against the same class balance as its no-KD twin: with the soft term
    unweighted, alpha = 1 would be an unbalanced run set against a balanced baseline.
    """
    if temperature <= 0:
        raise ValueError(f"temperature T={temperature} must be > 0")
    if not 0 <= alpha <= 1:
        raise ValueError(f"alpha={alpha} must be in [0, 1] (0: labels only, 1: teacher only)")
    hard = labelled_bce(pos_weight)

    def loss(
        logits: torch.Tensor, y: torch.Tensor, teacher: torch.Tensor | None = None
    ) -> torch.Tensor:
        if alpha == 0:
            return hard(logits, y)
        if teacher is None:
            raise ValueError(
                f"alpha={alpha} needs the teacher's logits: pass TrainData(..., teacher=...)"
            )
        weight = class_weights(y, pos_weight, teacher)
        soft = temperature**2 * binary_kl(logits, teacher, temperature, weight)
        return soft if alpha == 1 else (1 - alpha) * hard(logits, y) + alpha * soft

    return loss


def soft_targets(teacher_logits: torch.Tensor, temperature: float) -> torch.Tensor:
    """The probability of "abnormal" the student is asked to match at ``temperature``."""
    return torch.sigmoid(teacher_logits / temperature)
