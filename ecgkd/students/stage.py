"""The classical-student stage: the study's settings (our choices) and the grid of notebook 03 in
one call.

What a notebook's parameters cell shows comes from here: :func:`grid_plan` (T, alpha, seeds),
:func:`student_settings` (epochs, batch, learning rate, early stopping) and :func:`student_widths`.
"""

from __future__ import annotations

import math

import pandas as pd

from .. import data as data_mod
from ..config import Config
from ..data.rhythm import has_rhythm
from ..train import TrainSettings
from .grid import GridPlan, StudentJob, finished_runs, results_path, run_grid
from .inputs import StudentData
from .models import STUDENT_LABELS
from .tables import gain_table, paired_summary, summary_table

# Our choice, for both modes: a 2 x 3 T x alpha grid (alpha 0 is no KD). Full mode runs it with
# three seeds on whole records; a wider sweep (T 1-8, alpha in quarters) is a GridPlan away, for a
# cluster, not for the 2-core budget of a full run.
TEMPERATURES = (2.0, 4.0)
ALPHAS = (0.0, 0.5, 1.0)
SEEDS = (0, 1, 2)  # offsets added to the base seed (ECGKD_SEED)
QUICK_WIDTH = {"resnet1d": 0.25, "cnn1d": 1.0}  # quick mode: a quarter-width ResNet-1D
FULL_WIDTH = {"resnet1d": 0.5, "cnn1d": 1.0}  # full mode: a half-width ResNet-1D (2-core budget)
CLASSICAL = tuple(STUDENT_LABELS)  # ("resnet1d", "cnn1d")
FILTER_STUDENT = "cnn1d"  # the model that measures the filters: the cheapest student
QUICK_FILTER_SEEDS = (0, 1)  # the filter study's seeds in quick mode (offsets, as SEEDS)


def grid_plan(cfg: Config) -> GridPlan:
    """The T x alpha study of this mode: the 2 x 3 grid, one seed in quick mode, three in full."""
    seeds = (cfg.seed,) if cfg.quick else tuple(cfg.seed + s for s in SEEDS)
    return GridPlan(TEMPERATURES, ALPHAS, seeds)


def student_widths(cfg: Config) -> dict[str, float]:
    """Width multiplier of each classical student in this mode: our compute budget (the half-width
    ResNet-1D trains about 2.5x as fast as the full width; ``benchmarks/students.py`` prints it)."""
    widths = QUICK_WIDTH if cfg.quick else FULL_WIDTH
    return {name: widths.get(name, 1.0) for name in CLASSICAL}


def student_settings(cfg: Config, dataset: str) -> TrainSettings:
    """Our choice of optimisation for the students (both datasets, both students, KD or not).

    On MIT-BIH an epoch is 8192 windows drawn from DS1's ~45 k training beats: validation, and so
    early stopping, looks at the model every sixth of a pass, because inter-patient validation AUROC
    peaks early.
    """
    beats = 2048 if cfg.quick else 8192
    return TrainSettings(
        epochs=5 if cfg.quick else 20,
        batch_size=128,
        lr=3e-3 if cfg.quick else 1e-3,
        weight_decay=1e-4,
        patience=2 if cfg.quick else 3,  # quick: a coffee-break budget
        samples_per_epoch=beats if dataset == "mitbih" else None,
    )


def classical_jobs(cfg: Config, dataset: str, plan: GridPlan | None = None) -> list[StudentJob]:
    """The classical students' runs of the study (``plan``: default :func:`grid_plan`), reading
    the rhythm features wherever the dataset carries them (MIT-BIH)."""
    plan = plan or grid_plan(cfg)
    return plan.jobs(dataset, CLASSICAL, student_widths(cfg), rhythm=has_rhythm(dataset))


def cell_jobs(grid: pd.DataFrame, rhythm: bool | None = None) -> list[StudentJob]:
    """For each dataset, student (with or without rhythm) and seed of ``grid``: the no-KD job and
    the job at the KD cell that is best by mean validation AUROC for that model
    (:func:`~ecgkd.students.tables.summary_table`'s choice; validation only). ``rhythm``: build the
    jobs with (True) or without (False) the rhythm features, whatever the grid's runs read; None
    keeps each run's own."""
    if grid.empty:
        return []
    jobs = []
    for (dataset, _), runs in grid.groupby(["dataset", "model"], sort=True):
        best = summary_table(runs).iloc[0]
        cells = [(math.nan, 0.0)]
        if runs["alpha"].gt(0).any():
            cells.append((float(best["best KD T (by val)"]), float(best["best KD alpha (by val)"])))
        first = runs.iloc[0]
        reads = bool(first["rhythm"]) if rhythm is None else rhythm
        for seed in sorted(runs["seed"].unique()):
            jobs += [
                StudentJob(dataset, first["student"], t, a, int(seed), float(first["width"]), reads)
                for t, a in cells
            ]
    return jobs


def window_only_jobs(grid: pd.DataFrame) -> list[StudentJob]:
    """The paper's window-only students as ablation rows of a rhythm grid: for each student, no KD
    and the KD cell that is best by validation (mean over the grid's seeds) for that student with
    rhythm, at the grid's first seed only (our budget: an ablation row with a paired interval, not
    a seed study, which would triple these runs in full mode)."""
    if grid.empty:
        return []
    jobs = cell_jobs(grid[grid["rhythm"].astype(bool)], rhythm=False)
    first = min((j.seed for j in jobs), default=0)
    return [j for j in jobs if j.seed == first]


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
    settings = settings or student_settings(cfg, name)

    def run(jobs: list[StudentJob]) -> pd.DataFrame:
        return run_grid(
            jobs,
            data,
            settings,
            results_path(cfg, "students", name),
            n_jobs=cfg.n_jobs,
            cluster=cfg.cluster,
            device=cfg.device,
            progress=progress,
            epoch_bars=not cfg.quick,
        )

    grid = run(classical_jobs(cfg, name, plan))
    if not has_rhythm(name):
        return grid
    return pd.concat([grid, run(window_only_jobs(grid))], ignore_index=True)


def finished_classical_grid(cfg: Config, data: StudentData) -> pd.DataFrame:
    """The finished rows of :func:`run_classical_grid` for this mode and data (with the
    window-only ablation rows on MIT-BIH); nothing is trained."""
    name = data.dataset
    settings, path = student_settings(cfg, name), results_path(cfg, "students", name)
    grid = finished_runs(classical_jobs(cfg, name), data, settings, path)
    if not has_rhythm(name) or grid.empty:
        return grid
    ablation = finished_runs(window_only_jobs(grid), data, settings, path)
    return pd.concat([grid, ablation], ignore_index=True)


def filter_seeds(cfg: Config) -> tuple[int, ...]:
    """Seeds of the filter study: two in quick mode, the study's three in full mode."""
    return tuple(cfg.seed + s for s in (QUICK_FILTER_SEEDS if cfg.quick else SEEDS))


def filter_study(
    cfg: Config,
    dataset: str,
    filters: tuple[data_mod.Filters, ...] = data_mod.FILTERS,
    progress: bool = True,
) -> pd.DataFrame:
    """Validation AUROC of the CNN-1D trained on labels alone on ``dataset`` cleaned with each of
    ``filters``, one row per (filters, seed); runs are cached like the grid's.

    No teacher takes part (its own filters depend on the result), and only validation is read: this
    is how :data:`ecgkd.data.STUDENT_FILTERS` was chosen.
    """
    settings = student_settings(cfg, dataset)
    width = student_widths(cfg)[FILTER_STUDENT]
    seeds = filter_seeds(cfg)
    jobs = [StudentJob(dataset, FILTER_STUDENT, math.nan, 0.0, seed, width) for seed in seeds]
    tables = []
    for name in filters:
        prepared = data_mod.load(cfg, dataset, filters=name, progress=progress)
        runs = run_grid(
            jobs,
            StudentData.labels_only(prepared),
            settings,
            results_path(cfg, "filters", dataset),
            n_jobs=cfg.n_jobs,
            cluster=cfg.cluster,
            device=cfg.device,
            progress=False,
            score_test=False,
        )
        tables.append(runs.assign(filters=name))
    columns = ["dataset", "filters", "model", "seed", "val_auroc"]
    return pd.concat(tables, ignore_index=True)[columns].sort_values(["filters", "seed"])


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
    stage,
    grid: pd.DataFrame,
    settings: TrainSettings | None = None,
    progress: bool = True,
) -> pd.DataFrame:
    """The in-sample targets against the cross-fitted ones the grid trained on: the grid's
    configurations of :func:`cell_jobs` (no KD and the best KD cell, every seed), retrained on the
    in-sample targets of ``stage``'s teacher; returns their rows and the grid's own, with a
    ``targets`` column. Only the training split's targets differ."""
    name = stage.student_data.dataset
    jobs = cell_jobs(grid)
    settings = settings or student_settings(cfg, name)
    in_sample = run_grid(
        jobs,
        StudentData.from_stage(stage, targets="in-sample"),
        settings,
        results_path(cfg, "students", name),
        n_jobs=cfg.n_jobs,
        cluster=cfg.cluster,
        device=cfg.device,
        progress=progress,
    )
    crossed = finished_runs(
        jobs, StudentData.from_stage(stage), settings, results_path(cfg, "students", name)
    )
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
