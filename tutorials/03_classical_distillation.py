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
# # 3. Classical distillation: a ResNet-1D and a small CNN-1D learn from the teacher
#
# The study's central question: how much does a small model gain from learning the teacher's soft
# outputs instead of the labels alone, and how does that depend on the temperature T and the weight
# alpha? We answer it on both datasets with two students, and measure it fairly: the same windows, the
# same initial weights and the same batch order for a KD run and its no-KD twin, patient-disjoint test
# splits, and several seeds in full mode.
#
# **You will learn**
# - the distillation loss for a binary teacher {cite:p}`hinton2015distilling`, the one training step
#   every model takes, and three checks that would catch a wrong loss;
# - the two students: a ResNet-1D in the style of {cite:t}`wang2017resnet` and a small CNN-1D, which
#   on MIT-BIH also read the beat's rhythm, and what that adds;
# - how a T x alpha sensitivity study is run, resumed and read;
# - why the soft targets of the training windows come from teachers that never saw the patient
#   (cross-fitting), and what changes when they do not;
# - where distillation helps here, and where it does not.
#
# **Runtime**: under two minutes in quick mode on 2 CPU cores (2 x 2 KD cells and no KD, one seed,
# short epochs, a quarter-width ResNet-1D). Full mode runs 3 x 3 KD cells (T 1, 2, 4 x alpha 0.25,
# 0.5, 1) and no KD with 3 seeds for 2 students on 2 datasets with a half-width ResNet-1D
# (`benchmarks/students.py` prints its speed), and on MIT-BIH the window-only students at two cells
# and the first seed: {doc}`/book/status` has the measured times. Finished runs are saved as they
# complete, so an interrupted study resumes where it stopped.

# %% [markdown]
# ## Parameters
# The grid of the study, our choice (the package's defaults, `ecgkd.students.stage`, which
# `python -m ecgkd` runs). Change them here to experiment: a changed grid gets its own run keys and
# never mixes with the default one (notebooks 04 and 06 read the default grid).

# %% tags=["parameters"]
import pandas as pd
import torch

import ecgkd
from ecgkd import plots, students
from ecgkd.data.rhythm import N_RHYTHM, RHYTHM_SUFFIX, has_rhythm
from ecgkd.modelinfo import count_parameters, describe
from ecgkd.report import settings_table, show_source, titled, versions_table
from ecgkd.rhythm_head import RhythmClassifier, anchor_rhythm
from ecgkd.scoring.metrics import latency_ms
from ecgkd.students import STUDENT_LABELS, build_student, kd_loss
from ecgkd.teacher import prepare_teacher, stand_in_note
from ecgkd.teacher.crossfit import targets_quality
from ecgkd.train import bce_loss, train_step

cfg = ecgkd.setup()
# the KD cells: temperatures T and weights alpha (alpha = 0: no KD, run once per seed)
TEMPERATURES = (2.0, 4.0) if cfg.quick else (1.0, 2.0, 4.0)
ALPHAS = (0.0, 0.5, 1.0) if cfg.quick else (0.0, 0.25, 0.5, 1.0)
# seeds of the grid, counted from ECGKD_SEED
SEEDS = 1 if cfg.quick else 3
# teacher logits drawn for the loss checks of section 3.1
CHECK_LOGITS = 512

# %% [markdown]
# The optimisation (epochs, batch, learning rate, early stopping) and the students' widths are the
# package's choices per dataset and mode (`student_settings`, `student_widths`). The patience, the
# epochs without a better validation AUROC after which a run stops, is shorter in quick mode than in
# full mode: our budget, shown in the table.

# %%
PLAN = students.GridPlan(TEMPERATURES, ALPHAS, tuple(cfg.seed + s for s in range(SEEDS)))
WIDTHS = students.student_widths(cfg)
SETTINGS = {name: students.student_settings(cfg, name) for name in ("mitbih", "ptbxl")}
print(f"T = {PLAN.temperatures}, alpha = {PLAN.alphas}, seeds = {PLAN.seeds}, widths = {WIDTHS}")
settings_table(SETTINGS, f"Student training settings per dataset, {cfg.mode} mode")

# %% [markdown]
# ## 3.1 The distillation loss
# The teacher outputs one logit z per window. At temperature T we read it as a two-class distribution,
# P(abnormal) = sigmoid(z / T), and ask the student's distribution at the same T to match it. Our
# formulation ({cite:t}`hinton2015distilling`, written for one logit):
#
# $$\mathcal{L} = (1-\alpha)\,\mathrm{BCE}(z_s, y) + \alpha\,T^2\,\mathrm{KL}\big(p_t^{T}\,\|\,p_s^{T}\big)$$
#
# The KL divergence is summed over the two classes and averaged over the batch. alpha = 0 is plain
# supervised training; alpha = 1 learns from the teacher only. Both terms weight each abnormal window by
# the normal/abnormal ratio of the training split (`class_weights`), as the teacher's loss does: a KD
# run then trains against the same class balance as its no-KD twin, and alpha = 1 is not an
# unbalanced run set against a balanced baseline. This is the code every student trains with:

# %%
show_source(students.binary_kl)

# %%
show_source(kd_loss)

# %% [markdown]
# And this is the one training step every model of the tutorial takes, the teacher and the
# autoencoder included (`ecgkd.train.fit` runs it over each epoch's batches, validates after each
# epoch, keeps the best epoch and stops early): the loss above, its gradient, one AdamW step.

# %%
show_source(train_step)

# %% [markdown]
# Three checks that would catch a wrong loss, on logits drawn like a confident teacher's: a student that
# already equals the teacher has nothing to learn (loss 0 at alpha = 1); alpha = 0 is the plain
# label loss; and the factor $T^2$. The gradient of the KL term alone shrinks like $1/T^2$ once T is large
# against the logits; times $T^2$ it settles to a size that no longer depends on T, so alpha alone sets
# the balance. At small T it does not hold exactly, as the table shows:

# %%
generator = torch.Generator().manual_seed(cfg.seed)
teacher_logits = 4 * torch.randn(CHECK_LOGITS, generator=generator)
labels = (teacher_logits + torch.randn(CHECK_LOGITS, generator=generator) > 0).float()
same = kd_loss(4.0, 1.0)(teacher_logits, labels, teacher_logits)
assert abs(same) < 1e-6, "a student equal to its teacher must have nothing to learn"
plain = kd_loss(4.0, 0.0)(teacher_logits / 2, labels, teacher_logits) - bce_loss()(
    teacher_logits / 2, labels
)
assert abs(plain) < 1e-6, "alpha = 0 must be the plain label loss"
print(f"alpha = 1, student = teacher: loss {same:.1e}; alpha = 0 minus plain BCE: {plain:.1e}")
gradients = []
for t in (1.0, 2.0, 4.0, 8.0, 16.0, 32.0):
    student_logits = torch.zeros(CHECK_LOGITS, requires_grad=True)
    kd_loss(t, 1.0)(student_logits, labels, teacher_logits).backward()
    norm = student_logits.grad.norm().item()
    gradients.append({"T": t, "gradient, with T^2": norm, "gradient, KL alone": norm / t**2})
titled(pd.DataFrame(gradients).set_index("T"), "Size of the KD gradient at a student of logit 0")

# %% [markdown]
# Temperature flattens the targets: at T = 1 a confident teacher says "certainly abnormal"; at T = 8 it
# says "somewhat more likely abnormal", and the student also learns *how much more*, for every window:

# %%
fig = plots.plot_soft_targets((1, 2, 4, 8))

# %% [markdown]
# ## 3.2 The students
# Both read one 256-sample lead (MIT-BIH: MLII at 360 Hz around a beat; PTB-XL: lead II at 100 Hz,
# four windows per record) and output one logit. The ResNet-1D follows {cite:t}`wang2017resnet`, the
# ResNet used in the PTB-XL benchmark: three residual blocks of kernel-8/5/3 convolutions with batch norm.
# Two changes are our choice, to make it a student rather than a second teacher: half of Wang's widths
# at width 1 (and narrower in this mode's budget: the channels are printed below) and a max-pool
# halving the length between blocks, as ECG ResNets usually downsample. Wang's own network (`ResNet1D.wang()`: 64/128/128 channels, no pooling, 0.5 M parameters)
# is a reference in `benchmarks/students.py`, which prints how much slower it trains and scores.
# The CNN-1D is ours: four small convolution stages and global pooling, designed to fit a wearable.
#
# **With rhythm (MIT-BIH).** A beat window does not show when the beat came, and timing is what marks
# a premature (S) beat ({doc}`01_data`). On MIT-BIH both students therefore also read the beat's
# eight RR features, as the teacher does ({doc}`02_teacher`). Our design: the features are appended to
# the window (one array, so the training loop is unchanged), and the classifier is the teacher's
# anchored head: the rhythm-only baseline's logit (a logistic regression fitted on the training split,
# then fixed), plus a linear layer on the pooled convolutional features that starts at zero. Every
# student with rhythm thus starts as the baseline, and training (with or without KD) can only add what
# the window tells; where the shape of an unseen patient's beat misleads, the rhythm is still there.
# The anchor's 3 k + 1 numbers for k rhythm features (the scaler's means and scales, the weights and
# a bias) count as parameters, not as trainable ones (the table below gives both). The paper's window-only
# students stay, as ablation rows. PTB-XL's windows carry no such features: each record holds its own
# rhythm within its 10 s.

# %%
show_source(RhythmClassifier)

# %%
sizes = pd.DataFrame(
    {
        STUDENT_LABELS[n] + suffix: {
            **describe(build_student(n, 0, width=WIDTHS[n], rhythm=k)),
            "width": WIDTHS[n],
        }
        for n in STUDENT_LABELS
        for suffix, k in (("", 0), (RHYTHM_SUFFIX, N_RHYTHM))
    }
).T
print(
    f"ResNet-1D channels in {cfg.mode} mode:",
    build_student("resnet1d", 0, width=WIDTHS["resnet1d"]).channels,
)
print(f"rhythm anchor: {3 * N_RHYTHM + 1} fixed numbers for {N_RHYTHM} features")
titled(sizes, f"The classical students in {cfg.mode} mode, window only and with rhythm")

# %% [markdown]
# ## 3.3 The teacher's outputs
# The students learn from the logits {doc}`02_teacher` saved. `prepare_teacher` finds them in the cache
# (it trains the teacher first only if notebook 02 has not run) and checks that they belong to these
# exact windows.
#
# **Cross-fitted targets (our choice).** A teacher scores the windows it was trained on almost
# perfectly, so its logits on the training split are nearly the hard labels and leave little to
# distil. The training windows' targets therefore come from two fold teachers: the training patients
# are split in two halves (whole patients, `ecgkd.teacher.crossfit.patient_folds`), a teacher of the
# same spec is trained on each half, and each scores the other half. Validation and test targets are
# those of the teacher trained on all training patients. Section 3.6 measures what this changes.
#
# On MIT-BIH only the teacher's *window term* is cross-fitted (our choice). The teacher's logit is its
# rhythm anchor plus a window term; every fold teacher keeps the anchor fitted on the whole training
# split, the very anchor each student holds, and learns its window term on its half. A soft target is
# then the student's own anchor plus a window term that never saw the patient. Had each fold teacher
# refitted the anchor on its half of the patients, the targets would carry a different anchor from
# the student's, and distillation would pull the student away from its own anchor rather than teach
# it what the window adds.

# %%
teachers = {name: prepare_teacher(cfg, name, progress=False) for name in ("mitbih", "ptbxl")}
data = {name: students.StudentData.from_teacher(t) for name, t in teachers.items()}
for name, teacher in teachers.items():
    print(f"{name}: {stand_in_note(teacher.label)}")

# %% [markdown]
# ## 3.4 The sensitivity study
# Every (student, T, alpha, seed) is one training run with early stopping on the validation AUROC. The
# threshold is chosen on validation (Youden's J) and the test split is only scored. PTB-XL is scored per
# record: the mean of a record's four window logits, since its labels belong to records. alpha = 0 runs
# once per seed: T plays no part without the teacher.
#
# Runs go through joblib (`ECGKD_JOBS` workers, by default one per CPU core, each run on one thread so
# that its numbers do not depend on how many run at once; on a cluster, wrap this cell in
# `joblib.parallel_config(backend="dask")`), and each finished run is appended to a CSV under
# `cache/results/`, so a rerun skips what is done. On MIT-BIH the grid's students read the rhythm;
# after the grid, the window-only students run at no KD and at the grid's best KD cell by validation,
# on the grid's first seed (the ablation rows; one seed is our budget, and {doc}`06_evaluation` gives
# each difference an interval over DS2's records).

# %%
everything = pd.concat(
    [students.run_classical_grid(cfg, data[n], PLAN, SETTINGS[n]) for n in data], ignore_index=True
)
results, window_only = students.main_and_ablation(everything)
titled(
    results[students.RUN_COLUMNS],
    "Every run of the grid, both datasets (test: DS2 beats, PTB-XL fold 10)",
)

# %% [markdown]
# ### Mean test AUROC over seeds
# Rows are temperatures, columns alpha; the alpha = 0 column is the same no-KD run repeated in each row.

# %%
fig = plots.plot_kd_auroc(results, "Classical students")

# %% [markdown]
# ### Gain over no KD
# Each KD run minus the no-KD run of the same student and seed: blue cells are where distillation helped.

# %%
fig = plots.plot_kd_gains(results, "Classical students")

# %% [markdown]
# ## 3.5 Teacher vs students
# For each student the KD setting is chosen **on validation** (best mean validation AUROC over the grid),
# never on test; the table reports its test AUROC next to the no-KD student's and the teacher's.

# %%
summary = students.summary_table(everything)
teacher_auroc = {n: t.test_metrics()["auroc"] for n, t in teachers.items()}
summary["teacher test_auroc"] = summary["dataset"].map(teacher_auroc)
titled(summary, "Best KD setting by validation, per dataset and student (window-only: one cell)")

# %% [markdown]
# ### What the rhythm adds
# Each MIT-BIH configuration run both ways, same seed: with rhythm minus window only, on DS2. These are
# test AUROCs of single runs; {doc}`06_evaluation` gives the same differences with intervals over DS2's
# records.

# %%
titled(students.rhythm_table(everything), "MIT-BIH DS2: test AUROC with rhythm and window only")

# %% [markdown]
# How stable is that choice? The cell each seed would pick on its own validation AUROC, and whether
# it is the cell chosen on the mean over seeds. When the seeds disagree, the "best" cell is partly
# chance, and so is its gain. (Quick mode runs one seed, so this table cannot show disagreement
# there; full mode runs three.)

# %%
titled(students.best_cell_by_seed(results), "Best KD cell of each seed, by validation AUROC")

# %% [markdown]
# What each model costs. Latency is a timing on this machine (a batch of one window, median of 30
# calls), so it is kept out of the tables that must reproduce exactly:

# %%
rows = []
for name, teacher in teachers.items():
    rows.append(
        {
            "dataset": name,
            "model": teacher.label,
            "parameters": count_parameters(teacher.run.model),
            "latency ms / window": latency_ms(teacher.run.model, teacher.input_shape()),
        }
    )
    k = N_RHYTHM if has_rhythm(name) else 0
    for n in STUDENT_LABELS:
        model = build_student(n, 0, width=WIDTHS[n], rhythm=k)
        anchor_rhythm(model, teacher.student_data.train, teacher.student_data.val)  # with rhythm
        rows.append(
            {
                "dataset": name,
                "model": STUDENT_LABELS[n] + (RHYTHM_SUFFIX if k else ""),
                "parameters": describe(model)["parameters"],
                "latency ms / window": latency_ms(model, (1, 1, 256 + k)),
            }
        )
titled(pd.DataFrame(rows), "Size and latency (this machine), per dataset", precision=3)

# %% [markdown]
# ## 3.6 In-sample or cross-fitted targets?
# First the targets themselves, on the training windows against their labels: AUROC, and as
# probabilities (Brier score, ECE). In-sample targets that rank the training windows almost perfectly
# are a teacher repeating the labels:

# %%
quality = pd.concat(
    [targets_quality(t, t.cross_fitted) for t in teachers.values()], ignore_index=True
)
titled(quality, "The teacher's soft targets on the training windows, against their labels", 3)

# %% [markdown]
# Then the KD gain each yields: every student's no-KD run and its best KD cell (by validation) are
# retrained on the in-sample targets, seed by seed, and set against the grid's own runs on
# cross-fitted targets. Only the training split's targets differ; the no-KD runs do not read them.

# %%
study = pd.concat(
    [
        students.targets_study(cfg, teachers[n], results[results["dataset"] == n], SETTINGS[n])
        for n in data
    ],
    ignore_index=True,
)
titled(students.targets_table(study), "KD gain with in-sample and cross-fitted targets, test split")

# %% [markdown]
# ## 3.7 Reading the results
# The gain table is the honest answer to the study's question for *this* teacher and data: a positive
# mean gain that is larger than its spread over seeds means distillation helped; a gain within the
# spread means it did not, measurably. Per student and dataset:

# %%
gains = students.gain_table(results)
spread = gains.groupby(["dataset", "model"])["gain"].agg(["mean", "std", "min", "max", "count"])
titled(spread, "KD gain over no KD, test AUROC, per dataset and student (all KD cells)")

# %% [markdown]
# Things to keep in mind when reading it:
# - With a **stand-in teacher** (no ECGFounder weights here) the teacher is itself a network trained on the
#   same training split, so it carries no outside knowledge; a gain then comes from smoother targets
#   (label smoothing by the teacher), not from ECGFounder's ten million ECGs.
# - In quick mode the grid is small, there is one seed and the epochs are short: differences of a few
#   thousandths are noise. Full mode runs 3 seeds; read the spread column before the mean.
# - On PTB-XL the teacher reads 12 leads and 10 s while the students read 2.56 s of one lead: there the
#   teacher knows things the students cannot see. Whether its soft targets transfer any of it is what
#   the PTB-XL rows of the gain table test; {doc}`06_evaluation` gives each gain an interval over the
#   test patients, and a gain whose interval holds zero has not been shown.
# - MIT-BIH's splits share one subject (records 201 and 202, {doc}`01_data`); PTB-XL's share none.

# %% [markdown]
# ## Summary
# - `ecgkd.students.kd_loss` is the whole method: softened two-class KL times $T^2$, mixed with the hard
#   loss; three checks pin it down.
# - One training loop (`ecgkd.train.fit`) trains teacher and students; KD and no-KD twins share initial
#   weights and batch order, so their difference is the loss alone.
# - The T x alpha study runs through joblib, appends each finished run to a CSV, and resumes.
# - The KD setting reported is chosen on validation; the test splits are only scored.
# - The training windows' soft targets are cross-fitted: they come from teachers that never saw the
#   patient; section 3.6 compares them with in-sample targets.
# - On MIT-BIH the students read the beat's rhythm beside its window, joined in the classifier; the
#   window-only students of the paper are the ablation rows, paired on the first seed.
#
# Next: {doc}`04_quantum_student`.
#
# ## Exercises
# **Exercise 3.1.** Write the KD loss yourself from the formula in 3.1, without looking at `binary_kl`,
# and compare it with `kd_loss(T, alpha)` on the batch of 3.1 for a few (T, alpha).
#
# *Self-check*: the two agree to about 1e-6. If they differ by a factor T^2, or only when alpha = 1, look
# at the two-class sum of the KL and at which distribution comes first.
#
# **Exercise 3.2.** Train one KD run and its no-KD twin yourself with `students.train_student` (a
# `students.StudentJob("mitbih", "cnn1d", 4.0, 1.0, cfg.seed, rhythm=True)`, and the same job with
# alpha 0 and T `float("nan")`), with `SETTINGS["mitbih"]` and `data["mitbih"]`.
#
# *Self-check*: both runs' records (`.record`) carry the same `initial_weights` fingerprint, and each
# record equals its row of `results` (the runs are deterministic), so the difference between the two
# is the loss alone.
#
# **Exercise 3.3.** In `summary`, which (T, alpha) cell did validation pick for each student, and which
# cell has the best mean *test* AUROC in the heatmap?
#
# *Self-check*: they often differ. Reporting the test-best cell would overstate the gain: the cell must be
# chosen on validation, as `summary_table` does.

# %%
versions_table()
