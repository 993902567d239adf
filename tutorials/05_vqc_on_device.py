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
# # 5. The VQC on a device: shots, noise, mitigation and the threshold
#
# The VQC of {doc}`04_quantum_student` was trained on an exact simulation. A near-term device returns
# something else: an estimate of the circuit's expectation from a finite number of shots, bent by the
# device's gate and readout errors. This notebook takes the trained VQC, unchanged, and asks what
# shots, a real device's noise model and readout mitigation do to its decisions, and how a threshold
# chosen on the device's own outputs repairs what noise breaks.
#
# **You will learn**
# - what 128 to 8192 shots per window do to the VQC's expectation and its test metrics;
# - how the circuit is transpiled for an IBM Heron device and sampled under its noise model (Aer);
# - what readout-error mitigation (M3) corrects, and what it cannot;
# - why the operating threshold must be chosen on the device's own validation outputs;
# - how the same circuit is sent to an IBM device in one SamplerV2 job whose id and result are kept.
#
# **Runtime**: under two minutes in quick mode on 2 CPU cores (a few hundred windows simulated under
# noise); in full mode thousands of windows, minutes on 2 CPU cores ({doc}`/book/status` has the
# measured times). Every sampled run is cached; a rerun takes seconds.

# %% [markdown]
# ## Parameters
# The knobs of the device study, each passed to the call that uses it. The VQC itself is the one
# {doc}`04_quantum_student` trained: its best KD cell by validation, seed `ECGKD_SEED`.

# %% tags=["parameters"]
import numpy as np
import pandas as pd
import torch

import ecgkd
from ecgkd import plots
from ecgkd.config import project_root
from ecgkd.quantum import hardware
from ecgkd.quantum.device import (
    CIRCUIT_TERM,
    MITIGATED,
    MODEL_TERM,
    circuit_weights,
    hardware_cache,
    run_device_study,
    window_angles,
)
from ecgkd.quantum.stage import run_quantum
from ecgkd.report import save_tables, show_source, titled, versions_table
from ecgkd.scoring import roc_auc
from ecgkd.teacher import stand_in_note

cfg = ecgkd.setup()
# shots per window of the sampled runs
SHOTS = (128, 1024, 8192) if cfg.quick else (128, 512, 2048, 8192)
# DS2 test windows simulated (a noisy run costs milliseconds a window)
WINDOWS = 100 if cfg.quick else 2000
# the fake IBM device whose coupling map, basis gates and noise model the circuit runs under
DEVICE = "FakeTorino"
# section 5.4: windows sent in the runtime job, and the small fake device it runs on locally
RUNTIME_WINDOWS, RUNTIME_DEVICE = 16, "FakePerth"

# %% [markdown]
# ## 5.1 The trained VQC
# `run_quantum` reloads notebook 04's study without training anything (`train=False`): the teacher's
# targets, the encoders and every finished run of the latent grids. The device study picks the VQC
# at its best KD cell by validation, on MIT-BIH, where a window is one beat.

# %%
study = run_quantum(cfg, "mitbih", train=False, progress=False)
print(stand_in_note(study.data.teacher_label))
assert not study.runs.empty, "run notebook 04 first: the latent grids have no finished run"
print(f"{len(study.runs)} finished runs of the latent grids on MIT-BIH")

# %% [markdown]
# ## 5.2 Shots and device noise
# The trained VQC, unchanged, evaluated three ways on the same stratified subset of MIT-BIH test
# windows (`WINDOWS` of them): exactly; sampled with each of `SHOTS` on Aer's ideal simulator; and
# transpiled to the basis gates and coupling map of the IBM Heron device `DEVICE` (a fake backend of
# qiskit-ibm-runtime, with that device's calibrated noise model), sampled under its noise. The
# threshold stays the one chosen on validation with the exact model. Only the circuit's `<O>` changes
# from row to row: the student's rhythm anchor is classical, computed exactly beside the device
# (`window_anchor_logits`) and added to `scale * <O> + bias` in every row.
#
# Each noisy run is also read a second way, **readout-mitigated** (rows "+ M3"): a measurement can
# flip a bit after the circuit has run, which shrinks the parity <O> towards 0. M3
# {cite:p}`nation2021m3` (the `mthree` library) measures each of the circuit's physical qubits
# prepared in 0 and in 1 (one calibration), then corrects every window's counts into a
# quasi-probability distribution whose <O> is free of that bias. It does nothing for errors in the
# gates. The whole study is one call:

# %%
show_source(run_device_study)

# %%
device = run_device_study(cfg, study, shots=SHOTS, windows=WINDOWS, device=DEVICE)
student, compiled = device.student.model, device.scores.compiled
print(f"the VQC: {device.student.record['model']}, {device.selection.description}")
print(
    f"on {compiled.device} ({hardware.fake_backend(DEVICE).num_qubits} qubits): depth "
    f"{compiled.depth}, {compiled.two_qubit_gates} two-qubit gates, "
    f"operations {compiled.operations}"
)
print(f"M3 calibration: {hardware.CALIBRATION_SHOTS} shots per calibration circuit")
study_table = device.tables["hardware"]
shots_table = study_table[study_table["term"] == MODEL_TERM]
columns = ["mode", "shots", "windows", "auroc", "balanced_accuracy", "sensitivity", "specificity"]
titled(shots_table[columns], "The VQC on MIT-BIH DS2 windows: exact, shots, device noise")

# %%
fig = plots.plot_shots(shots_table, "auroc", title=f"VQC on {WINDOWS} MIT-BIH test windows")

# %% [markdown]
# ## 5.3 Where noise cannot hide behind the anchor
# The VQC on MIT-BIH adds its circuit's term, `scale * <O> + bias`, to the fixed rhythm anchor. Noise
# shrinks `<O>` towards 0, and a fully depolarised circuit would leave the logit equal to the anchor
# plus a constant: it would keep the rhythm-only regression's AUROC by construction
# (`tests/quantum/test_quantum.py` checks exactly this). So the AUROC of the table above cannot say
# what noise does to the circuit. Two views that can: the same runs with the anchor removed, the
# circuit's **own term** (its threshold chosen on the exact model's validation term); and the
# **window-only VQC** of notebook 04's ablation (no anchor at all), at the same KD cell, run through
# the same study.

# %%
y_scored = study.data.splits["test"].y[device.scores.index]
anchor_auroc = roc_auc(y_scored, device.scores.offset)
print(f"the rhythm anchor alone on these windows: AUROC {anchor_auroc:.3f}")
own = study_table[study_table["term"] == CIRCUIT_TERM]
titled(own[columns], "The same runs, the circuit's own term alone (anchor removed)")

# %%
window_only = run_device_study(
    cfg, study, shots=SHOTS, windows=WINDOWS, device=DEVICE, window_only=True
)
print(f"the VQC: {window_only.student.record['model']}, {window_only.selection.description}")
alone = window_only.tables["hardware"]
titled(alone[columns], "The window-only VQC (no anchor) on the same windows: exact, shots, noise")

# %%
views = {
    "VQC + rhythm, logit": shots_table,
    "its circuit's own term": own,
    "window-only VQC": alone,
}
ideal_vs_noisy = pd.DataFrame(
    {
        name: table.groupby("mode", sort=False)["auroc"].last()  # at the largest number of shots
        for name, table in views.items()
    }
)
titled(ideal_vs_noisy, f"MIT-BIH DS2, {max(SHOTS)} shots: AUROC ideal, noisy, mitigated", 3)

# %% [markdown]
# ## 5.4 The threshold on the device
# AUROC only ranks windows, so noise that shrinks every <O> alike leaves it nearly intact; the
# threshold, chosen on the exact model's validation logits, does not survive the shrinking. The fix a
# practitioner applies: run validation windows on the device too and choose the threshold there
# (Youden's J {cite:p}`youden1950`, as everywhere in this tutorial). Since J does not depend on
# prevalence, the validation windows sent to the device are drawn half abnormal (our choice: more
# abnormal windows for the same device time). At the largest number of shots:

# %%
thresholds = device.tables["hardware_thresholds"]
columns = ["mode", "threshold from", "threshold", "auroc", "balanced_accuracy"]
titled(
    thresholds[columns + ["sensitivity", "specificity"]],
    f"The VQC on {WINDOWS} MIT-BIH DS2 windows, {max(SHOTS)} shots: which threshold",
)

# %%
noisy_mode = f"noisy ({compiled.device})"
row = thresholds.set_index(["mode", "threshold from"])["balanced_accuracy"]
exact_ba = row[("ideal (exact)", "exact model, validation")]
before = row[(noisy_mode, "exact model, validation")]
after = row[(noisy_mode + MITIGATED, "device, validation")]
print(f"balanced accuracy on these windows: exact model {exact_ba:.3f}")
print(
    f"{compiled.device}'s noise, the simulator's threshold: {before:.3f} ({before - exact_ba:+.3f})"
)
print(f"mitigated, the device's own threshold: {after:.3f} ({after - exact_ba:+.3f})")

# %% [markdown]
# The tables of sections 5.2 to 5.4, as CSV files: `python -m ecgkd` writes the same ones, and
# `tests/test_reproduce.py` checks that its numbers equal these.

# %%
saved = save_tables(
    cfg.results_root / "05_vqc_on_device", {**device.tables, "hardware_window_only": alone}
)
print(", ".join(p.name for p in saved), "in", saved[0].parent.relative_to(project_root()))

# %% [markdown]
# ## 5.5 On a real IBM device
# `hardware.run_sampler_job` is the path a user with an IBM Quantum account runs: the circuit compiled
# by the backend's preset pass manager into an ISA circuit (the device's own gates, on qubits it
# couples), then **one** SamplerV2 job for all windows, one PUB with a parameter array, inside a Batch.
# The job id is written under the cache before the result is awaited, and the result is kept there, so
# a rerun, or a run interrupted while the job waits in the queue, pays nothing twice. Here it runs in
# qiskit-ibm-runtime's local testing mode: the backend is a small fake one (`RUNTIME_DEVICE`, whose
# local simulation takes seconds), so Aer simulates the device and nothing leaves this machine.

# %%
runtime_windows = device.scores.index[:RUNTIME_WINDOWS]  # the first of the windows above
runtime_angles = window_angles(student, study.data.splits["test"], runtime_windows)
runtime_weights = circuit_weights(student)
backend = hardware.fake_backend(RUNTIME_DEVICE)
# on a real device, the one line to change (an IBM Quantum account saved once):
# backend = hardware.runtime_backend("ibm_torino")
job = hardware.run_sampler_job(
    student.head.vqc,
    runtime_angles,
    runtime_weights,
    backend,
    shots=max(SHOTS),
    store=hardware_cache(cfg) / "runtime",
    seed=cfg.seed,
)
print(f"job {job.job_id} on {job.backend}, {'read from the cache' if job.reused else 'run now'}")
print(
    f"{job.bits.shape[0]} windows x {job.shots} shots; ISA circuit {dict(job.circuit.count_ops())}"
)

# %%
exact = student.head.simulator.expectation(
    torch.from_numpy(runtime_angles), torch.from_numpy(runtime_weights)
)
on_device = job.expectations(student.head.vqc)
print(
    f"<O> on {job.backend} against the exact <O>, same {len(runtime_windows)} windows: "
    f"correlation {np.corrcoef(on_device, exact.numpy())[0, 1]:.3f}"
)

# %% [markdown]
# ## 5.6 Reading the results
# - **Shots** add binomial noise to <O> (its standard deviation is about 1/sqrt(shots)); AUROC depends
#   only on how windows rank, so it degrades slowly.
# - **Device noise** mostly shrinks <O> towards 0 (depolarisation in the gates, bit flips at readout),
#   which moves every logit past the simulator's threshold. Readout mitigation undoes only the readout
#   part; the threshold chosen on the device's own validation outputs restores the balance of
#   sensitivity and specificity (the tables of 5.4; on the few windows of quick mode its estimate is
#   itself noisy).
# - **What survives noise is not all the circuit's.** The VQC on MIT-BIH adds its logit to the fixed
#   rhythm anchor, computed classically beside the device; a fully depolarised circuit would keep the
#   anchor's AUROC by construction. Section 5.3 reads the circuit's own term and the window-only VQC,
#   where the noise's effect on the circuit shows; {doc}`06_evaluation` sets every anchored model's
#   own term beside its anchor.
# - Everything here is **simulated**: the noise model is a snapshot of one device's calibration,
#   without drifts, crosstalk or queueing.

# %% [markdown]
# ## Summary
# - The trained VQC runs unchanged with finite shots (Aer's ideal sampler) and transpiled for a fake
#   IBM Heron device under its noise model; `ecgkd.quantum.device.run_device_study` is the whole study.
# - M3 {cite:p}`nation2021m3` corrects readout errors in the counts; it does nothing for gate errors.
# - A threshold chosen on the device's own validation outputs (`threshold_study`) is the fix for
#   noise-shrunk logits.
# - `hardware.run_sampler_job` sends the circuit to an IBM device in one SamplerV2 job whose id and
#   result are kept, shown here in local testing mode.
#
# Next: {doc}`06_evaluation` compares every model on the same test sets.
#
# ## Exercises
# **Exercise 5.1.** Estimate <parity> for five windows with
# `hardware.sampled_expectations(vqc, angles[:5], weights, shots)` at 100 and at 10,000 shots, with
# `vqc = student.head.vqc`, `angles = runtime_angles`, `weights = runtime_weights`, and
# compare each with the exact values `exact[:5]` of section 5.4.
#
# *Self-check*: the errors at 10,000 shots are about ten times smaller than at 100: the standard
# deviation of a mean of ±1 outcomes is sqrt((1 - <O>^2) / shots).
#
# **Exercise 5.2.** Transpile the circuit with the ZZ feature map, `ecgkd.quantum.build_vqc(VQCSpec(encoding="zz"))`,
# for `hardware.fake_backend(DEVICE)` with `hardware.transpile_for`, and compare its two-qubit gates and
# depth with those of the angle-encoded circuit printed in 5.2.
#
# *Self-check*: the ZZ map adds two CNOTs for each neighbouring pair of qubits before transpilation (10
# for 6 qubits in a line), so its transpiled circuit has more two-qubit gates, each a source of noise on
# the device.
#
# **Exercise 5.3.** Calibrate M3 for the compiled circuit of 5.2 with
# `hardware.readout_mitigation(hardware.calibration_system(backend), compiled.circuit)`, where
# `backend = hardware.fake_backend(DEVICE)`, and print `mitigation.mapping`.
#
# *Self-check*: six entries, classical bit -> physical qubit of the 133-qubit device; they are the
# qubits the transpiler chose, and the only ones M3 calibrates: on a simulator, 12 circuits (each
# qubit prepared in 0 and in 1), not one per qubit of the whole device.

# %%
versions_table()
