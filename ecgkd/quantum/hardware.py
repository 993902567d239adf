"""Near-term hardware: finite shots and a real device's noise on qiskit-aer, readout-error
mitigation (mthree), IBM Quantum devices through qiskit-ibm-runtime, OpenQASM 3 export.

A trained VQC is evaluated three ways, always with the weights it was trained with:
- **ideal**: exact expectations (our statevector simulator, equal to Qiskit's);
- **shots**: the circuit measured ``shots`` times on Aer's ideal simulator; <O> is estimated from
  the counts, as on hardware;
- **noisy**: the circuit transpiled to a real device's basis gates and coupling map (a fake backend
  from qiskit-ibm-runtime, which carries that device's calibrated error rates) and sampled on Aer
  with the device's noise model (density-matrix method: exact noise, then ``shots`` samples).

The readout observable is diagonal (Z's), so one measurement of all qubits per shot estimates it:
the mean over shots of (-1) to the number of 1 bits under the observable's Z's.

**Readout mitigation** (:func:`readout_mitigation`): measurement errors flip bits after the circuit
has run; M3 (mthree, Nation et al. 2021) calibrates them on the qubits the circuit was mapped to and
corrects each window's counts into a quasi-probability distribution, whose <O> is unbiased for
readout errors. Gate noise stays.

**A real device** (:func:`run_sampler_job`): the path a user with an IBM Quantum account runs: a
backend by name (:func:`runtime_backend`), the circuit compiled by the backend's preset pass manager
into an ISA circuit, and one SamplerV2 job in a Batch for all windows (one PUB, a parameter array).
The job id is written down before waiting for it and the result is cached, so an interrupted run
picks its job up instead of paying twice. The same code runs in qiskit-ibm-runtime's local testing
mode when the backend is a fake one (the tests and notebook 05 do).
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from qiskit import QuantumCircuit, QuantumRegister, qasm3, transpile

from .. import cache
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


def shot_values(bits: np.ndarray) -> np.ndarray:
    """Each shot's outcome as an integer (bit q = classical bit q) from a BitArray's ``array``
    (n, shots, bytes; big-endian bytes)."""
    bits = np.asarray(bits)
    values = np.zeros(bits.shape[:-1], dtype=np.int64)
    for k in range(bits.shape[-1]):
        values = (values << 8) | bits[..., k].astype(np.int64)
    return values


def z_expectation(bits: np.ndarray, mask: int) -> np.ndarray:
    """<Z...Z> per row from a BitArray's ``array`` (n, shots, bytes; big-endian bytes)."""
    masked = shot_values(bits) & mask
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


_FAKE_NOISE: dict[tuple, Any] = {}  # (fake device name, qubits) -> its noise model, built once


def noise_model(backend, qubits: tuple[int, ...] | None = None):
    """Aer's noise model of a (fake) device: its gate errors, durations, T1/T2 and readout
    errors; with ``qubits``, those of the instructions on these physical qubits only (what a
    circuit on them meets: the same channels, built in a fraction of a second instead of ~10 s for
    the 133-qubit FakeTorino). A fake device's is built once per process (a fixed snapshot); a real
    device's afresh, from its latest calibration."""
    from qiskit_aer.noise import NoiseModel

    view = backend if qubits is None else _QubitsView(backend, qubits)
    if not is_fake(backend):
        return NoiseModel.from_backend(view)
    key = (backend.name, None if qubits is None else tuple(sorted(qubits)))
    if key not in _FAKE_NOISE:
        _FAKE_NOISE[key] = NoiseModel.from_backend(view)
    return _FAKE_NOISE[key]


class _QubitsView:
    """A BackendV2 as Aer's ``NoiseModel.from_backend`` reads it (target, operation names, dt),
    with the target's instructions restricted to ``qubits`` (same indices, same properties)."""

    version = 2

    def __init__(self, backend, qubits: tuple[int, ...]):
        from qiskit.transpiler import Target

        full, keep = backend.target, set(qubits)
        self.name, self.dt, self.operation_names = backend.name, backend.dt, backend.operation_names
        self.target = Target(
            num_qubits=full.num_qubits, dt=full.dt, qubit_properties=full.qubit_properties
        )
        for name in full.operation_names:
            operation = full.operation_from_name(name)
            if isinstance(operation, type):  # a variable-width instruction: global, no properties
                self.target.add_instruction(operation, name=name)
                continue
            kept = {q: p for q, p in full[name].items() if q is None or set(q) <= keep}
            if kept:
                self.target.add_instruction(operation, kept, name=name)


_COMPACT: dict[tuple, tuple] = {}  # (id of the noise model, qubits) -> (noise, compact noise)


def active_qubits(circuit: QuantumCircuit) -> tuple[int, ...]:
    """The physical qubits a compiled circuit acts on (barriers aside), in increasing order."""
    return tuple(
        sorted(
            {
                circuit.find_bit(q).index
                for inst in circuit.data
                if inst.operation.name != "barrier"
                for q in inst.qubits
            }
        )
    )


def compact(circuit: QuantumCircuit, noise) -> tuple[QuantumCircuit, Any]:
    """A compiled circuit on its active physical qubits only, and the noise of those qubits
    remapped to match: what Aer simulates, the same channels as on the whole device.

    A circuit compiled for the 133-qubit FakeTorino keeps 133 qubits, and the device's noise model
    holds ~1,000 errors; Aer then spends seconds per run on qubits the circuit never touches. (Idle
    qubits carry no error here: the circuit is not scheduled, so it holds no delays.)
    """
    from qiskit_aer.noise import NoiseModel

    qubits = active_qubits(circuit)
    position = {q: i for i, q in enumerate(qubits)}
    small = QuantumCircuit(QuantumRegister(len(qubits), "q"), *circuit.cregs, name=circuit.name)
    for inst in circuit.data:
        physical = [circuit.find_bit(q).index for q in inst.qubits]
        if inst.operation.name == "barrier":
            kept = [position[q] for q in physical if q in position]
            if kept:
                small.barrier(kept)
            continue
        clbits = [circuit.find_bit(c).index for c in inst.clbits]
        small.append(inst.operation, [position[q] for q in physical], clbits)
    key = (id(noise), qubits)
    if key not in _COMPACT or _COMPACT[key][0] is not noise:
        errors = []
        for error in noise.to_dict()["errors"]:
            if "gate_qubits" not in error:  # an error on every qubit: the same on the qubits used
                errors.append(error)
                continue
            if error.get("noise_qubits"):
                raise ValueError("compact: non-local errors (noise_qubits) are not supported")
            gates = [g for g in error["gate_qubits"] if all(q in position for q in g)]
            if gates:
                remapped = [tuple(position[q] for q in g) for g in gates]
                errors.append({**error, "gate_qubits": remapped})
        model = NoiseModel.from_dict({"errors": errors})
        model.add_basis_gates(noise.basis_gates)
        _COMPACT[key] = (noise, model)
    return small, _COMPACT[key][1]


# Aer simulates a parameter array's rows as separate experiments, one after another by default;
# 0 runs them on every core. Each row keeps its own seed, so the bits are the same either way
# (tests/quantum/test_hardware.py), and a noisy device study takes half the time on 2 cores.
PARALLEL_SAMPLES = {"max_parallel_experiments": 0}


def sampled_expectations(
    vqc: VQCCircuit, angles: np.ndarray, weights: np.ndarray, shots: int, **options: Any
) -> np.ndarray:
    """<O> estimated from ``shots`` measurements per sample on Aer; ``options`` (``seed``,
    ``noisy``, ``noise``) as in :func:`sampled_bits`."""
    bits = sampled_bits(vqc, angles, weights, shots, **options)
    return z_expectation(bits, readout_mask(vqc))


def sampled_bits(
    vqc: VQCCircuit,
    angles: np.ndarray,
    weights: np.ndarray,
    shots: int,
    *,
    seed: int = 0,
    noisy: Transpiled | None = None,
    noise=None,
) -> np.ndarray:
    """The measured bits, ``shots`` per sample, on Aer (a BitArray's ``array``: n, shots, bytes).

    Ideal when ``noisy`` is None; otherwise the transpiled circuit ``noisy`` runs under ``noise`` (a
    :func:`noise_model` of the same device).
    """
    from qiskit_aer.primitives import SamplerV2

    if shots < 1:
        raise ValueError(f"shots={shots} must be >= 1")
    backend: dict = {"method": "statevector", **PARALLEL_SAMPLES}
    circuit = measured(vqc)
    if noisy is not None:
        if noise is None:
            raise ValueError(
                "sampled_bits: a transpiled circuit needs its device's noise model (noise=...)"
            )
        circuit, noise = compact(noisy.circuit, noise)  # the same noise, on the qubits used
        backend = {"method": "density_matrix", "noise_model": noise, **PARALLEL_SAMPLES}
    options: dict = {"backend_options": backend}
    sampler = SamplerV2(seed=seed, options=options)
    values = parameter_table(circuit, vqc, angles, weights)
    result = sampler.run([(circuit, values, int(shots))]).result()[0]
    return np.asarray(result.data.meas.array)


def shot_counts(bits: np.ndarray, num_bits: int) -> list[dict[str, int]]:
    """One counts dictionary (bitstring -> shots, classical bit 0 rightmost) per sample."""
    counts = []
    for row in shot_values(bits):
        outcomes, times = np.unique(row, return_counts=True)
        counts.append({format(int(o), f"0{num_bits}b"): int(t) for o, t in zip(outcomes, times)})
    return counts


CALIBRATION_SHOTS = 8192  # per calibration circuit of M3 (mthree's default cap is 10,000)


def is_fake(backend) -> bool:
    """True for qiskit-ibm-runtime's fake backends (simulated on Aer, local testing mode)."""
    from qiskit_ibm_runtime.fake_provider.fake_backend import FakeBackendV2

    return isinstance(backend, FakeBackendV2)


def calibration_system(backend, seed: int = 0, noise=None):
    """Where readout calibrations run: the device itself, or for a fake backend Aer with its noise
    model (``noise``: one :func:`noise_model` already built), seeded: the same numbers every run."""
    if not is_fake(backend):
        return backend
    from qiskit_aer import AerSimulator

    return AerSimulator.from_backend(
        backend, noise_model=noise or noise_model(backend), seed_simulator=seed
    )


@dataclass
class ReadoutMitigation:
    """M3 calibrated on the physical qubits a compiled circuit measures."""

    mitigator: Any  # mthree.M3Mitigation
    mapping: dict[int, int]  # classical bit -> physical qubit

    def expectations(self, bits: np.ndarray, vqc: VQCCircuit) -> np.ndarray:
        """Readout-mitigated <O> per sample from the measured bits of the compiled circuit."""
        counts = shot_counts(bits, len(self.mapping))
        quasis = self.mitigator.apply_correction(counts, [self.mapping] * len(counts))
        (label,) = vqc.observable.paulis.to_labels()
        return np.atleast_1d(np.asarray(quasis.expval(label), np.float64))


def readout_mitigation(
    system, circuit: QuantumCircuit, shots: int = CALIBRATION_SHOTS
) -> ReadoutMitigation:
    """Calibrate M3 on ``system`` (:func:`calibration_system`) for the qubits that ``circuit``
    (compiled for it, measured) reads out."""
    import mthree

    mapping = {int(c): int(q) for c, q in mthree.utils.final_measurement_mapping(circuit).items()}
    mitigator = mthree.M3Mitigation(system)
    mitigator.cals_from_system(sorted(set(mapping.values())), shots=shots, async_cal=False)
    return ReadoutMitigation(mitigator, mapping)


def runtime_backend(name: str, service=None):
    """An IBM Quantum device by name (``"ibm_torino"``) through qiskit-ibm-runtime; needs an
    account saved once with ``QiskitRuntimeService.save_account(...)`` and the network."""
    from qiskit_ibm_runtime import QiskitRuntimeService

    return (service or QiskitRuntimeService()).backend(name)


def isa_circuit(
    vqc: VQCCircuit, backend, seed: int = 0, optimization_level: int = 3
) -> QuantumCircuit:
    """The measured VQC compiled by ``backend``'s preset pass manager into an ISA circuit: only the
    device's native gates, on qubits it couples."""
    from qiskit.transpiler import generate_preset_pass_manager

    manager = generate_preset_pass_manager(
        optimization_level=optimization_level, backend=backend, seed_transpiler=seed
    )
    return manager.run(measured(vqc))


@dataclass
class SamplerJob:
    """One SamplerV2 job's measured bits for every window, and where they came from."""

    bits: np.ndarray  # (windows, shots, bytes), as BitArray.array
    job_id: str
    backend: str
    shots: int
    circuit: QuantumCircuit
    reused: bool  # read from the store: no job was paid for

    def expectations(self, vqc: VQCCircuit) -> np.ndarray:
        return z_expectation(self.bits, readout_mask(vqc))


def run_sampler_job(
    vqc: VQCCircuit,
    angles: np.ndarray,
    weights: np.ndarray,
    backend,
    shots: int,
    store: Path,
    *,
    seed: int = 0,
    service=None,
) -> SamplerJob:
    """Run every window through ``backend`` in one SamplerV2 job (one PUB: the ISA circuit and a
    parameter array) inside a Batch, keeping the job id and the result under ``store``.

    A result already in ``store`` is returned without a job. A job id written down by an
    interrupted run is picked up through ``service.job(id)`` (default: the backend's service);
    where it cannot be (local testing mode keeps no jobs), the job is submitted again, and said.
    ``seed`` fixes the transpiler, and the simulator in local testing mode.
    """
    from qiskit_ibm_runtime import Batch, SamplerV2

    if shots < 1:
        raise ValueError(f"shots={shots} must be >= 1")
    circuit = isa_circuit(vqc, backend, seed)
    values = parameter_table(circuit, vqc, angles, weights)
    key = cache.fingerprint(
        {
            "backend": backend.name,
            "circuit": to_qasm3(circuit),
            "values": cache.fingerprint(values.round(12).tolist()),
            "shots": int(shots),
            "seed": seed,
        }
    )
    store = Path(store)
    result_path = store / f"{backend.name}-{key}.npz"
    job_path = result_path.with_suffix(".json")
    if result_path.is_file():
        arrays, meta = cache.load_arrays(result_path)
        return SamplerJob(arrays["bits"], meta["job_id"], backend.name, shots, circuit, True)
    job = None
    if job_path.is_file():
        job_id = json.loads(job_path.read_text())["job_id"]
        source = service or getattr(backend, "service", None)
        if source is not None and not is_fake(backend):
            job = source.job(job_id)
        else:
            print(
                f"job {job_id} on {backend.name} left no result and cannot be fetched again "
                "(local testing mode keeps no jobs): submitting it again",
                file=sys.stderr,
            )
    if job is None:
        with Batch(backend=backend) as batch:
            sampler = SamplerV2(mode=batch)
            if is_fake(backend):  # local mode drops a seed of 0 (it tests the seed for truth)
                sampler.options.simulator.seed_simulator = seed + 1
            job = sampler.run([(circuit, values)], shots=int(shots))
            record = {"job_id": job.job_id(), "backend": backend.name, "shots": int(shots)}
            cache.atomic_write(job_path, lambda tmp: tmp.write_text(json.dumps(record)))
    bits = np.asarray(job.result()[0].data.meas.array)
    cache.save_arrays(result_path, {"bits": bits}, {"job_id": job.job_id(), "key": key})
    return SamplerJob(bits, job.job_id(), backend.name, shots, circuit, False)
