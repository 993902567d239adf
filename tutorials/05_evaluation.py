# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 5. Evaluation: what each student keeps of the teacher, and at what cost
#
# Every model of the tutorial on the same test splits, judged the same way: the operating threshold
# chosen on validation, the metrics from scikit-learn, 95% bootstrap intervals that resample whole
# records (beats of one patient are not independent), calibration, and what each model costs.
#
# **You will learn**
# - how to compare models fairly: same test split, validation threshold, intervals, no choice made on test;
# - how much of the teacher's AUROC each student keeps, against its size;
# - where the students fail (per AAMI class on MIT-BIH) and how well their probabilities are calibrated;
# - the limits of what this tutorial shows.
#
# **Runtime** (measured on 2 CPU cores): about 1.5 minutes in quick mode. In full mode the models compared
# are retrained from their finished grids (deterministic, so they reproduce the grid's rows): 21 minutes,
# 12 of them for the full-size ResNet-1D on MIT-BIH, plus about 2 minutes for section 5.9 (Aer simulates
# 2,000 windows with 8,192 shots at about 8 ms per window ideal and 32 ms with device noise).

# %% [markdown]
# ## Parameters

# %%
import pandas as pd

import ecgkd.config
from ecgkd import comparison, plots, sweep
from ecgkd.quantum.stage import prepare_autoencoder
from ecgkd.report import versions_table
from ecgkd.teacher import prepare_teacher, stand_in_note

cfg = ecgkd.config.load()
ecgkd.config.seed_everything(cfg.seed)
pd.set_option("display.width", 160)
pd.set_option("display.max_colwidth", 70)
RESAMPLES = comparison.bootstrap_resamples(cfg)  # per model: 200 in quick mode, 1000 in full mode
print(f"mode: {cfg.mode} | data: {cfg.data_root} | cache: {cfg.cache_root} | seed: {cfg.seed}")

# %% [markdown]
# ## 5.1 What is compared
# The teachers of notebook 02 and, for each student, two configurations from its finished grid in
# notebooks 03 and 04: **no KD**, and the **KD setting with the best mean validation AUROC**. Notebook 05
# trains no grid: it reads the finished runs, and retrains only the chosen configurations for seed
# `ECGKD_SEED` to get their test logits.

# %%
stages = {name: prepare_teacher(cfg, name, progress=False) for name in ("mitbih", "ptbxl")}
data = {name: sweep.StudentData.from_stage(stage) for name, stage in stages.items()}
runs = {name: prepare_autoencoder(cfg, data[name], progress=False) for name in data}
classical, quantum = {}, {}
for name in data:
    classical[name], quantum[name] = comparison.finished_grids(cfg, data[name], runs[name])
    print(f"{name}: {len(classical[name])} classical and {len(quantum[name])} latent-student runs finished; "
          f"{stand_in_note(stages[name].label)}")

# %%
reports = {name: comparison.compare(cfg, stages[name], classical[name], quantum[name], runs[name], RESAMPLES,
                                    progress=True)
           for name in data}
table = comparison.report_table([r for rs in reports.values() for r in rs])

# %% [markdown]
# ## 5.2 The comparison table
# Test metrics at the validation threshold, with 95% bootstrap intervals (MIT-BIH: resampling the 22
# DS2 records; PTB-XL: resampling records). Brier score and ECE judge sigmoid(logit) as a probability.

# %%
columns = ["dataset", "model", "auroc", "auroc 95% CI", "auprc", "balanced_accuracy", "sensitivity", "specificity",
           "f1", "f1 95% CI", "brier", "ece", "parameters", "bytes on disk"]
table[columns].round(3)

# %% [markdown]
# How much of the teacher's AUROC each model keeps:

# %%
comparison.keeps_of_teacher(table).round(3).to_frame()

# %% [markdown]
# ## 5.3 ROC curves

# %%
import matplotlib.pyplot as plt  # noqa: E402

fig, axes = plt.subplots(1, 2, figsize=(11, 4.8))
for ax, (name, rs) in zip(axes, reports.items()):
    plots.plot_roc({r.model: (r.y, r.scores) for r in rs}, title=name, ax=ax)
    ax.legend(fontsize=6.5)
fig.tight_layout()

# %% [markdown]
# ## 5.4 Confusion matrices at the validation threshold

# %%
for name, rs in reports.items():
    plots.plot_confusions(rs, title=f"{name} test split")

# %% [markdown]
# ## 5.5 Calibration
# A logit means a probability only if, among the windows given 0.8, about 80% are abnormal. Class
# weighting in training and distillation at temperature T both move probabilities away from that; the
# reliability diagram shows by how much.

# %%
for name, rs in reports.items():
    plots.plot_reliability(rs, title=f"{name} test split")

# %% [markdown]
# ## 5.6 Sensitivity to T and alpha, all students side by side
# Mean test AUROC over seeds from the finished grids (alpha = 0 is no KD):

# %%
grids = pd.concat([*classical.values(), *quantum.values()], ignore_index=True)
fig = plots.plot_kd_heatmaps(sweep.by_temperature(grids), "test_auroc", title="Test AUROC (mean over seeds)")

# %% [markdown]
# ## 5.7 Accuracy against size

# %%
fig = plots.plot_auroc_vs_parameters(table, title="Test AUROC against trainable parameters (95% intervals)")

# %% [markdown]
# What a window costs on this machine (a timing, not a result: it varies with the load):

# %%
pd.DataFrame([{"dataset": r.dataset, "model": r.model, "latency ms / window": r.latency_ms}
              for rs in reports.values() for r in rs]).round(3)

# %% [markdown]
# ## 5.8 Where the models fail: per AAMI class on MIT-BIH
# The share of each class called abnormal at the validation threshold: for S, V, F and Q it is the
# sensitivity; for N it is the false-alarm rate.

# %%
comparison.per_class_table(reports["mitbih"]).T.round(3)

# %% [markdown]
# ## 5.9 The VQC as a device would run it
# The table above simulates the circuit exactly. A quantum computer returns counts instead: each
# window's expectation value is estimated from a finite number of shots, and every gate adds noise.
# Here the best-KD VQC is judged by the same function in three modes, on one stratified subset of DS2
# windows (2,000 in full mode, 150 in quick mode, because Aer's noisy simulation costs milliseconds per
# window):
# - exact, as above;
# - 8,192 shots on an ideal simulator;
# - 8,192 shots under the noise model of IBM's Torino device (`FakeTorino`, a calibration snapshot),
#   after transpiling the circuit to its native gates.
#
# The threshold is chosen once, on validation with the exact model, as a user would before spending
# device time. Notebook 04 shows how the metrics move with the number of shots.

# %%
device_reports = comparison.vqc_on_device(cfg, data["mitbih"], runs["mitbih"], quantum["mitbih"], resamples=RESAMPLES)
on_device = comparison.report_table(device_reports)
on_device[["model", "auroc", "auroc 95% CI", "balanced_accuracy", "sensitivity", "specificity", "brier", "ece",
           "shots", "depth on device", "two-qubit gates"]].round(3)

# %%
exact, noisy = device_reports[0], device_reports[-1]
print(f"AUROC exact {exact.metrics['auroc']:.3f}, with 8,192 shots and device noise {noisy.metrics['auroc']:.3f} "
      f"on {len(exact.y):,} windows, {int(exact.y.sum()):,} of them abnormal")
for label, report in (("exact", exact), ("device noise, 8,192 shots", noisy)):
    print(f"{label:>26}: logit spread (std) {report.scores.std():.3f}, "
          f"share called abnormal {(report.scores >= report.threshold).mean():.3f}")

# %%
fig = plots.plot_score_distributions(device_reports, title="VQC logits on the DS2 subset")

# %% [markdown]
# How to read this: device noise pulls every expectation value towards zero, so the logits crowd
# around the head's bias (compare the spreads above and the bottom panel). The ranking of the windows, which is all AUROC
# measures, largely survives; but the threshold was chosen on the exact simulator, and in the shrunken
# noisy distribution it sits elsewhere, so the balance between sensitivity and specificity shifts. On a
# real device one would re-choose the threshold on validation windows run on that device (not done here).

# %% [markdown]
# ## 5.10 Conclusion, and its limits
# The numbers below are computed from the table above:

# %%
for name in data:
    rows = table[table["dataset"] == name].set_index("model")
    teacher = rows.index[0]
    students = rows.drop(index=teacher)
    best = students["auroc"].idxmax()
    smallest = students["parameters"].idxmin()
    print(f"{name}: teacher AUROC {rows.loc[teacher, 'auroc']:.3f} with {rows.loc[teacher, 'parameters']:,} parameters; "
          f"best student {best}: {students.loc[best, 'auroc']:.3f} {students.loc[best, 'auroc 95% CI']} with "
          f"{students.loc[best, 'parameters']:,}; smallest {smallest}: {students.loc[smallest, 'auroc']:.3f} with "
          f"{students.loc[smallest, 'parameters']:,}")

# %% [markdown]
# Read them with their limits:
# - **Stand-in teacher.** Without ECGFounder's weights the teacher is the same network trained here on the
#   same training split, so its soft targets carry no outside knowledge, and "what the student keeps of
#   the teacher" is measured against a much weaker teacher than the study's.
# - **Data.** PTB-XL here is 500 records (a test fold of about 60): its intervals are wide. In quick mode
#   MIT-BIH is the first 5 minutes of each record.
# - **Quantum.** The VQC is simulated: exactly in the main table, and with finite shots and one device's
#   noise model in section 5.9. That model is a calibration snapshot, not a device. A VQC result says what 38 parameters can do on
#   six numbers; the MLP control says whether a circuit was needed for it.
# - **One seed per configuration here.** The grids of notebooks 03 and 04 carry the seed-to-seed spread.

# %% [markdown]
# ## Summary
# - `ecgkd.evaluate.evaluate_scores` judges every model the same way: validation threshold, scikit-learn
#   metrics, calibration, confusion matrix, bootstrap intervals by record.
# - `ecgkd.comparison` picks each student's no-KD and best-KD (by validation) configurations and
#   retrains them deterministically; nothing is chosen on the test split.
#
# This is the last notebook. `python -m ecgkd` runs the stages without notebooks.

# %%
versions_table()
