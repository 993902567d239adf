# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.7
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 4. The quantum student: six numbers, six qubits, one teacher
#
# Can a 6-qubit variational circuit, fed a 6-number summary of a 256-sample ECG window, learn the
# teacher's judgement? This notebook builds the pieces the study names: a convolutional autoencoder
# {cite:p}`hinton2006autoencoder`, a variational quantum classifier {cite:p}`havlicek2019,schuld2020`
# in Qiskit {cite:p}`qiskit2024`, and distillation from the teacher {cite:p}`hinton2015distilling`.
# {doc}`05_vqc_on_device` then runs the trained circuit with finite shots under a real device's noise.
#
# **You will learn**
# - how an autoencoder turns a window into rotation angles, using training statistics only;
# - how the VQC is built in Qiskit (encoding, ansatz, readout), drawn and exported to OpenQASM 3;
# - why training goes through an exact torch simulation of the circuit, and how it is checked against
#   Qiskit and trained through qiskit-machine-learning's EstimatorQNN + TorchConnector as well;
# - how the VQC does with and without the teacher, against a classical head of the same size;
# - what two angles of rhythm (how early a beat came, against the local rate and the beat before)
#   add on MIT-BIH.
#
# **Runtime**: under two minutes in quick mode on 2 CPU cores. Full mode trains on all of MIT-BIH DS1
# and runs the T x alpha grid with 3 seeds for the VQC and its control on both datasets: tens of
# minutes on 2 CPU cores ({doc}`/book/status` has the measured times). Every finished run is cached; a
# rerun takes seconds.

# %% [markdown]
# ## Parameters
# Our choices for the quantum student, each passed to the call that uses it. They equal the package's
# defaults (`ecgkd.quantum`), which `python -m ecgkd` runs; a changed value gets its own cache keys.

# %% tags=["parameters"]
import math

import numpy as np
import pandas as pd
import torch
from qiskit.quantum_info import Statevector

import ecgkd
from ecgkd import plots, students
from ecgkd.quantum import TorchVQC, VQCSpec, bind, build_vqc, hardware
from ecgkd.quantum.autoencoder import ConvAutoencoder
from ecgkd.quantum.encoders import ae_settings, prepare_encoders
from ecgkd.quantum.model import RHYTHM_ANGLES, VQCHead, latent_angles
from ecgkd.quantum.stage import (
    CIRCUIT_VARIANTS,
    LATENT_STUDENTS,
    ablation_table,
    best_vqc,
    chosen_circuit,
    circuit_ablation,
    latent_grids,
    quantum_settings,
    trained_latent,
)
from ecgkd.quantum.statevector import HeisenbergReadout, PauliReadout
from ecgkd.report import settings_table, show_source, titled, versions_table
from ecgkd.students import kd_loss
from ecgkd.teacher import prepare_teacher, stand_in_note
from ecgkd.train import TrainData, TrainSettings, fit

cfg = ecgkd.setup()
# the circuit: entangling layers of the real_amplitudes ansatz on 6 qubits, parity readout
LAYERS = 5
# the autoencoder's latent: one number per qubit (on MIT-BIH the main students keep two qubits
# for the rhythm angles, so their encoder's latent is two smaller)
LATENT = 6
# the T x alpha grid of notebook 03, for the VQC and its control (alpha = 0: no KD)
TEMPERATURES = (2.0, 4.0) if cfg.quick else (1.0, 2.0, 4.0)
ALPHAS = (0.0, 0.5, 1.0) if cfg.quick else (0.0, 0.25, 0.5, 1.0)
SEEDS = 1 if cfg.quick else 3
# seeds of the circuit ablation of section 4.6
ABLATION_SEEDS = 2 if cfg.quick else 3
# training windows of the EstimatorQNN check of section 4.5 (half normal, half abnormal)
QNN_WINDOWS = 16

# %% [markdown]
# The training settings of the autoencoder and of the VQC head, per dataset (`ae_settings`,
# `quantum_settings`: our choices):

# %%
SPEC = VQCSpec(reps=LAYERS)
PLAN = students.GridPlan(TEMPERATURES, ALPHAS, tuple(cfg.seed + s for s in range(SEEDS)))
AE_SETTINGS = {name: ae_settings(cfg, name) for name in ("mitbih", "ptbxl")}
HEAD_SETTINGS = {name: quantum_settings(cfg, name) for name in ("mitbih", "ptbxl")}
print(f"{SPEC}\nT = {PLAN.temperatures}, alpha = {PLAN.alphas}, seeds = {PLAN.seeds}")
owners = {f"autoencoder, {n}": s for n, s in AE_SETTINGS.items()}
owners |= {f"VQC head, {n}": s for n, s in HEAD_SETTINGS.items()}
settings_table(owners, f"Training settings of the quantum stage, {cfg.mode} mode")

# %% [markdown]
# ## 4.1 The data and the teacher's outputs
# The quantum student reads the same windows as the classical students and learns from the same cached
# teacher logits (notebook 02 made them; `prepare_teacher` reloads them).

# %%
teachers = {name: prepare_teacher(cfg, name, progress=False) for name in ("mitbih", "ptbxl")}
data = {name: students.StudentData.from_teacher(t) for name, t in teachers.items()}
for name, teacher in teachers.items():
    print(f"{name}: {stand_in_note(teacher.label)}")

# %% [markdown]
# ## 4.2 From 256 samples to 6 angles: the autoencoder
# Six qubits take six numbers. Our choice (the study's is not public): a 1-D convolutional autoencoder
# {cite:p}`hinton2006autoencoder`, four stride-2 convolutions and a linear layer down to a 6-d latent,
# a mirrored decoder back to 256 samples, trained to reconstruct the **training** windows (mean squared
# error, early stopping on the validation error, the one training loop of notebook 03). It never sees a
# label: the latent is a summary of the waveform, not of the diagnosis. The whole model:

# %%
show_source(ConvAutoencoder)

# %%
encoders = {
    name: prepare_encoders(cfg, data[name], AE_SETTINGS[name], latent=LATENT) for name in data
}
runs = {name: pair.window for name, pair in encoders.items()}  # the 6-d latents
every_run = {
    (name, f"latent {r.model.latent}" + (" + rhythm" if r.reads_rhythm else "")): r
    for name, pair in encoders.items()
    for r in (pair.window, pair.rhythm)
    if r is not None
}
reconstruction = pd.DataFrame(
    {
        key: {**{f"{s} MSE": e for s, e in run.reconstruction.items()}, "epochs": len(run.history)}
        for key, run in every_run.items()
    }
).T
titled(reconstruction, "Autoencoder reconstruction error (MSE per sample), per dataset and latent")

# %% [markdown]
# Windows are z-scored, so an MSE of 0.2 would mean that the reconstruction misses a fifth of a
# window's variance. On MIT-BIH a window is one beat centred on its R peak; on PTB-XL it is 2.56 s of
# lead II at 100 Hz holding two or three beats at any phase, which six numbers summarise less well:
# the table's test errors say by how much, and the quantum student there starts from that poorer
# summary. A few MIT-BIH test beats and what six numbers keep of them:

# %%
test = data["mitbih"].splits["test"]
pick = np.concatenate([np.flatnonzero(test.y == 0)[:2], np.flatnonzero(test.y == 1)[:2]])
with torch.inference_mode():
    rebuilt = runs["mitbih"].model(torch.from_numpy(test.x[pick])).numpy()
fig = plots.plot_reconstructions(
    test.x[pick], rebuilt, test.y[pick], test.fs, title="MIT-BIH test beats, latent d = 6"
)

# %% [markdown]
# Each latent coordinate becomes a rotation angle: its 1st to 99th percentile **on the training split** is
# mapped to [0, pi] and values outside are clipped (`AngleScaler`). How the angles of normal and abnormal
# training beats differ is what the circuit has to work with:

# %%
train = data["mitbih"].splits["train"]
angles = runs["mitbih"].angles(train)
fig = plots.plot_angles(angles, train.y, title="MIT-BIH training beats: the six encoding angles")

# %% [markdown]
# **Rhythm on two qubits (MIT-BIH).** A beat's window does not say when it came ({doc}`01_data`).
# Our main quantum student on MIT-BIH gives two of its six angles to the rhythm, the RR before the
# beat over the local average and over the RR before it (`RHYTHM_ANGLES`, causal features: a
# premature beat comes early against both), scaled to [0, pi] by their training percentiles like the
# latent; the other four come from an autoencoder with a 4-d latent (its reconstruction error is in the
# table above). This split of the six angles is our choice and has not been measured against
# others (5 + 1, 3 + 3: an exercise). The window-only VQC on the 6-d latent is kept as the ablation.
# Its angles, the last two from the rhythm:

# %%
print(f"rhythm angles: {RHYTHM_ANGLES}")
angles = encoders["mitbih"].rhythm.angles(train)
fig = plots.plot_angles(angles, train.y, title="MIT-BIH training beats: 4 latent + 2 rhythm angles")

# %% [markdown]
# ## 4.3 The circuit
# Our circuit (`ecgkd.quantum.VQCSpec`), in the family of variational classifiers of
# {cite:t}`havlicek2019` and {cite:t}`schuld2020`: **angle encoding** (RY(x_i) on qubit i, a product
# state with no two-qubit gates, the inputs loaded once; re-uploading them between layers
# {cite:p}`perezsalinas2020` is an option we leave as an exercise), then Qiskit's **real_amplitudes**
# ansatz with `LAYERS` entangling layers (RY rotations and a linear chain of CNOTs), read out as the
# **parity** Z x Z x Z x Z x Z x Z. The logit is `scale * <parity> + bias`, two trainable numbers
# outside the circuit. These are our choices: angle encoding needs no two-qubit gate, and the parity is
# fed by every qubit. Section 4.6 measures the alternatives (other depths, Z on one qubit, the ZZ
# feature map) on validation; they and `efficient_su2` stay available as `VQCSpec` options.

# %%
head = VQCHead(SPEC, seed=cfg.seed)
vqc = head.vqc
print(
    f"{vqc.circuit.num_qubits} qubits, {len(vqc.inputs)} inputs, {vqc.num_weights} circuit weights "
    f"+ scale + bias = {vqc.num_weights + 2} trainable parameters; observable "
    f"{vqc.observable.paulis[0]}"
)
fig = vqc.circuit.draw("mpl", fold=-1, scale=0.6)

# %% [markdown]
# `build_vqc` assembles it from Qiskit's library circuits; this is all of it:

# %%
show_source(build_vqc)

# %% [markdown]
# The same circuit as OpenQASM 3, the text any hardware provider accepts (first lines):

# %%
print("\n".join(hardware.to_qasm3(vqc.circuit).splitlines()[:12]))

# %% [markdown]
# ## 4.4 Exact and fast: the circuit simulated in torch
# Training needs the expectation and its gradient for thousands of windows per epoch.
# qiskit-machine-learning's EstimatorQNN simulates one circuit per window and differentiates by parameter
# shift: a few windows per second on 2 cores. `ecgkd.quantum.TorchVQC` reads the same Qiskit circuit
# gate by gate and computes the same numbers for a whole batch: the angle encoding is a product of six
# 2-vectors, the ansatz a 64 x 64 matrix built once per batch from the weights, the parity a diagonal.
# Autograd gives the gradients (all but one part, written out by hand below). The student's forward
# pass, from angles to logit, is these lines:
#
# One shortcut on top (`PauliReadout`): with one RY per qubit, the encoded state is real and a
# product, so the expectation needs no statevector. The parity seen through the ansatz is one
# 64 x 64 matrix M per batch, and psi^T M psi is a sum over Pauli strings of {I, Z, X}: each
# qubit contributes 1, cos t or sin t. Split into two halves of three qubits, that is a 27-vector
# times a 27 x 27 matrix times a 27-vector per window (`benchmarks/vqc.py` measures what it saves;
# the statevector road, `TorchVQC.states`, is what `probabilities` and the shots use):

# %%
show_source(VQCHead.forward)

# %%
show_source(TorchVQC.expectation)

# %%
show_source(PauliReadout.expectation)

# %% [markdown]
# M itself and its gradient in the circuit weights come from `HeisenbergReadout`. Its backward
# pass is written out (the adjoint method: two 64 x 64 products per layer, and RY's derivative is
# RY times a fixed matrix) instead of recorded by autograd; the tests check it against autograd
# through every gate:

# %%
show_source(HeisenbergReadout.backward)

# %% [markdown]
# A check against Qiskit's own `Statevector`, on a few test windows:

# %%
job = students.StudentJob("mitbih", "vqc", math.nan, 0.0, cfg.seed)
student = runs["mitbih"].builder(SPEC)(job)
sample = latent_angles(student, test.x[:5]).astype(np.float64)
weights = head.circuit_weights.detach().double().numpy()
ours = TorchVQC(vqc).expectation(torch.from_numpy(sample), torch.from_numpy(weights)).numpy()
qiskit = np.array(
    [Statevector(bind(vqc, x, weights)).expectation_value(vqc.observable).real for x in sample]
)
check = {"TorchVQC": ours, "Qiskit Statevector": qiskit, "|difference|": np.abs(ours - qiskit)}
assert np.abs(ours - qiskit).max() < 1e-10, "TorchVQC disagrees with Qiskit's Statevector"
titled(pd.DataFrame(check), "The parity's expectation on five MIT-BIH test windows", precision=8)

# %% [markdown]
# The tests check outputs and gradients (against EstimatorQNN's parameter shift) to 1e-6 for several
# circuit variants; `benchmarks/vqc.py` measures the speed against qiskit-machine-learning's default path
# and PennyLane. Run it yourself: `python benchmarks/vqc.py`.
#
# ## 4.5 The standard stack: EstimatorQNN + TorchConnector
# The circuit also trains through qiskit-machine-learning, in the **same training loop** as every other
# student (`ecgkd.train.fit`) and with the same distillation loss against the teacher's cached logits:
# here one epoch on `QNN_WINDOWS` training windows (validated on the same ones: a check that the path
# works, not a result), because this path is slow. The trained weights then move to the fast
# simulator unchanged and give the same outputs.

# %%
half = QNN_WINDOWS // 2
small = np.concatenate([np.flatnonzero(train.y == 0)[:half], np.flatnonzero(train.y == 1)[:half]])
x_small = latent_angles(student, train.x[small])
teacher_small = data["mitbih"].teacher_logits["train"][small]
qiskit_head = VQCHead(SPEC, seed=cfg.seed, backend="qiskit")
result = fit(
    qiskit_head,
    TrainData(x_small, train.y[small], teacher_small),
    TrainData(x_small, train.y[small]),
    kd_loss(temperature=2.0, alpha=0.5),
    TrainSettings(epochs=1, batch_size=8, lr=0.05),
    progress=False,
)
fast_head = qiskit_head.to_backend("torch")
with torch.no_grad():
    gap = (
        (qiskit_head(torch.from_numpy(x_small)) - fast_head(torch.from_numpy(x_small)))
        .abs()
        .max()
        .item()
    )
print(result.history[["epoch", "train_loss", "seconds"]].round(3).to_string(index=False))
print(f"largest |logit difference| between the Qiskit and torch backends after transfer: {gap:.1e}")
assert gap < 1e-6, "the weights trained through Qiskit do not give the torch backend's logits"

# %% [markdown]
# ## 4.6 Choosing the circuit, on validation
# Why 5 layers, the parity and angle encoding? An ablation, one change at a time from our circuit
# (`CIRCUIT_VARIANTS`), each trained on the labels alone (alpha = 0: the circuit is chosen before the
# KD study) with `ABLATION_SEEDS` seeds, on MIT-BIH, where six numbers keep a beat's shape (on PTB-XL the
# autoencoder's poor summary would dominate the comparison). Only validation AUROC is read; the test
# split is never scored. The last columns are paired differences from our circuit, seed by seed.

# %%
ablation = circuit_ablation(
    cfg, data["mitbih"], runs["mitbih"], CIRCUIT_VARIANTS, seeds=ABLATION_SEEDS, progress=False
)
circuits = ablation_table(ablation)
titled(circuits, f"MIT-BIH ({cfg.mode} mode): circuit ablation, validation AUROC", precision=3)

# %% [markdown]
# Our rule (`chosen_circuit`): the circuits whose mean validation AUROC lies within one seed
# standard deviation of the best mean are tied; of those, keep the one with the fewest CNOTs, since
# every two-qubit gate adds noise on a device ({doc}`05_vqc_on_device`). The CNOT column shows what
# each variant costs; the ZZ feature map pays for its encoding in CNOTs. The package's circuit was
# chosen by this rule on the quick-mode measurement; in quick mode the cell asserts that this run
# still chooses it, while a full run prints its own choice.

# %%
choice, tied = chosen_circuit(circuits)
print(f"tied with the best: {', '.join(tied)}\nchosen: {choice}")
if cfg.quick and ABLATION_SEEDS == 2:
    assert CIRCUIT_VARIANTS[choice] == SPEC, f"the ablation now chooses {choice!r}, not SPEC"

# %% [markdown]
# With two or three seeds and five validation records, differences of a few thousandths are not a
# ranking: the rule treats them as ties and lets the cost decide.
#
# ## 4.7 Training the VQC, with and without the teacher
# Every quantum run goes through `ecgkd.students.grid.run_grid`, the function that trained the classical
# students: same windows, same KD loss, same early stopping on validation AUROC, same seeds (a KD run and
# its no-KD twin start from the same circuit weights). The encoder is frozen ("two-stage"); only the
# parameters of the VQC head train. The **classical control** is an MLP on the same six angles with no
# more trainable parameters (6 -> h -> 1 with tanh, h as large as the budget allows), trained over the same
# grid. On MIT-BIH both read the four latent and two rhythm angles, and, like every model here that
# reads rhythm, add their logit to the **rhythm anchor** (the rhythm-only logistic regression of the
# training split, fixed; {doc}`02_teacher`): the head starts at zero (the VQC's scale, the MLP's last
# layer), so a run starts from the baseline and the circuit learns what the window and the two angles
# add to it. The anchor's 25 numbers are classical and computed beside the circuit, on a device too;
# they are not counted among the 38 trainable parameters. The window-only VQC and control, without an
# anchor, follow at no KD and at the grid's best KD cell by validation, on the first seed (the ablation
# rows). Training the encoder and
# the circuit together ("end-to-end") is an option: `encoders[name].main.builder(end_to_end=True)`.

# %%
latent_runs = pd.concat(
    [latent_grids(cfg, data[n], encoders[n], PLAN, HEAD_SETTINGS[n], SPEC) for n in data],
    ignore_index=True,
)
results, window_only = students.main_and_ablation(latent_runs)
print(f"latent students: {', '.join(LATENT_STUDENTS)}")
titled(results[students.RUN_COLUMNS], "Every run of the VQC and control grids, both datasets")

# %% [markdown]
# ### Training curves
# The VQC's best KD setting on MIT-BIH (chosen on validation): `best_vqc` returns that selection and
# its run, the weights and training curves its grid run saved.

# %%
best, vqc_run = best_vqc(cfg, data["mitbih"], encoders["mitbih"].main, results)
fig = plots.plot_history(
    vqc_run.history,
    title=f"VQC, MIT-BIH, {best.description} (teacher: {teachers['mitbih'].label})",
)

# %% [markdown]
# ### Two-stage or end-to-end?
# The same job with the encoder trained together with the circuit (its reconstruction objective dropped:
# the encoder now serves the classifier, starting from the autoencoder's weights), at the
# autoencoder's learning rate (`end_to_end_settings`: at the circuit's larger step the latents leave
# the angle scaler's range, where its clamp passes no gradient):

# %%
end_to_end = encoders["mitbih"].main.builder(end_to_end=True)
joint = trained_latent(cfg, data["mitbih"], end_to_end, best.job).record
columns = ["trainable parameters", "val_auroc", "test_auroc"]
two_ways = pd.DataFrame(
    [
        {"training": "two-stage (frozen encoder)", **{c: vqc_run.record[c] for c in columns}},
        {"training": "end-to-end", **{c: joint[c] for c in columns}},
    ]
)
titled(two_ways, "MIT-BIH: the best-KD VQC with a frozen or a trained encoder")

# %% [markdown]
# ## 4.8 Sensitivity to T and alpha
# Mean test AUROC over seeds, and the gain of each KD run over the no-KD run of the same seed:

# %%
fig = plots.plot_kd_auroc(results, "Latent students")

# %%
fig = plots.plot_kd_gains(results, "Latent students")

# %% [markdown]
# ## 4.9 The quantum student against the others
# Per dataset: each student without KD and at its best KD setting (chosen on validation), next to the
# teacher. The classical students' rows are the runs notebook 03 has finished, read from its results
# file (nothing is trained here; the printout says how much of its grid is done).

# %%
classical = []
for name in data:
    done = students.finished_classical_grid(cfg, data[name])
    planned = len(students.classical_jobs(cfg, name))
    grid, ablation = students.main_and_ablation(done)
    print(
        f"{name}: notebook 03 has finished {len(grid)} of its {planned} grid runs, and "
        f"{len(ablation)} window-only ablation runs"
    )
    classical.append(done)
everything = pd.concat([*classical, latent_runs], ignore_index=True)
table = students.summary_table(everything)
table["parameters"] = table["student"].map(everything.groupby("model")["parameters"].first())
table["teacher test_auroc"] = table["dataset"].map(
    {n: t.test_metrics()["auroc"] for n, t in teachers.items()}
)
titled(table, "Every student, no KD and best KD by validation, per dataset")

# %% [markdown]
# What the two rhythm angles add to the latent students, configuration by configuration (single runs;
# {doc}`06_evaluation` has the intervals):

# %%
titled(students.rhythm_table(latent_runs), "MIT-BIH DS2: latent students with and without rhythm")

# %% [markdown]
# ## 4.10 Reading the results
# - The **control** row is the honest baseline for the VQC: the same six angles, no more parameters.
# - The **rhythm** angles, the anchor and the window-only rows say how much of a latent student's score
#   is timing, which a logistic regression on the RR features reads alone: {doc}`06_evaluation` sets
#   every student against that baseline, with a paired interval. An anchored VQC that does not beat it has
#   not been shown to add anything to the rhythm.
#   Where the MLP matches or beats the VQC, the circuit adds nothing a tiny classical model cannot do;
#   where the VQC wins, compare the margin with the spread over seeds in the gain heatmap before
#   believing it.
# - The latent students can only use what the **autoencoder** keeps: six numbers carry no more of a
#   window than its latent holds.
# - Everything here is an exact **simulation** of the circuit; {doc}`05_vqc_on_device` runs it with
#   shots and a device's noise. With a **stand-in teacher** the soft targets carry no knowledge from
#   outside these training splits.

# %% [markdown]
# ## Summary
# - `ecgkd.quantum.autoencoder` compresses a window to 6 numbers, trained by the one training loop;
#   `AngleScaler` turns them into angles with training statistics only.
# - `ecgkd.quantum.build_vqc` is the circuit; `TorchVQC` simulates exactly that circuit, equal to Qiskit,
#   fast enough to train on full MIT-BIH; EstimatorQNN + TorchConnector trains it in the same loop.
# - The circuit (depth, readout, encoding) is chosen by an ablation on MIT-BIH validation, with a
#   stated rule for ties (`chosen_circuit`).
# - The VQC, its KD twin and a same-size classical control are trained by the grid runner of
#   {doc}`03_classical_distillation`; on MIT-BIH they read 4 latent and 2 rhythm angles and add the
#   fixed rhythm anchor, with the window-only students as the ablation.
# - `ecgkd.quantum.hardware.to_qasm3` exports the circuit as OpenQASM 3 for any provider.
#
# Next: {doc}`05_vqc_on_device` runs the trained VQC with shots and a device's noise.
#
# ## Exercises
# **Exercise 4.1.** Build `VQCHead(VQCSpec(reps=3))` and count its trainable parameters with
# `ecgkd.modelinfo.count_parameters(..., trainable_only=True)`.
#
# *Self-check*: 26. Qiskit's `real_amplitudes` holds one RY angle per qubit per layer plus a final one,
# 6 x (3 + 1) = 24, and the head adds its scale and bias. The tutorial's 5 layers give 6 x 6 + 2 = 38.
#
# **Exercise 4.2.** Train the VQC grid again with 3 layers,
# `latent_grids(cfg, data["mitbih"], encoders["mitbih"], PLAN, HEAD_SETTINGS["mitbih"], VQCSpec(reps=3))`,
# and compare each configuration's validation AUROC with the 5-layer rows of `latent_runs`.
#
# *Self-check*: the new VQC rows report 26 trainable parameters and get their own run keys (the
# circuit is part of each key), so nothing of the 5-layer grid is overwritten; the MLP control rows
# are new runs too, since the control is matched to the circuit's size (compare their `trainable
# parameters` with the 5-layer ones).
#
# **Exercise 4.3.** Read the circuit out on one qubit, `VQCHead(VQCSpec(readout="z0"))`, and count its
# trainable parameters and its observable's Pauli string (`head.vqc.observable.paulis[0]`).
#
# *Self-check*: 38 trainable parameters, as with the parity: the readout changes what is measured,
# not the weights; the Pauli string holds one Z and five I.

# %%
versions_table()
