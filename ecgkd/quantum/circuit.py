"""The variational quantum classifier as a Qiskit circuit: encoding, trainable ansatz, observable.

Our choices (the study's circuit is not public):
- **encoding**: angle encoding by default, one latent value per qubit as RY(x_i) on |0> (a product
  state, the simplest map a reader can check by hand and the cheapest on hardware: no two-qubit
  gates); Qiskit's ZZ feature map (``zz_feature_map``: H, phases and CX-phase-CX pairs) as an
  option;
- **ansatz**: Qiskit's ``real_amplitudes`` (RY layers and CX chains; real amplitudes suit a
  real-valued decision), ``efficient_su2`` (RY and RZ layers) as an option; ``reps`` entangling
  layers;
- **readout**: the expectation of one Pauli-Z observable, either Z on one qubit or the parity Z x
  ... x Z of all qubits, mapped to a binary logit by a trainable scale and bias (outside the
  circuit).

The same :class:`VQCSpec` builds the Qiskit circuit here and the fast simulation in
:mod:`ecgkd.quantum.statevector`, which reads this circuit gate by gate: one definition of the
circuit.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Literal

from qiskit import QuantumCircuit
from qiskit.circuit import Parameter, ParameterVector
from qiskit.circuit.library import efficient_su2, real_amplitudes, zz_feature_map
from qiskit.quantum_info import SparsePauliOp

Encoding = Literal["angle", "zz"]
Ansatz = Literal["real_amplitudes", "efficient_su2"]
Readout = Literal["parity", "z0", "zlast"]


@dataclass(frozen=True)
class VQCSpec:
    """Everything that defines the circuit. The defaults are the tutorial's VQC student."""

    qubits: int = 6
    reps: int = 5
    encoding: Encoding = "angle"
    ansatz: Ansatz = "real_amplitudes"
    entanglement: str = "linear"
    readout: Readout = "parity"

    def __post_init__(self) -> None:
        if not 1 <= self.qubits <= 12:
            raise ValueError(
                f"VQCSpec.qubits={self.qubits}: use 1 to 12 (the simulators hold 2**qubits"
                " amplitudes)"
            )
        if self.reps < 1:
            raise ValueError(f"VQCSpec.reps={self.reps} must be >= 1")
        checks = {
            "encoding": ("angle", "zz"),
            "ansatz": ("real_amplitudes", "efficient_su2"),
            "readout": ("parity", "z0", "zlast"),
            "entanglement": ("linear", "reverse_linear", "full", "circular"),
        }
        for name, allowed in checks.items():
            if getattr(self, name) not in allowed:
                raise ValueError(f"VQCSpec.{name}={getattr(self, name)!r}: use one of {allowed}")

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class VQCCircuit:
    """The built circuit and the parameter orders every simulator and trained model agree on."""

    spec: VQCSpec
    circuit: QuantumCircuit
    inputs: list[Parameter]
    weights: list[Parameter]
    observable: SparsePauliOp

    @property
    def num_weights(self) -> int:
        return len(self.weights)


def encoding_circuit(spec: VQCSpec) -> tuple[QuantumCircuit, list[Parameter]]:
    """The data-encoding block and its input parameters x[0..d-1]."""
    if spec.encoding == "zz":
        block = zz_feature_map(spec.qubits, reps=1, entanglement="linear", parameter_prefix="x")
        return block, list(block.parameters)
    x = ParameterVector("x", spec.qubits)
    block = QuantumCircuit(spec.qubits, name="angle encoding")
    for qubit, value in enumerate(x):
        block.ry(value, qubit)
    return block, list(x)


def ansatz_circuit(spec: VQCSpec) -> tuple[QuantumCircuit, list[Parameter]]:
    """The trainable block and its weights θ[0..p-1], in Qiskit's order."""
    build = real_amplitudes if spec.ansatz == "real_amplitudes" else efficient_su2
    block = build(spec.qubits, reps=spec.reps, entanglement=spec.entanglement, parameter_prefix="θ")
    return block, list(block.parameters)


def readout_observable(spec: VQCSpec) -> SparsePauliOp:
    """The measured observable. Qiskit labels read right to left: the last character is qubit 0."""
    n = spec.qubits
    label = {"parity": "Z" * n, "z0": "I" * (n - 1) + "Z", "zlast": "Z" + "I" * (n - 1)}[
        spec.readout
    ]
    return SparsePauliOp(label)


def build_vqc(spec: VQCSpec | None = None) -> VQCCircuit:
    """The whole circuit: encoding, then ansatz (no measurement: estimators read the observable)."""
    spec = spec or VQCSpec()
    encoding, inputs = encoding_circuit(spec)
    ansatz, weights = ansatz_circuit(spec)
    circuit = QuantumCircuit(spec.qubits, name="VQC")
    circuit.compose(encoding, inplace=True)
    circuit.barrier()
    circuit.compose(ansatz, inplace=True)
    return VQCCircuit(spec, circuit, inputs, weights, readout_observable(spec))


def bind(vqc: VQCCircuit, x, weights) -> QuantumCircuit:
    """The circuit with one sample's inputs and the weights assigned (for Statevector and
    drawing)."""
    values = dict(zip(vqc.inputs, map(float, x))) | dict(zip(vqc.weights, map(float, weights)))
    return vqc.circuit.assign_parameters(values)
