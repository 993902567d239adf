"""The classical-student stage: the study's settings (our choices) and the grid of notebook 03 in
one call (:func:`run_students`, which the notebook and ``python -m ecgkd`` both call).

The defaults named here: :func:`grid_plan` (T, alpha, seeds), :func:`student_settings` (epochs,
batch, learning rate, early stopping) and :func:`student_widths`.
"""

from __future__ import annotations

import math

import pandas as pd

from .. import data as data_mod
from ..config import Config
from ..data.rhythm import has_rhythm
from ..teacher.stage import PreparedTeacher, prepare_teacher
from ..train import TrainSettings
from .grid import Grid, GridPlan, StudentJob, selected_jobs
from .inputs import StudentData
from .models import STUDENT_LABELS
from .tables import gain_table, paired_summary

# Our choice: in quick mode a 2 x 2 grid of KD cells (and alpha 0, no KD), one seed; in full mode
# 3 x 3 KD cells, enough for a sensitivity curve in each direction, with three seeds. A wider sweep
# (T 1-8, alpha in eighths) is a GridPlan away, for a cluster.
TEMPERATURES = (2.0, 4.0)
ALPHAS = (0.0, 0.5, 1.0)
FULL_TEMPERATURES = (1.0, 2.0, 4.0)
FULL_ALPHAS = (0.0, 0.25, 0.5, 1.0)
SEEDS = (0, 1, 2)  # offsets added to the base seed (ECGKD_SEED)
QUICK_WIDTH = {"resnet1d": 0.25, "cnn1d": 1.0}  # quick mode: a quarter-width ResNet-1D
FULL_WIDTH = {"resnet1d": 0.5, "cnn1d": 1.0}  # full mode: a half-width ResNet-1D (2-core budget)
CLASSICAL = tuple(STUDENT_LABELS)  # ("resnet1d", "cnn1d")
FILTER_STUDENT = "cnn1d"  # the model that measures the filters: the cheapest student
QUICK_FILTER_SEEDS = (0, 1)  # the filter study's seeds in quick mode (offsets, as SEEDS)
# Quick mode's budget (issue 33): a student stops at its first epoch without a better validation
# AUROC. With two, nearly half of a quick run's epochs came after its best one (the book's quick
# MIT-BIH grid: best epoch 1.98 of 3.74 on average; stopping at the first epoch without a gain runs
# 135 of its 187 epochs, the best epoch the same in 45 of 50 runs); the learning rate drops only
# after two such epochs, so none was ever lowered.
QUICK_PATIENCE = 1


def grid_plan(cfg: Config) -> GridPlan:
    """The T x alpha study of this mode: 2 x 2 KD cells and one seed in quick mode, 3 x 3 KD cells
    and three seeds in full mode (no KD once per seed in both)."""
    if cfg.quick:
        return GridPlan(TEMPERATURES, ALPHAS, (cfg.seed,))
    return GridPlan(FULL_TEMPERATURES, FULL_ALPHAS, tuple(cfg.seed + s for s in SEEDS))


def student_widths(cfg: Config) -> dict[str, float]:
    """Width multiplier of each classical student in this mode: our compute budget (the half-width
    ResNet-1D trains about 2.5x as fast as the full width; ``benchmarks/students.py`` prints it)."""
    widths = QUICK_WIDTH if cfg.quick else FULL_WIDTH
    return {name: widths.get(name, 1.0) for name in CLASSICAL}


def student_settings(cfg: Config, dataset: str) -> TrainSettings:
    """Our choice of optimisation for the students (both datasets, both students, KD or not).

    On MIT-BIH an epoch is 8192 windows drawn from DS1's ~45 k training beats: validation, and so
    early stopping, looks at the model every sixth of a pass, because inter-patient validation AUROC
    peaks early. Full mode stops after two epochs without a gain; quick mode after the first
    (:data:`QUICK_PATIENCE`).
    """
    beats = 2048 if cfg.quick else 8192
    return TrainSettings(
        epochs=5 if cfg.quick else 20,
        batch_size=128,
        lr=3e-3 if cfg.quick else 1e-3,
        weight_decay=1e-4,
        patience=QUICK_PATIENCE if cfg.quick else 2,  # full: two sixths of a pass without a gain
        samples_per_epoch=beats if dataset == "mitbih" else None,
    )


def classical_jobs(cfg: Config, dataset: str, plan: GridPlan | None = None) -> list[StudentJob]:
    """The classical students' runs of the study (``plan``: default :func:`grid_plan`), reading
    the rhythm features wherever the dataset carries them (MIT-BIH)."""
    plan = plan or grid_plan(cfg)
    return plan.jobs(dataset, CLASSICAL, student_widths(cfg), rhythm=has_rhythm(dataset))


def classical_grid(cfg: Config, dataset: str, settings: TrainSettings | None = None) -> Grid:
    """The classical students' grid of ``dataset`` (settings: default :func:`student_settings`)."""
    return Grid(cfg, "students", settings or student_settings(cfg, dataset))


def window_only_jobs(grid: pd.DataFrame) -> list[StudentJob]:
    """The paper's window-only students as ablation rows of a rhythm grid: for each student, no KD
    and the KD cell that is best by validation (mean over the grid's seeds) for that student with
    rhythm, at the grid's first seed only (our budget: an ablation row with a paired interval, not
    a seed study, which would triple these runs in full mode)."""
    rhythm = grid[grid["rhythm"].astype(bool)] if not grid.empty else grid
    if rhythm.empty:
        return []
    return selected_jobs(rhythm, seeds=(int(rhythm["seed"].min()),), rhythm=False)


def run_classical_grid(
    cfg: Config,
    data: StudentData,
    plan: GridPlan | None = None,
    settings: TrainSettings | None = None,
    progress: bool = True,
) -> pd.DataFrame:
    """The classical T x alpha study of notebook 03 for one dataset, as ``cfg`` sets it (grid,
    settings, jobs, device; each run's epoch bar in full mode, where one run takes minutes).

    On MIT-BIH the students read the rhythm features; the window-only students follow as ablation
    rows (:func:`window_only_jobs`), in the same results file."""
    name = data.dataset
    runner = classical_grid(cfg, name, settings)
    grid = runner.run(
        classical_jobs(cfg, name, plan), data, progress=progress, epoch_bars=not cfg.quick
    )
    if not has_rhythm(name):
        return grid
    ablation = runner.run(window_only_jobs(grid), data, progress=progress, epoch_bars=not cfg.quick)
    return pd.concat([grid, ablation], ignore_index=True)


def finished_classical_grid(
    cfg: Config, data: StudentData, plan: GridPlan | None = None
) -> pd.DataFrame:
    """The finished rows of :func:`run_classical_grid` for this mode and data (with the
    window-only ablation rows on MIT-BIH); nothing is trained."""
    name = data.dataset
    runner = classical_grid(cfg, name)
    grid = runner.finished(classical_jobs(cfg, name, plan), data)
    if not has_rhythm(name) or grid.empty:
        return grid
    return pd.concat([grid, runner.finished(window_only_jobs(grid), data)], ignore_index=True)


def student_data(cfg: Config, dataset: str, progress: bool = True) -> StudentData:
    """The students' splits of ``dataset`` and the teacher's targets for them
    (:func:`ecgkd.teacher.stage.prepare_teacher`, reloaded from its cache once trained)."""
    return StudentData.from_teacher(prepare_teacher(cfg, dataset, progress=progress))


def run_students(
    cfg: Config, dataset: str, plan: GridPlan | None = None, progress: bool = True
) -> pd.DataFrame:
    """The classical-student stage of ``dataset``: the teacher's targets, then the T x alpha grid
    (:func:`run_classical_grid`); its finished rows."""
    return run_classical_grid(cfg, student_data(cfg, dataset, progress), plan, progress=progress)


def filter_seeds(cfg: Config, count: int | None = None) -> tuple[int, ...]:
    """Seeds of the filter study: ``count`` of them from the base seed (default: two in quick
    mode, the study's three in full mode)."""
    count = count or len(QUICK_FILTER_SEEDS if cfg.quick else SEEDS)
    return tuple(cfg.seed + s for s in range(count))


def filter_study(
    cfg: Config,
    dataset: str,
    filters: tuple[data_mod.Filters, ...] = data_mod.FILTERS,
    seeds: int | None = None,
    progress: bool = True,
) -> pd.DataFrame:
    """Validation AUROC of the CNN-1D trained on labels alone on ``dataset`` cleaned with each of
    ``filters``, one row per (filters, seed), for ``seeds`` seeds (:func:`filter_seeds`); runs
    are cached like the grid's.

    No teacher takes part (its own filters depend on the result), and only validation is read: this
    is how :data:`ecgkd.data.STUDENT_FILTERS` was chosen.
    """
    runner = Grid(cfg, "filters", student_settings(cfg, dataset))
    width = student_widths(cfg)[FILTER_STUDENT]
    prepared = [data_mod.load(cfg, dataset, filters=name, progress=progress) for name in filters]
    jobs = [
        StudentJob(dataset, FILTER_STUDENT, math.nan, 0.0, seed, width)
        for seed in filter_seeds(cfg, seeds)
    ]
    # every filter's runs in one grid call: no worker waits at the end of each filter's runs
    runs = runner.run(
        jobs * len(filters),
        [StudentData.labels_only(p) for p in prepared for _ in jobs],
        progress=False,
        score_test=False,
    )  # in the order of the jobs: filter by filter, seed by seed
    if len(runs) != len(jobs) * len(filters):
        raise ValueError(f"filters {filters}: two filters gave the same data; name each once")
    runs = runs.assign(filters=[name for name in filters for _ in jobs])
    columns = ["dataset", "filters", "model", "seed", "val_auroc"]
    return runs[columns].sort_values(["filters", "seed"]).reset_index(drop=True)


def filter_summary(study: pd.DataFrame, reference: str = data_mod.RECIPE) -> pd.DataFrame:
    """:func:`~ecgkd.students.tables.paired_summary` of the filter study, against the recipe."""
    return paired_summary(study, "filters", reference)


def chosen_filters(
    study: pd.DataFrame, candidates: tuple[str, ...] = ("bandpass", "dechazal")
) -> dict[str, str]:
    """The rule, per dataset: among the filters that keep the ST level and the T wave
    (``candidates``; the recipe is the reference), the highest mean validation AUROC over seeds."""
    rows = study[study["filters"].isin(candidates)]
    if rows.empty:
        raise ValueError(f"the filter study holds none of {candidates}")
    means = rows.groupby(["dataset", "filters"])["val_auroc"].mean()
    return {str(d): str(means[d].idxmax()) for d in means.index.get_level_values(0).unique()}


def main_and_ablation(results: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(the study's grid, the window-only ablation rows) of a results table: on a dataset with
    rhythm the grid is the students that read it, the ablation those that do not; elsewhere
    every row is the grid's."""
    rhythm = results["rhythm"].astype(bool)
    ablation = results["dataset"].map(has_rhythm) & ~rhythm
    return results[~ablation].reset_index(drop=True), results[ablation].reset_index(drop=True)


def targets_study(
    cfg: Config,
    teacher: PreparedTeacher,
    grid: pd.DataFrame,
    settings: TrainSettings | None = None,
    progress: bool = True,
) -> pd.DataFrame:
    """The in-sample targets against the cross-fitted ones the grid trained on: the grid's
    :func:`~ecgkd.students.grid.selected_jobs` (no KD and the best KD cell, every seed), retrained
    on the in-sample targets of ``teacher``; returns their rows and the grid's own, with a
    ``targets`` column. Only the training split's targets differ."""
    runner = classical_grid(cfg, teacher.student_data.dataset, settings)
    jobs = selected_jobs(grid)
    in_sample = runner.run(
        jobs, StudentData.from_teacher(teacher, targets="in-sample"), progress=progress
    )
    crossed = runner.finished(jobs, StudentData.from_teacher(teacher))
    both = [crossed.assign(targets="cross-fitted"), in_sample.assign(targets="in-sample")]
    return pd.concat(both, ignore_index=True)


def targets_table(study: pd.DataFrame) -> pd.DataFrame:
    """The KD gain (best KD cell minus no KD, same seed) each kind of target yields, per dataset and
    student: test AUROC with KD and the gain's mean, min and max over seeds."""
    tables = []
    for targets, rows in study.groupby("targets", sort=False):
        gains = gain_table(rows).groupby(["dataset", "model"], sort=True)
        tables.append(
            pd.DataFrame(
                {
                    "targets": targets,
                    "seeds": gains["seed"].count(),
                    "KD test_auroc": gains["test_auroc"].mean(),
                    "no KD test_auroc": gains["no_kd"].mean(),
                    "gain (mean)": gains["gain"].mean(),
                    "gain (min)": gains["gain"].min(),
                    "gain (max)": gains["gain"].max(),
                }
            )
        )
    table = pd.concat(tables).reset_index().sort_values(["dataset", "model", "targets"])
    return table.reset_index(drop=True)
