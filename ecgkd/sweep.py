"""Training students with and without distillation: one tidy record per run, T x alpha grids via joblib.

A run is (dataset, student, T, alpha, seed). For a given seed the student starts from the same initial
weights and sees the training windows in the same order whatever T and alpha are, so a difference
between a KD run and the no-KD run (alpha = 0) of that seed comes from the loss alone.

Grids are dispatched through joblib (``n_jobs`` from ``ECGKD_JOBS``); to run them on a cluster, wrap the
call in ``joblib.parallel_config(backend="dask")`` with a Dask client. Every finished run is appended to a
CSV at once (written atomically) and skipped when the grid is run again, so an interrupted sweep resumes.
"""

from __future__ import annotations

import inspect
import math
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd
from torch import nn

from . import cache, distill, students, train
from .config import Config, seed_everything
from .data.split import Split
from .distill import kd_loss
from .evaluate import binary_metrics, per_record, youden_threshold
from .progress import progress_bar
from .students import build_student, describe
from .teacher.finetune import model_fingerprint
from .train import TrainData, TrainSettings, balancing_weight, fit, predict

TEMPERATURES = (1.0, 2.0, 4.0, 8.0)
ALPHAS = (0.0, 0.25, 0.5, 0.75, 1.0)
QUICK_TEMPERATURES = (2.0, 4.0)
QUICK_ALPHAS = (0.0, 0.5, 1.0)
SEEDS = (0, 1, 2)
QUICK_WIDTH = {"resnet1d": 0.5, "cnn1d": 1.0}  # the quick-mode ResNet-1D is half as wide


@dataclass(frozen=True)
class StudentJob:
    """One training run. ``temperature`` is NaN for alpha = 0 (no distillation: T plays no part)."""

    dataset: str
    student: str
    temperature: float
    alpha: float
    seed: int
    width: float = 1.0

    @property
    def kd(self) -> bool:
        return self.alpha > 0

    def as_dict(self) -> dict:
        return asdict(self)


def student_settings(cfg: Config, dataset: str) -> TrainSettings:
    """Our choice of optimisation for the students (both datasets, both students, KD or not).

    On MIT-BIH an epoch is 8192 windows drawn from DS1's ~45 k training beats: validation, and so early
    stopping, looks at the model every sixth of a pass, because inter-patient validation AUROC peaks early.
    """
    if cfg.quick:
        return TrainSettings(epochs=5, batch_size=128, lr=3e-3, weight_decay=1e-4, patience=3,
                             samples_per_epoch=2048 if dataset == "mitbih" else None)
    return TrainSettings(epochs=20, batch_size=128, lr=1e-3, weight_decay=1e-4, patience=3,
                         samples_per_epoch=8192 if dataset == "mitbih" else None)


def grid(cfg: Config, dataset: str, names: tuple[str, ...] = ("resnet1d", "cnn1d"),
         temperatures: tuple[float, ...] | None = None, alphas: tuple[float, ...] | None = None,
         seeds: tuple[int, ...] | None = None) -> list[StudentJob]:
    """Every (student, T, alpha, seed) of the sensitivity study; alpha = 0 once per seed, not once per T."""
    temperatures = temperatures or (QUICK_TEMPERATURES if cfg.quick else TEMPERATURES)
    alphas = alphas if alphas is not None else (QUICK_ALPHAS if cfg.quick else ALPHAS)
    seeds = seeds if seeds is not None else ((cfg.seed,) if cfg.quick else tuple(cfg.seed + s for s in SEEDS))
    jobs = []
    for name in names:
        width = QUICK_WIDTH.get(name, 1.0) if cfg.quick else 1.0
        for seed in seeds:
            for alpha in alphas:
                for t in ((math.nan,) if alpha == 0 else temperatures):
                    jobs.append(StudentJob(dataset, name, float(t), float(alpha), int(seed), width))
    return jobs


@dataclass
class StudentData:
    """The student splits of one dataset and the teacher's logits aligned with them."""

    splits: dict[str, Split]
    teacher_logits: dict[str, np.ndarray]
    teacher_label: str
    teacher_fingerprint: str

    @classmethod
    def from_stage(cls, stage) -> "StudentData":
        """From a :class:`ecgkd.teacher.TeacherStage` (outputs checked against the splits)."""
        splits = stage.students.splits
        logits = {name: stage.outputs[name].check(split).logits for name, split in splits.items()}
        return cls(splits, logits, stage.label, stage.outputs["train"].model_fingerprint)

    @property
    def dataset(self) -> str:
        return self.splits["train"].dataset

    def fingerprint(self) -> str:
        return cache.fingerprint({n: s.fingerprint() for n, s in self.splits.items()} | {"teacher": self.teacher_fingerprint})


def scores(split: Split, logits: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(labels, scores) at the unit a dataset is judged on: beats for MIT-BIH, records for PTB-XL."""
    if split.dataset == "ptbxl":
        _, y, s = per_record(split.y, logits, split.record)
        return y, s
    return split.y, logits


Builder = Callable[[StudentJob], nn.Module]


def classical_student(job: StudentJob):
    """The builder of the classical students: :func:`ecgkd.students.build_student` at the job's width."""
    return build_student(job.student, job.seed, width=job.width)


def train_student(job: StudentJob, data: StudentData, settings: TrainSettings, device: str = "cpu",
                  progress: bool = False, return_model: bool = False, build: Builder = classical_student,
                  label: str | None = None) -> dict | tuple[dict, object]:
    """Train one student and return its tidy record (validation-chosen threshold, test metrics).

    With ``return_model`` the trained model comes back too, its training curves in ``model.fit_history``.
    ``build(job)`` returns the freshly initialised model (same seed, same weights); the quantum student
    passes its own builder, which wraps the frozen encoder and the circuit. ``label`` names the model in
    the record (default: the classical student's label).
    """
    started = time.perf_counter()
    seed_everything(job.seed)
    model = build(job)
    initial = model_fingerprint(model)
    tr, va, te = (data.splits[s] for s in ("train", "val", "test"))
    loss = kd_loss(job.temperature if job.kd else 1.0, job.alpha, pos_weight=balancing_weight(tr.y))
    result = fit(model, TrainData(tr.x, tr.y, data.teacher_logits["train"] if job.kd else None),
                 TrainData(va.x, va.y), loss, settings, seed=job.seed, device=device, progress=progress,
                 desc=f"{job.student} {job.dataset} T={job.temperature:g} a={job.alpha:g}")
    model.cpu()
    y_val, s_val = scores(va, predict(model, va.x, batch_size=settings.eval_batch_size))
    y_test, s_test = scores(te, predict(model, te.x, batch_size=settings.eval_batch_size))
    threshold = youden_threshold(y_val, s_val)
    metrics = binary_metrics(y_test, s_test, threshold)
    record = {**job.as_dict(), "kd": job.kd, "model": label or students.STUDENT_LABELS[job.student],
              "teacher": data.teacher_label, "initial_weights": initial, "best_epoch": result.best_epoch,
              "epochs_run": len(result.history), "val_auroc": binary_metrics(y_val, s_val, threshold)["auroc"],
              **{f"test_{k}": v for k, v in metrics.items()}, **describe(model),
              "seconds": round(time.perf_counter() - started, 2)}
    if return_model:
        model.fit_history = result.history  # the training curves, for plots
        return record, model
    return record


_RUNNER_CODE = cache.fingerprint(inspect.getsource(train_student) + inspect.getsource(scores))


def job_key(job: StudentJob, data: StudentData, settings: TrainSettings, model_code: str = "") -> str:
    """What makes a finished run reusable: the job, the data and teacher, the settings and the code.

    The code is that of the students, the loss, the training loop and :func:`train_student` (not the rest
    of this module, so editing a table helper keeps finished runs), plus ``model_code``: a builder's own
    fingerprint (the quantum student's circuit code and encoder weights).
    """
    return cache.fingerprint({"job": {k: (None if isinstance(v, float) and math.isnan(v) else v)
                                      for k, v in job.as_dict().items()},
                              "data": data.fingerprint(), "settings": settings.as_dict(),
                              "code": cache.code_version(students, distill, train) + _RUNNER_CODE,
                              **({"model": model_code} if model_code else {})})


def append_row(path: Path, row: dict) -> None:
    """Add one record to the results CSV, rewriting it atomically (never half a file)."""
    path = Path(path)
    table = pd.read_csv(path) if path.is_file() else pd.DataFrame()
    table = pd.concat([table, pd.DataFrame([row])], ignore_index=True)
    cache.atomic_write(path, lambda tmp: table.to_csv(tmp, index=False))


def run_grid(jobs: list[StudentJob], data: StudentData, settings: TrainSettings, results: Path, *,
             n_jobs: int = 1, device: str = "cpu", progress: bool = True, build: Builder = classical_student,
             label: str | None = None, model_code: str = "", epoch_bars: bool = False) -> pd.DataFrame:
    """Run every job not already in ``results`` (a CSV), append each as it finishes, return the jobs' rows.

    ``build``, ``label`` and ``model_code`` are passed on to :func:`train_student` and :func:`job_key`
    (the quantum student's builder; the defaults train the classical students). ``epoch_bars`` adds each
    run's own bar over its epochs, worth it when one run takes minutes (full mode); only with ``n_jobs=1``,
    since bars from parallel workers would interleave.
    """
    from joblib import Parallel, delayed

    results = Path(results)
    done = set(pd.read_csv(results)["key"]) if results.is_file() else set()
    keys = {job: job_key(job, data, settings, model_code) for job in jobs}
    todo = [job for job in jobs if keys[job] not in done]

    def one(job: StudentJob) -> dict:
        return {**train_student(job, data, settings, device=device, progress=progress and epoch_bars and n_jobs == 1,
                                build=build, label=label), "key": keys[job]}

    if todo:
        runner = Parallel(n_jobs=n_jobs, return_as="generator_unordered")(delayed(one)(job) for job in todo)
        for row in progress_bar(runner, desc=f"{data.dataset} students", enabled=progress, total=len(todo)):
            append_row(results, row)
    return finished_runs(jobs, data, settings, results, model_code)


def finished_runs(jobs: list[StudentJob], data: StudentData, settings: TrainSettings, results: Path,
                  model_code: str = "") -> pd.DataFrame:
    """The rows of ``results`` that belong to ``jobs`` (same data, settings and code), training nothing."""
    results = Path(results)
    if not results.is_file():
        return pd.DataFrame(columns=["key"])
    keys = {job_key(job, data, settings, model_code) for job in jobs}
    table = pd.read_csv(results)
    return table[table["key"].isin(keys)].reset_index(drop=True)


def results_path(cfg: Config, kind: str, dataset: str) -> Path:
    """Where a grid's finished runs live: ``<cache>/results/<kind>-<mode>-<dataset>.csv``
    (``kind``: ``students`` for the classical grid, ``quantum`` for the latent students)."""
    return Path(cfg.cache_root) / "results" / f"{kind}-{cfg.mode}-{dataset}.csv"


def run_classical_grid(cfg: Config, data: StudentData, progress: bool = True) -> pd.DataFrame:
    """The classical T x alpha study of notebook 03 for one dataset, as ``cfg`` sets it (grid, settings, jobs,
    device; each run's epoch bar in full mode, where one run takes minutes)."""
    name = data.dataset
    return run_grid(grid(cfg, name), data, student_settings(cfg, name), results_path(cfg, "students", name),
                    n_jobs=cfg.n_jobs, device=cfg.device, progress=progress, epoch_bars=not cfg.quick)


def finished_classical_grid(cfg: Config, data: StudentData) -> pd.DataFrame:
    """The finished rows of :func:`run_classical_grid` for this mode and data; nothing is trained."""
    name = data.dataset
    return finished_runs(grid(cfg, name), data, student_settings(cfg, name), results_path(cfg, "students", name))


def gain_table(table: pd.DataFrame, metric: str = "test_auroc") -> pd.DataFrame:
    """Each KD run's ``metric`` minus that of the no-KD run of the same dataset, student and seed."""
    base = table[table["alpha"] == 0].set_index(["dataset", "student", "seed"])[metric].rename("no_kd")
    kd = table[table["alpha"] > 0].join(base, on=["dataset", "student", "seed"])
    return kd.assign(gain=kd[metric] - kd["no_kd"])


def by_temperature(table: pd.DataFrame) -> pd.DataFrame:
    """The no-KD rows (alpha = 0, T = NaN) repeated under every temperature of the grid, for heatmaps."""
    temperatures = sorted(table.loc[table["alpha"] > 0, "temperature"].dropna().unique())
    plain = table[table["alpha"] == 0]
    copies = [plain.assign(temperature=t) for t in temperatures]
    return pd.concat([table[table["alpha"] > 0], *copies], ignore_index=True)


def summary_table(table: pd.DataFrame, metric: str = "test_auroc") -> pd.DataFrame:
    """Per dataset and student: no-KD mean, best KD (T, alpha) by validation AUROC, and its test gain."""
    rows = []
    for (dataset, model), group in table.groupby(["dataset", "model"], sort=True):
        plain = group[group["alpha"] == 0]
        kd = group[group["alpha"] > 0]
        means = kd.groupby(["temperature", "alpha"])[["val_auroc", metric]].mean()
        best = means["val_auroc"].idxmax() if len(means) else (math.nan, math.nan)
        rows.append({"dataset": dataset, "student": model, "seeds": plain["seed"].nunique(),
                     f"no KD {metric}": plain[metric].mean(), "best KD T (by val)": best[0],
                     "best KD alpha (by val)": best[1],
                     f"best KD {metric}": means.loc[best, metric] if len(means) else math.nan})
        rows[-1]["gain"] = rows[-1][f"best KD {metric}"] - rows[-1][f"no KD {metric}"]
    return pd.DataFrame(rows)
