"""The quantum student as a torch model: frozen encoder -> angles -> VQC -> logit; and its classical
control.

:class:`VQCHead` runs the circuit of :mod:`ecgkd.quantum.circuit` on one of two backends with the
same weights: ``"torch"`` (our exact batched simulator, the default for training) or ``"qiskit"``
(qiskit-machine-learning's EstimatorQNN wrapped in a TorchConnector, the standard stack). The logit
is ``scale * <O> + bias``; <O> is in [-1, 1], and the trainable scale lets the logit reach the range
a binary cross-entropy or a distillation target needs.

:class:`LatentStudent` puts an encoder, the angle scaler and a head together so that a quantum
student reads the same 256-sample windows as the classical students and trains in the same loop
(:func:`ecgkd.train.fit`). With the encoder frozen (the default, "two-stage") only the head trains;
``end_to_end=True`` trains both.

:class:`MatchedMLP` is the fair classical control: a small MLP on the same angles with no more
trainable parameters than the VQC head.
"""

from __future__ import annotations

import copy
import math
import sys
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import torch
from torch import nn

from .. import cache
from ..data.rhythm import N_RHYTHM, RHYTHM_FEATURES, RHYTHM_SET, split_rhythm
from ..modelinfo import count_parameters
from ..rhythm_head import RhythmAnchor
from . import autoencoder as autoencoder_mod
from . import circuit as circuit_mod
from . import statevector as statevector_mod
from .autoencoder import AngleScaler, ConvAutoencoder
from .circuit import VQCCircuit, VQCSpec, build_vqc
from .statevector import TorchVQC

Backend = Literal["torch", "qiskit"]
#: The two rhythm features a latent student reads as angles beside the latent (our choice, two of
#: six), per feature set: how early the beat came against the local rhythm (pre/local), and its
#: interval against the one before (causal) or the pause after it (look-ahead).
RHYTHM_ANGLES = {"causal": ("pre/local", "pre/prev"), "lookahead": ("pre/local", "post/pre")}[
    RHYTHM_SET
]
RHYTHM_COLUMNS = [RHYTHM_FEATURES.index(name) for name in RHYTHM_ANGLES]


def initial_weights(num: int, seed: int) -> torch.Tensor:
    """Circuit weights drawn uniformly in [-pi, pi) from ``seed`` alone (same seed, same start)."""
    generator = torch.Generator().manual_seed(int(seed))
    return (torch.rand(num, generator=generator, dtype=torch.float64) * 2 - 1) * math.pi


def qiskit_qnn(vqc: VQCCircuit, input_gradients: bool = False):
    """qiskit-machine-learning's EstimatorQNN for the circuit, with its defaults.

    Its default estimator (``QMLEstimator``) computes exact expectations and its default gradient is
    the parameter-shift rule, so it returns the same numbers as our simulator (checked by the
    tests). Passing qiskit's ``StatevectorEstimator`` instead would add Gaussian noise of std
    ``default_precision`` (1/64).
    """
    from qiskit_machine_learning.neural_networks import EstimatorQNN

    return EstimatorQNN(
        circuit=vqc.circuit,
        observables=vqc.observable,
        input_params=vqc.inputs,
        weight_params=vqc.weights,
        input_gradients=input_gradients,
    )


class VQCHead(nn.Module):
    """Angles (b, d) -> logit (b,) through the variational circuit."""

    def __init__(
        self,
        spec: VQCSpec | None = None,
        seed: int = 0,
        backend: Backend = "torch",
        input_gradients: bool = False,
    ):
        super().__init__()
        self.spec = spec or VQCSpec()
        self.vqc = build_vqc(self.spec)
        self.backend = backend
        start = initial_weights(self.vqc.num_weights, seed)
        if backend == "torch":
            self.weights = nn.Parameter(start.float())
            self.simulator = TorchVQC(self.vqc)
        elif backend == "qiskit":
            from qiskit_machine_learning.connectors import TorchConnector

            self.qnn = TorchConnector(
                qiskit_qnn(self.vqc, input_gradients), initial_weights=start.numpy()
            )
        else:
            raise ValueError(f"backend={backend!r}: use 'torch' or 'qiskit'")
        self.scale = nn.Parameter(torch.tensor(3.0))
        self.bias = nn.Parameter(torch.tensor(0.0))

    @property
    def circuit_weights(self) -> torch.Tensor:
        """The circuit's weights in the order of ``self.vqc.weights``, whatever the backend."""
        return self.weights if self.backend == "torch" else self.qnn.weight

    def expectation(self, angles: torch.Tensor) -> torch.Tensor:
        if self.backend == "torch":
            return self.simulator.expectation(angles, self.weights).to(angles.dtype)
        return self.qnn(angles)[:, 0].to(angles.dtype)

    def forward(self, angles: torch.Tensor) -> torch.Tensor:
        return self.scale * self.expectation(angles) + self.bias

    def to_backend(self, backend: Backend) -> VQCHead:
        """The same trained head on another backend: weights, scale and bias copied unchanged."""
        other = VQCHead(self.spec, backend=backend)
        with torch.no_grad():
            other.circuit_weights.copy_(
                self.circuit_weights.detach().to(other.circuit_weights.dtype)
            )
            other.scale.copy_(self.scale)
            other.bias.copy_(self.bias)
        return other


class MatchedMLP(nn.Module):
    """d -> h -> 1 with tanh, h the largest width whose parameter count does not exceed
    ``budget``."""

    def __init__(self, inputs: int, budget: int, seed: int = 0):
        super().__init__()
        hidden = (budget - 1) // (inputs + 2)
        if hidden < 1:
            raise ValueError(
                f"MatchedMLP: a budget of {budget} parameters cannot hold one hidden unit on "
                f"{inputs} inputs"
            )
        torch.manual_seed(seed)
        self.net = nn.Sequential(nn.Linear(inputs, hidden), nn.Tanh(), nn.Linear(hidden, 1))

    def forward(self, angles: torch.Tensor) -> torch.Tensor:
        return self.net(angles)[:, 0]


class LatentStudent(nn.Module):
    """Window (b, 1, 256) -> encoder -> angles -> head -> logit (b,).

    It keeps the autoencoder's encoding half only (the decoder does not run at inference), so its
    parameter count is what a device would hold: encoder, angle scaling and head. With a
    ``rhythm_scaler`` it reads a window with its rhythm features appended
    (:func:`ecgkd.data.rhythm.join_rhythm`): the angles are the latent's followed by those of
    :data:`RHYTHM_ANGLES`, and the logit is the head's plus the rhythm anchor's
    (:class:`ecgkd.data.rhythm.RhythmAnchor`, the rhythm-only baseline, fixed), as in every model
    that reads rhythm (our choice): the circuit learns what the window, and the rhythm angles beside
    it, add to the baseline. The anchor is classical: on a device it runs beside the circuit.
    """

    def __init__(
        self,
        encoder: ConvAutoencoder,
        scaler: AngleScaler,
        head: nn.Module,
        end_to_end: bool = False,
        rhythm_scaler: AngleScaler | None = None,
    ):
        super().__init__()
        self.encoder = copy.deepcopy(encoder.encoder)  # the encoding half of the autoencoder
        self.scaler = copy.deepcopy(scaler)
        self.rhythm_scaler = copy.deepcopy(rhythm_scaler)
        self.head = head
        self.anchor = RhythmAnchor(N_RHYTHM) if rhythm_scaler is not None else None
        self.end_to_end = end_to_end
        for p in self.encoder.parameters():
            p.requires_grad_(end_to_end)

    def train(self, mode: bool = True) -> LatentStudent:
        super().train(mode)
        if not self.end_to_end:
            self.encoder.eval()  # a frozen encoder stays frozen
        return self

    @property
    def reads_rhythm(self) -> bool:
        return self.rhythm_scaler is not None

    def angles(self, x: torch.Tensor) -> torch.Tensor:
        if self.rhythm_scaler is None:
            return self.scaler(self.encoder(x))
        window, rhythm = split_rhythm(x)
        latent = self.scaler(self.encoder(window))
        return torch.cat([latent, self.rhythm_scaler(rhythm[:, RHYTHM_COLUMNS])], dim=1)

    def anchor_logits(self, x: torch.Tensor) -> torch.Tensor:
        """The rhythm anchor's share of the logit (b,): zeros for a student without rhythm."""
        if self.anchor is None:
            return torch.zeros(len(x), dtype=x.dtype)
        return self.anchor(split_rhythm(x)[1])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        logits = self.head(self.angles(x))
        return logits if self.anchor is None else logits + self.anchor_logits(x)

    def frozen_inputs(self, x: np.ndarray, batch_size: int = 2048) -> np.ndarray:
        """What the head reads, computed once for windows ``x`` (n, 1, length) while the encoder is
        frozen: each window's angles and its rhythm anchor's logit, (n, angles + 1). Training
        :meth:`trainable` on these gives the student's logits without running the frozen encoder
        at every step of every epoch."""
        if self.end_to_end:
            raise ValueError("frozen_inputs: this student trains its encoder (end to end)")
        self.eval()
        parts = []
        with torch.inference_mode():
            for start in range(0, max(len(x), 1), batch_size):  # an empty x: one empty batch
                xb = torch.from_numpy(np.array(x[start : start + batch_size], np.float32))
                parts.append(torch.cat([self.angles(xb), self.anchor_logits(xb)[:, None]], 1))
        return torch.cat(parts).numpy()

    def trainable(self) -> HeadOnFrozenInputs | None:
        """The part of the student that trains, reading :meth:`frozen_inputs` (its head, shared);
        None when the encoder trains too (end to end)."""
        return None if self.end_to_end else HeadOnFrozenInputs(self.head)


class HeadOnFrozenInputs(nn.Module):
    """A latent student's head on :meth:`LatentStudent.frozen_inputs` (angles, anchor logit): the
    student's logit, with the head's parameters (the same tensors as the student's) and nothing
    else inside, so that training it trains the student."""

    def __init__(self, head: nn.Module):
        super().__init__()
        self.head = head

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        return self.head(inputs[:, :-1]) + inputs[:, -1]


@torch.no_grad()
def start_at_zero(head: nn.Module) -> nn.Module:
    """The head with a zero output at initialisation, so that an anchored student starts as its
    rhythm anchor (as :class:`ecgkd.data.rhythm.RhythmClassifier`'s zero-initialised window
    layer): the VQC's scale, the MLP's last layer. The circuit's weights keep their seeded start."""
    if isinstance(head, VQCHead):
        head.scale.zero_()
        head.bias.zero_()
    elif isinstance(head, MatchedMLP):
        last = head.net[-1]
        last.weight.zero_()
        last.bias.zero_()
    else:
        raise TypeError(f"start_at_zero: no zero start defined for {type(head).__name__}")
    return head


def head_parameters(spec: VQCSpec) -> int:
    """Trainable parameters of the VQC head: circuit weights + scale + bias."""
    return build_vqc(spec).num_weights + 2


def latent_angles(student: LatentStudent, x: np.ndarray, batch_size: int = 2048) -> np.ndarray:
    """The angles (n, d) a student's circuit receives for windows (n, 1, 256) (with the rhythm
    features appended when the student reads them)."""
    student.eval()
    with torch.inference_mode():
        out = [
            student.angles(
                torch.from_numpy(np.ascontiguousarray(x[s : s + batch_size], np.float32))
            ).numpy()
            for s in range(0, len(x), batch_size)
        ]
    return np.concatenate(out)


@dataclass(frozen=True)
class QuantumBuilder:
    """Builds a fresh latent student for a sweep job: the frozen encoder plus a head seeded by the
    job.

    ``job.student`` is ``"vqc"`` (the circuit) or ``"mlp"`` (the control). A class, not a closure,
    so joblib can send it to worker processes. ``encoder_key`` identifies the trained encoder in
    caches. With a ``rhythm_scaler`` the students read the rhythm angles after the latent ones and
    add the rhythm anchor's logit, their head starting at zero (jobs with ``rhythm=True`` only).
    """

    encoder: ConvAutoencoder = field(repr=False)
    scaler: AngleScaler = field(repr=False)
    encoder_key: str
    spec: VQCSpec = VQCSpec()
    end_to_end: bool = False
    rhythm_scaler: AngleScaler | None = field(default=None, repr=False)

    @property
    def reads_rhythm(self) -> bool:
        return self.rhythm_scaler is not None

    @property
    def inputs(self) -> int:
        """Angles per example: the latent's, plus the rhythm's when read."""
        return self.encoder.latent + (len(RHYTHM_ANGLES) if self.reads_rhythm else 0)

    def __call__(self, job) -> LatentStudent:
        if bool(job.rhythm) != self.reads_rhythm:
            raise ValueError(
                f"job rhythm={job.rhythm} but this builder's encoder "
                f"{'reads' if self.reads_rhythm else 'does not read'} rhythm features: build it "
                "with the matching autoencoder run (ecgkd.quantum.encoders.LatentEncoders.for_job)"
            )
        if job.student == "vqc":
            head = VQCHead(self.spec, seed=job.seed)
        elif job.student == "mlp":
            head = MatchedMLP(self.inputs, head_parameters(self.spec), seed=job.seed)
        else:
            raise ValueError(f"student={job.student!r}: the quantum stage builds 'vqc' or 'mlp'")
        if self.reads_rhythm:
            start_at_zero(head)  # the student starts as its rhythm anchor
        return LatentStudent(
            self.encoder, self.scaler, head, self.end_to_end, rhythm_scaler=self.rhythm_scaler
        )

    def label(self, student: str) -> str:
        """The model's name in result tables, with its trainable parameters (the tables' size
        columns add the frozen encoder, which runs at inference too)."""
        if student == "mlp":
            control = MatchedMLP(self.inputs, head_parameters(self.spec))
            trainable = count_parameters(control, trainable_only=True)
            return f"MLP control ({trainable} trainable params)"
        return f"VQC ({self.spec.qubits} qubits, {head_parameters(self.spec)} trainable params)"

    def model_code(self) -> str:
        """Fingerprint of what the built models depend on beyond the job: code, encoder, circuit."""
        return cache.fingerprint(
            {
                "encoder": self.encoder_key,
                "spec": self.spec.as_dict(),
                "end_to_end": self.end_to_end,
                "rhythm": None
                if self.rhythm_scaler is None
                else [self.rhythm_scaler.low.tolist(), self.rhythm_scaler.high.tolist()],
                "code": cache.code_version(
                    circuit_mod, statevector_mod, sys.modules[__name__], autoencoder_mod
                ),
            }
        )
