"""The quantum-student stage: the VQC and its same-size classical control, trained over the T x
alpha grid on a frozen encoder (:mod:`.encoders`), and the ablation that chose the circuit.

Everything here glues pieces defined once elsewhere: the encoders (:mod:`.encoders`), the circuit
and its simulators (:mod:`.circuit`, :mod:`.statevector`), the training loop and the grid
(:mod:`ecgkd.train`, :class:`ecgkd.students.grid.Grid`, which trains the classical students too,
here with a builder that wraps the frozen encoder). :func:`run_quantum` is the stage in one call
(notebook 04 and ``python -m ecgkd``); the device study follows in :mod:`.device`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import pandas as pd

from ..config import Config
from ..progress import progress_bar
from ..students.grid import Grid, GridPlan, Selection, StudentJob, TrainedRun, selected_jobs
from ..students.inputs import StudentData
from ..students.stage import grid_plan, student_data, window_only_jobs
from ..students.tables import paired_summary
from ..train import TrainSettings
from .circuit import VQCSpec, build_vqc
from .encoders import LATENT, AutoencoderRun, LatentEncoders, ae_settings, prepare_encoders
from .model import QuantumBuilder, head_parameters

LATENT_STUDENTS = ("vqc", "mlp")  # the circuit and its same-size classical control
OURS = "ours"
#: The circuit ablation (our choice of variants): ours, and one change at a time.
CIRCUIT_VARIANTS: dict[str, VQCSpec] = {
    OURS: VQCSpec(),
    "3 layers": VQCSpec(reps=3),
    "8 layers": VQCSpec(reps=8),
    "readout Z on qubit 0": VQCSpec(readout="z0"),
    "ZZ feature map": VQCSpec(encoding="zz"),
}
QUICK_ABLATION_SEEDS = (0, 1)  # offsets added to the base seed, as the grid's
ABLATION_SEEDS = (0, 1, 2)


def quantum_settings(cfg: Config, dataset: str) -> TrainSettings:
    """Optimisation of the VQC head and its control (our choice: a larger step than the CNNs' suits
    the few rotation angles of a circuit)."""
    if cfg.quick:
        return TrainSettings(
            epochs=5,
            batch_size=128,
            lr=3e-2,
            weight_decay=0.0,
            patience=3,
            samples_per_epoch=4096 if dataset == "mitbih" else None,
        )
    return TrainSettings(
        epochs=20,
        batch_size=128,
        lr=2e-2,
        weight_decay=0.0,
        patience=4,
        samples_per_epoch=16384 if dataset == "mitbih" else None,
    )


def ablation_seeds(cfg: Config, count: int | None = None) -> tuple[int, ...]:
    """Seeds of the circuit ablation: ``count`` from the base seed (default: two in quick mode,
    three in full mode)."""
    count = count or len(QUICK_ABLATION_SEEDS if cfg.quick else ABLATION_SEEDS)
    return tuple(cfg.seed + s for s in range(count))


def latent_grid(
    cfg: Config,
    dataset: str,
    builder: QuantumBuilder,
    student: str = "vqc",
    settings: TrainSettings | None = None,
    kind: str = "quantum",
) -> Grid:
    """The grid of one latent student (``"vqc"`` or its control ``"mlp"``) on ``builder``'s
    encoder: results in ``<cache>/results/<kind>-*.csv``, settings by default
    :func:`quantum_settings` (:func:`end_to_end_settings` for an end-to-end builder)."""
    if settings is None:
        default = end_to_end_settings if builder.end_to_end else quantum_settings
        settings = default(cfg, dataset)
    return Grid(cfg, kind, settings, builder, builder.label(student), builder.model_code())


def circuit_ablation(
    cfg: Config,
    data: StudentData,
    run: AutoencoderRun,
    variants: dict[str, VQCSpec] | None = None,
    settings: TrainSettings | None = None,
    seeds: int | None = None,
    progress: bool = True,
) -> pd.DataFrame:
    """Validation AUROC of each circuit variant (default :data:`CIRCUIT_VARIANTS`), trained on the
    labels alone (alpha = 0: the choice of circuit comes before the KD study) for ``seeds`` seeds
    (:func:`ablation_seeds`), on the frozen encoder of ``run``; one row per (variant, seed), cached
    in ``<cache>/results/circuits-*.csv``. The test split is never scored.
    """
    variants = variants or CIRCUIT_VARIANTS
    jobs = [
        StudentJob(data.dataset, "vqc", math.nan, 0.0, seed) for seed in ablation_seeds(cfg, seeds)
    ]
    tables = []
    for name, spec in progress_bar(variants.items(), desc="circuits", enabled=progress):
        grid = latent_grid(cfg, data.dataset, run.builder(spec), "vqc", settings, "circuits")
        runs = grid.run(jobs, data, progress=False, score_test=False)
        tables.append(
            runs.sort_values("seed").assign(
                circuit=name, layers=spec.reps, readout=spec.readout, encoding=spec.encoding
            )
        )
    columns = ["dataset", "circuit", "layers", "readout", "encoding", "model", "seed", "val_auroc"]
    return pd.concat(tables, ignore_index=True)[columns]


def ablation_table(
    runs: pd.DataFrame,
    reference: str = OURS,
    variants: dict[str, VQCSpec] | None = None,
) -> pd.DataFrame:
    """:func:`~ecgkd.students.tables.paired_summary` of the ablation against ``reference`` (same
    seed, so the same initial angles for the circuits with as many weights), with each variant's
    design and cost: trainable parameters, CNOTs and depth of the logical circuit."""
    table = paired_summary(runs, "circuit", reference)
    design = runs.groupby(["dataset", "circuit"], sort=False)[["layers", "readout", "encoding"]]
    specs = variants or CIRCUIT_VARIANTS
    table = design.first().join(table)
    circuits = table.index.get_level_values("circuit")
    table.insert(3, "trainable", [head_parameters(specs[c]) for c in circuits])
    table.insert(
        4, "CNOTs", [build_vqc(specs[c]).circuit.count_ops().get("cx", 0) for c in circuits]
    )
    table.insert(5, "depth", [build_vqc(specs[c]).circuit.depth() for c in circuits])
    return table


def chosen_circuit(table: pd.DataFrame) -> tuple[str, list[str]]:
    """The rule applied to an :func:`ablation_table` of one dataset: the circuits whose mean
    validation AUROC lies within one seed standard deviation (the best circuit's) of the best mean
    are tied; of those, the one with the fewest CNOTs (each adds noise on a device). Returns (the
    chosen circuit, the tied ones)."""
    table = table.droplevel("dataset") if "dataset" in table.index.names else table
    best = table["val AUROC (mean)"].idxmax()
    floor = table.loc[best, "val AUROC (mean)"] - table.loc[best, "val AUROC (sd)"]
    tied = table[table["val AUROC (mean)"] >= floor]
    return str(tied["CNOTs"].idxmin()), [str(c) for c in tied.index]


def quantum_jobs(
    cfg: Config,
    dataset: str,
    student: str = "vqc",
    plan: GridPlan | None = None,
    rhythm: bool = False,
) -> list[StudentJob]:
    """The T x alpha study of a latent student: the classical students' plan (:func:`grid_plan`)."""
    return (plan or grid_plan(cfg)).jobs(dataset, (student,), rhythm=rhythm)


def latent_grids(
    cfg: Config,
    data: StudentData,
    encoders: LatentEncoders,
    plan: GridPlan | None = None,
    settings: TrainSettings | None = None,
    spec: VQCSpec | None = None,
    *,
    train: bool = True,
    progress: bool = True,
) -> pd.DataFrame:
    """The VQC and its control over the T x alpha grid on the main encoder (with rhythm on
    MIT-BIH), then, where that reads rhythm, the window-only students of the paper as ablation
    rows: no KD and the grid's best KD cell by validation
    (:func:`ecgkd.students.stage.window_only_jobs`). ``train=False``: only the finished rows,
    nothing trained."""
    main = encoders.main

    def rows(jobs: list[StudentJob], run: AutoencoderRun, student: str) -> pd.DataFrame:
        grid = latent_grid(cfg, data.dataset, run.builder(spec), student, settings)
        return grid.run(jobs, data, progress=progress) if train else grid.finished(jobs, data)

    grids = [
        rows(quantum_jobs(cfg, data.dataset, s, plan, main.reads_rhythm), main, s)
        for s in LATENT_STUDENTS
    ]
    grid = pd.concat(grids, ignore_index=True)
    if not main.reads_rhythm or grid.empty:
        return grid
    ablation = window_only_jobs(grid)
    window = [
        rows([j for j in ablation if j.student == s], encoders.window, s) for s in LATENT_STUDENTS
    ]
    return pd.concat([grid, *window], ignore_index=True)


def end_to_end_settings(cfg: Config, dataset: str) -> TrainSettings:
    """Training the encoder with the circuit (our choice): the head's settings at the autoencoder's
    learning rate. At the circuit's larger step the encoder's latents leave the angle scaler's
    range, where its clamp passes no gradient, and every window ends up with the same angles."""
    return replace(quantum_settings(cfg, dataset), lr=ae_settings(cfg, dataset).lr)


def trained_latent(
    cfg: Config, data: StudentData, builder: QuantumBuilder, job: StudentJob
) -> TrainedRun:
    """One latent run (for the comparison, the device study and the pictures): the grid's saved
    weights where the grid ran it, else trained now and saved beside the grid's (the end-to-end
    variant, which no grid trains)."""
    grid = latent_grid(cfg, data.dataset, builder, job.student)
    return grid.load(grid.select(job, data), data, expect_saved=not builder.end_to_end)


def best_vqc(
    cfg: Config, data: StudentData, run: AutoencoderRun, results: pd.DataFrame
) -> tuple[Selection, TrainedRun]:
    """The VQC of ``run``'s encoder (with or without rhythm) at its best KD cell by validation
    (:func:`~ecgkd.students.grid.selected_jobs`) for seed ``cfg.seed``: the grid's saved model,
    with its training curves; what the device study runs."""
    rows = results[
        (results["dataset"] == data.dataset)
        & (results["student"] == "vqc")
        & (results["rhythm"].astype(bool) == run.reads_rhythm)
    ]
    distilled = [job for job in selected_jobs(rows, seeds=(cfg.seed,)) if job.kd]
    if not distilled:
        raise ValueError(
            f"no finished VQC runs with KD for {data.dataset}: run the quantum grid first"
        )
    grid = latent_grid(cfg, data.dataset, run.builder(), "vqc")
    selection = grid.select(distilled[0], data)
    return selection, grid.load(selection, data)


@dataclass
class QuantumStudy:
    """The quantum stage of one dataset: the students' data, the encoders, and every finished run
    of the latent grids (the window-only ablation rows included)."""

    data: StudentData
    encoders: LatentEncoders
    runs: pd.DataFrame


def run_quantum(
    cfg: Config,
    dataset: str,
    plan: GridPlan | None = None,
    spec: VQCSpec | None = None,
    latent: int = LATENT,
    *,
    train: bool = True,
    progress: bool = True,
) -> QuantumStudy:
    """The quantum stage of ``dataset`` in one call: the teacher's targets, the encoders
    (``latent`` numbers a window), the VQC and control grids (:func:`latent_grids`; ``train=False``
    reads the finished rows only)."""
    data = student_data(cfg, dataset, progress)
    encoders = prepare_encoders(cfg, data, latent=latent, progress=progress)
    runs = latent_grids(cfg, data, encoders, plan, spec=spec, train=train, progress=progress)
    return QuantumStudy(data, encoders, runs)
