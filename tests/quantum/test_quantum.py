"""The quantum student: circuit, fast simulator vs Qiskit, the qiskit-machine-learning path, shots,
noise."""

import copy
import math
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
import torch
from qiskit.circuit import Parameter, ParameterVector, QuantumCircuit
from qiskit.quantum_info import SparsePauliOp, Statevector

import ecgkd.config
from conftest import student_data
from ecgkd.data.rhythm import N_RHYTHM, model_inputs
from ecgkd.evaluation.stage import device_reports, report_table
from ecgkd.modelinfo import count_parameters, model_fingerprint
from ecgkd.quantum import TorchVQC, VQCSpec, bind, build_vqc, hardware
from ecgkd.quantum.autoencoder import (
    AngleScaler,
    ConvAutoencoder,
    encode,
    reconstruction_error,
    train_autoencoder,
)
from ecgkd.quantum.circuit import VQCCircuit
from ecgkd.quantum.device import (
    CIRCUIT_TERM,
    MITIGATED,
    MODEL_TERM,
    device_scores,
    hardware_study,
    hardware_subset,
    hardware_tables,
    threshold_study,
)
from ecgkd.quantum.encoders import AutoencoderRun, LatentEncoders
from ecgkd.quantum.model import (
    RHYTHM_COLUMNS,
    LatentStudent,
    MatchedMLP,
    VQCHead,
    head_parameters,
    latent_angles,
    qiskit_qnn,
)
from ecgkd.quantum.stage import LATENT_STUDENTS, latent_grids
from ecgkd.rhythm_head import anchor_rhythm, fit_rhythm_model
from ecgkd.scoring.metrics import binary_metrics, roc_auc, youden_threshold
from ecgkd.students.grid import GridPlan, StudentJob, train_student
from ecgkd.students.kd import kd_loss
from ecgkd.students.stage import main_and_ablation
from ecgkd.train import TrainData, TrainSettings, fit, predict

SPECS = [
    VQCSpec(),
    VQCSpec(encoding="zz"),
    VQCSpec(ansatz="efficient_su2", readout="z0", reps=2),
    VQCSpec(readout="zlast", entanglement="full", reps=1),
    VQCSpec(qubits=3, entanglement="circular"),
]


def random_inputs(vqc: VQCCircuit, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.uniform(0, np.pi, (n, len(vqc.inputs))), rng.uniform(-np.pi, np.pi, vqc.num_weights)


def qiskit_expectations(vqc: VQCCircuit, x: np.ndarray, w: np.ndarray) -> np.ndarray:
    return np.array(
        [Statevector(bind(vqc, xi, w)).expectation_value(vqc.observable).real for xi in x]
    )


def test_default_circuit_shape_and_parameters():
    vqc = build_vqc()
    assert vqc.circuit.num_qubits == 6 and len(vqc.inputs) == 6
    assert vqc.num_weights == 6 * (
        5 + 1
    )  # real_amplitudes: one RY per qubit per layer, reps + 1 layers
    assert head_parameters(vqc.spec) == 38
    assert vqc.observable == SparsePauliOp("ZZZZZZ")
    assert "OPENQASM 3" in hardware.to_qasm3(vqc.circuit)


@pytest.mark.parametrize(
    "spec", SPECS, ids=lambda s: f"{s.encoding}-{s.ansatz}-{s.readout}-{s.entanglement}"
)
def test_torch_simulator_equals_qiskit_statevector(spec):
    vqc = build_vqc(spec)
    x, w = random_inputs(vqc, 6, seed=1)
    ours = TorchVQC(vqc).expectation(torch.tensor(x), torch.tensor(w)).numpy()
    np.testing.assert_allclose(ours, qiskit_expectations(vqc, x, w), atol=1e-6)
    # single precision, the training default of the heads' inputs, stays within 1e-5
    single = TorchVQC(vqc, dtype=torch.float32).expectation(
        torch.tensor(x).float(), torch.tensor(w).float()
    )
    np.testing.assert_allclose(single.numpy(), ours, atol=1e-5)


@pytest.mark.parametrize(
    "spec", SPECS, ids=lambda s: f"{s.encoding}-{s.ansatz}-{s.readout}-{s.entanglement}"
)
def test_fused_ansatz_equals_the_gates_applied_one_by_one(spec):
    sim = TorchVQC(build_vqc(spec))
    w = torch.tensor(random_inputs(sim.vqc, 1, seed=3)[1])
    rows = torch.eye(2**sim.n, dtype=sim.dtype)
    for gate in sim.ansatz:
        rows = sim._apply(rows, gate, torch.zeros(1, 0, dtype=torch.float64), w)
    torch.testing.assert_close(sim.unitary_rows(w), rows, rtol=0, atol=1e-12)
    one_qubit_layers = spec.reps + 1
    assert len(sim.segments) == 2 * one_qubit_layers - 1  # rotation layers between CX layers


@pytest.mark.parametrize("spec", [VQCSpec(), VQCSpec(encoding="zz", reps=1)], ids=["angle", "zz"])
def test_gradients_equal_estimator_qnn_parameter_shift(spec):
    vqc = build_vqc(spec)
    x, w = random_inputs(vqc, 3, seed=2)
    qnn = qiskit_qnn(vqc, input_gradients=True)
    input_grad, weight_grad = qnn.backward(x, w)
    xt, wt = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
    out = TorchVQC(vqc).expectation(xt, wt)
    np.testing.assert_allclose(out.detach().numpy(), qnn.forward(x, w)[:, 0], atol=1e-6)
    jac_w = np.stack(
        [torch.autograd.grad(out[i], wt, retain_graph=True)[0].numpy() for i in range(len(x))]
    )
    jac_x = np.stack(
        [torch.autograd.grad(out[i], xt, retain_graph=True)[0][i].numpy() for i in range(len(x))]
    )
    np.testing.assert_allclose(jac_w, weight_grad[:, 0, :], atol=1e-6)
    np.testing.assert_allclose(jac_x, input_grad[:, 0, :], atol=1e-6)


def test_the_hand_written_gradient_reads_cz_and_swap_layers():
    """:class:`HeisenbergReadout` on a chain with signs (CZ) and swaps between RY layers, three
    layers of unequal couplings, and a one-qubit readout: the Pauli road's expectations and
    weight gradients equal the statevector road's (autograd through every gate) to 1e-12."""
    x, w = ParameterVector("x", 3), ParameterVector("w", 9)
    circuit = QuantumCircuit(3)
    for q in range(3):
        circuit.ry(x[q], q)
    for layer in range(3):
        for q in range(3):
            circuit.ry(w[3 * layer + q], q)
        if layer == 0:
            circuit.cz(0, 1)
            circuit.swap(1, 2)
        elif layer == 1:
            circuit.cx(2, 0)
            circuit.cz(1, 2)
    vqc = VQCCircuit(VQCSpec(qubits=3), circuit, list(x), list(w), SparsePauliOp("IZI"))
    sim = TorchVQC(vqc)
    assert sim.chain is not None and sim.chain.signs is not None
    inputs, weights = random_inputs(vqc, 8, seed=4)
    xt, wt = torch.tensor(inputs, requires_grad=True), torch.tensor(weights, requires_grad=True)
    fast, slow = sim.expectation(xt, wt), sim.statevector_expectation(xt, wt)
    torch.testing.assert_close(fast, slow, rtol=0, atol=1e-12)
    np.testing.assert_allclose(
        fast.detach().numpy(), qiskit_expectations(vqc, inputs, weights), atol=1e-12
    )
    mix = torch.linspace(-1, 1, 8, dtype=torch.float64)
    ours, theirs = (torch.autograd.grad((out * mix).sum(), (xt, wt)) for out in (fast, slow))
    for mine, reference in zip(ours, theirs, strict=True):
        torch.testing.assert_close(mine, reference, rtol=0, atol=1e-12)


def test_simulator_rejects_what_it_cannot_simulate():
    a, b = Parameter("a"), Parameter("b")
    circuit = QuantumCircuit(1)
    circuit.ry(a * b, 0)
    vqc = VQCCircuit(VQCSpec(qubits=1), circuit, [a], [b], SparsePauliOp("Z"))
    with pytest.raises(NotImplementedError, match="mixes inputs and weights"):
        TorchVQC(vqc)
    vqc.observable = SparsePauliOp("X")
    vqc.circuit = QuantumCircuit(1)
    vqc.circuit.ry(a, 0)
    with pytest.raises(NotImplementedError, match="diagonal"):
        TorchVQC(vqc)
    with pytest.raises(ValueError, match="readout"):
        VQCSpec(readout="x")


def test_qiskit_backend_matches_torch_backend_and_weights_transfer():
    torch.manual_seed(0)
    head = VQCHead(seed=3)
    with torch.no_grad():
        head.scale.fill_(2.5)
        head.bias.fill_(-0.3)
    qiskit_head = head.to_backend("qiskit")
    assert torch.equal(
        qiskit_head.circuit_weights.detach().double(), head.weights.detach().double()
    )
    angles = torch.rand(4, 6) * math.pi
    a, b = head(angles), qiskit_head(angles)
    torch.testing.assert_close(a, b, atol=1e-5, rtol=0)
    a.sum().backward()
    b.sum().backward()
    torch.testing.assert_close(
        head.weights.grad, qiskit_head.circuit_weights.grad.float(), atol=1e-5, rtol=0
    )
    torch.testing.assert_close(head.scale.grad, qiskit_head.scale.grad, atol=1e-5, rtol=0)
    back = qiskit_head.to_backend("torch")
    assert torch.equal(back.weights, head.weights)


def test_qiskit_machine_learning_path_trains_with_kd_in_the_common_loop():
    """EstimatorQNN + TorchConnector inside the same fit() and KD loss as every student: loss goes
    down."""
    rng = np.random.default_rng(0)
    y = np.array([0, 1] * 8)
    x = (rng.uniform(0.2, 1.2, (16, 6)) + 1.5 * y[:, None]).astype(np.float32)
    teacher = (4.0 * y - 2.0).astype(np.float32)
    head = VQCHead(seed=0, backend="qiskit")
    before = head.circuit_weights.detach().clone()
    result = fit(
        head,
        TrainData(x, y, teacher),
        TrainData(x, y),
        kd_loss(2.0, 0.5),
        TrainSettings(epochs=2, batch_size=8, lr=0.1),
        progress=False,
    )
    assert len(result.history) == 2 and not torch.equal(before, head.circuit_weights.detach())
    assert result.history["train_loss"].iloc[-1] < result.history["train_loss"].iloc[0]


def test_z_expectation_from_bits_and_mask():
    vqc = build_vqc(VQCSpec(qubits=3, readout="z0"))
    assert hardware.readout_mask(vqc) == 0b001
    assert hardware.readout_mask(build_vqc(VQCSpec(qubits=3))) == 0b111
    bits = np.array(
        [[[0b000], [0b001], [0b011], [0b111]]], dtype=np.uint8
    )  # one sample, four shots
    assert hardware.z_expectation(bits, 0b001)[0] == pytest.approx((1 - 1 - 1 - 1) / 4)
    assert hardware.z_expectation(bits, 0b111)[0] == pytest.approx((1 - 1 + 1 - 1) / 4)
    assert hardware.z_expectation(bits, 0b110)[0] == pytest.approx((1 + 1 + -1 + 1) / 4)


def test_shots_estimate_converges_to_exact_and_noise_is_transpiled():
    vqc = build_vqc()
    x, w = random_inputs(vqc, 8, seed=4)
    exact = qiskit_expectations(vqc, x, w)
    shots = 8192
    estimate = hardware.sampled_expectations(vqc, x, w, shots, seed=1)
    assert np.all(np.abs(estimate - exact) < 5 / math.sqrt(shots))
    again = hardware.sampled_expectations(vqc, x, w, shots, seed=1)
    np.testing.assert_array_equal(estimate, again)  # seeded: same counts
    backend = hardware.fake_backend("FakePerth")
    compiled = hardware.transpile_for(vqc, backend, seed=0)
    assert compiled.two_qubit_gates > 0 and compiled.depth > vqc.circuit.depth()
    assert set(compiled.operations) - {"measure", "barrier"} <= set(backend.operation_names)
    noisy = hardware.sampled_expectations(
        vqc, x, w, 2048, seed=1, noisy=compiled, noise=hardware.noise_model(backend)
    )
    # device noise (mostly depolarising) pulls <O> towards 0: smaller on average than exact
    assert np.abs(noisy).mean() < np.abs(exact).mean() and not np.allclose(noisy, estimate)
    with pytest.raises(ValueError, match="fake_provider"):
        hardware.fake_backend("NoSuchDevice")


def test_autoencoder_learns_and_scaler_uses_training_statistics():
    rng = np.random.default_rng(0)
    t = np.linspace(0, 1, 256)
    phase = rng.uniform(0, 2 * np.pi, (160, 1, 1))
    x = (np.sin(2 * np.pi * 3 * t + phase) + 0.05 * rng.normal(size=(160, 1, 256))).astype(
        np.float32
    )
    model = ConvAutoencoder(latent=4)
    assert model(torch.from_numpy(x[:2])).shape == (2, 1, 256)
    before = reconstruction_error(model, x[128:])
    settings = TrainSettings(epochs=6, batch_size=32, lr=3e-3, weight_decay=1e-5, patience=6)
    history = train_autoencoder(model, x[:128], x[128:], settings, progress=False).history
    assert history["val_mse"].min() < 0.5 * before
    assert reconstruction_error(model, x[128:]) == pytest.approx(history["val_mse"].min(), rel=1e-5)
    latents = encode(model, x[:128])
    scaler = AngleScaler.fit(latents)
    far = torch.from_numpy(np.stack([latents.min(0) - 10, latents.max(0) + 10]))
    angles = scaler(far)
    assert torch.allclose(angles[0], torch.zeros(4)) and torch.allclose(
        angles[1], torch.full((4,), math.pi)
    )
    with pytest.raises(ValueError, match="constant"):
        AngleScaler.fit(np.zeros((10, 4)))


def tiny_run() -> AutoencoderRun:
    torch.manual_seed(0)
    model = ConvAutoencoder(latent=6).eval()
    data = student_data()
    scaler = AngleScaler.fit(encode(model, data.splits["train"].x))
    return AutoencoderRun("mitbih", model, scaler, None, {}, "k" * 16)


def test_builder_same_seed_same_start_frozen_encoder_and_matched_control():
    builder = tiny_run().builder()
    a = builder(StudentJob("mitbih", "vqc", math.nan, 0.0, 1))
    b = builder(StudentJob("mitbih", "vqc", 4.0, 0.5, 1))
    c = builder(StudentJob("mitbih", "vqc", 4.0, 0.5, 2))
    assert model_fingerprint(a) == model_fingerprint(b) != model_fingerprint(c)
    assert (
        count_parameters(a, trainable_only=True) == 38
    )  # the encoder is frozen: only the circuit weights, scale and bias train
    control = builder(StudentJob("mitbih", "mlp", math.nan, 0.0, 1))
    assert (
        count_parameters(control, trainable_only=True) <= 38
        and count_parameters(control, trainable_only=True)
        == count_parameters(MatchedMLP(6, 38), trainable_only=True)
        == 33
    )
    assert (
        builder.label("mlp")
        == f"MLP control ({count_parameters(control, trainable_only=True)} trainable params)"
    )
    with pytest.raises(ValueError, match="vqc"):
        builder(StudentJob("mitbih", "cnn1d", math.nan, 0.0, 1))


def tiny_rhythm_run() -> AutoencoderRun:
    """A 4-d encoder whose students also read the two rhythm angles (6 qubits)."""
    torch.manual_seed(0)
    model = ConvAutoencoder(latent=4).eval()
    train = student_data().splits["train"]
    scaler = AngleScaler.fit(encode(model, train.x))
    rhythm = AngleScaler.fit(train.rhythm[:, RHYTHM_COLUMNS])
    return AutoencoderRun("mitbih", model, scaler, None, {}, "r" * 16, rhythm)


def test_rhythm_angles_follow_the_latent_and_the_builder_checks_the_job():
    run, data = tiny_rhythm_run(), student_data()
    builder = run.builder()
    job = StudentJob("mitbih", "vqc", math.nan, 0.0, 0, rhythm=True)
    student = builder(job)
    val = data.splits["val"]
    angles = latent_angles(student, model_inputs(val, True))
    assert angles.shape == (len(val), 6) and student.reads_rhythm
    np.testing.assert_allclose(angles, run.angles(val), atol=1e-6)
    np.testing.assert_allclose(angles[:, :4], tiny_run_angles(run, val.x), atol=1e-6)
    later = replace(val, rhythm=val.rhythm * 1.5)  # other ratios, same windows
    assert not np.allclose(latent_angles(student, model_inputs(later, True))[:, 4:], angles[:, 4:])
    assert builder(replace(job, student="mlp")).head.net[0].in_features == 6
    assert count_parameters(student, trainable_only=True) == 38
    with pytest.raises(ValueError, match="does not read|reads"):
        builder(replace(job, rhythm=False))
    with pytest.raises(ValueError, match="reads|does not read"):
        tiny_run().builder()(job)
    assert builder.model_code() != tiny_rhythm_run().builder(VQCSpec(reps=3)).model_code()


def test_latent_students_with_rhythm_start_as_their_anchor_and_learn_beside_it():
    """The VQC and its control, with rhythm: the rhythm-only baseline (fixed) plus a head that
    starts at zero, as every rhythm model here."""
    run, data = tiny_rhythm_run(), student_data()
    train, val = data.splits["train"], data.splits["val"]
    baseline, _, _ = fit_rhythm_model(data.splits)
    x_val = model_inputs(val, True)
    for student, trainable in (("vqc", 38), ("mlp", 33)):
        model = run.builder()(StudentJob("mitbih", student, 2.0, 0.5, 0, rhythm=True))
        with pytest.raises(RuntimeError, match="no anchor"):
            predict(model, x_val)
        assert anchor_rhythm(model, train, val) == 1
        np.testing.assert_allclose(
            predict(model, x_val), baseline.decision_function(val.rhythm), atol=1e-4
        )
        assert count_parameters(model, trainable_only=True) == trainable  # the anchor is fixed
        assert count_parameters(model.anchor) == 3 * N_RHYTHM + 1
        frozen = [p.clone() for p in model.anchor.parameters()]
        settings = TrainSettings(epochs=1, batch_size=16, lr=3e-2, weight_decay=0.0, patience=1)
        fit(
            model,
            TrainData(model_inputs(train, True), train.y),
            TrainData(x_val, val.y),
            kd_loss(1.0, 0.0),
            settings,
            seed=0,
        )
        assert all(torch.equal(a, b) for a, b in zip(frozen, model.anchor.parameters()))
        assert not np.allclose(predict(model, x_val), baseline.decision_function(val.rhythm))


def tiny_run_angles(run: AutoencoderRun, x: np.ndarray) -> np.ndarray:
    return run.scaler(torch.from_numpy(encode(run.model, x))).numpy()


def test_latent_grids_run_the_rhythm_grid_then_the_window_only_ablation(tmp_path):
    cfg = ecgkd.config.load(env={"ECGKD_QUICK": "1"}, cache_root=tmp_path)
    data = student_data()
    encoders = LatentEncoders(tiny_run(), tiny_rhythm_run())
    plan = GridPlan((2.0,), (0.0, 0.5), (0,))
    settings = TrainSettings(epochs=1, batch_size=16, lr=3e-2, weight_decay=0.0, patience=1)
    rows = latent_grids(cfg, data, encoders, plan, settings, progress=False)
    assert latent_grids(cfg, data, encoders, plan, settings, train=False).equals(rows)
    grid, ablation = main_and_ablation(rows)
    assert len(grid) == 2 * 2 and grid["rhythm"].all()  # vqc and mlp x (no KD, one KD cell)
    assert len(ablation) == 2 * 2 and not ablation["rhythm"].any()
    assert set(ablation["model"]) == {m.removesuffix(" + rhythm") for m in grid["model"]}
    assert encoders.for_job(StudentJob("mitbih", "vqc", math.nan, 0.0, 0, rhythm=True)) is (
        encoders.rhythm
    )
    with pytest.raises(ValueError, match="no rhythm encoder"):
        LatentEncoders(tiny_run()).for_job(StudentJob("mitbih", "vqc", 1.0, 0.5, 0, rhythm=True))


def test_frozen_inputs_give_the_students_logits_and_train_its_head_alone():
    """A frozen encoder runs once per window: the head on (angles, anchor logit) gives the student's
    logit, with and without rhythm; training it moves the student's head and nothing else, like
    training the whole student on the windows; an encoder that trains has no frozen inputs."""
    data = student_data()
    train, val = data.splits["train"], data.splits["val"]
    settings = TrainSettings(epochs=1, batch_size=16, lr=3e-2, weight_decay=0.0, patience=1)
    for run, rhythm in ((tiny_run(), False), (tiny_rhythm_run(), True)):
        for student in LATENT_STUDENTS:
            models = [run.builder()(StudentJob("mitbih", student, 2.0, 0.5, 0, rhythm=rhythm))]
            models.append(copy.deepcopy(models[0]))
            if rhythm:
                for model in models:
                    anchor_rhythm(model, train, val)
            x_tr, x_val = model_inputs(train, rhythm), model_inputs(val, rhythm)
            z_val = models[0].frozen_inputs(x_val)
            assert z_val.shape == (len(val), 7)  # 6 angles and the anchor's logit
            np.testing.assert_allclose(
                predict(models[0].trainable(), z_val), predict(models[0], x_val), atol=1e-5
            )
            encoder = model_fingerprint(models[0].encoder)
            for x_fit, v_fit, trained in (
                (models[0].frozen_inputs(x_tr), z_val, models[0].trainable()),
                (x_tr, x_val, models[1]),
            ):
                fit(
                    trained,
                    TrainData(x_fit, train.y),
                    TrainData(v_fit, val.y),
                    kd_loss(1.0, 0.0),
                    settings,
                    seed=0,
                    progress=False,
                )
            assert model_fingerprint(models[0].encoder) == encoder  # only the head trained
            np.testing.assert_allclose(
                predict(models[0], x_val), predict(models[1], x_val), atol=1e-4
            )  # the same training as on the windows
    end_to_end = tiny_run().builder(end_to_end=True)(StudentJob("mitbih", "vqc", 2.0, 0.5, 0))
    assert end_to_end.trainable() is None
    with pytest.raises(ValueError, match="end to end"):
        end_to_end.frozen_inputs(train.x)


def test_a_finished_latent_run_is_reloaded_without_running_its_encoder(tmp_path, monkeypatch):
    """Reloading a finished run of a latent student reads its weights: no frozen inputs are
    computed, nothing trains, and the record is the run's."""
    data, builder = student_data(), tiny_run().builder()
    job = StudentJob("mitbih", "vqc", 2.0, 0.5, 0)
    settings = TrainSettings(epochs=1, batch_size=16, lr=3e-2, weight_decay=0.0, patience=1)
    weights = tmp_path / "run.pt"
    common = {"build": builder, "label": "VQC", "weights": weights, "key": "k"}
    first = train_student(job, data, settings, **common).record
    monkeypatch.setattr(
        LatentStudent, "frozen_inputs", lambda *a, **k: pytest.fail("the encoder ran")
    )
    again = train_student(job, data, settings, **common)
    assert {k: v for k, v in again.record.items() if k != "seconds"} == {
        k: v for k, v in first.items() if k != "seconds"
    }
    assert roc_auc(*again.scores["test"]) == first["test_auroc"]


def test_quantum_student_trains_with_kd_in_the_common_sweep_and_keeps_its_encoder():
    run = tiny_run()
    data = student_data()
    encoder_before = model_fingerprint(run.model.encoder)
    settings = TrainSettings(epochs=2, batch_size=16, lr=3e-2, weight_decay=0.0, patience=2)
    trained = train_student(
        StudentJob("mitbih", "vqc", 2.0, 0.5, 0), data, settings, build=run.builder(), label="VQC"
    )
    record, model = trained.record, trained.model
    assert record["model"] == "VQC" and record["trainable parameters"] == 38
    # the frozen encoder runs at inference: it counts in the model's size
    assert record["parameters"] == 38 + count_parameters(run.model.encoder)
    test = data.splits["test"]  # the record's AUROC is the returned model's, on the test windows
    assert record["test_auroc"] == roc_auc(test.y, predict(model, test.x))
    assert (
        model_fingerprint(model.encoder) == encoder_before == model_fingerprint(run.model.encoder)
    )
    again = train_student(
        StudentJob("mitbih", "vqc", 2.0, 0.5, 0), data, settings, build=run.builder(), label="VQC"
    ).record
    assert {k: v for k, v in again.items() if k != "seconds"} == {
        k: v for k, v in record.items() if k != "seconds"
    }
    end_to_end = run.builder(end_to_end=True)(StudentJob("mitbih", "vqc", 2.0, 0.5, 0))
    assert count_parameters(end_to_end, trainable_only=True) == 38 + count_parameters(
        run.model.encoder
    )  # the encoder trains too; the decoder is not part of the student


def test_hardware_subset_is_stratified_and_seeded():
    y = np.array([0] * 90 + [1] * 10)
    index = hardware_subset(y, 20, seed=0)
    assert len(index) == 20 and y[index].sum() == 2 and np.all(np.diff(index) > 0)
    np.testing.assert_array_equal(index, hardware_subset(y, 20, seed=0))
    assert len(hardware_subset(y, 500, seed=0)) == 100


def trained_vqc(data):
    """A VQC student of the tiny encoder, trained one epoch with KD: what the device studies run."""
    settings = TrainSettings(epochs=1, batch_size=16, lr=3e-2, weight_decay=0.0, patience=1)
    job = StudentJob("mitbih", "vqc", 2.0, 0.5, 0)
    return train_student(job, data, settings, build=tiny_run().builder(), label="VQC").model


def test_device_scores_feed_the_common_evaluation_in_every_mode():
    """Exact, shots and noisy logits of one VQC student on one test subset, judged by
    evaluate_scores."""
    data = student_data()
    model = trained_vqc(data)
    result = device_scores(model, data, shots=(64, 10_000), size=24, seed=3)
    test = data.splits["test"]
    assert len(result.index) == 24 and test.y[result.index].sum() == 8
    modes = [(mode, shots) for mode, shots, _ in result.runs]
    noisy = f"noisy ({result.compiled.device})"
    assert modes == [
        ("ideal (exact)", math.inf),
        ("ideal + shots", 64.0),
        ("ideal + shots", 1e4),
        (noisy, 64.0),
        (noisy + MITIGATED, 64.0),
        (noisy, 1e4),
        (noisy + MITIGATED, 1e4),
    ]
    exact = predict(model, test.x[result.index])
    np.testing.assert_allclose(result.runs[0][2], exact, atol=1e-5)
    scale, bias = float(model.head.scale.detach()), float(model.head.bias.detach())
    np.testing.assert_allclose(result.runs[2][2], exact, atol=0.05 * abs(scale) + 1e-6)
    assert not np.allclose(result.runs[1][2], exact)  # 64 shots are visibly noisy
    # readout errors shrink <O> towards 0; M3 undoes that part (from the same shots)
    raw, mitigated = ((result.runs[i][2] - bias) / scale for i in (5, 6))
    assert np.abs(mitigated).mean() > np.abs(raw).mean() and np.corrcoef(raw, mitigated)[0, 1] > 0.9
    # the device's validation windows: half abnormal where the split allows, both noisy modes
    y_val = data.splits["val"].y[result.val_index]
    assert len(result.val_index) == 24 and y_val.sum() == min(12, data.splits["val"].y.sum())
    assert sorted(result.device_val) == [noisy, noisy + MITIGATED]

    reports = device_reports("VQC", model, data, result, resamples=20)
    table = report_table(reports)
    # one threshold, chosen on validation with the exact model; then the two noisy modes at the
    # largest shots again, each at the threshold chosen on its own device outputs
    assert len({r.threshold for r in reports[:7]}) == 1
    assert [r.model for r in reports[7:]] == [
        f"VQC, {noisy}, 10000 shots, threshold on the device",
        f"VQC, {noisy}{MITIGATED}, 10000 shots, threshold on the device",
    ]
    assert [r.threshold for r in reports[7:]] == [
        youden_threshold(y_val, result.device_val[mode]) for mode in (noisy, noisy + MITIGATED)
    ]
    assert list(table["shots"]) == ["exact", 64, 10_000, 64, 64] + [10_000] * 4
    assert (
        (table["qubits"] == 6).all()
        and (table["two-qubit gates"] > 0).all()
        and (table["trainable parameters"] == 38).all()
    )
    study = hardware_study(result, data)
    np.testing.assert_allclose(study["auroc"], table["auroc"][:7])
    threshold = youden_threshold(result.y_val, result.val_logits)
    assert (
        study["balanced_accuracy"].iloc[0]
        == binary_metrics(test.y[result.index], exact, threshold)["balanced_accuracy"]
    )
    # the threshold study: ideal at the exact threshold; each noisy mode at the largest shots at
    # the exact threshold (as in the shots study) and at one chosen on the device's own outputs
    thresholds = threshold_study(result, data)
    assert list(zip(thresholds["mode"], thresholds["threshold from"])) == [
        ("ideal (exact)", "exact model, validation"),
        (noisy, "exact model, validation"),
        (noisy, "device, validation"),
        (noisy + MITIGATED, "exact model, validation"),
        (noisy + MITIGATED, "device, validation"),
    ]
    assert (thresholds["shots"].iloc[1:] == 1e4).all()
    same = study[(study["mode"] == noisy) & (study["shots"] == 1e4)]
    assert thresholds["balanced_accuracy"].iloc[1] == same["balanced_accuracy"].iloc[0]
    on_device = youden_threshold(y_val, result.device_val[noisy])
    assert thresholds["threshold"].iloc[2] == on_device
    # the CLI's and notebook 05's files: the same two tables, the first with the compiled circuit
    files = hardware_tables(result, data)
    assert list(files) == ["hardware", "hardware_thresholds"]
    pd.testing.assert_frame_equal(files["hardware"][study.columns], study)
    assert (files["hardware"]["two_qubit_gates"] == result.compiled.two_qubit_gates).all()
    pd.testing.assert_frame_equal(files["hardware_thresholds"], thresholds)


def test_device_scores_add_the_rhythm_anchor_to_the_circuits_logit():
    """An anchored VQC on a device: the circuit's scale * <O> + bias, plus the anchor's logit
    computed classically; exact mode equals the model."""
    data = student_data()
    model = tiny_rhythm_run().builder()(StudentJob("mitbih", "vqc", 2.0, 0.5, 0, rhythm=True))
    anchor_rhythm(model, data.splits["train"], data.splits["val"])
    with torch.no_grad():
        model.head.scale.fill_(2.0)  # as if trained: the circuit's share is not zero
    result = device_scores(model, data, shots=(32,), size=8, seed=1)
    test = data.splits["test"]
    exact = predict(model, model_inputs(test.subset(result.index), True))
    np.testing.assert_allclose(result.runs[0][2], exact, atol=1e-5)
    anchor = fit_rhythm_model(data.splits)[0].decision_function(test.rhythm[result.index])
    assert np.all(np.abs(result.runs[1][2] - anchor) <= 2.0 + 1e-5)  # |scale <O> + bias| <= 2


def test_noise_cannot_hide_behind_the_anchor_in_the_circuits_own_term():
    """An anchored VQC whose circuit says nothing (scale 0: what full depolarisation leaves)
    keeps the anchor's AUROC by construction, in every mode: an AUROC that survives noise is not
    the circuit's. The study's circuit-term rows remove the anchor, and show chance."""
    data = student_data()
    model = tiny_rhythm_run().builder()(StudentJob("mitbih", "vqc", 2.0, 0.5, 0, rhythm=True))
    anchor_rhythm(model, data.splits["train"], data.splits["val"])
    with torch.no_grad():
        model.head.scale.fill_(0.0)
    result = device_scores(model, data, shots=(32,), size=16, seed=1)
    assert result.anchored and len(result.val_offset) == len(data.splits["val"])
    study = hardware_study(result, data)
    assert set(study["term"]) == {MODEL_TERM, CIRCUIT_TERM}
    y = data.splits["test"].y[result.index]
    anchor_auroc = roc_auc(y, result.offset)
    model_rows, circuit_rows = (study[study["term"] == t] for t in (MODEL_TERM, CIRCUIT_TERM))
    np.testing.assert_allclose(model_rows["auroc"], anchor_auroc)
    np.testing.assert_allclose(circuit_rows["auroc"], 0.5)  # a constant: chance
    threshold = youden_threshold(result.y_val, result.val_logits - result.val_offset)
    for (mode, _, logits), row in zip(result.runs, circuit_rows.itertuples(), strict=True):
        assert row.mode == mode and row.threshold == threshold  # the own term's own threshold
        assert row.auroc == roc_auc(y, logits - result.offset)
    unanchored = device_scores(trained_vqc(data), data, shots=(32,), size=16, seed=1)
    assert not unanchored.anchored and set(hardware_study(unanchored, data)["term"]) == {MODEL_TERM}


def test_device_scores_keep_their_sampled_runs_and_reuse_them(tmp_path, monkeypatch):
    data = student_data()
    model = trained_vqc(data)
    first = device_scores(model, data, shots=(64, 256), size=12, seed=3, cache_dir=tmp_path)
    # (ideal, noisy) x (64, 256) shots on test windows, noisy at 256 on validation windows
    assert len(list(tmp_path.glob("mitbih-*.npz"))) == 5
    fail = lambda *a, **k: (_ for _ in ()).throw(AssertionError)
    monkeypatch.setattr(hardware, "sampled_bits", fail)
    monkeypatch.setattr(hardware, "readout_mitigation", fail)  # no calibration either
    again = device_scores(model, data, shots=(256,), size=12, seed=3, cache_dir=tmp_path)
    assert [r[1] for r in again.runs] == [math.inf, 256.0, 256.0, 256.0]
    np.testing.assert_array_equal(again.runs[1][2], first.runs[2][2])  # from the cache, equal
    np.testing.assert_array_equal(again.runs[2][2], first.runs[5][2])
    np.testing.assert_array_equal(again.runs[3][2], first.runs[6][2])
    for mode, logits in first.device_val.items():
        np.testing.assert_array_equal(again.device_val[mode], logits)


def test_circuit_ablation_reads_validation_only_and_pairs_seeds(tmp_path):
    import ecgkd.config
    from ecgkd.quantum.stage import OURS, ablation_table, circuit_ablation

    cfg = ecgkd.config.load(
        env={"ECGKD_QUICK": "1", "ECGKD_DEVICE": "cpu"}, cache_root=tmp_path / "cache"
    )
    variants = {
        OURS: VQCSpec(reps=2),
        "1 layer": VQCSpec(reps=1),
        "Z": VQCSpec(reps=2, readout="z0"),
    }
    settings = TrainSettings(epochs=1, batch_size=16, lr=3e-2, weight_decay=0.0, patience=1)
    runs = circuit_ablation(cfg, student_data(), tiny_run(), variants, settings, progress=False)
    assert list(runs["circuit"].unique()) == list(variants) and len(runs) == 3 * 2
    assert not any(c.startswith("test_") for c in runs.columns)
    saved = (tmp_path / "cache" / "results").glob("circuits-*.csv")
    assert not any(c.startswith("test_") for c in pd.read_csv(next(saved)).columns)
    table = ablation_table(runs, variants=variants).droplevel("dataset")
    assert table.loc[OURS, "minus ours (mean)"] == 0
    mean = runs.groupby("circuit")["val_auroc"].mean()
    assert table.loc["Z", "minus ours (mean)"] == pytest.approx(mean["Z"] - mean[OURS])
    assert table.loc["1 layer", "CNOTs"] < table.loc[OURS, "CNOTs"] == table.loc["Z", "CNOTs"]


def test_chosen_circuit_breaks_ties_by_cnots():
    from ecgkd.quantum.stage import chosen_circuit

    table = pd.DataFrame(
        {
            "val AUROC (mean)": [0.880, 0.881, 0.870, 0.80],
            "val AUROC (sd)": [0.002, 0.004, 0.01, 0.02],
            "CNOTs": [25, 40, 15, 35],
        },
        index=pd.Index(["ours", "8 layers", "3 layers", "ZZ"], name="circuit"),
    )
    assert chosen_circuit(table) == ("ours", ["ours", "8 layers"])
    table.loc["3 layers", "val AUROC (mean)"] = 0.878  # within the best's sd: cheapest wins
    assert chosen_circuit(table) == ("3 layers", ["ours", "8 layers", "3 layers"])


def test_end_to_end_runs_train_the_encoder_at_the_autoencoders_step():
    import ecgkd.config
    from ecgkd.quantum.encoders import ae_settings
    from ecgkd.quantum.stage import end_to_end_settings, quantum_settings

    cfg = ecgkd.config.load(env={"ECGKD_QUICK": "1", "ECGKD_DEVICE": "cpu"})
    for dataset in ("mitbih", "ptbxl"):
        e2e = end_to_end_settings(cfg, dataset)
        assert e2e.lr == ae_settings(cfg, dataset).lr < quantum_settings(cfg, dataset).lr
        assert e2e.epochs == quantum_settings(cfg, dataset).epochs


@pytest.mark.parametrize(
    "spec", SPECS, ids=lambda s: f"{s.encoding}-{s.ansatz}-{s.readout}-{s.entanglement}"
)
def test_the_pauli_readout_equals_the_statevector_and_its_gradients(spec):
    """The angle encoding's shortcut (issue 33, item 3): the same expectations and gradients, in
    both the inputs and the weights, as the statevector road, to 1e-12; other encodings take the
    statevector road."""
    sim = TorchVQC(build_vqc(spec))
    assert (sim.pauli is not None) == (spec.encoding == "angle")
    # RY layers between CX's: the readout matrix's gradient is HeisenbergReadout's, written out
    assert (sim.chain is not None) == (sim.pauli is not None and spec.ansatz == "real_amplitudes")
    x, w = random_inputs(sim.vqc, 16, seed=5)
    xt, wt = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
    fast, slow = sim.expectation(xt, wt), sim.statevector_expectation(xt, wt)
    torch.testing.assert_close(fast, slow, rtol=0, atol=1e-12)
    weights = (torch.arange(16, dtype=torch.float64) - 7.5) / 8  # a loss that mixes the rows
    grads = [torch.autograd.grad((out * weights).sum(), (xt, wt)) for out in (fast, slow)]
    for ours, theirs in zip(*grads):
        torch.testing.assert_close(ours, theirs, rtol=0, atol=1e-12)
    np.testing.assert_allclose(
        fast.detach().numpy(), qiskit_expectations(sim.vqc, x, w), atol=1e-12
    )
