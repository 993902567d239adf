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
# # 0. Introduction: from a foundation ECG model to classical and quantum students
#
# ECGFounder is a 31-million-parameter network trained on about ten million ECGs. It reads an ECG well,
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
# Every notebook opens like this: the settings come from environment variables (`ecgkd.config`), so the
# same notebook runs in quick mode in CI and in full mode on your machine, and every random generator is
# seeded.

# %%
import pandas as pd

import ecgkd.config
from ecgkd import plots
from ecgkd.report import versions_table

cfg = ecgkd.config.load()
ecgkd.config.seed_everything(cfg.seed)
pd.set_option("display.width", 140)
print(f"mode: {cfg.mode} | data: {cfg.data_root} | cache: {cfg.cache_root} | seed: {cfg.seed} | device: {cfg.device}")

# %% [markdown]
# ## The study
# Franco et al. (2026), *From Foundation ECG Models to NISQ Learners: Distilling ECGFounder into a VQC
# Student*, distil ECGFounder into a ResNet-1D, a lightweight CNN-1D and a variational quantum classifier
# (VQC) that reads a compressed summary of a heartbeat, for normal-vs-abnormal classification on PTB-XL and
# MIT-BIH, and study how the distillation temperature T and weight alpha matter. Only the abstract is
# public. This tutorial rebuilds the whole study from public parts, on the real WFDB files, and goes
# further: several seeds, a classical control of the same size as the VQC, finite shots and the noise
# model of a real quantum device.
#
# ## The pipeline
# One notebook per stage, and one module of the `ecgkd` package behind each; data flows one way.

# %%
fig = plots.plot_pipeline()

# %% [markdown]
# | notebook | what it does | package |
# |---|---|---|
# | 01 data | WFDB records to labelled windows, patient-disjoint splits | `ecgkd.data` |
# | 02 teacher | ECGFounder's Net1D, real weights or a stand-in, fine-tuning, cached outputs | `ecgkd.teacher` |
# | 03 classical distillation | KD loss, ResNet-1D and CNN-1D, T x alpha sensitivity | `ecgkd.distill`, `ecgkd.students`, `ecgkd.sweep` |
# | 04 quantum student | autoencoder, 6-qubit VQC in Qiskit, shots and device noise | `ecgkd.autoencoder`, `ecgkd.quantum` |
#
# ## Our choices
# Where the study is silent we chose, and each notebook says why. The main ones:

# %%
choices = pd.DataFrame([
    ("data", "MIT-BIH: one window per beat, 90 samples before the R peak and 166 after, lead MLII at 360 Hz;"
     " normal = AAMI N, abnormal = S, V, F, Q; inter-patient DS1 (train) / DS2 (test)"),
    ("data", "MIT-BIH validation: four whole DS1 records (101, 118, 124, 223), never a beat of a test patient"),
    ("data", "PTB-XL: normal = NORM only, abnormal = MI, STTC, CD or HYP; strat_fold 1-8 / 9 / 10;"
     " students read lead II at 100 Hz as four 256-sample windows, a record's score is their mean"),
    ("teacher", "the teacher sees the beat resampled to 500 Hz (MIT-BIH) or the whole 12-lead record"
     " (PTB-XL), filtered and z-scored as ECGFounder was trained"),
    ("teacher", "without the weights: a stand-in Net1D trained from scratch, labelled on every result"),
    ("threshold", "every model's operating threshold is chosen on validation (Youden's J), never on test"),
    ("KD", "Hinton's loss for one logit: two-class KL at temperature T, times T^2, mixed with weighted BCE by alpha"),
    ("students", "ResNet-1D after Wang et al. (2017) at half width, pooled between blocks (126 k parameters);"
     " a 20 k-parameter CNN-1D of our design"),
    ("quantum", "a convolutional autoencoder to 6 numbers, scaled to [0, pi] with training percentiles"),
    ("quantum", "angle encoding, Qiskit's real_amplitudes with 5 layers, parity readout, trainable scale"
     " and bias; trained with an exact torch simulation equal to Qiskit's"),
    ("quantum", "a classical control: an MLP on the same 6 numbers with no more parameters than the VQC"),
    ("hardware", "shots on Aer; noise and coupling map of IBM Torino (FakeTorino, qiskit-ibm-runtime)"),
], columns=["stage", "our choice"])
choices.style.hide(axis="index").set_properties(**{"text-align": "left"})

# %% [markdown]
# ## Quick mode and full mode
# - **Quick** (`ECGKD_QUICK=1`): the repository's real sample (the first 5 minutes of each MIT-BIH
#   record, PTB-XL records 1-500), a quarter-width stand-in teacher, short training, small grids and one
#   seed. Every notebook runs in under about two minutes on 2 CPU cores; CI runs this mode.
# - **Full** (the default): whole records, the full-size Net1D, 3 seeds over a 4 x 5 T x alpha grid.
#   Measured on 2 CPU cores for the full MIT-BIH (`python -m ecgkd --full --datasets mitbih --jobs 2`,
#   an empty cache): data 36 s, teacher 24 min, classical grids 67 min (102 runs), latent grids and the
#   shots/noise study 16 min, evaluation 15 min: 2 hours in all. A GPU (`ECGKD_DEVICE=cuda`, or `auto`)
#   shortens all of it. Every stage caches its results under
#   `ECGKD_CACHE`, and a rerun resumes where it stopped.
#
# Each notebook states its own measured run times at its top.
#
# ## Getting the data and the weights
# The repository ships a 27 MB real sample in `data/`, enough for quick mode. For the full databases
# (internet needed), from a terminal:
#
# ```bash
# python -m ecgkd.data.download --dest ~/ecg-data   # MIT-BIH (all 48 records) and PTB-XL from PhysioNet
# export ECGKD_DATA=~/ecg-data
# ```
#
# ECGFounder's weights are on Hugging Face (`PKUDigitalHealth/ECGFounder`, access on request). Put
# `1_lead_ECGFounder.pth` and `12_lead_ECGFounder.pth` in a folder and set `ECGKD_WEIGHTS` to it; notebook
# 02 then loads them strictly and fine-tunes them. Without them every result says "stand-in teacher, not
# ECGFounder". What this data folder holds now:

# %%
from ecgkd.data import data_summary  # noqa: E402

data_summary(cfg.data_root)

# %% [markdown]
# ## Summary
# - The study: distil ECGFounder into a ResNet-1D, a CNN-1D and a 6-qubit VQC; measure what each keeps.
# - The method details are ours where the study is silent; the table above lists them.
# - Quick mode for a look in minutes, full mode for the experiment; results are cached and resumable.
#
# Next: notebook 01, the data.

# %%
versions_table()
