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
# # 0. Introduction: from a foundation ECG model to classical and quantum students
#
# ECGFounder {cite:p}`li2024ecgfounder` is a network of tens of millions of parameters (counted in the
# pipeline below) trained on about ten million ECGs. It reads an ECG well,
# but it is too large for a wearable, and far too large for the quantum processors of today. This
# tutorial distils it into small students and measures, on real recordings, what each one keeps of the
# teacher's judgement and at what cost.
#
# **You will learn**
# - what the study asks and how the tutorial answers it, stage by stage;
# - which method details are **our choices** (the study's are not public) and why;
# - how to run everything: quick mode for a first look, full mode for the real experiment;
# - how to get the full databases and the real ECGFounder weights.
#
# **Runtime**: a few seconds (this notebook only reads the data folder).

# %% [markdown]
# ## Parameters
# Every notebook opens like this. `ecgkd.setup()` reads the settings from environment variables
# (`ECGKD_*`, listed below), seeds every random generator, sets how tables and figures look, and prints
# one line saying what it runs with: the same notebook runs in quick mode on the shipped sample and in
# full mode on the full databases. Each later notebook then names, in this cell, the knobs a reader may
# change (the grid, seeds, qubits, shots...), each a plain value passed to the call that uses it; their
# values are the package's defaults, which the command line runs.

# %% tags=["parameters"]
import pandas as pd

import ecgkd
from ecgkd import plots
from ecgkd.modelinfo import count_parameters
from ecgkd.quantum import VQCSpec
from ecgkd.quantum.model import RHYTHM_ANGLES
from ecgkd.report import titled, versions_table
from ecgkd.students import build_student
from ecgkd.teacher import Net1D, ecgfounder_config

cfg = ecgkd.setup()

# %% [markdown]
# ## The study
# {cite:t}`franco2026nisq`, *From Foundation ECG Models to NISQ Learners: Distilling ECGFounder into a VQC
# Student*, distil ECGFounder into a ResNet-1D, a lightweight CNN-1D and a variational quantum classifier
# (VQC) that reads a compressed summary of a heartbeat, for normal-vs-abnormal classification on PTB-XL and
# MIT-BIH, and study how the distillation temperature T and weight alpha matter. Only the abstract is
# public. This tutorial rebuilds the whole study from public parts, on the real WFDB files, and goes
# further: several seeds, a classical control of the same size as the VQC, finite shots and the noise
# model of a real quantum device.
#
# ## The primary contrasts, named before anything runs
# A tutorial that computes dozens of differences will find some "effects" by chance. We name the three
# that the study stands on here, before a model is trained; {doc}`07_what_distillation_transfers`
# tests them together, with intervals that resample records and seeds and Holm's correction
# {cite:p}`holm1979simple` across the three. Every other paired table is secondary.

# %%
from ecgkd.evaluation.transfer import PRIMARY_CONTRASTS

titled(pd.Series(PRIMARY_CONTRASTS, name="contrast").to_frame(), "The primary contrasts")

# %% [markdown]
# ## The pipeline
# One notebook per stage, and one package of `ecgkd` behind each (`ls tutorials ecgkd` shows the same
# pipeline); data flows one way, and so do the package's imports: data, then the shared floors
# (training, scoring, the rhythm head), then teacher -> students -> quantum -> evaluation, an earlier
# stage never importing a later one (`tests/test_import_order.py` keeps it so).

# %%
ecgfounder = Net1D(ecgfounder_config(leads=12, n_outputs=150))
fig = plots.plot_pipeline(count_parameters(ecgfounder))

# %% [markdown]
# | notebook | what it does | package |
# |---|---|---|
# | {doc}`01_data` | WFDB records to labelled windows, patient-disjoint splits | `ecgkd.data` |
# | {doc}`02_teacher` | ECGFounder's Net1D, real weights or a stand-in, fine-tuning, cached outputs | `ecgkd.teacher` |
# | {doc}`03_classical_distillation` | KD loss, ResNet-1D and CNN-1D, the T x alpha grid | `ecgkd.students` |
# | {doc}`04_quantum_student` | autoencoder, 6-qubit VQC in Qiskit, distillation, circuit ablation | `ecgkd.quantum` |
# | {doc}`05_vqc_on_device` | the trained VQC with shots, a device's noise, M3, on-device threshold | `ecgkd.quantum.device` |
# | {doc}`06_evaluation` | every model on the same test splits, paired intervals, calibration, cost | `ecgkd.evaluation` |
# | {doc}`07_what_distillation_transfers` | privileged information, scarce labels, the primary contrasts | `ecgkd.evaluation.transfer` |
#
# Beside them: `ecgkd.config` (settings), `ecgkd.cache` (fingerprints, atomic files), `ecgkd.train` (the
# one training loop), `ecgkd.scoring` (metrics, thresholds, bootstrap and paired differences, for every
# stage), `ecgkd.rhythm_head` (the rhythm anchor every rhythm model starts from), `ecgkd.modelinfo` (sizes and fingerprints of models), `ecgkd.plots` and
# `ecgkd.report` (what the notebooks show), and `python -m ecgkd` (`ecgkd.cli`), which runs the stages
# without notebooks.
#
# ## Our choices
# Where the study is silent we chose, and each notebook says why. The main ones (the students' sizes
# are counted here, on the window-only models):

# %%
sizes = {name: f"{count_parameters(build_student(name, 0)):,}" for name in ("resnet1d", "cnn1d")}
choices = pd.DataFrame(
    [
        (
            "data",
            "MIT-BIH: one window per beat, 90 samples before the R peak and 166 after, lead MLII "
            "at 360 Hz;"
            " normal = AAMI N, abnormal = S, V, F, Q; inter-patient DS1 (train) / DS2 (test)",
        ),
        (
            "data",
            "MIT-BIH validation: five whole DS1 records (114, 118, 124, 205, 220) with N, S, V,"
            " F and no record above about a quarter of their abnormal beats; DS1 and DS2 share no"
            " record, and one subject (records 201 in DS1, 202 in DS2), as in the published split",
        ),
        (
            "data",
            "PTB-XL: normal = NORM only, abnormal = MI, STTC, CD or HYP; strat_fold 1-8 / 9 / 10;"
            " students read lead II at 100 Hz as four 256-sample windows, a record's score is "
            "their mean",
        ),
        (
            "data",
            "filters: ECGFounder's recipe (0.4 s median baseline) only for its released weights;"
            " the stand-in and the students see filters that keep ST level and T wave, chosen per"
            " dataset on validation (notebook 01): de Chazal's 200/600 ms medians on MIT-BIH, the"
            " 0.67-40 Hz band-pass alone on PTB-XL",
        ),
        (
            "data",
            "MIT-BIH rhythm: each beat's causal RR features (the interval before it and the one"
            " before that, a local mean and a running median of past beats, their ratios) from"
            " its own record's annotations, what a bedside monitor knows; notebook 01 measures"
            " what they cost against features that look ahead (the next RR, the record median)",
        ),
        (
            "teacher",
            "the teacher sees the beat resampled to 500 Hz (MIT-BIH) or the whole 12-lead record"
            " (PTB-XL), z-scored as ECGFounder was trained",
        ),
        (
            "teacher",
            "without the weights: a stand-in Net1D trained from scratch, labelled on every result",
        ),
        (
            "teacher",
            "MIT-BIH: an anchored head, the rhythm-only logistic regression (fitted on the"
            " training split, fixed) plus a zero-initialised linear layer on Net1D's 1024"
            " features; the window-only teacher is kept as an ablation and as notebook 07's"
            " control teacher",
        ),
        (
            "teacher",
            "training until the validation AUROC has not improved for two epochs in a row, within"
            " a cap of epochs (a compute budget)",
        ),
        (
            "teacher",
            "cross-fitted soft targets: the training windows' logits come from two fold teachers"
            " trained on the other half of the training patients; validation and test logits from"
            " the teacher trained on all of them",
        ),
        (
            "transfer",
            "notebook 07: window-only students taught by the rhythm teacher and by the window-only"
            " teacher (privileged information); a transfer set of k labelled DS1 patients with the"
            " teacher's cross-fitted soft targets on every beat, against labels only and hard"
            " pseudo-labels (scarce labels); three primary contrasts, Holm-corrected",
        ),
        (
            "threshold",
            "every model's operating threshold is chosen on validation (Youden's J), never on test",
        ),
        (
            "KD",
            "Hinton's loss for one logit: two-class KL at temperature T, times T^2, mixed with "
            "weighted BCE by alpha",
        ),
        (
            "students",
            "ResNet-1D after Wang et al. (2017) at half width, pooled between blocks "
            f"({sizes['resnet1d']} parameters); a CNN-1D of our design ({sizes['cnn1d']}"
            " parameters); on MIT-BIH both read the rhythm features"
            " beside the window, through the teacher's anchored head (window-only rows kept as"
            " ablation)",
        ),
        (
            "quantum",
            "a convolutional autoencoder to 6 numbers, scaled to [0, pi] with training percentiles;"
            f" on MIT-BIH 4 numbers and 2 rhythm ratios ({', '.join(RHYTHM_ANGLES)}),"
            " the circuit's logit added to the same fixed rhythm anchor as the other students'",
        ),
        (
            "quantum",
            f"angle encoding, Qiskit's real_amplitudes with {VQCSpec().reps} layers, parity"
            " readout, trainable scale and bias; trained with an exact torch simulation equal to"
            " Qiskit's",
        ),
        (
            "quantum",
            "the circuit chosen by an ablation on MIT-BIH validation (layers, readout, encoding;"
            " ties broken by fewer CNOTs), notebook 04",
        ),
        (
            "quantum",
            "a classical control: an MLP on the same 6 angles with no more parameters than the VQC",
        ),
        (
            "baselines",
            "every model is compared with a constant score and, on MIT-BIH, a logistic regression"
            " on the RR features alone and the window-only teacher, paired on the same test units"
            " (notebook 06); KD and rhythm gains are paired differences with intervals",
        ),
        (
            "hardware",
            "shots on Aer; noise and coupling map of IBM Torino (FakeTorino, qiskit-ibm-runtime)",
        ),
        (
            "hardware",
            "readout errors mitigated with M3 (mthree), one calibration of the circuit's qubits;"
            " the on-device threshold chosen by Youden's J on class-balanced validation windows",
        ),
        (
            "hardware",
            "a real device through one SamplerV2 job in a Batch, its job id and result kept;"
            " tested in qiskit-ibm-runtime's local testing mode",
        ),
    ],
    columns=["stage", "our choice"],
)
titled(choices, "Our choices, where the study is silent").hide(axis="index").set_properties(
    **{"text-align": "left"}
)

# %% [markdown]
# ## Quick mode and full mode
# - **Quick**: the repository's real sample (the first 5 minutes of each MIT-BIH record, PTB-XL records
#   1-500), a quarter-width stand-in teacher, short training, small grids and one seed: minutes per notebook on 2 CPU cores
#   ({doc}`/book/status` has this build's times); CI runs this mode.
# - **Full**: whole records, the full-size Net1D, 3 seeds over a 3 x 3 grid of KD cells (T x alpha) and no KD, 5 seeds for
#   the primary contrasts: the experiment.
#   Its measured time on 2 CPU cores is on {doc}`/book/status` and its tables on {doc}`/book/full_run`
#   (`ECGKD_DEVICE=auto` trains on a GPU when one is present). Every stage caches its results under
#   `ECGKD_CACHE`, so a rerun resumes where it stopped.
#
# **Which mode runs** (our rule): `ECGKD_QUICK=1` or `0` when you set it; otherwise quick mode on the
# shipped sample (`ECGKD_DATA` unset) and full mode when `ECGKD_DATA` names a data folder. The measured
# run times of both modes are on the {doc}`/book/status` page.
#
# | variable | meaning | default |
# |---|---|---|
# | `ECGKD_QUICK` | `1` quick, `0` full | by the data, as above |
# | `ECGKD_DATA` | folder holding `mitdb/` and `ptb-xl/` | the repository's `data/` |
# | `ECGKD_CACHE` | prepared arrays, checkpoints, teacher outputs, finished runs | the repository's `cache/` |
# | `ECGKD_SEED` | base random seed | `0` |
# | `ECGKD_DEVICE` | `auto`, `cpu` or `cuda[:N]` | `auto` |
# | `ECGKD_JOBS` | parallel training runs in the grids (one thread each: the same numbers for any value) | CPU cores (`1` on a GPU) |
# | `ECGKD_CLUSTER` | a Dask scheduler's address: the grids run on that cluster | unset: local workers |
# | `ECGKD_WEIGHTS` | folder holding ECGFounder's released `.pth` files | unset: the stand-in teacher |
# | `ECGKD_PROGRESS` | `1` progress bars, `0` none | `1` |
#
# **Beyond one machine.** More seeds, a wider T x alpha grid or full PTB-XL outgrow a laptop. The
# grids then run unchanged on a Dask cluster through joblib's dask backend (`ecgkd.cluster`; the same
# rows as a local run, the data sent to each worker once). Install the extra with
# `pip install -e '.[cluster]'`, start a cluster whose workers share the cache folder (on Slurm with
# dask-jobqueue's `SLURMCluster`, on Kubernetes with dask-kubernetes and a shared volume), then name its
# scheduler: `ECGKD_CLUSTER=tcp://scheduler:8786 python -m ecgkd --full` (or `--cluster ADDRESS`).
#
# This run:

# %%
print(f"mode: {cfg.mode} (data: {cfg.data_root})")

# %% [markdown]
# ## Getting the data and the weights
# The repository ships a 27 MB real sample in `data/`, enough for quick mode. For the full databases
# (internet needed), from a terminal:
#
# ```bash
# python -m ecgkd.data.download --dest ~/ecg-data   # MIT-BIH (all 48 records), PTB-XL, from PhysioNet
# export ECGKD_DATA=~/ecg-data                      # full mode from now on
# ```
#
# ECGFounder's weights are on Hugging Face (`PKUDigitalHealth/ECGFounder`, access on request). Put
# `1_lead_ECGFounder.pth` and `12_lead_ECGFounder.pth` in a folder and set `ECGKD_WEIGHTS` to it; notebook
# 02 then loads them strictly and fine-tunes them. Without them every result says "stand-in teacher, not
# ECGFounder". What this data folder holds now:

# %%
from ecgkd.data import data_summary

titled(data_summary(cfg.data_root), f"What {cfg.data_root} holds")

# %% [markdown]
# ## Summary
# - The study: distil ECGFounder into a ResNet-1D, a CNN-1D and a 6-qubit VQC; measure what each keeps.
# - The method details are ours where the study is silent; the table above lists them.
# - Quick mode for a look in minutes, full mode for the experiment; results are cached and resumable.
#
# Next: {doc}`01_data`.
#
# ## Exercises
# **Exercise 0.1.** Ask `ecgkd.config.load` which mode a user gets who points `ECGKD_DATA` at a data
# folder (use `env={"ECGKD_DATA": str(cfg.data_root)}`), and which one if they also set `ECGKD_QUICK=1`.
#
# *Self-check*: `"full"`, then `"quick"`: the variable `ECGKD_QUICK` always wins over the rule.
#
# **Exercise 0.2.** From `ecgkd.data.DS1` and `ecgkd.data.DS2`, count the records of each half of the
# inter-patient split and the records they share.
#
# *Self-check*: 22 and 22 records, none shared (`set(DS1) & set(DS2)` is empty). The one subject they
# share, through two different records, is the subject of {doc}`01_data`'s overlap check.

# %%
versions_table()
