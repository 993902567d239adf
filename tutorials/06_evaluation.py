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
# # 6. Evaluation: what each student keeps of the teacher, and at what cost
#
# Every model of the tutorial on the same test splits, judged the same way: the operating threshold
# chosen on validation by Youden's J {cite:p}`youden1950`, the metrics from scikit-learn, 95% bootstrap
# intervals that resample whole records, since beats of one patient are not independent (the cluster
# bootstrap {cite:p}`field2007bootstrap`), calibration (Brier score, ECE {cite:p}`naeini2015ece,guo2017calibration`),
# and what each model costs.
#
# **You will learn**
# - how to compare models fairly: same test split, validation threshold, intervals, no choice made on test;
# - how much of the teacher's AUROC each student keeps, against its size;
# - what reading the rhythm adds to each model on MIT-BIH, as a paired difference with an interval;
# - where the students fail (per AAMI class on MIT-BIH) and how well their probabilities are calibrated;
# - the limits of what this tutorial shows.
#
# **Runtime**: under two minutes in quick mode (it trains nothing); in full mode the compared models
# are reloaded from their finished grids, bootstrapped `RESAMPLES` times, and Aer simulates the VQC on
# `DEVICE_WINDOWS` windows ({doc}`/book/status` has the measured times).

# %% [markdown]
# ## Parameters
# The knobs of the comparison, each passed to the call that uses it: bootstrap resamples per model,
# and the device run of section 6.9 (shots per window, DS2 windows simulated). They equal the
# defaults `python -m ecgkd` uses.

# %% tags=["parameters"]
import pandas as pd

import ecgkd
from ecgkd import plots, students
from ecgkd.config import project_root
from ecgkd.evaluation import stage as comparison
from ecgkd.report import save_tables, titled, versions_table
from ecgkd.scoring.bootstrap import ABOVE
from ecgkd.teacher import stand_in_note

cfg = ecgkd.setup()
# bootstrap resamples per model
RESAMPLES = 200 if cfg.quick else 1000
# section 6.9: shots per window for the VQC on the simulated device, and the DS2 windows simulated
DEVICE_SHOTS = 8192
DEVICE_WINDOWS = 100 if cfg.quick else 2000

# %% [markdown]
# ## 6.1 What is compared
# The teachers of {doc}`02_teacher` and, for each student, two configurations from its finished grid in
# {doc}`03_classical_distillation` and {doc}`04_quantum_student`: **no KD**, and the **KD setting with
# the best mean validation AUROC** (`students.selected_jobs`, the one rule every notebook uses). This
# notebook trains nothing: every grid run saved its trained weights beside its row, and `Grid.load`
# reloads each selected configuration for seed `ECGKD_SEED` with the test logits its run computed.
# (Where weights are missing it trains the run again from its seed, which reproduces it, and says so.)
#
# Beside them, the simplest models that could explain a result (`ecgkd.evaluation.baselines`), on
# the same splits: a **constant score** (the training prevalence: it has learnt nothing but the
# class balance) and, on MIT-BIH, a **logistic regression on the beat's RR intervals alone**
# (causal: the two previous RR intervals, a local mean and a running median, their ratios;
# {doc}`01_data` computes them and measures what causality costs),
# the baseline of inter-patient beat classification since {cite:t}`dechazal2004`. A 0.71 s window
# shows a beat's shape but not when it came, so on MIT-BIH our teacher and students read the same RR
# features beside the window ({doc}`02_teacher` to {doc}`04_quantum_student`); the window-only
# teacher and the window-only students (no KD and the best KD cell) are compared as their ablations.
#
# The whole stage is one call per dataset, `comparison.evaluate`: it reloads the teachers, the
# students' data and encoders, reads the finished grids, reports every model, and on MIT-BIH runs the
# best-KD VQC on the simulated device (section 6.9).

# %%
evaluations = {
    name: comparison.evaluate(cfg, name, RESAMPLES, DEVICE_SHOTS, DEVICE_WINDOWS, progress=True)
    for name in ("mitbih", "ptbxl")
}
for name, done in evaluations.items():
    print(f"{name}: {len(done.grids)} finished runs; {stand_in_note(done.data.teacher_label)}")
reports = {name: done.reports for name, done in evaluations.items()}
data = {name: done.data for name, done in evaluations.items()}
everything = [r for rs in reports.values() for r in rs]
table = comparison.report_table(everything)

# %% [markdown]
# ## 6.2 The comparison table
# Test metrics at the validation threshold, with 95% bootstrap intervals (MIT-BIH: resampling the 22
# DS2 records; PTB-XL: resampling patients, since one patient may have several test records). Brier
# score and ECE judge sigmoid(logit) as a probability.
# The test sets, counted from the data:

# %%
for name, d in data.items():
    test = d.splits["test"]
    print(f"{name} test: {len(test):,} windows from {len(set(test.record)):,} records")

# %%
ranking = ["dataset", "model", "auroc", "auroc 95% CI", "auprc", "balanced_accuracy"]
titled(
    table[ranking],
    "Every model on its dataset's test split (teacher, baselines, students)",
    precision=3,
)

# %% [markdown]
# At the validation threshold, and as probabilities (Brier score, ECE), with each model's size:

# %%
operating = ["dataset", "model", "sensitivity", "specificity", "f1", "f1 95% CI", "brier", "ece"]
size = ["parameters", "trainable parameters", "bytes on disk"]
titled(table[operating + size], "Every model at its validation threshold, per dataset", precision=3)

# %% [markdown]
# How much of the teacher's AUROC each student keeps, on the same test units. The difference
# student - teacher is paired: its interval resamples the same records (MIT-BIH) or patients (PTB-XL)
# for both models, so the patients both find hard cancel out. Chance is 0.5, so the raw ratio
# AUROC / teacher flatters every model (a random one "keeps" more than half of a good teacher's
# AUROC); the share of the teacher's margin above chance does not. An interval that holds 0 means
# the student cannot be told apart from the teacher on this test set. (A resample's AUROC depends
# only on how often it draws each record or patient, so `ecgkd.scoring.bootstrap.resampled_auroc`
# counts once how often the abnormal units of each one outrank the normal units of every one, itself
# included, and reads every resample's AUROC off that table, exactly; `benchmarks/bootstrap.py` times
# it against weighting every unit of every resample.)

# %%
retention = comparison.retention_table(everything, RESAMPLES)
titled(retention, "What each student keeps of its dataset's teacher, test split", precision=3)

# %% [markdown]
# ### Against the simplest baseline
# Each teacher and student against its dataset's strongest baseline (rhythm only on MIT-BIH, the
# constant score on PTB-XL), paired on the same units like the retention table. A model beats the
# baseline only if the whole interval of the difference lies above zero; every paired table of the
# tutorial says so in the same words (`ecgkd.scoring.bootstrap.verdict`).

# %%
against_baseline = comparison.baseline_table(everything, RESAMPLES)
titled(
    against_baseline, "Every model against its dataset's simplest baseline, test split", precision=3
)

# %% [markdown]
# ### Did distillation help? The gain as a paired difference
# For each student, its best-KD configuration minus its no-KD one. Both start from the same initial
# weights (seed `ECGKD_SEED`) and are scored on the same test units, so the difference is paired and
# its interval resamples the same records (MIT-BIH) or patients (PTB-XL) for both. One seed here;
# the grids of notebooks 03 and 04 show the spread over seeds.

# %%
gains = comparison.kd_gain_table(everything, RESAMPLES)
titled(
    gains, "KD gain of each student (best KD by validation minus no KD), test split", precision=3
)

# %% [markdown]
# ### Did distillation transfer the teacher's behaviour? Fidelity
# Accuracy is not what distillation promises; the teacher's behaviour is. How closely each student
# follows its teacher on the test units {cite:p}`stanton2021kd`: the share of units both call alike
# at their own validation thresholds, the correlation of their logits, and the mean KL divergence
# from the teacher's probabilities to the student's (lower is closer).

# %%
fidelity = comparison.fidelity_table(everything)
titled(fidelity, "Fidelity of each student to its dataset's teacher, test split", precision=3)

# %% [markdown]
# And the question KD answers: is the distilled student closer to its teacher than its no-KD twin?
# Each fidelity metric's difference KD - no KD, paired on the same units with an interval that
# resamples records (MIT-BIH) or patients (PTB-XL):

# %%
kd_fidelity = comparison.kd_fidelity_table(everything, RESAMPLES)
titled(kd_fidelity, "KD minus no KD, each fidelity metric, paired, test split", precision=3)

# %% [markdown]
# ### How much of each model's score is its own
# Every model that reads the rhythm on MIT-BIH is the rhythm-only regression, fixed, plus a term of
# its own (a window term for the teacher and the classical students, the circuit's or the MLP's term
# for the latent students). Its logit minus the regression's is that own term. The table gives the
# AUROC of the sum, of the anchor and of the own term alone, the sum minus the anchor (paired, with
# an interval), and how much of the logit's variance each part carries.

# %%
own_share = comparison.own_share_table(everything, RESAMPLES)
titled(own_share, "MIT-BIH DS2: each anchored model's own term beside its anchor", precision=3)

# %% [markdown]
# ### What the rhythm adds
# Each model that reads the rhythm (MIT-BIH) minus the same model and configuration on the window
# alone, paired on DS2's beats with an interval over its records:

# %%
rhythm_gains = comparison.rhythm_gain_table(everything, RESAMPLES)
titled(rhythm_gains, "MIT-BIH DS2: AUROC with rhythm minus window only", precision=3)

# %% [markdown]
# ## 6.3 ROC curves

# %%
for name, rs in reports.items():
    fig = plots.plot_roc({r.model: (r.y, r.scores) for r in rs}, title=f"{name}: test split")

# %% [markdown]
# ## 6.4 Confusion matrices at the validation threshold

# %%
for name, rs in reports.items():
    plots.plot_confusions(rs, title=f"{name} test split")

# %% [markdown]
# ## 6.5 Calibration
# A logit means a probability only if, among the windows given 0.8, about 80% are abnormal. Class
# weighting in training and distillation at temperature T both move probabilities away from that; the
# reliability diagram shows by how much.

# %%
for name, rs in reports.items():
    plots.plot_reliability(rs, title=f"{name} test split")

# %% [markdown]
# ## 6.6 Sensitivity to T and alpha, all students side by side
# Mean test AUROC over seeds from the finished grids (alpha = 0 is no KD):

# %%
grids = pd.concat([done.grids for done in evaluations.values()], ignore_index=True)
fig = plots.plot_kd_auroc(students.main_and_ablation(grids)[0], "Every student")

# %% [markdown]
# ## 6.7 Accuracy against size

# %%
fig = plots.plot_auroc_vs_parameters(
    table, title="Test AUROC against parameters at inference (95% intervals)"
)

# %% [markdown]
# What a window costs on this machine (a timing, not a result: it varies with the load):

# %%
latency = pd.DataFrame(
    [
        {"dataset": r.dataset, "model": r.model, "latency ms / window": r.latency_ms}
        for rs in reports.values()
        for r in rs
    ]
)
titled(latency, "Latency on this machine, per dataset", precision=3)

# %% [markdown]
# ## 6.8 Where the models fail: per AAMI class on MIT-BIH
# The share of each class called abnormal at the validation threshold: for S, V, F and Q it is the
# sensitivity; for N it is the false-alarm rate.

# %%
per_class = comparison.per_class_table(reports["mitbih"]).T
titled(per_class, "MIT-BIH DS2: share of each AAMI class called abnormal", precision=3)

# %% [markdown]
# ## 6.9 The VQC as a device would run it
# The table above simulates the circuit exactly. A quantum computer returns counts instead: each
# window's expectation value is estimated from a finite number of shots, and every gate adds noise.
# Here the best-KD VQC is judged by the same function in four modes, on one stratified subset of
# `DEVICE_WINDOWS` DS2 windows (Aer's noisy simulation costs milliseconds per window):
# - exact, as above;
# - `DEVICE_SHOTS` shots on an ideal simulator;
# - `DEVICE_SHOTS` shots under the noise model of IBM's Torino device (`FakeTorino`, a calibration
#   snapshot), after transpiling the circuit to its native gates;
# - the same shots with their readout errors mitigated (M3, {doc}`05_vqc_on_device`).
#
# In these rows the threshold is chosen once, on validation with the exact model, as a user would before
# spending device time. The last two rows choose it instead on the device's own outputs for validation
# windows ({doc}`05_vqc_on_device`, section 5.3), which also shows how the metrics move with the number
# of shots. `evaluate` ran them already:

# %%
device_reports = evaluations["mitbih"].device
on_device = comparison.report_table(device_reports)
device_columns = on_device[
    [
        "model",
        "auroc",
        "auroc 95% CI",
        "balanced_accuracy",
        "sensitivity",
        "specificity",
        "brier",
        "ece",
        "shots",
        "depth on device",
        "two-qubit gates",
    ]
]
titled(
    device_columns,
    "MIT-BIH DS2 subset: the VQC exact, with shots, with device noise, mitigated",
    precision=3,
)

# %%
exact, noisy = device_reports[0], device_reports[2]  # exact; noisy shots, no mitigation
print(
    f"AUROC exact {exact.metrics['auroc']:.3f}, with {DEVICE_SHOTS:,} shots and device noise "
    f"{noisy.metrics['auroc']:.3f} "
    f"on {len(exact.y):,} windows, {int(exact.y.sum()):,} of them abnormal"
)
for label, report in (("exact", exact), (f"device noise, {DEVICE_SHOTS:,} shots", noisy)):
    print(
        f"{label:>26}: logit spread (std) {report.scores.std():.3f}, "
        f"share called abnormal {(report.scores >= report.threshold).mean():.3f}"
    )

# %%
fig = plots.plot_score_distributions(device_reports[:4], title="VQC logits on the DS2 subset")

# %% [markdown]
# How to read this: device noise pulls every expectation value towards zero, so the circuit's part
# of the logit shrinks (compare the spreads above and the bottom panel). What ranks the windows under
# noise is then more and more the rhythm anchor, which is computed classically beside the device: a
# fully depolarised circuit would leave the rhythm-only baseline's ranking, so an AUROC that survives
# noise is not by itself the circuit's. The threshold, chosen on the exact simulator, sits elsewhere
# in the shrunken distribution, so the balance between sensitivity and specificity shifts. Readout
# mitigation undoes only the shrinking that happens at readout; the rows with the threshold chosen on
# the device's validation outputs show what re-choosing it restores (compare their balanced accuracy
# with the exact row's).

# %% [markdown]
# This notebook's tables, as CSV files for your own analysis. `python -m ecgkd` writes the same
# files, and `tests/test_reproduce.py` checks that its numbers equal these:

# %%
saved = save_tables(
    cfg.results_root / "06_evaluation",
    {
        "comparison": table,
        "retention": retention,
        "baselines": against_baseline,
        "kd_gains": gains,
        "rhythm_gains": rhythm_gains,
        "fidelity": fidelity,
        "kd_fidelity": kd_fidelity,
        "own_share": own_share,
        "per_class_mitbih": per_class,
        "vqc_on_device": on_device,
    },
)
print(", ".join(p.name for p in saved), "in", saved[0].parent.relative_to(project_root()))

# %% [markdown]
# ## 6.10 Conclusion, and its limits
# The numbers below are computed from the table above:

# %%
for name in data:
    rows = table[table["dataset"] == name].set_index("model")
    teacher = rows[rows["role"] == "teacher"].iloc[0]
    others = rows[rows["role"] == "student"]
    best = others["auroc"].idxmax()
    print(
        f"{name}: teacher AUROC {teacher['auroc']:.3f} with {teacher['parameters']:,} parameters; "
        f"best student {best}: {others.loc[best, 'auroc']:.3f} {others.loc[best, 'auroc 95% CI']} "
        f"with {others.loc[best, 'parameters']:,} parameters at inference"
    )
records = {name: len(set(d.splits["test"].record)) for name, d in data.items()}
print(f"test records: {records}")
for name, rows in retention.groupby("dataset", sort=False):
    above = rows.loc[rows["distinguishable from zero"] == ABOVE, "model"].tolist()
    print(f"{name}: students above their teacher (paired): {', '.join(above) if above else 'none'}")
for (name, base), rows in against_baseline.groupby(["dataset", "baseline"], sort=False):
    behind = rows.loc[rows["distinguishable from zero"] != ABOVE, "model"].tolist()
    print(f"{name}: not shown to beat {base}: {', '.join(behind) if behind else 'none'}")
for (name, verdict), rows in gains.groupby(["dataset", "distinguishable from zero"]):
    print(f"{name}: KD gain distinguishable from zero: {verdict}: {', '.join(rows['student'])}")
for verdict, rows in rhythm_gains.groupby("distinguishable from zero"):
    print(f"mitbih: rhythm gain distinguishable from zero: {verdict}: {', '.join(rows['model'])}")
for (name, metric, verdict), rows in kd_fidelity.groupby(
    ["dataset", "metric", "distinguishable from zero"]
):
    print(f"{name}: KD - no KD in {metric}: {verdict}: {', '.join(rows['student'])}")
for _, row in own_share.iterrows():
    own, anchor = row["own term auroc"], row["anchor auroc"]
    print(f"mitbih: {row['what it is']}: own term AUROC {own:.3f} beside its anchor's {anchor:.3f}")

# %% [markdown]
# Read them with their limits:
# - **Rhythm.** On MIT-BIH the teacher and the students read one 0.71 s window and the beat's RR
#   features; the rhythm-only baseline reads the RR features alone. The models that the lines above
#   name as not beating it have not been shown to learn more than the rhythm says. Every model with
#   rhythm starts from that very baseline (the anchored head of {doc}`02_teacher`) and learns what the
#   window adds, so beating it means the window helped on new patients. The RR features are causal
#   (what a monitor knows when the beat arrives); {doc}`01_data` measures what features that look
#   ahead would add on validation.
# - **Stand-in teacher.** Without ECGFounder's weights the teacher is the same network trained here on the
#   same training split, so its soft targets carry no outside knowledge, and "what the student keeps of
#   the teacher" is measured against a much weaker teacher than the study's.
# - **Data.** The PTB-XL data here hold only the records of the folder read (the shipped sample is 500
#   records), so its test fold is small (counted above) and its intervals, which resample patients,
#   are wide. In quick mode MIT-BIH is the first 5 minutes of
#   each record; its DS1 and DS2 share one subject (records 201 and 202).
# - **Sizes.** `parameters` counts everything a model runs at inference, a latent student's frozen
#   encoder included (the VQC's few trainable numbers ride on a convolutional encoder);
#   `trainable parameters` counts what training changed. The size figure and the sentences above use
#   the first.
# - **Quantum.** The VQC is simulated: exactly in the main table, and with finite shots and one device's
#   noise model in section 6.9. That model is a calibration snapshot, not a device. A VQC result says
#   what its trainable parameters can do on six numbers; the MLP control says whether a circuit was
#   needed.
# - **One seed per configuration here.** The grids of notebooks 03 and 04 carry the seed-to-seed spread.

# %% [markdown]
# ## Summary
# - `ecgkd.scoring.evaluate_scores` judges every model the same way: validation threshold,
#   scikit-learn metrics, calibration, confusion matrix, bootstrap intervals by record.
# - `ecgkd.evaluation.stage.evaluate` is the stage in one call: it takes each student's no-KD and
#   best-KD (by validation) configurations and reloads the weights their grid runs saved; nothing is
#   chosen on the test split. Every paired table reads its verdict off the interval, in one wording.
# - `ecgkd.evaluation.baselines` gives every dataset a constant score and MIT-BIH a rhythm-only
#   logistic regression; `baseline_table` and `kd_gain_table` turn "better" into paired differences
#   with intervals, and the conclusion names the models that do not beat the baseline.
#
# Next: {doc}`07_what_distillation_transfers` sets up the two situations where the teacher knows
# more than its students (privileged information, scarce labels) and tests the tutorial's primary
# contrasts together. `python -m ecgkd` runs the stages without notebooks; its full-mode run on the
# whole MIT-BIH database, every table of this notebook included, is on {doc}`../book/full_run`.
#
# ## Exercises
# **Exercise 6.1.** Recompute the teacher's MIT-BIH AUROC interval resampling beats instead of records:
# `bootstrap_intervals(r.y, r.scores, r.threshold, groups=None)` from `ecgkd.scoring`, with
# `r = reports["mitbih"][0]`, and compare it with the record-level interval of the main table.
#
# *Self-check*: the beat-level interval is narrower (divide the two widths to see by how much). Beats of
# one patient resemble each other, so resampling beats pretends to have as many independent tests as
# there are beats, when there are as many as DS2 has patients.
#
# **Exercise 6.2.** Compute each student's share of the teacher's AUROC above chance yourself from
# `table` (the teacher is each dataset's first row) and check it against the `retention` table.
#
# *Self-check*: the shares agree; the teacher's own share would be exactly 1 and a student at AUROC
# 0.5 would score 0; and each share is below that student's raw ratio whenever the student is below
# the teacher.

# %%
versions_table()
