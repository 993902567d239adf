"""A batched, exact statevector simulation in torch of the circuits :mod:`ecgkd.quantum.circuit`
builds.

Why: qiskit-machine-learning's EstimatorQNN simulates one circuit per sample and differentiates by
parameter shift (two more circuits per weight), which trains a 6-qubit VQC at a few samples per
second. The same numbers come out of three small tensor operations, with autograd for the gradients:

1. the **encoding** is simulated for the whole batch at once (for angle encoding a product state:
   one 2-vector per qubit, then their Kronecker product);
2. the **ansatz** does not depend on the data, so its 2^n x 2^n unitary is built once per step
   from the weights: its gates fused into layers (:func:`fuse`: the one-qubit gates of a layer
   are one Kronecker product, a run of CX / CZ / SWAP one signed permutation), applied to the
   identity;
3. the **readout** observable is diagonal (Pauli Z's): the expectation is |U psi|^2 times its
   diagonal.

When every qubit is encoded by one RY on |0> (the angle encoding), :meth:`TorchVQC.expectation`
takes a shorter road, in the Pauli basis (:class:`PauliReadout`): the readout seen through the
ansatz is one 2^n x 2^n matrix M = U^T O U per step, and a real product state's expectation
psi^T M psi is a sum over Pauli strings of {I, Z, X} of M's coefficient times the product of each
qubit's <I> = 1, <Z> = cos t, <X> = sin t. Split into two halves of the qubits, that is
v_A^T C v_B with 3^(n/2)-vectors: for 6 qubits a (b, 27) x (27, 27) product per batch instead of
(b, 64) x (64, 64), and no statevector at all. The same numbers to rounding (tested).

When the ansatz is RY layers between CX / CZ / SWAP (Qiskit's real_amplitudes, our default), M
and its gradient in the weights are computed by :class:`HeisenbergReadout`, with the gradient
written out instead of recorded by autograd: the part of a training step that does not grow with
the batch, most of a step at a few thousand windows (``benchmarks/vqc.py`` measures both).

The simulator reads the Qiskit circuit gate by gate (names, qubits, parameter expressions), so it
simulates exactly the circuit that is drawn, exported and run on Aer. Qiskit's bit order: qubit q is
bit q of the basis-state index (qubit 0 least significant). Equality with
``qiskit.quantum_info.Statevector`` and with EstimatorQNN's gradients is checked by the tests.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import sympy
import torch
from qiskit.circuit import Parameter, ParameterExpression

from .circuit import VQCCircuit

REAL_GATES = {"ry", "h", "x", "z", "cx", "cz", "swap"}
SUPPORTED = REAL_GATES | {"rx", "rz", "p", "sx", "y", "s", "sdg"}
_TORCH_FUNCTIONS = {"sin": torch.sin, "cos": torch.cos, "exp": torch.exp, "sqrt": torch.sqrt}

AngleFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


class UnsupportedCircuit(NotImplementedError):
    """The circuit is outside what this simulator reads (a scope limit, with the reason in the
    message).

    Simulate such a circuit with Qiskit instead (``VQCHead(backend="qiskit")``).
    """


@dataclass
class Gate:
    """One compiled instruction: its name, qubits and a function (inputs, weights) -> angle per
    param."""

    name: str
    qubits: tuple[int, ...]
    angles: tuple[AngleFn, ...]
    permutation: torch.Tensor | None = None  # two-qubit gates: new[k] = old[permutation[k]]
    signs: torch.Tensor | None = None  # CZ: -1 where both qubits are 1
    weight: int | None = None  # a one-angle gate whose angle is a weight itself: its index


def _two_qubit_tables(
    name: str, qubits: tuple[int, ...], n: int
) -> tuple[torch.Tensor | None, torch.Tensor | None]:
    """Index permutation (CX, SWAP) or sign vector (CZ) of a two-qubit gate, computed once per
    circuit."""
    a, c = qubits
    k = np.arange(2**n)
    if name == "cz":
        return None, torch.from_numpy(np.where((k >> a) & (k >> c) & 1, -1.0, 1.0))
    if name == "cx":  # flip the target where the control is 1
        return torch.from_numpy(np.where((k >> a) & 1, k ^ (1 << c), k)), None
    return torch.from_numpy(
        np.where(((k >> a) ^ (k >> c)) & 1, k ^ ((1 << a) | (1 << c)), k)
    ), None  # swap


@dataclass
class Segment:
    """A run of ansatz gates fused into one step of :meth:`TorchVQC.unitary_rows`: one-qubit gates
    (``local``: each qubit's gates in circuit order; their Kronecker product is one 2^n x 2^n
    matrix) or two-qubit gates (a signed permutation: new[k] = signs[k] * old[permutation[k]])."""

    local: dict[int, list[Gate]] | None = None
    permutation: torch.Tensor | None = None
    signs: torch.Tensor | None = None


def fuse(gates: list[Gate], n: int) -> list[Segment]:
    """The ansatz as alternating segments: consecutive one-qubit gates together (gates on different
    qubits commute), consecutive CX / SWAP / CZ composed into one signed permutation. Fewer, larger
    tensor operations: the unitary is built in a dozen steps instead of one per gate."""
    segments: list[Segment] = []
    identity = torch.arange(2**n)
    for gate in gates:
        last = segments[-1] if segments else None
        if len(gate.qubits) == 1:
            if last is None or last.local is None:
                last = Segment(local={})
                segments.append(last)
            last.local.setdefault(gate.qubits[0], []).append(gate)
            continue
        if last is None or last.local is not None:
            last = Segment(permutation=identity, signs=torch.ones(2**n, dtype=torch.float64))
            segments.append(last)
        perm = gate.permutation if gate.permutation is not None else identity
        signs = gate.signs if gate.signs is not None else torch.ones(2**n, dtype=torch.float64)
        # after this gate: new[k] = signs[k] * old'[perm[k]], old'[j] = s[j] * old[p[j]]
        last.signs = signs * last.signs[perm]
        last.permutation = last.permutation[perm]
    return segments


def _angle_function(
    value, inputs: dict[Parameter, int], weights: dict[Parameter, int]
) -> tuple[AngleFn, str]:
    """A torch function of (x (b, d), w (p,)) for one gate parameter, and what it depends on."""
    if not isinstance(value, ParameterExpression):
        constant = float(value)
        return (lambda x, w: torch.tensor(constant, dtype=w.dtype, device=w.device)), "constant"
    params = sorted(value.parameters, key=lambda p: p.name)
    if isinstance(value, Parameter) or (len(params) == 1 and value == params[0]):
        (p,) = params
        if p in inputs:
            i = inputs[p]
            return (lambda x, w: x[:, i]), "inputs"
        j = weights[p]
        return (lambda x, w: w[j]), "weights"
    kinds = {"inputs" if p in inputs else "weights" if p in weights else "unknown" for p in params}
    if kinds != {"inputs"} and kinds != {"weights"}:
        raise UnsupportedCircuit(
            f"gate parameter {value} mixes inputs and weights (or unknown parameters); "
            "the fast simulator needs data-only or weight-only gates"
        )
    expr = value.sympify()
    symbols = {str(s): s for s in expr.free_symbols}
    fn = sympy.lambdify([symbols[p.name] for p in params], expr, modules=[_TORCH_FUNCTIONS, "math"])
    if kinds == {"inputs"}:
        index = [inputs[p] for p in params]
        return (lambda x, w: fn(*(x[:, i] for i in index))), "inputs"
    index = [weights[p] for p in params]
    return (lambda x, w: fn(*(w[j] for j in index))), "weights"


def _one_qubit_matrix(
    name: str, angles: list[torch.Tensor], dtype: torch.dtype, like: torch.Tensor
) -> torch.Tensor:
    """(…, 2, 2) matrix of a one-qubit gate; angles are scalars or (b,) tensors."""

    def stack(a, b, c, d):
        return torch.stack([torch.stack([a, b], -1), torch.stack([c, d], -1)], -2)

    if name in ("ry", "rx", "rz", "p"):
        t = angles[0].to(like.dtype if not like.is_complex() else like.real.dtype)
        c, s = torch.cos(t / 2), torch.sin(t / 2)
        if name == "ry":
            return stack(c, -s, s, c).to(dtype)
        zero = torch.zeros_like(t)
        if name == "rx":
            return stack(
                torch.complex(c, zero),
                torch.complex(zero, -s),
                torch.complex(zero, -s),
                torch.complex(c, zero),
            ).to(dtype)
        if name == "rz":
            return stack(
                torch.polar(torch.ones_like(t), -t / 2),
                torch.complex(zero, zero),
                torch.complex(zero, zero),
                torch.polar(torch.ones_like(t), t / 2),
            ).to(dtype)
        return stack(
            torch.complex(torch.ones_like(t), zero),
            torch.complex(zero, zero),
            torch.complex(zero, zero),
            torch.polar(torch.ones_like(t), t),
        ).to(dtype)
    r = 1 / math.sqrt(2)
    fixed = {
        "h": [[r, r], [r, -r]],
        "x": [[0, 1], [1, 0]],
        "z": [[1, 0], [0, -1]],
        "y": [[0, -1j], [1j, 0]],
        "s": [[1, 0], [0, 1j]],
        "sdg": [[1, 0], [0, -1j]],
        "sx": [[0.5 + 0.5j, 0.5 - 0.5j], [0.5 - 0.5j, 0.5 + 0.5j]],
    }
    return torch.tensor(fixed[name], dtype=dtype, device=like.device)


PAULI_READOUT_QUBITS = 8  # up to this many qubits the Pauli tables stay small (3^n x 4^n)
_PAULI_ENTRIES = (  # entries (row bit, column bit) of a 2 x 2 block weighed by I, Z and X
    (0.5, 0.0, 0.0, 0.5),  # I: (B00 + B11) / 2, times <I> = 1 in a^T B a, a = RY(t)|0>
    (0.5, 0.0, 0.0, -0.5),  # Z: (B00 - B11) / 2, times <Z> = cos t
    (0.0, 0.5, 0.5, 0.0),  # X: (B01 + B10) / 2, times <X> = sin t
)


def _pauli_table(qubits: int, dtype: torch.dtype) -> torch.Tensor:
    """(3^q, 4^q): the Kronecker power of the one-qubit table (I, Z, X rows; the (row bit, column
    bit) pairs of a 2 x 2 block as columns), the most significant qubit first."""
    one = torch.tensor(_PAULI_ENTRIES, dtype=dtype)
    table = torch.ones(1, 1, dtype=dtype)
    for _ in range(qubits):
        table = torch.kron(table, one)
    return table


class PauliReadout:
    """psi^T M psi for real product states psi, read in the Pauli basis {I, Z, X}^n.

    ``coefficients(M)`` is M's Pauli decomposition, split in two halves of the qubits: M's row and
    column bits regrouped qubit by qubit (one permutation), then one Kronecker-structured table per
    half on each side, K_high M' K_low^T (two small products). ``expectation(t, C)`` evaluates
    v_A^T C v_B, where v_A and v_B are the Kronecker products of (1, cos t_q, sin t_q) over the
    high and the low half of the qubits.
    """

    def __init__(self, n: int, dtype: torch.dtype):
        self.n, self.low = n, n // 2
        self.high_table = _pauli_table(n - self.low, dtype)
        self.low_table = _pauli_table(self.low, dtype)
        # M viewed as (2,) * 2n, rows' bits then columns', qubit n-1 first: pair them qubit by qubit
        self.axes = [axis for q in range(n) for axis in (q, n + q)]

    def coefficients(self, m: torch.Tensor) -> torch.Tensor:
        """(3^(n - n//2), 3^(n//2)) Pauli coefficients of the real 2^n x 2^n matrix ``m``."""
        paired = m.reshape((2,) * (2 * self.n)).permute(self.axes)
        paired = paired.reshape(4 ** (self.n - self.low), 4**self.low)
        high = self.high_table.to(m.device, m.dtype)
        return high @ paired @ self.low_table.to(m.device, m.dtype).T

    def expectation(self, angles: torch.Tensor, coefficients: torch.Tensor) -> torch.Tensor:
        """(b,) expectations of the product states RY(angles[:, q])|0> (angles (b, n), qubit 0
        first) under the matrix whose :meth:`coefficients` are given."""
        local = torch.stack([torch.ones_like(angles), torch.cos(angles), torch.sin(angles)], -1)
        high = _kron_rows([local[:, q] for q in range(self.n - 1, self.low - 1, -1)])
        low = _kron_rows([local[:, q] for q in range(self.low - 1, -1, -1)])
        return ((high @ coefficients) * low).sum(-1)


def _kron_rows(factors: list[torch.Tensor]) -> torch.Tensor:
    """Row-wise Kronecker product of (b, k_i) factors, the first the most significant."""
    out = factors[0]
    for factor in factors[1:]:
        out = (out[:, :, None] * factor[:, None, :]).reshape(out.shape[0], -1)
    return out


def _kron_blocks(blocks: torch.Tensor) -> torch.Tensor:
    """(..., 2^n, 2^n) Kronecker products of (..., n, 2, 2) one-qubit matrices (qubit 0 first in
    ``blocks``; qubit n-1 leftmost in the product: the most significant bit)."""
    n, batch = blocks.shape[-3], blocks.shape[:-3]
    matrix = blocks[..., n - 1, :, :]
    for q in range(n - 2, -1, -1):
        size = matrix.shape[-1] * 2
        block = blocks[..., q, :, :]
        matrix = matrix[..., :, None, :, None] * block[..., None, :, None, :]
        matrix = matrix.reshape(*batch, size, size)
    return matrix


@dataclass
class RYChain:
    """An ansatz of RY layers (one per qubit, every angle a weight) between signed permutations
    (CX, CZ, SWAP), as the fixed tables :class:`HeisenbergReadout` needs.

    Each layer is folded with the permutation after it into one step, rows -> rows @ L^T Q; the
    tables for the way back use that RY turned half a turn is RY times a fixed matrix,
    RY(t + pi) = RY(t) J with J = [[0, -1], [1, 0]], so dRY(t)/dt = RY(t) J / 2.
    """

    n: int
    permutations: torch.Tensor  # (layers, 2^n): each step's columns, new[:, k] = old[:, p[k]]
    signs: torch.Tensor | None  # (layers, 2^n) signs of CZ's, or None without any
    diagonal: torch.Tensor  # (2^n,) the observable
    turn_index: torch.Tensor  # (n * 2^n,) the entries (r, r ^ 2^q) of a 2^n x 2^n matrix, flat
    turn_signs: torch.Tensor  # (n, 2^n) J_q's entries there: +1 where bit q of r is set, else -1

    @classmethod
    def from_segments(cls, segments: list[Segment], n: int, diagonal: torch.Tensor) -> RYChain:
        """The tables of fused segments (:func:`fuse`) that start with a layer (an ansatz's first
        gate holds a weight) and alternate layers with permutations."""
        size, dtype = 2**n, diagonal.dtype
        identity, ones = torch.arange(size), torch.ones(size, dtype=dtype)
        permutations, signs = [], []
        for segment in segments:
            if segment.local is not None:
                permutations.append(identity)
                signs.append(ones)
            else:  # the permutation after a layer: folded into its step
                permutations[-1], signs[-1] = segment.permutation, segment.signs.to(dtype)
        rows = torch.arange(size)
        flips = torch.stack([rows ^ (1 << q) for q in range(n)])  # (n, 2^n): bit q of r flipped
        bits = (rows >> torch.arange(n)[:, None]) & 1  # (n, 2^n): bit q of r
        signed = torch.stack(signs)
        return cls(
            n=n,
            permutations=torch.stack(permutations),
            signs=None if bool((signed == 1).all()) else signed,
            diagonal=diagonal,
            turn_index=(rows * size + flips).reshape(-1),
            turn_signs=(2 * bits - 1).to(dtype),
        )


class HeisenbergReadout(torch.autograd.Function):
    """The readout seen through the ansatz, M = U^T O U, for an :class:`RYChain`, with its gradient
    written out (the adjoint method).

    Why: autograd records every small operation that builds M (each Kronecker step, product and
    permutation) and goes back through each of them. By hand, the way back is two 2^n x 2^n
    products per layer (``benchmarks/vqc.py`` times both roads): with rows -> B @ L^T Q at each
    step, the layer's H = L^T dloss/dL is Y^T B (Y the gradient flowing back to B), and each
    angle's derivative is H's inner product with the fixed signed permutation J_q
    (:class:`RYChain`): one gather for every angle at once. Checked against autograd through
    :meth:`TorchVQC.unitary_rows` by the tests.

    ``apply(angles, chain)``: angles (layers, n), qubit 0 first.
    """

    @staticmethod
    def forward(ctx, angles: torch.Tensor, chain: RYChain) -> torch.Tensor:
        blocks = _one_qubit_matrix("ry", [angles], angles.dtype, angles).transpose(-1, -2)
        steps = _kron_blocks(blocks)  # (layers, 2^n, 2^n): each layer's L^T
        size, device = steps.shape[-1], steps.device
        columns = chain.permutations.to(device)[:, None, :].expand(-1, size, -1)
        steps = torch.gather(steps, 2, columns)  # then its permutation: L^T Q
        if chain.signs is not None:
            steps = steps * chain.signs.to(steps)[:, None, :]
        rows, before = None, []  # rows[k] = (the steps so far)|k>; None: the identity
        for step in steps:
            before.append(rows)
            rows = step if rows is None else rows @ step
        weighed = rows * chain.diagonal.to(rows)
        ctx.chain, ctx.steps, ctx.before, ctx.weighed = chain, steps, before, weighed
        return weighed @ rows.T

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> tuple[torch.Tensor, None]:
        chain, steps = ctx.chain, ctx.steps
        upstream = (grad + grad.T) @ ctx.weighed  # d loss / d rows, rows the final U^T
        turned = []
        for index in range(len(steps) - 1, -1, -1):  # rows = before @ step
            upstream = upstream @ steps[index].T  # now d loss / d before
            prior = ctx.before[index]
            turned.append(upstream.T if prior is None else upstream.T @ prior)  # L^T dloss/dL
        h = torch.stack(turned[::-1]).reshape(len(steps), -1)  # (layers, 4^n)
        entries = h[:, chain.turn_index.to(h.device)].reshape(len(steps), chain.n, -1)
        return 0.5 * (entries * chain.turn_signs.to(h)).sum(-1), None


class TorchVQC:
    """The compiled circuit: ``expectation(x, weights)`` for a batch, differentiable in both."""

    def __init__(self, vqc: VQCCircuit, dtype: torch.dtype = torch.float64):
        self.vqc = vqc
        self.n = vqc.circuit.num_qubits
        inputs = {p: i for i, p in enumerate(vqc.inputs)}
        weights = {p: j for j, p in enumerate(vqc.weights)}
        self.encoding: list[Gate] = []
        self.ansatz: list[Gate] = []
        names = set()
        for instruction in vqc.circuit.data:
            op = instruction.operation
            if op.name == "barrier":
                continue
            if op.name not in SUPPORTED:
                raise UnsupportedCircuit(
                    f"gate {op.name!r} is not simulated; supported: {sorted(SUPPORTED)}"
                )
            names.add(op.name)
            qubits = tuple(vqc.circuit.find_bit(q).index for q in instruction.qubits)
            compiled = [_angle_function(v, inputs, weights) for v in op.params]
            kinds = {kind for _, kind in compiled}
            tables = (
                _two_qubit_tables(op.name, qubits, self.n) if len(qubits) == 2 else (None, None)
            )
            plain = len(op.params) == 1 and op.params[0] in weights
            gate = Gate(
                op.name,
                qubits,
                tuple(fn for fn, _ in compiled),
                *tables,
                weight=weights[op.params[0]] if plain else None,
            )
            if "weights" in kinds or (self.ansatz and "inputs" not in kinds):
                if "inputs" in kinds:
                    raise UnsupportedCircuit(
                        "a data-dependent gate after a trainable one (re-uploading) is not "
                        "supported by the fast simulator"
                    )
                self.ansatz.append(gate)
            else:
                self.encoding.append(gate)
        real = names <= REAL_GATES
        self.real_dtype = dtype
        self.dtype = (
            dtype if real else (torch.complex128 if dtype == torch.float64 else torch.complex64)
        )
        self.product_encoding = all(len(g.qubits) == 1 for g in self.encoding)
        self.segments = fuse(self.ansatz, self.n)
        local = [s.local for s in self.segments if s.local is not None]
        self.uniform_layers = bool(local) and all(
            sorted(layer) == list(range(self.n))
            and all(len(g) == 1 and g[0].name == local[0][0][0].name for g in layer.values())
            and local[0][0][0].name in ("ry", "rx", "rz", "p")
            for layer in local
        )
        indices = (
            [[layer[q][0].weight for q in range(self.n)] for layer in local]
            if self.uniform_layers
            else [[None]]
        )
        plain = all(i is not None for row in indices for i in row)
        self.layer_weights = torch.tensor(indices) if plain else None  # (layers, n) or None
        observable = vqc.observable
        if any(set(label) - {"I", "Z"} for label in observable.paulis.to_labels()):
            raise UnsupportedCircuit("the fast simulator reads diagonal (I/Z) observables only")
        diagonal = np.real(observable.to_matrix(sparse=True).diagonal())
        self.diagonal = torch.tensor(diagonal, dtype=dtype)
        encoded = sorted(g.qubits[0] for g in self.encoding if len(g.qubits) == 1)
        self.pauli = (
            PauliReadout(self.n, dtype)
            if self.n <= PAULI_READOUT_QUBITS
            and encoded == list(range(self.n))
            and all(g.name == "ry" and len(g.angles) == 1 for g in self.encoding)
            else None
        )  # one RY per qubit on |0>: a real product state, read in the Pauli basis
        self.encoding_angles = sorted(self.encoding, key=lambda g: g.qubits[0])
        self.chain = (  # RY layers of plain weights between signed permutations
            RYChain.from_segments(self.segments, self.n, self.diagonal)
            if self.pauli is not None
            and self.layer_weights is not None
            and local[0][0][0].name == "ry"
            and self.segments[0].local is not None
            and not self.dtype.is_complex
            else None
        )

    # -- gate application on a batch of states (b, 2^n)
    # ----------------------------------------------
    def _apply(
        self, state: torch.Tensor, gate: Gate, x: torch.Tensor, w: torch.Tensor
    ) -> torch.Tensor:
        b, n = state.shape[0], self.n
        if len(gate.qubits) == 1:
            (q,) = gate.qubits
            matrix = _one_qubit_matrix(
                gate.name, [fn(x, w) for fn in gate.angles], self.dtype, state
            )
            view = state.reshape(b, 2 ** (n - 1 - q), 2, 2**q)
            equation = "bij,bljr->blir" if matrix.ndim == 3 else "ij,bljr->blir"
            return torch.einsum(equation, matrix, view).reshape(b, -1)
        if gate.signs is not None:
            return state * gate.signs.to(state.device, state.dtype)
        return state[:, gate.permutation.to(state.device)]

    # -- the three steps
    # -----------------------------------------------------------------------------
    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """The encoded states (b, 2^n) of a batch of inputs (b, d)."""
        b, w = x.shape[0], torch.zeros(0, dtype=self.real_dtype, device=x.device)
        x = x.to(self.real_dtype)
        if self.product_encoding:
            qubit: list[torch.Tensor | None] = [None] * self.n  # None: still |0>
            for gate in self.encoding:
                (q,) = gate.qubits
                angles = [fn(x, w) for fn in gate.angles]
                if qubit[q] is None and gate.name == "ry":  # RY(t)|0> = (cos t/2, sin t/2)
                    half = angles[0].to(self.real_dtype) / 2
                    qubit[q] = torch.stack([torch.cos(half), torch.sin(half)], -1).to(self.dtype)
                    continue
                if qubit[q] is None:
                    qubit[q] = torch.zeros(b, 2, dtype=self.dtype, device=x.device)
                    qubit[q][:, 0] = 1
                matrix = _one_qubit_matrix(gate.name, angles, self.dtype, qubit[q])
                qubit[q] = torch.einsum(
                    "bij,bj->bi" if matrix.ndim == 3 else "ij,bj->bi", matrix, qubit[q]
                )
            for q in range(self.n):
                if qubit[q] is None:
                    qubit[q] = torch.zeros(b, 2, dtype=self.dtype, device=x.device)
                    qubit[q][:, 0] = 1
            state = qubit[self.n - 1]
            for q in range(self.n - 2, -1, -1):  # qubit n-1 is the most significant bit
                state = (state[:, :, None] * qubit[q][:, None, :]).reshape(b, -1)
            return state
        state = torch.zeros(b, 2**self.n, dtype=self.dtype, device=x.device)
        state[:, 0] = 1
        for gate in self.encoding:
            state = self._apply(state, gate, x, w)
        return state

    def unitary_rows(self, weights: torch.Tensor) -> torch.Tensor:
        """M with M[k] = U|k>: the ansatz applied to every basis state, built once per batch, one
        fused segment (:func:`fuse`) at a time."""
        weights = weights.to(self.real_dtype)
        rows = torch.eye(2**self.n, dtype=self.dtype, device=weights.device)
        layers = iter(self._uniform_layers(weights) if self.uniform_layers else ())
        for segment in self.segments:
            if self.uniform_layers and segment.local is not None:
                rows = rows @ next(layers).T
            elif segment.local is None:
                rows = rows[:, segment.permutation.to(rows.device)]
                if not bool((segment.signs == 1).all()):  # CZ present: a diagonal of signs
                    rows = rows * segment.signs.to(rows.device, rows.real.dtype)
            else:
                rows = rows @ self._layer_matrix(segment.local, weights).T
        return rows

    def _uniform_layers(self, weights: torch.Tensor) -> torch.Tensor:
        """(layers, 2^n, 2^n): the matrices of every one-qubit layer at once, when each layer is
        one gate of the same kind on every qubit (RealAmplitudes: an RY on each qubit): one call
        builds all the 2 x 2 matrices, and batched Kronecker products join them."""
        empty = torch.zeros(1, 0, dtype=self.real_dtype, device=weights.device)
        local = [s.local for s in self.segments if s.local is not None]
        name = local[0][0][0].name
        if self.layer_weights is not None:  # every angle is a weight: one gather
            angles = [weights[self.layer_weights.to(weights.device)]]
        else:
            angles = [
                torch.stack(
                    [
                        torch.stack([layer[q][0].angles[i](empty, weights) for q in range(self.n)])
                        for layer in local
                    ]
                )
                for i in range(len(local[0][0][0].angles))
            ]  # each (layers, n)
        return _kron_blocks(_one_qubit_matrix(name, angles, self.dtype, weights))

    def _layer_matrix(self, local: dict[int, list[Gate]], weights: torch.Tensor) -> torch.Tensor:
        """The 2^n x 2^n matrix of one-qubit gates on several qubits: the Kronecker product of each
        qubit's 2 x 2 product (identity where idle), qubit n-1 leftmost (the most significant
        bit)."""
        empty = torch.zeros(1, 0, dtype=self.real_dtype, device=weights.device)
        eye = torch.eye(2, dtype=self.dtype, device=weights.device)
        blocks = {q: eye for q in range(self.n)}
        depth = max(len(gates) for gates in local.values())
        for position in range(depth):  # the i-th gate of every qubit, one matrix call per name
            by_name: dict[str, list[tuple[int, Gate]]] = {}
            for q, gates in local.items():
                if position < len(gates):
                    by_name.setdefault(gates[position].name, []).append((q, gates[position]))
            for name, members in by_name.items():
                angles = [
                    torch.stack([gate.angles[i](empty, weights) for _, gate in members])
                    for i in range(len(members[0][1].angles))
                ]
                matrices = _one_qubit_matrix(name, angles, self.dtype, eye)
                if matrices.ndim == 2:  # a fixed gate (H, X, ...): the same matrix for all
                    matrices = matrices.expand(len(members), 2, 2)
                for (q, _), matrix in zip(members, matrices, strict=True):
                    blocks[q] = matrix if blocks[q] is eye else matrix @ blocks[q]
        return _kron_blocks(torch.stack([blocks[q] for q in range(self.n)]))

    def states(self, x: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
        """The final states (b, 2^n): U applied to each encoded input."""
        return self.encode(x) @ self.unitary_rows(weights)

    def expectation(self, x: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
        """<psi(x, w)| O |psi(x, w)> for each row of x: (b,) in [-1, 1] (in the Pauli basis when
        the encoding allows it, :class:`PauliReadout`; else from the states)."""
        if self.pauli is None:
            return self.statevector_expectation(x, weights)
        weights = weights.to(self.real_dtype)
        if self.chain is not None:  # U^T O U with a hand-written gradient
            angles = weights[self.layer_weights.to(weights.device)]
            readout = HeisenbergReadout.apply(angles, self.chain)
        else:
            rows = self.unitary_rows(weights)  # rows[k] = U|k>
            readout = (rows * self.diagonal.to(rows.device)) @ rows.conj().T  # U^T O U
        coefficients = self.pauli.coefficients(readout.real if readout.is_complex() else readout)
        x = x.to(self.real_dtype)
        empty = torch.zeros(0, dtype=self.real_dtype, device=x.device)
        angles = torch.stack([g.angles[0](x, empty) for g in self.encoding_angles], 1)
        return self.pauli.expectation(angles.to(self.real_dtype), coefficients)

    def statevector_expectation(self, x: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
        """The expectation from the final states: |U psi|^2 times the observable's diagonal."""
        psi = self.states(x, weights)
        probabilities = psi.real**2 + psi.imag**2 if psi.is_complex() else psi**2
        return probabilities @ self.diagonal.to(probabilities.device)

    def probabilities(self, x: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
        """Measurement probabilities (b, 2^n) of the basis states (what finite shots sample)."""
        psi = self.states(x, weights)
        return psi.real**2 + psi.imag**2 if psi.is_complex() else psi**2
