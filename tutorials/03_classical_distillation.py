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
# # 3. Classical distillation: a ResNet-1D and a small CNN-1D learn from the teacher
#
# The study's central question: how much does a small model gain from learning the teacher's soft
# outputs instead of the labels alone, and how does that depend on the temperature T and the weight
# alpha? We answer it on both datasets with two students, and measure it fairly: the same windows, the
# same initial weights and the same batch order for a KD run and its no-KD twin, patient-disjoint test
# splits, and several seeds in full mode.
#
# **You will learn**
# - the distillation loss for a binary teacher, and what temperature does to its targets;
# - the two students: a ResNet-1D in the style of Wang et al. and a 20 k-parameter CNN-1D;
# - how a T x alpha sensitivity study is run, resumed and read;
# - where distillation helps here, and where it does not.
#
# **Runtime**: about 1.5 minutes in quick mode (a 2 x 3 grid, one seed, short epochs, a half-width
# ResNet-1D). Full mode runs a 4 x 5 grid with 3 seeds for 2 students on 2 datasets (204 runs); on 2 CPU
# cores with `ECGKD_JOBS=2` expect minutes for the CNN-1D and about an hour for the ResNet-1D on MIT-BIH
# (each of its 51 runs trains on a few tens of thousands of windows and scores all 50 k DS2 beats), and
# minutes for both on the PTB-XL subset. A GPU (`ECGKD_DEVICE=cuda`) is used when present. Finished runs
# are saved as they complete, so an interrupted study resumes where it stopped. On a CPU,
# `benchmarks/grid_parallel.py` measures whether one run per core (`ECGKD_JOBS`
# set to the number of cores) beats one run using every core.

# %% [markdown]
# ## Parameters

# %%
import pandas as pd

import ecgkd.config
from ecgkd import plots, sweep
from ecgkd.evaluate import latency_ms
from ecgkd.report import versions_table
from ecgkd.students import STUDENT_LABELS, build_student, describe
from ecgkd.teacher import count_parameters, prepare_teacher, stand_in_note

cfg = ecgkd.config.load()
ecgkd.config.seed_everything(cfg.seed)
pd.set_option("display.width", 140)
print(f"mode: {cfg.mode} | data: {cfg.data_root} | cache: {cfg.cache_root} | seed: {cfg.seed} | jobs: {cfg.n_jobs}")

# %% [markdown]
# ## 3.1 The distillation loss
# The teacher outputs one logit z per window. At temperature T we read it as a two-class distribution,
# P(abnormal) = sigmoid(z / T), and ask the student's distribution at the same T to match it. Our
# formulation (Hinton et al., 2015, written for one logit):
#
# $$\mathcal{L} = (1-\alpha)\,\mathrm{BCE}(z_s, y) + \alpha\,T^2\,\mathrm{KL}\big(p_t^{T}\,\|\,p_s^{T}\big)$$
#
# The KL divergence is summed over the two classes and averaged over the batch; the factor $T^2$ keeps
# its gradient the same size whatever T is (a unit test checks this), so alpha alone sets the balance.
# alpha = 0 is plain supervised training; alpha = 1 learns from the teacher only. The hard-label term
# weights abnormal windows by the normal/abnormal ratio, as for the teacher.
#
# Temperature flattens the targets: at T = 1 a confident teacher says "certainly abnormal"; at T = 8 it
# says "somewhat more likely abnormal", and the student also learns *how much more*, for every window:

# %%
fig = plots.plot_soft_targets((1, 2, 4, 8))

# %% [markdown]
# ## 3.2 The students
# Both read one 256-sample lead (MIT-BIH: MLII at 360 Hz around a beat; PTB-XL: lead II at 100 Hz,
# four windows per record) and output one logit. The ResNet-1D follows Wang et al. (2017), the ResNet
# used in the PTB-XL benchmark: three residual blocks of kernel-8/5/3 convolutions with batch norm.
# Two changes are our choice, to make it a student rather than a second teacher: half of Wang's widths
# (32/64/64 channels) and a max-pool halving the length between blocks, as ECG ResNets usually
# downsample. Wang's own network (`ResNet1D.wang()`: 64/128/128 channels, no pooling, 0.5 M parameters)
# trained about ten times more slowly on 2 CPU cores and scored a window hardly faster than the
# 31 M-parameter teacher (`benchmarks/students.py` prints both ratios), because it convolves the full
# 256 samples at 128 channels three blocks deep.
# The CNN-1D is ours: four small convolution stages and global pooling, designed to fit a wearable.
# In quick mode the ResNet-1D is half as wide again, to keep the notebook under two minutes.

# %%
width = {name: sweep.QUICK_WIDTH[name] if cfg.quick else 1.0 for name in STUDENT_LABELS}
sizes = pd.DataFrame({STUDENT_LABELS[n]: {**describe(build_student(n, 0, width=width[n])), "width": width[n]}
                      for n in STUDENT_LABELS}).T
sizes

# %% [markdown]
# ## 3.3 The teacher's outputs
# The students learn from the logits notebook 02 saved. `prepare_teacher` finds them in the cache
# (it trains the teacher first only if notebook 02 has not run) and checks that they belong to these
# exact windows.

# %%
stages = {name: prepare_teacher(cfg, name, progress=False) for name in ("mitbih", "ptbxl")}
data = {name: sweep.StudentData.from_stage(stage) for name, stage in stages.items()}
for name, stage in stages.items():
    print(f"{name}: {stand_in_note(stage.label)}")

# %% [markdown]
# ## 3.4 The sensitivity study
# Every (student, T, alpha, seed) is one training run with early stopping on the validation AUROC. The
# threshold is chosen on validation (Youden's J) and the test split is only scored. PTB-XL is scored per
# record: the mean of a record's four window logits, since its labels belong to records. alpha = 0 runs
# once per seed: T plays no part without the teacher.
#
# Runs go through joblib (`ECGKD_JOBS` workers; on a cluster, wrap this cell in
# `joblib.parallel_config(backend="dask")`), and each finished run is appended to a CSV under
# `cache/results/`, so a rerun skips what is done.

# %%
results = pd.concat([sweep.run_classical_grid(cfg, data[name]) for name in data], ignore_index=True)
results[["dataset", "model", "temperature", "alpha", "seed", "best_epoch", "val_auroc", "test_auroc",
         "test_f1"]].round(4)

# %% [markdown]
# ### Mean test AUROC over seeds
# Rows are temperatures, columns alpha; the alpha = 0 column is the same no-KD run repeated in each row.

# %%
fig = plots.plot_kd_heatmaps(sweep.by_temperature(results), "test_auroc", title="Test AUROC (mean over seeds)")

# %% [markdown]
# ### Gain over no KD
# Each KD run minus the no-KD run of the same student and seed: blue cells are where distillation helped.

# %%
gains = sweep.gain_table(results)
fig = plots.plot_kd_heatmaps(gains, "gain", title="Test AUROC gain over no KD (same seed, same initial weights)",
                             centre=0.0, fmt="{:+.3f}")

# %% [markdown]
# ## 3.5 Teacher vs students
# For each student the KD setting is chosen **on validation** (best mean validation AUROC over the grid),
# never on test; the table reports its test AUROC next to the no-KD student's and the teacher's.

# %%
summary = sweep.summary_table(results)
summary["teacher test_auroc"] = summary["dataset"].map({n: s.test_metrics()["auroc"] for n, s in stages.items()})
summary.round(4)

# %% [markdown]
# What each model costs. Latency is a timing on this machine (a batch of one window, median of 30 calls), so it is kept out of the tables that must reproduce exactly:

# %%
rows = []
for name, stage in stages.items():
    rows.append({"dataset": name, "model": stage.label, "parameters": count_parameters(stage.run.model),
                 "latency ms / window": latency_ms(stage.run.model, stage.input_shape())})
    for n in STUDENT_LABELS:
        model = build_student(n, 0, width=width[n])
        rows.append({"dataset": name, "model": STUDENT_LABELS[n], "parameters": describe(model)["parameters"],
                     "latency ms / window": latency_ms(model, (1, 1, 256))})
cost = pd.DataFrame(rows)
cost.round(3)

# %% [markdown]
# ## 3.6 Reading the results
# The gain table is the honest answer to the study's question for *this* teacher and data: a positive
# mean gain that is larger than its spread over seeds means distillation helped; a gain within the
# spread means it did not, measurably. The printout below computes both per student and dataset:

# %%
spread = gains.groupby(["dataset", "model"])["gain"].agg(["mean", "std", "min", "max", "count"])
spread

# %% [markdown]
# Things to keep in mind when reading it:
# - With a **stand-in teacher** (no ECGFounder weights here) the teacher is itself a network trained on the
#   same training split, so it carries no outside knowledge; a gain then comes from smoother targets
#   (label smoothing by the teacher), not from ECGFounder's ten million ECGs.
# - In quick mode the grid is small, there is one seed and the epochs are short: differences of a few
#   thousandths are noise. Full mode runs 3 seeds; read the spread column before the mean.
# - On PTB-XL the teacher reads 12 leads and 10 s while the students read 2.56 s of one lead: there the
#   teacher knows things the students cannot see, and its soft targets can transfer some of it.

# %% [markdown]
# ## Summary
# - `ecgkd.distill.kd_loss` is the whole method: softened two-class KL times $T^2$, mixed with the hard loss.
# - One training loop (`ecgkd.train.fit`) trains teacher and students; KD and no-KD twins share initial
#   weights and batch order, so their difference is the loss alone.
# - The T x alpha study runs through joblib, appends each finished run to a CSV, and resumes.
# - The KD setting reported is chosen on validation; the test splits are only scored.
#
# Next: notebook 04, the quantum student.

# %%
versions_table()
