"""The grid runner: one tidy record per student run, T x alpha grids via joblib, resumable.

A run is (dataset, student, T, alpha, seed). For a given seed the student starts from the same
initial weights and sees the training windows in the same order whatever T and alpha are, so a
difference between a KD run and the no-KD run (alpha = 0) of that seed comes from the loss alone.

Grids are dispatched through joblib (``n_jobs`` from ``ECGKD_JOBS``); to run them on a cluster, wrap
the call in ``joblib.parallel_config(backend="dask")`` with a Dask client. Every finished run is
appended to a CSV at once (written atomically) and skipped when the grid is run again, so an
interrupted sweep resumes.
"""

from __future__ import annotations

import inspect
import math
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd
from torch import nn

from .. import cache, modelinfo, rhythm_head, train
from ..config import Config, seed_everything
from ..data import rhythm as rhythm_mod
from ..data.rhythm import N_RHYTHM, RHYTHM_SUFFIX, model_inputs
from ..modelinfo import describe, model_fingerprint
from ..progress import progress_bar
from ..scoring.metrics import binary_metrics, unit_scores, youden_threshold
from ..train import TrainData, TrainSettings, balancing_weight, fit, predict
from . import kd, models
from .inputs import StudentData
from .kd import kd_loss
from .models import STUDENT_LABELS, build_student
from .tables import best_kd_cell


@dataclass(frozen=True)
class StudentJob:
    """One training run. ``temperature`` is NaN for alpha = 0 (no distillation: T plays no part);
    ``rhythm``: the student reads the beat's rhythm features with its window (MIT-BIH)."""

    dataset: str
    student: str
    temperature: float
    alpha: float
    seed: int
    width: float = 1.0
    rhythm: bool = False

    @property
    def kd(self) -> bool:
        return self.alpha > 0

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class GridPlan:
    """The T x alpha sensitivity study: temperatures, alphas (0 = no KD, run once per seed) and
    seeds."""

    temperatures: tuple[float, ...]
    alphas: tuple[float, ...]
    seeds: tuple[int, ...]

    def __post_init__(self) -> None:
        if not self.temperatures or min(self.temperatures) <= 0:
            raise ValueError(f"GridPlan.temperatures={self.temperatures}: give one or more T > 0")
        if not self.alphas or not all(0 <= a <= 1 for a in self.alphas):
            raise ValueError(f"GridPlan.alphas={self.alphas}: give one or more alpha in [0, 1]")
        if not self.seeds:
            raise ValueError("GridPlan.seeds is empty: give at least one seed")

    def jobs(
        self,
        dataset: str,
        names: tuple[str, ...],
        widths: Mapping[str, float] | None = None,
        rhythm: bool = False,
    ) -> list[StudentJob]:
        """Every (student, T, alpha, seed); alpha = 0 once per seed, not once per T."""
        widths = widths or {}
        jobs = []
        for name in names:
            for seed in self.seeds:
                for alpha in self.alphas:
                    for t in (math.nan,) if alpha == 0 else self.temperatures:
                        jobs.append(
                            StudentJob(
                                dataset,
                                name,
                                float(t),
                                float(alpha),
                                int(seed),
                                widths.get(name, 1.0),
                                rhythm,
                            )
                        )
        return jobs


Builder = Callable[[StudentJob], nn.Module]


def classical_student(job: StudentJob) -> nn.Module:
    """The builder of the classical students: :func:`build_student` at the job's width, reading
    the rhythm features when the job says so."""
    return build_student(
        job.student, job.seed, width=job.width, rhythm=N_RHYTHM if job.rhythm else 0
    )


def job_label(job: StudentJob, label: str | None = None) -> str:
    """The model's name in result tables: ``label`` (default: the classical student's name), with
    " + rhythm" when it reads the rhythm features."""
    return (label or STUDENT_LABELS[job.student]) + (RHYTHM_SUFFIX if job.rhythm else "")


@dataclass
class TrainedRun:
    """One trained configuration: its tidy record, the model at its best validation epoch, its
    training curves, and the (labels, logits) of each split its record scored (``"val"``, and
    ``"test"`` unless the run left the test split unread), so that a comparison reuses them."""

    record: dict
    model: nn.Module
    history: pd.DataFrame
    scores: dict[str, tuple[np.ndarray, np.ndarray]]


def train_student(
    job: StudentJob,
    data: StudentData,
    settings: TrainSettings,
    device: str = "cpu",
    progress: bool = False,
    build: Builder = classical_student,
    label: str | None = None,
    score_test: bool = True,
    weights: Path | None = None,
    key: str = "",
) -> TrainedRun:
    """Train one student; its record holds the validation-chosen threshold and the test metrics.

    ``build(job)`` returns the freshly initialised model (same seed, same weights); the quantum
    student passes its own builder, which wraps the frozen encoder and the circuit. ``label`` names
    the model in the record (default: the classical student's label). ``score_test=False`` leaves
    the test split unread (no ``test_*`` columns): for the studies that make a choice (filters,
    circuits), which must rest on validation alone. ``weights``: the run's file
    (:func:`weights_path`), saved after every epoch under ``key`` (its :func:`job_key`); when it
    holds the finished run, its best weights are reloaded and nothing is trained, so the record is
    the grid row's.
    """
    with train.torch_threads(1):  # the same numbers in any worker, whatever ECGKD_JOBS is
        started = time.perf_counter()
        seed_everything(job.seed)
        model = build(job)
        tr, va, te = (data.splits[s] for s in ("train", "val", "test"))
        y_tr = data.train_y
        if job.rhythm:
            if data.train_labels is not None:
                raise ValueError(
                    f"{job.student} reads rhythm: its anchor is fitted on the training split's "
                    f"own labels, not on {data.labels!r}; train the window-only student instead"
                )
            rhythm_head.anchor_rhythm(model, tr, va)  # a rhythm model starts at the baseline
        initial = model_fingerprint(model)
        x_tr, x_va = (model_inputs(s, job.rhythm) for s in (tr, va))
        loss = kd_loss(
            job.temperature if job.kd else 1.0,
            job.alpha,
            pos_weight=balancing_weight(y_tr[~np.isnan(y_tr)]),
        )
        trained, fit_tr, fit_va = model, x_tr, x_va
        head = model.trainable() if hasattr(model, "trainable") else None
        if head is not None:  # a frozen front (a latent student's encoder) runs once per window
            trained = head
            if not (weights is not None and train.finished_checkpoint(weights, key, settings)):
                fit_tr, fit_va = model.frozen_inputs(x_tr), model.frozen_inputs(x_va)
            # (a finished run is only reloaded: fit reads none of its inputs)
        result = fit(
            trained,
            TrainData(fit_tr, y_tr, data.teacher_logits["train"] if job.kd else None),
            TrainData(fit_va, va.y),
            loss,
            settings,
            seed=job.seed,
            device=device,
            checkpoint=weights,
            key=key,
            progress=progress,
            desc=f"{job.student} {job.dataset} T={job.temperature:g} a={job.alpha:g}",
        )
        model.cpu()
        kept = scores_path(weights)
        scores = saved_scores(kept, key, score_test) if result.reused else None
        if scores is None:  # trained now, or a run from before scores were kept: predict
            predicted = {"val": (va, x_va)}
            if score_test:
                predicted["test"] = (te, model_inputs(te, job.rhythm))
            scores = {
                name: unit_scores(split, predict(model, x, batch_size=settings.eval_batch_size))
                for name, (split, x) in predicted.items()
            }
            if kept is not None:
                save_scores(kept, key, scores)
        threshold = youden_threshold(*scores["val"])
        metrics = binary_metrics(*scores["test"], threshold) if score_test else {}
        record = {
            **job.as_dict(),
            "kd": job.kd,
            "model": job_label(job, label),
            "teacher": data.teacher_label,
            "labels": data.labels,
            "initial_weights": initial,
            "best_epoch": result.best_epoch,
            "epochs_run": len(result.history),
            "val_auroc": binary_metrics(*scores["val"], threshold)["auroc"],
            **{f"test_{k}": v for k, v in metrics.items()},
            **describe(model),
            "seconds": round(time.perf_counter() - started, 2),
        }
        return TrainedRun(record, model, result.history, scores)


_RUNNER_CODE = cache.fingerprint(inspect.getsource(train_student) + inspect.getsource(unit_scores))


def scores_path(weights: Path | None) -> Path | None:
    """Where a grid run keeps the (labels, logits) of the splits it scored, beside its weights: a
    reloaded run reads them instead of predicting again (the same numbers: the same weights, one
    thread)."""
    return None if weights is None else Path(weights).with_suffix(".scores.npz")


def save_scores(path: Path, key: str, scores: dict[str, tuple[np.ndarray, np.ndarray]]) -> None:
    arrays = {f"{name}.{part}": v for name, yv in scores.items() for part, v in zip("ys", yv)}
    cache.save_arrays(path, arrays, {"key": key})


def saved_scores(
    path: Path | None, key: str, score_test: bool
) -> dict[str, tuple[np.ndarray, np.ndarray]] | None:
    """The scores :func:`save_scores` kept for run ``key`` (None when absent, of another run, or
    without the test split a caller wants)."""
    if path is None or not path.is_file():
        return None
    arrays, meta = cache.load_arrays(path)
    names = ("val", "test") if score_test else ("val",)
    if meta.get("key") != key or any(f"{n}.s" not in arrays for n in names):
        return None
    return {n: (arrays[f"{n}.y"], arrays[f"{n}.s"]) for n in names}


def job_key(
    job: StudentJob, data: StudentData, settings: TrainSettings, model_code: str = ""
) -> str:
    """What makes a finished run reusable: the job, the data and (with KD) the teacher's targets,
    the settings and the code.

    The code is that of the students, the loss, the training loop and :func:`train_student` (not the
    rest of this module, so editing a table helper keeps finished runs), plus ``model_code``: a
    builder's own fingerprint (the quantum student's circuit code and encoder weights).
    """
    return cache.fingerprint(
        {
            "job": {
                k: (None if isinstance(v, float) and math.isnan(v) else v)
                for k, v in job.as_dict().items()
            },
            "data": data.fingerprint(teacher=job.kd),
            "settings": settings.as_dict(),
            "code": cache.code_version(models, kd, train, modelinfo, rhythm_mod, rhythm_head)
            + _RUNNER_CODE,
            **({"model": model_code} if model_code else {}),
        }
    )


def append_row(path: Path, row: dict) -> None:
    """Add one record to the results CSV, rewriting it atomically (never half a file)."""
    path = Path(path)
    table = cache.read_table(path) if path.is_file() else pd.DataFrame()
    table = pd.concat([table, pd.DataFrame([row])], ignore_index=True)
    cache.atomic_write(path, lambda tmp: table.to_csv(tmp, index=False))


def run_grid(
    jobs: list[StudentJob],
    data: StudentData | list[StudentData],
    settings: TrainSettings,
    results: Path,
    *,
    n_jobs: int = 1,
    device: str = "cpu",
    progress: bool = True,
    build: Builder = classical_student,
    label: str | None = None,
    model_code: str = "",
    epoch_bars: bool = False,
    score_test: bool = True,
    cluster: str | None = None,
) -> pd.DataFrame:
    """Run every job not already in ``results`` (a CSV), append each as it finishes, return the
    jobs' rows. ``cluster``: a Dask scheduler's address (:mod:`ecgkd.cluster`); None: ``n_jobs``
    local workers.

    ``build``, ``label`` and ``model_code`` are passed on to :func:`train_student` and
    :func:`job_key` (the quantum student's builder; the defaults train the classical students),
    ``score_test`` to :func:`train_student`.
    ``epoch_bars`` adds each run's own bar over its epochs, worth it when one run takes minutes
    (full mode); only with ``n_jobs=1``, since bars from parallel workers would interleave.
    """
    from joblib import Parallel, delayed

    from ..cluster import grid_backend

    results = Path(results)
    done = set(cache.read_table(results)["key"]) if results.is_file() else set()
    datas = job_data(jobs, data)
    keys = [job_key(job, d, settings, model_code) for job, d in zip(jobs, datas)]
    todo = list({k: (job, d, k) for job, d, k in zip(jobs, datas, keys) if k not in done}.values())
    options = {
        "device": device,
        "progress": progress and epoch_bars and n_jobs == 1 and not cluster,
        "build": build,
        "label": label,
        "score_test": score_test,
    }
    if todo:
        results.with_suffix("").mkdir(parents=True, exist_ok=True)
        unique = list({id(d): d for _, d, _ in todo}.values())
        with grid_backend(cluster, n_jobs, unique, results.with_suffix("")) as workers:
            runner = Parallel(n_jobs=workers, return_as="generator_unordered")(
                delayed(grid_row)(job, d, settings, weights_path(results, key), key, options)
                for job, d, key in todo
            )
            for row in progress_bar(
                runner, desc=f"{datas[0].dataset} students", enabled=progress, total=len(todo)
            ):
                append_row(results, row)
    return finished_runs(jobs, data, settings, results, model_code)


def job_data(jobs: list[StudentJob], data: StudentData | list[StudentData]) -> list[StudentData]:
    """The data of each job: one :class:`StudentData` for all, or a list aligned with ``jobs``
    (a study whose runs differ in their training labels, notebook 07's scarce labels)."""
    if isinstance(data, StudentData):
        return [data] * len(jobs)
    if len(data) != len(jobs):
        raise ValueError(f"{len(jobs)} jobs and {len(data)} data: give one data per job")
    return list(data)


def grid_row(
    job: StudentJob,
    data: StudentData,
    settings: TrainSettings,
    weights: Path,
    key: str,
    options: dict,
) -> dict:
    """One grid run as its results row (a worker's task; ``data`` comes first-class so that a
    cluster receives it once, scattered)."""
    run = train_student(job, data, settings, weights=weights, key=key, **options)
    return {**run.record, "key": key}


def weights_path(results: Path, key: str) -> Path:
    """Where a grid run's trained weights (and training curves) live: beside its results CSV,
    ``<results without .csv>/<key>.pt``."""
    return Path(results).with_suffix("") / f"{key}.pt"


def describe_job(job: StudentJob) -> str:
    """'no KD' or 'KD T=2 alpha=0.75': how a configuration is named in the comparison."""
    return "no KD" if job.alpha == 0 else f"KD T={job.temperature:g} alpha={job.alpha:g}"


def finished_runs(
    jobs: list[StudentJob],
    data: StudentData | list[StudentData],
    settings: TrainSettings,
    results: Path,
    model_code: str = "",
) -> pd.DataFrame:
    """The rows of ``results`` that belong to ``jobs`` (same data, settings and code), in the
    order of ``jobs`` (not the order the runs finished in, which depends on the workers), training
    nothing."""
    results = Path(results)
    if not results.is_file():
        return pd.DataFrame(columns=["key"])
    keys = [job_key(job, d, settings, model_code) for job, d in zip(jobs, job_data(jobs, data))]
    order = {key: i for i, key in reversed(list(enumerate(keys)))}  # a key's first job
    table = cache.read_table(results)
    table = table[table["key"].isin(order)]
    return table.sort_values("key", key=lambda k: k.map(order), kind="stable").reset_index(
        drop=True
    )


def results_path(cfg: Config, kind: str, dataset: str) -> Path:
    """Where a grid's finished runs live: ``<cache>/results/<kind>-<mode>-<dataset>.csv``
    (``kind``: ``students`` for the classical grid, ``quantum`` for the latent students)."""
    return Path(cfg.cache_root) / "results" / f"{kind}-{cfg.mode}-{dataset}.csv"


def job_of_row(row: pd.Series, rhythm: bool | None = None) -> StudentJob:
    """The job a results row ran (``rhythm``: the same job reading, or not reading, the rhythm
    features; None keeps the row's own)."""
    reads = bool(row.get("rhythm", False)) if rhythm is None else rhythm
    temperature = float(row["temperature"]) if row["alpha"] > 0 else math.nan
    return StudentJob(
        row["dataset"],
        row["student"],
        temperature,
        float(row["alpha"]),
        int(row["seed"]),
        float(row.get("width", 1.0)),
        reads,
    )


def selected_jobs(
    runs: pd.DataFrame, seeds: tuple[int, ...] | None = None, rhythm: bool | None = None
) -> list[StudentJob]:
    """The configurations every later step uses, for each dataset and model of ``runs`` (finished
    grid rows), in the order the models first appear: no KD, and the KD cell that
    :func:`~ecgkd.students.tables.best_kd_cell` picks on validation; for each of ``seeds``
    (default: the seeds the runs hold). ``rhythm``: as in :func:`job_of_row`."""
    jobs = []
    for _, rows in runs.groupby(["dataset", "model"], sort=False):
        first = job_of_row(rows.iloc[0], rhythm)
        cells = [(math.nan, 0.0)] if (rows["alpha"] == 0).any() else []
        cells += [cell] if (cell := best_kd_cell(rows)) is not None else []
        for seed in seeds if seeds is not None else sorted(rows["seed"].unique()):
            jobs += [replace(first, temperature=t, alpha=a, seed=int(seed)) for t, a in cells]
    return jobs


@dataclass(frozen=True)
class Selection:
    """A trained configuration chosen for a later step: the job (student, T, alpha, seed, width,
    rhythm), its run key and where its weights are. What stages hand each other instead of table
    columns."""

    job: StudentJob
    key: str
    weights: Path

    @property
    def description(self) -> str:
        """'no KD' or 'KD T=2 alpha=0.5' (:func:`describe_job`)."""
        return describe_job(self.job)


@dataclass(frozen=True)
class Grid:
    """A study's grid under one configuration: its results file (``kind``, :func:`results_path`),
    the runs' settings and builder, and ``cfg``'s workers, cluster and device. The one way every
    stage runs, reads back and reloads grid runs.

    ``build``, ``label`` and ``model_code``: the classical students by default; the latent
    students pass their encoder's builder (:meth:`ecgkd.quantum.model.QuantumBuilder`)."""

    cfg: Config
    kind: str
    settings: TrainSettings
    build: Builder = classical_student
    label: str | None = None
    model_code: str = ""

    def path(self, dataset: str) -> Path:
        """The results CSV of this grid for ``dataset``."""
        return results_path(self.cfg, self.kind, dataset)

    def run(
        self,
        jobs: list[StudentJob],
        data: StudentData | list[StudentData],
        *,
        progress: bool = True,
        epoch_bars: bool = False,
        score_test: bool = True,
    ) -> pd.DataFrame:
        """:func:`run_grid` of ``jobs`` on ``data`` (one for all, or one per job): the runs not
        finished yet are trained."""
        return run_grid(
            jobs,
            data,
            self.settings,
            self.path(data.dataset if isinstance(data, StudentData) else data[0].dataset),
            n_jobs=self.cfg.n_jobs,
            cluster=self.cfg.cluster,
            device=self.cfg.grids_on,
            progress=progress,
            build=self.build,
            label=self.label,
            model_code=self.model_code,
            epoch_bars=epoch_bars,
            score_test=score_test,
        )

    def finished(self, jobs: list[StudentJob], data: StudentData) -> pd.DataFrame:
        """The finished rows of ``jobs`` (:func:`finished_runs`); nothing is trained."""
        return finished_runs(jobs, data, self.settings, self.path(data.dataset), self.model_code)

    def select(self, job: StudentJob, data: StudentData) -> Selection:
        """``job`` as a :class:`Selection`: its key and its weights' file in this grid."""
        key = job_key(job, data, self.settings, self.model_code)
        return Selection(job, key, weights_path(self.path(data.dataset), key))

    def load(
        self, selection: Selection, data: StudentData, *, expect_saved: bool = True
    ) -> TrainedRun:
        """The selected run, its saved weights reloaded (nothing trained). Where they are missing
        (a deleted file), the run is trained again from its seed, which reproduces it, and saved;
        a line on stderr says so (``expect_saved=False``: a run no grid makes, trained here the
        first time, silently)."""
        job = selection.job
        if expect_saved and not train.finished_checkpoint(
            selection.weights, selection.key, self.settings
        ):
            print(
                f"{job_label(job, self.label)} ({selection.description}, seed {job.seed}) on "
                f"{job.dataset}: no saved weights at {selection.weights}; training it again (a "
                "few seconds to minutes)",
                file=sys.stderr,
            )
        return train_student(
            job,
            data,
            self.settings,
            device=self.cfg.grids_on,
            build=self.build,
            label=self.label,
            weights=selection.weights,
            key=selection.key,
        )
