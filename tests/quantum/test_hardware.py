"""Readout-error mitigation and the IBM Quantum path (qiskit-ibm-runtime's local testing mode: a
fake backend as the mode; the network is never touched)."""

import json

import numpy as np
import pytest
import torch
from qiskit_aer import AerSimulator
from qiskit_aer.noise import NoiseModel, ReadoutError

from ecgkd.quantum import TorchVQC, build_vqc, hardware


def angles_and_weights(vqc, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.uniform(0, np.pi, (n, vqc.spec.qubits)), rng.normal(size=vqc.num_weights)


def exact_expectations(vqc, angles: np.ndarray, weights: np.ndarray) -> np.ndarray:
    simulator = TorchVQC(vqc)
    return simulator.expectation(torch.from_numpy(angles), torch.from_numpy(weights)).numpy()


def test_shot_counts_turn_bits_into_one_dictionary_per_sample():
    bits = np.array([[[0b000], [0b001], [0b001], [0b101]], [[0b111]] * 4], dtype=np.uint8)
    assert hardware.shot_counts(bits, 3) == [{"000": 1, "001": 2, "101": 1}, {"111": 4}]


def test_m3_removes_readout_errors_and_nothing_else_is_noisy():
    """Under a noise model with readout errors only, the raw <parity> is biased towards 0 and the
    M3-corrected one equals the exact value within shot noise."""
    vqc = build_vqc()
    angles, weights = angles_and_weights(vqc, 6, seed=2)
    exact = exact_expectations(vqc, angles, weights)
    noise = NoiseModel()
    noise.add_all_qubit_readout_error(ReadoutError([[0.92, 0.08], [0.12, 0.88]]))
    circuit = hardware.measured(vqc)
    readout_only = hardware.Transpiled(circuit, "readout errors only", 0, 0, {})
    shots = 20_000
    bits = hardware.sampled_bits(
        vqc, angles, weights, shots, seed=1, noisy=readout_only, noise=noise
    )
    raw = hardware.z_expectation(bits, hardware.readout_mask(vqc))
    system = AerSimulator(noise_model=noise, seed_simulator=3)
    mitigation = hardware.readout_mitigation(system, circuit, shots=shots)
    assert mitigation.mapping == {q: q for q in range(6)}
    mitigated = mitigation.expectations(bits, vqc)
    assert np.abs(raw - exact).max() > 0.05  # the errors are visible
    np.testing.assert_allclose(mitigated, exact, atol=6 / np.sqrt(shots) / 0.8**6)
    assert np.abs(mitigated - exact).mean() < np.abs(raw - exact).mean() / 3


def test_runtime_job_runs_once_keeps_its_id_and_result_and_is_picked_up(
    tmp_path, monkeypatch, capsys
):
    from qiskit_ibm_runtime import SamplerV2

    vqc = build_vqc()
    angles, weights = angles_and_weights(vqc, 12, seed=5)
    backend = hardware.fake_backend("FakePerth")
    first = hardware.run_sampler_job(vqc, angles, weights, backend, 4000, tmp_path, seed=1)
    # one ISA circuit: the device's own gates only, every window one row of one parameter array
    assert set(first.circuit.count_ops()) - {"barrier"} <= set(backend.operation_names)
    assert first.bits.shape[:2] == (12, 4000) and not first.reused
    (record,) = [json.loads(p.read_text()) for p in tmp_path.glob("*.json")]
    assert record == {"job_id": first.job_id, "backend": backend.name, "shots": 4000}
    exact = exact_expectations(vqc, angles, weights)
    assert np.corrcoef(first.expectations(vqc), exact)[0, 1] > 0.9

    def no_new_job(*args, **kwargs):
        raise AssertionError("a job was submitted again")

    monkeypatch.setattr(SamplerV2, "run", no_new_job)
    again = hardware.run_sampler_job(vqc, angles, weights, backend, 4000, tmp_path, seed=1)
    assert again.reused and again.job_id == first.job_id
    np.testing.assert_array_equal(again.bits, first.bits)

    # interrupted after submitting: the job id is on disk, the result is not; a real device's job
    # is fetched by its id from the service, and nothing is submitted
    (result_file,) = tmp_path.glob("*.npz")
    result_file.unlink()
    fetched = []

    class Service:
        def job(self, job_id):
            fetched.append(job_id)
            return FinishedJob()

    class FinishedJob:
        def job_id(self):
            return first.job_id

        def result(self):
            class Data:
                meas = type("Bits", (), {"array": first.bits})

            return [type("PubResult", (), {"data": Data})]

    monkeypatch.setattr(hardware, "is_fake", lambda backend: False)
    picked = hardware.run_sampler_job(
        vqc, angles, weights, backend, 4000, tmp_path, seed=1, service=Service()
    )
    assert fetched == [first.job_id] and not picked.reused
    np.testing.assert_array_equal(picked.bits, first.bits)
    assert hardware.run_sampler_job(vqc, angles, weights, backend, 4000, tmp_path, seed=1).reused

    # local testing mode keeps no jobs: the lost result is run again, seeded, and said
    monkeypatch.undo()
    result_file.unlink()
    rerun = hardware.run_sampler_job(vqc, angles, weights, backend, 4000, tmp_path, seed=1)
    assert "submitting it again" in capsys.readouterr().err
    np.testing.assert_array_equal(rerun.bits, first.bits)
    # seed 0 too gives the same bits twice (local mode would take a seed of 0 for no seed)
    zero = [
        hardware.run_sampler_job(vqc, angles, weights, backend, 500, tmp_path / f"s{i}", seed=0)
        for i in range(2)
    ]
    np.testing.assert_array_equal(zero[0].bits, zero[1].bits)
    with pytest.raises(ValueError, match="shots=0"):
        hardware.run_sampler_job(vqc, angles, weights, backend, 0, tmp_path)


def test_compact_simulates_the_used_qubits_with_their_noise_and_gives_the_same_bits():
    """Aer on the compiled circuit's active qubits with their remapped noise: the very bits of the
    whole-device simulation (FakePerth, 7 qubits, keeps the reference run cheap)."""
    from qiskit_aer.primitives import SamplerV2

    vqc = build_vqc()
    rng = np.random.default_rng(0)
    angles, weights = rng.uniform(0, np.pi, (4, 6)), rng.uniform(-np.pi, np.pi, vqc.num_weights)
    backend = hardware.fake_backend("FakePerth")
    compiled = hardware.transpile_for(vqc, backend, seed=0)
    noise = hardware.noise_model(backend)
    assert hardware.noise_model(backend) is noise  # a fake device's model is built once
    small, small_noise = hardware.compact(compiled.circuit, noise)
    assert compiled.circuit.num_qubits == 7 and small.num_qubits == 6
    assert small_noise.noise_qubits == list(range(6))
    values = hardware.parameter_table(compiled.circuit, vqc, angles, weights)
    options = {"backend_options": {"method": "density_matrix", "noise_model": noise}}
    whole = SamplerV2(seed=3, options=options).run([(compiled.circuit, values, 256)]).result()
    ours = hardware.sampled_bits(vqc, angles, weights, 256, seed=3, noisy=compiled, noise=noise)
    np.testing.assert_array_equal(ours, np.asarray(whole[0].data.meas.array))


def test_noise_of_the_circuits_qubits_equals_the_whole_devices_there():
    """The noise model built for the compiled circuit's qubits holds the very errors the whole
    device's model holds on them (FakeTorino, the default device), and gives the same bits."""
    import json

    vqc = build_vqc()
    backend = hardware.fake_backend()
    compiled = hardware.transpile_for(vqc, backend, seed=0)
    qubits = hardware.active_qubits(compiled.circuit)
    part = hardware.noise_model(backend, qubits)
    assert hardware.noise_model(backend, qubits) is part  # built once per process
    assert set(part.noise_qubits) == set(qubits)  # nothing on the other 127 qubits

    def errors(noise) -> list[str]:
        _, small = hardware.compact(compiled.circuit, noise)
        return sorted(
            json.dumps({k: v for k, v in e.items() if k != "id"}, sort_keys=True, default=str)
            for e in small.to_dict()["errors"]
        )

    whole = hardware.noise_model(backend)
    assert errors(part) == errors(whole) and len(errors(part)) > len(qubits)
    rng = np.random.default_rng(1)
    angles, weights = rng.uniform(0, np.pi, (6, 6)), rng.uniform(-np.pi, np.pi, vqc.num_weights)
    bits = [
        hardware.sampled_bits(vqc, angles, weights, 512, seed=2, noisy=compiled, noise=noise)
        for noise in (part, whole)
    ]
    np.testing.assert_array_equal(*bits)


@pytest.mark.parametrize("noisy", [False, True])
def test_rows_sampled_on_every_core_give_the_bits_of_rows_sampled_one_by_one(monkeypatch, noisy):
    """PARALLEL_SAMPLES only changes how many parameter rows Aer runs at once: each row keeps its
    seed, so the bits equal those of the one-by-one default (ideal and noisy)."""
    vqc = build_vqc()
    rng = np.random.default_rng(4)
    angles, weights = rng.uniform(0, np.pi, (8, 6)), rng.uniform(-np.pi, np.pi, vqc.num_weights)
    options = {}
    if noisy:
        backend = hardware.fake_backend("FakePerth")
        options = {
            "noisy": hardware.transpile_for(vqc, backend, seed=0),
            "noise": hardware.noise_model(backend),
        }
    assert hardware.PARALLEL_SAMPLES == {"max_parallel_experiments": 0}
    parallel = hardware.sampled_bits(vqc, angles, weights, 300, seed=5, **options)
    monkeypatch.setattr(hardware, "PARALLEL_SAMPLES", {"max_parallel_experiments": 1})
    serial = hardware.sampled_bits(vqc, angles, weights, 300, seed=5, **options)
    np.testing.assert_array_equal(parallel, serial)
    assert len(np.unique(parallel.reshape(8, -1), axis=0)) == 8  # rows differ: not one row copied
