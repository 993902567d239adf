"""Near-term hardware realism: finite shots and a real device's noise, on qiskit-aer; OpenQASM 3
export.

A trained VQC is evaluated three ways, always with the weights it was trained with:
- **ideal**: exact expectations (our statevector simulator, equal to Qiskit's);
- **shots**: the circuit measured ``shots`` times on Aer's ideal simulator; <O> is estimated from
  the counts, as on hardware;
- **noisy**: the circuit transpiled to a real device's basis gates and coupling map (a fake backend
  from qiskit-ibm-runtime, which carries that device's calibrated error rates) and sampled on Aer
  with the device's noise model (density-matrix method: exact noise, then ``shots`` samples).

The readout observable is diagonal (Z's), so one measurement of all qubits per shot estimates it:
the mean over shots of (-1) to the number of 1 bits under the observable's Z's.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from qiskit import QuantumCircuit, qasm3, transpile

from .circuit import VQCCircuit

DEFAULT_DEVICE = "FakeTorino"  # IBM Heron r1, 133 qubits, CZ basis: a current device


def to_qasm3(circuit: QuantumCircuit) -> str:
    """OpenQASM 3 text of a circuit (parameters stay symbolic inputs when unbound)."""
    return qasm3.dumps(circuit)


def fake_backend(name: str = DEFAULT_DEVICE):
    """A fake IBM backend by class name (``FakeTorino``, ``FakeSherbrooke``, ``FakePerth``, ...)."""
    from qiskit_ibm_runtime import fake_provider

    if not name.startswith("Fake") or not hasattr(fake_provider, name):
        raise ValueError(
            f"device={name!r} is not a backend of qiskit_ibm_runtime.fake_provider; try "
            f"FakeTorino, FakeSherbrooke, FakeBrisbane or FakePerth"
        )
    return getattr(fake_provider, name)()


def measured(vqc: VQCCircuit) -> QuantumCircuit:
    """The VQC with every qubit measured (classical bit q holds qubit q)."""
    circuit = vqc.circuit.copy()
    circuit.measure_all()
    return circuit


def readout_mask(vqc: VQCCircuit) -> int:
    """Bit mask of the qubits under a Z in the (single-term) readout observable."""
    (label,) = vqc.observable.paulis.to_labels()
    return sum(1 << q for q, pauli in enumerate(reversed(label)) if pauli == "Z")


def z_expectation(bits: np.ndarray, mask: int) -> np.ndarray:
    """<Z...Z> per row from a BitArray's ``array`` (n, shots, bytes; big-endian bytes)."""
    bits = np.asarray(bits)
    values = np.zeros(bits.shape[:-1], dtype=np.int64)
    for k in range(bits.shape[-1]):
        values = (values << 8) | bits[..., k].astype(np.int64)
    masked = values & mask
    parity = np.zeros_like(masked)
    while np.any(masked):
        parity ^= masked & 1
        masked >>= 1
    return (1 - 2 * parity).mean(axis=-1)


@dataclass
class Transpiled:
    """A circuit compiled for a device, with what it costs there."""

    circuit: QuantumCircuit
    device: str
    depth: int
    two_qubit_gates: int
    operations: dict[str, int]


def transpile_for(
    vqc: VQCCircuit, backend, seed: int = 0, optimization_level: int = 3
) -> Transpiled:
    """The measured VQC transpiled to ``backend``'s basis gates and coupling map."""
    circuit = transpile(
        measured(vqc), backend=backend, optimization_level=optimization_level, seed_transpiler=seed
    )
    ops = {k: int(v) for k, v in circuit.count_ops().items()}
    two = sum(
        1
        for inst in circuit.data
        if inst.operation.num_qubits == 2 and inst.operation.name != "barrier"
    )
    return Transpiled(
        circuit,
        backend.name,
        circuit.depth(lambda inst: inst.operation.name != "barrier"),
        two,
        ops,
    )


def parameter_table(
    circuit: QuantumCircuit, vqc: VQCCircuit, angles: np.ndarray, weights: np.ndarray
) -> np.ndarray:
    """Values (n, circuit.num_parameters) in ``circuit.parameters`` order for n samples."""
    angles = np.asarray(angles, np.float64)
    by_name = {p.name: angles[:, i] for i, p in enumerate(vqc.inputs)}
    by_name |= {
        p.name: np.full(len(angles), float(w)) for p, w in zip(vqc.weights, np.asarray(weights))
    }
    return np.stack([by_name[p.name] for p in circuit.parameters], axis=-1)


def noise_model(backend):
    """Aer's noise model of a (fake) device: its gate errors, durations, T1/T2 and readout
    errors."""
    from qiskit_aer.noise import NoiseModel

    return NoiseModel.from_backend(backend)


def sampled_expectations(
    vqc: VQCCircuit,
    angles: np.ndarray,
    weights: np.ndarray,
    shots: int,
    *,
    seed: int = 0,
    noisy: Transpiled | None = None,
    noise=None,
) -> np.ndarray:
    """<O> estimated from ``shots`` measurements per sample on Aer.

    Ideal when ``noisy`` is None; otherwise the transpiled circuit ``noisy`` runs under ``noise`` (a
    :func:`noise_model` of the same device).
    """
    from qiskit_aer.primitives import SamplerV2

    if shots < 1:
        raise ValueError(f"shots={shots} must be >= 1")
    options: dict = {"backend_options": {"method": "statevector"}}
    circuit = measured(vqc)
    if noisy is not None:
        if noise is None:
            raise ValueError(
                "sampled_expectations: a transpiled circuit needs its device's noise model "
                "(noise=...)"
            )
        circuit = noisy.circuit
        options = {"backend_options": {"method": "density_matrix", "noise_model": noise}}
    sampler = SamplerV2(seed=seed, options=options)
    values = parameter_table(circuit, vqc, angles, weights)
    result = sampler.run([(circuit, values, int(shots))]).result()[0]
    return z_expectation(result.data.meas.array, readout_mask(vqc))
