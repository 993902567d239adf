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
# # 2. The teacher: ECGFounder's Net1D, fine-tuned for normal vs abnormal
#
# ECGFounder {cite:p}`li2024ecgfounder` is a convolutional network of tens of millions of parameters
# (section 2.1 counts them), trained on about ten million ECGs to read 150 diagnostic labels. It is the teacher every student in this tutorial learns from,
# so this notebook builds it, feeds it, fine-tunes it on each dataset and saves what it says about every
# window, once, for the students.
#
# **You will learn**
# - how Net1D is built and where its parameters sit;
# - how to plug in the released weights, and what the tutorial does when you do not have them;
# - what the teacher sees on each dataset, and why;
# - how the teacher is fine-tuned (after the official recipe), how its operating threshold is chosen,
#   how it scores on test splits that share no patient with training (but for MIT-BIH's one subject
#   in both, records 201 and 202: {doc}`01_data`);
# - what the rhythm around a beat adds to the teacher on MIT-BIH, measured against the same teacher
#   reading the window alone;
# - how its outputs are saved so that a stale file can never feed a student.
#
# **Runtime**: under two minutes in quick mode on 2 CPU cores (seven quarter-width stand-in teachers: the
# teacher, its two cross-fitting fold teachers and the window-only ablation on MIT-BIH, three on PTB-XL);
# in full mode tens of minutes on 2 CPU cores, mostly for the full Net1D on MIT-BIH ({doc}`/book/status`
# has the measured times). Trained teachers and their outputs are cached: a rerun takes seconds.

# %% [markdown]
# ## Parameters
# Besides `ECGKD_QUICK` and `ECGKD_DATA`, this notebook reads `ECGKD_WEIGHTS`: a folder holding the
# released `1_lead_ECGFounder.pth` and `12_lead_ECGFounder.pth`, if you have them (set it before
# starting Jupyter). The knobs of this notebook, each passed to the call that uses it:

# %% tags=["parameters"]
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

import ecgkd
from ecgkd import plots
from ecgkd.data import load
from ecgkd.modelinfo import count_parameters
from ecgkd.report import settings_table, show_source, titled, versions_table
from ecgkd.rhythm_head import RHYTHM, RhythmClassifier
from ecgkd.scoring.bootstrap import ABOVE
from ecgkd.scoring.metrics import per_class_detection
from ecgkd.teacher import (
    CheckpointError,
    Net1D,
    StaleOutputsError,
    ecgfounder_config,
    load_ecgfounder,
    prepare_teacher,
    stand_in_note,
    teacher_inputs,
    teacher_spec,
    used_parameters,
)
from ecgkd.teacher.net1d import architecture_table
from ecgkd.teacher.stage import rhythm_ablation, window_only_teacher

cfg = ecgkd.setup()
# the AAMI class of the MIT-BIH beat whose teacher's view section 2.3 draws
EXAMPLE_CLASS = "V"
# bootstrap resamples of the paired intervals (quick mode: fewer)
RESAMPLES = 200 if cfg.quick else 1000

# %% [markdown]
# Which teacher is trained, at which width and depth, and how: our choices per dataset and mode, on top
# of the official recipe (`teacher_spec`; section 2.5 explains them).

# %%
print("released weights:", cfg.weights or "none (ECGKD_WEIGHTS unset): the stand-in is trained")
specs = {name: teacher_spec(cfg, name) for name in ("mitbih", "ptbxl")}
settings = {
    n: {"width": t.width, "depth": t.depth, **t.settings.as_dict()} for n, t in specs.items()
}
settings_table(settings, f"Teacher settings per dataset, {cfg.mode} mode")

# %% [markdown]
# ## 2.1 The architecture
# Net1D is a 1-D convolutional network in seven stages. Each stage halves the time axis once and stacks
# pre-activation bottleneck blocks: a 1x1 convolution, a grouped kernel-16 convolution (16 channels per
# group), another 1x1 convolution and a squeeze-and-excitation gate, added to an identity shortcut. The
# activation is Swish; batch norm and dropout are switched off in the release. After the last stage the
# mean over time gives a 1024-d feature vector, and a linear head maps it to the 150 labels.
#
# The table is computed from our implementation for a 10 s, 500 Hz, 12-lead input:

# %%
ecgfounder = Net1D(ecgfounder_config(leads=12, n_outputs=150))
architecture = architecture_table(ecgfounder, length=5000)
titled(architecture, "Net1D, 12 leads x 5000 samples, 150 labels")

# %% [markdown]
# Most of the weights sit in the last two stages (the share is computed below). The totals match the
# published checkpoints (a unit test checks every key and shape against the official file format):

# %%
last_two = architecture.loc[["stage 5", "stage 6"], "parameters"].sum()
print(f"share of the last two stages: {last_two / architecture['parameters'].sum():.0%}")
print(
    f"12-lead parameters: {count_parameters(ecgfounder):,} "
    f"({used_parameters(ecgfounder):,} without the unused batch-norm weights), "
    f"{len(ecgfounder.state_dict())} tensors"
)
print(f"1-lead parameters:  {count_parameters(Net1D(ecgfounder_config(leads=1))):,}")
del ecgfounder

# %% [markdown]
# ## 2.2 Plugging in the real weights
# The weights are on Hugging Face (`PKUDigitalHealth/ECGFounder`, gated: accept the terms there). With
# internet, `load_ecgfounder("PKUDigitalHealth/ECGFounder", leads=12)` fetches them (`pip install
# "ecgkd[hub]"`); otherwise download the two `.pth` files, put them in a folder and set
# `ECGKD_WEIGHTS=/that/folder` before starting Jupyter. Loading is strict: every tensor (the count is
# printed above) must match by name and shape, and any difference is reported by name. Without the files, the call fails
# fast with instructions, which is what happens here:

# %%
try:
    load_ecgfounder("PKUDigitalHealth/ECGFounder", leads=12)
except CheckpointError as err:
    print("CheckpointError:", err)

# %% [markdown]
# **Without the weights** this tutorial trains a **stand-in teacher**: the same Net1D (full mode) or the
# same architecture at a quarter of the width and half the depth (quick mode), trained from random weights
# on the training split. Every table, figure title and saved file it produces says "stand-in teacher, not
# ECGFounder". Its numbers show how the pipeline works; they say nothing about ECGFounder itself.

# %% [markdown]
# ## 2.3 What the teacher sees
# Our choice, for both datasets: the data stage ({doc}`01_data`) has already filtered the signal at its
# own rate: with ECGFounder's recipe when its released weights are loaded (they were trained on it),
# else with the students' filters, which keep the ST level and the T wave (`teacher_filters`, section
# 1.3 of {doc}`01_data`). `teacher_inputs` resamples to 500 Hz, the rate ECGFounder was trained at, and
# z-scores each example over all its leads, as the official recipe does. Training and inference both go
# through this one function, and this is all of it:

# %%
show_source(teacher_inputs)

# %% [markdown]
#
# - **MIT-BIH**: the very window the students see, 256 MLII samples around one beat, which becomes 356
#   samples at 500 Hz, and the beat's eight RR features ({doc}`01_data`, section 1.1). A window of
#   0.71 s shows a beat's shape but not when it came, and timing is what marks a premature (S) beat.
#   Our choice, the *anchored* head (`ecgkd.rhythm_head.RhythmClassifier`): its logit is the
#   rhythm-only baseline's (a logistic regression on the eight RR features, fitted on the training
#   split and then fixed) plus one linear layer on Net1D's 1024 window features, which starts at
#   zero. Training thus starts from the baseline and learns only what the window adds; in an earlier
#   design, one layer learnt both at once, the window's features (which fit the training patients
#   best) crowded out the rhythm weights. The convolutional part still reads the window alone. The
#   students read the same two inputs, so the teacher knows nothing
#   a student could not know, and any gain from distillation comes from the teacher's judgement, not
#   from extra information. With real weights the 1-lead release applies; it was trained on lead I,
#   MLII is close to lead II: a domain shift.
# - **PTB-XL**: the whole 10 s, 12-lead record, ECGFounder's native input. Labels belong to the record,
#   so the record's output is the soft target of each of its four lead-II student windows. Here the teacher
#   does see more than the students: twelve leads and four times the duration.
#
# The anchored head is these lines: the window's linear layer plus the fixed anchor's logit.

# %%
show_source(RhythmClassifier.forward)

# %%
mit = load(cfg, "mitbih", progress=False)
i = int(np.flatnonzero(mit.train.aami == EXAMPLE_CLASS)[0])
fig = plots.plot_teacher_view(
    mit.train.x[i],
    mit.train.fs,
    teacher_inputs(mit.train.x[i : i + 1], mit.train.fs)[0],
    500,
    title=f"MIT-BIH record {mit.train.record[i]}, one {EXAMPLE_CLASS} beat",
)

# %%
ptb_records = load(cfg, "ptbxl", teacher=True, progress=False)
ptb_windows = load(cfg, "ptbxl", progress=False)
rec = ptb_records.train.record[0]
w = int(np.flatnonzero(ptb_windows.train.record == rec)[0])
view = teacher_inputs(ptb_records.train.x[:1], ptb_records.train.fs)[0]
fig = plots.plot_teacher_view(
    ptb_windows.train.x[w],
    ptb_windows.train.fs,
    view,
    500,
    ptb_records.train.leads,
    title=f"PTB-XL ecg_id {rec}: one student window vs the teacher's record",
)

# %% [markdown]
# ## 2.4 Zero-shot: the released model before any fine-tuning
# With the real weights, the 150-label head already has an opinion: output 0 is "ABNORMAL ECG" and output
# 2 is "NORMAL ECG" (`tasks.txt`). Their difference is an abnormality score we can evaluate before any
# training. On PTB-XL, whose 10 s 12-lead records are ECGFounder's native input, it is a baseline for
# what fine-tuning adds. On MIT-BIH it is not a fair one: the 1-lead model was trained on 10 s strips of
# lead I, and here it reads 0.71 s of MLII around one beat, so a low score there says more about the
# input than about the model. `train_teacher` computes it on the validation and test splits whenever
# weights are loaded (the tables below); without them there is nothing meaningful to score.

# %% [markdown]
# ## 2.5 Fine-tuning on MIT-BIH
# After the official recipe: binary cross-entropy on the logit, a learning rate of 1e-4 with weight decay
# 1e-5, the learning rate cut tenfold when the validation AUROC stalls, and the epoch with the best
# validation AUROC kept. The official code uses Adam; our one training loop (`ecgkd.train.fit`) uses
# AdamW, our choice for every model here. Our other additions: the abnormal class weighted by the ratio of normal to abnormal beats
# (abnormal beats are about 1 in 10); for the stand-in, which starts from random weights, a learning rate
# of 1e-3, batches of 64 and epochs of random training beats (4,096 in full mode, 2,048 in quick mode;
# PTB-XL: passes over its records). Every teacher trains until its validation AUROC has not improved
# for two epochs in a row, within a cap of epochs (a compute budget for 2 CPU cores; our choice): one
# epoch without a gain, on which the learning rate drops tenfold, does not end a run. Training resumes
# from its last epoch if interrupted. The settings used, with the cap (`epochs`) and the patience, are
# printed with the teacher, and the table below says how many epochs it ran:

# %%
mit_teacher = prepare_teacher(cfg, "mitbih")
print(stand_in_note(mit_teacher.label))
print(mit_teacher.run.spec.settings)
titled(mit_teacher.run.summary(), "MIT-BIH: the teacher kept (best validation epoch)")

# %%
fig = plots.plot_history(mit_teacher.run.fit.history, title=f"MIT-BIH, {mit_teacher.label}")

# %% [markdown]
# **The operating threshold** is chosen on the validation records by Youden's J (sensitivity +
# specificity - 1, maximised), then applied unchanged to DS2. The test records are never used to choose
# anything.

# %%
mit_table = mit_teacher.metrics_table()
titled(mit_table, "MIT-BIH: teacher on validation (DS1 records) and test (DS2)")

# %% [markdown]
# Which beats does it miss, and which does it flag wrongly? The share of each AAMI class the teacher calls
# abnormal on DS2: for S, V, F and Q that share is the sensitivity, for N it is the false-alarm rate.
# Two things to look for: supraventricular (S) beats differ from normal ones mostly in *timing*, which a
# single-beat window barely shows; and DS2's normal class includes bundle-branch-block beats (AAMI counts
# them as N) whose wide QRS a threshold chosen on five DS1 records may well call abnormal.

# %%
test = mit_teacher.student_data.test
per_class = per_class_detection(
    test.aami, mit_teacher.outputs["test"].logits, mit_teacher.run.threshold
)
titled(per_class, "MIT-BIH DS2: share of each AAMI class the teacher calls abnormal", precision=3)

# %%
titled(mit_teacher.zero_shot_table(), "MIT-BIH: zero-shot score of the released model")

# %% [markdown]
# ### What the rhythm adds
# The ablation, in both directions: the same teacher (architecture, seed, settings, data) trained on
# the window alone, the paper's setting; and the teacher's rhythm anchor alone, the logistic regression
# its head starts from. All are scored on the same DS2 beats; each difference in AUROC is paired, and
# its interval resamples DS2's records, so it says how much the gain depends on which patients were
# tested. The last row answers whether reading the window added anything to the rhythm.

# %%
window_teacher = window_only_teacher(cfg, "mitbih")
ablation = rhythm_ablation(mit_teacher, window_teacher, resamples=RESAMPLES, seed=cfg.seed)
titled(ablation, "MIT-BIH: the teacher with and without rhythm (test: DS2 beats)")

# %% [markdown]
# A teacher worth distilling beats its own anchor, with an interval above zero: otherwise its soft
# targets say nothing the rhythm-only regression does not, and every student already holds that
# regression. Whether this one does, computed from the table:

# %%
anchor_row = ablation.loc[f"its rhythm anchor alone: {RHYTHM}"]
print(
    f"{mit_teacher.label} minus its rhythm anchor on DS2: "
    f"{anchor_row['teacher with rhythm - this row']:+.3f} {anchor_row['95% CI']} "
    f"({anchor_row['distinguishable from zero']})"
)
if anchor_row["distinguishable from zero"] != ABOVE:
    print(
        "Not shown to beat its anchor: distillation here can pass on the rhythm at best. "
        f"This teacher trained {len(mit_teacher.run.fit.history)} epochs of "
        f"{mit_teacher.run.spec.settings.samples_per_epoch} beats ({cfg.mode} mode's budget)."
    )

# %% [markdown]
# Where does the difference come from? The share of each AAMI class each teacher calls abnormal on
# DS2, at its own validation threshold:

# %%
detection = {
    t.label: per_class_detection(test.aami, t.outputs["test"].logits, t.run.threshold)[
        "called abnormal"
    ]
    for t in (mit_teacher, window_teacher)
}
titled(pd.DataFrame(detection), "MIT-BIH DS2: share of each AAMI class called abnormal", 3)

# %% [markdown]
# ## 2.6 Fine-tuning on PTB-XL
# Same recipe, whole 12-lead records, folds 1-8 for training, 9 for validation, 10 for testing. With 500
# records there are only a few hundred training examples, so the stand-in teacher's numbers are noisy;
# with the real weights, fine-tuning needs far fewer examples. The settings are printed below.

# %%
ptb_teacher = prepare_teacher(cfg, "ptbxl")
print(ptb_teacher.run.spec.settings)
print(stand_in_note(ptb_teacher.label))
titled(ptb_teacher.run.summary(), "PTB-XL: the teacher kept (best validation epoch)")

# %%
fig = plots.plot_history(ptb_teacher.run.fit.history, title=f"PTB-XL, {ptb_teacher.label}")

# %% [markdown]
# PTB-XL metrics are per record (the teacher reads records):

# %%
ptb_table = ptb_teacher.metrics_table()
titled(ptb_table, "PTB-XL: teacher on validation (fold 9) and test (fold 10), per record")

# %%
titled(ptb_teacher.zero_shot_table(), "PTB-XL: zero-shot score of the released model")

# %% [markdown]
# ## 2.7 ROC curves on the test splits
# The dot on each curve is the validation threshold: where the teacher actually operates on unseen
# patients.

# %%
fig, axes = plt.subplots(1, 2, figsize=(8, 4), layout="constrained")
for ax, teacher, name in (
    (axes[0], mit_teacher, "MIT-BIH DS2"),
    (axes[1], ptb_teacher, "PTB-XL fold 10"),
):
    rows = teacher.teacher_data.test
    logits = teacher.run.logits(rows)
    plots.plot_roc(
        {name: (rows.y, logits)},
        title=teacher.label,
        ax=ax,
        points={name: (rows.y, logits, teacher.run.threshold)},
    )

# %% [markdown]
# ## 2.8 The saved outputs
# For every student split the teacher's logits are saved once, aligned row for row with the students'
# windows, under `cache/teacher_outputs/`. Each file records the fingerprint of the windows, of the
# teacher's input and of the model weights; notebooks 03 and 04 load them through the same
# `prepare_teacher` call, which retrains nothing and recomputes nothing. The window-only teacher of
# section 2.5 saves them on validation and test only: its students (notebook 07) learn from its
# cross-fitted targets, so its logits on its own training windows would never be read.

# %%
rows = []
for teacher in (mit_teacher, ptb_teacher):
    for name, out in teacher.outputs.items():
        rows.append(
            {
                "dataset": out.dataset,
                "split": name,
                "windows": len(out.logits),
                "abnormal by teacher": f"{np.mean(out.logits >= out.threshold):.1%}",
                "model": out.model_fingerprint,
                "windows fingerprint": out.split_fingerprint,
                "teacher": out.teacher,
            }
        )
titled(pd.DataFrame(rows), "Saved teacher outputs, both datasets")

# %% [markdown]
# A file made for other windows is refused by name instead of being reused. Here we offer the test
# outputs to the training windows:

# %%
try:
    mit_teacher.outputs["test"].check(mit_teacher.student_data.train)
except StaleOutputsError as err:
    print("StaleOutputsError:", err)

# %% [markdown]
# ## Summary
# - Net1D is rebuilt key for key: the released checkpoints load strictly, and with `ECGKD_WEIGHTS` set the
#   tutorial fine-tunes the real ECGFounder (and reports its zero-shot score first).
# - Without weights, a clearly labelled stand-in teacher of the same architecture is trained from scratch.
# - The teacher sees a 500 Hz, z-scored view from one function: the beat window on MIT-BIH, the whole
#   12-lead record on PTB-XL. On MIT-BIH its head also reads the beat's rhythm features; the
#   window-only teacher is the ablation, compared on the same DS2 beats with a paired interval, and
#   the control teacher of {doc}`07_what_distillation_transfers` (it has fold teachers too).
# - The threshold comes from validation; the test splits are only scored.
# - The teacher's logits are cached per student split with fingerprints; the students read them next.
#
# Next: {doc}`03_classical_distillation`, distilling these outputs into a ResNet-1D and a small CNN-1D.
#
# ## Exercises
# **Exercise 2.1.** Give `teacher_inputs` three times the amplitude of a window,
# `teacher_inputs(3 * x, fs)` with `x = mit.train.x[:4]`, and compare with `teacher_inputs(x, fs)`.
#
# *Self-check*: `np.allclose(..., atol=1e-4)` holds. Resampling is linear and each example is z-scored,
# so the teacher cannot see a lead's gain: a useful property across devices with other amplifiers.
#
# **Exercise 2.2.** Choose the MIT-BIH threshold on the *test* split instead (`youden_threshold` from
# `ecgkd.scoring`, on `test.y` and the test logits) and compare the test balanced accuracy at
# both thresholds with `binary_metrics`.
#
# *Self-check*: the test-chosen threshold scores at least as well, always, because Youden's J is twice the
# balanced accuracy minus one and it is maximised on the very split it is scored on. That advantage is
# exactly why every threshold here is chosen on validation.
#
# **Exercise 2.3.** Count the parameters of the teacher trained here, `count_parameters(mit_teacher.run.model)`.
#
# *Self-check*: in full mode it is the 1-lead Net1D of section 2.1 with a one-logit head in place of the
# 150-label one (and, on MIT-BIH, the rhythm anchor's fixed numbers); in quick mode the quarter-width,
# half-depth stand-in is a small fraction of that.

# %%
versions_table()
