"""The comparison: the teacher and every student evaluated the same way on the same test split.

For each student the comparison takes two configurations from its finished T x alpha grid: no KD,
and the KD setting with the best mean validation AUROC; both for seed ``cfg.seed``. The grid kept
each run's trained weights, so the comparison reloads them (nothing is trained) and scores the test
split with :func:`ecgkd.scoring.evaluate_scores`. Nothing is chosen on the test split.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..config import Config
from ..data.rhythm import RHYTHM_SUFFIX, model_inputs
from ..modelinfo import describe
from ..progress import progress_bar
from ..rhythm_head import RHYTHM
from ..scoring.bootstrap import paired_auroc_difference
from ..scoring.metrics import latency_ms, unit_groups, unit_scores
from ..scoring.reports import ModelReport, evaluate_scores
from ..students.grid import StudentJob, describe_job, results_path, trained_model
from ..students.inputs import StudentData
from ..students.stage import finished_classical_grid, student_settings
from ..students.tables import summary_table
from ..train import predict, torch_threads
from .baselines import baseline_reports

if TYPE_CHECKING:
    from ..quantum.hardware import Transpiled
    from ..quantum.model import LatentStudent
    from ..quantum.stage import AutoencoderRun, DeviceScores, LatentEncoders


def teacher_report(stage, resamples: int = 1000, seed: int = 0) -> ModelReport:
    """The teacher, judged where the students are: MIT-BIH beats (bootstrap by record), PTB-XL
    records (bootstrap by patient)."""
    (val, s_val), (test, s_test) = stage.split_logits("val"), stage.split_logits("test")
    beats = test.dataset == "mitbih"
    if not beats:  # the teacher's record rows, put in the order the students' records are scored
        order = np.argsort(np.asarray(test.record).astype(str), kind="stable")
        test, s_test = test.subset(order), np.asarray(s_test)[order]
    # one row per beat (MIT-BIH, grouped by record) or per record (PTB-XL, grouped by patient)
    groups, classes = (test.record, test.aami) if beats else (test.patient, None)
    efficiency = describe(stage.run.model)
    report = evaluate_scores(
        f"teacher ({stage.label})",
        test.dataset,
        val.y,
        s_val,
        test.y,
        s_test,
        groups=groups,
        classes=classes,
        efficiency=efficiency,
        resamples=resamples,
        seed=seed,
    )
    report.latency_ms = latency_ms(stage.run.model, stage.input_shape())
    report.role = "teacher"
    return report


def student_report(
    name: str,
    model,
    data: StudentData,
    efficiency: dict | None = None,
    resamples: int = 1000,
    seed: int = 0,
    rhythm: bool = False,
) -> ModelReport:
    """A trained student on its dataset's test split (PTB-XL scored per record and bootstrapped by
    patient, MIT-BIH scored per beat and bootstrapped by record); ``rhythm``: the model reads the
    rhythm features with the window. A model from :func:`ecgkd.students.grid.trained_model` brings
    the scores its run computed (``split_scores``): they are not computed twice."""
    val, test = data.splits["val"], data.splits["test"]
    x_val, x_test = model_inputs(val, rhythm), model_inputs(test, rhythm)
    scored = getattr(model, "split_scores", {})
    if {"val", "test"} <= scored.keys():
        (y_val, s_val), (y_test, s_test) = scored["val"], scored["test"]
    else:
        with torch_threads(1):  # as in the grid run, so the logits are its logits, bit for bit
            y_val, s_val = unit_scores(val, predict(model, x_val))
            y_test, s_test = unit_scores(test, predict(model, x_test))
    mitbih = data.dataset == "mitbih"
    report = evaluate_scores(
        name,
        data.dataset,
        y_val,
        s_val,
        y_test,
        s_test,
        groups=unit_groups(test),
        classes=test.aami if mitbih else None,
        efficiency={**describe(model), **(efficiency or {})},
        resamples=resamples,
        seed=seed,
    )
    report.latency_ms = latency_ms(model, (1, *x_test.shape[1:]))
    return report


def finished_grids(
    cfg: Config, data: StudentData, encoders: LatentEncoders | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The finished rows of the classical grid and (with the dataset's latent ``encoders``) of the
    VQC and control grids, for this mode and data; nothing is trained."""
    from ..quantum.stage import finished_latent_grids

    classical = finished_classical_grid(cfg, data)
    if encoders is None:
        return classical, pd.DataFrame(columns=["key"])
    return classical, finished_latent_grids(cfg, data, encoders)


def bootstrap_resamples(cfg: Config) -> int:
    """Bootstrap resamples per model: 200 in quick mode, 1000 in full mode."""
    return 200 if cfg.quick else 1000


def selected_jobs(results: pd.DataFrame, model: str, seed: int) -> list[tuple[str, StudentJob]]:
    """(description, job) of the grid's ``model`` (a student, with or without rhythm) for no KD and
    for the best KD setting by validation, when the grid has them."""
    rows = results[results["model"] == model]
    if rows.empty:
        return []
    first = rows.iloc[0]
    dataset, student, width = first["dataset"], first["student"], float(first["width"])
    rhythm = bool(first.get("rhythm", False))

    def job(t: float, a: float) -> StudentJob:
        return StudentJob(dataset, student, t, a, seed, width, rhythm)

    jobs = [job(math.nan, 0.0)] if (rows["alpha"] == 0).any() else []
    if (rows["alpha"] > 0).any():
        best = summary_table(rows).iloc[0]
        jobs.append(job(float(best["best KD T (by val)"]), float(best["best KD alpha (by val)"])))
    return [(describe_job(job), job) for job in jobs]


def compare(
    cfg: Config,
    stage,
    classical: pd.DataFrame,
    quantum: pd.DataFrame | None = None,
    encoders: LatentEncoders | None = None,
    resamples: int = 1000,
    progress: bool = False,
    window_teacher=None,
) -> list[ModelReport]:
    """The teacher, the baselines (:mod:`.baselines`), then each student (no KD and best KD) on
    ``stage``'s dataset.

    ``classical`` and ``quantum`` are finished grid rows (``ecgkd.students.grid.finished_runs``);
    ``encoders`` are the dataset's :class:`ecgkd.quantum.stage.LatentEncoders`, needed for the
    latent students. ``window_teacher``: the window-only teacher's stage where ``stage``'s teacher
    reads rhythm, reported as a baseline (the ablation of the teacher's rhythm). Each student is
    its grid run's saved model (trained again from its seed, bit-equal, only where the weights are
    missing) and bootstrapped: with ``progress``, a bar per model.
    """
    data = StudentData.from_stage(stage)
    if classical.empty:
        raise ValueError(
            f"no finished classical-student runs for {data.dataset} in {cfg.mode} mode under "
            f"{cfg.cache_root}: run the students stage first (notebook 03, or python -m ecgkd "
            "--stages students)"
        )
    steps: list[tuple[str, Callable[[], ModelReport]]] = [
        ("teacher", lambda: teacher_report(stage, resamples, cfg.seed)),
        ("baselines", lambda: baseline_reports(data.splits, resamples, cfg.seed)),
    ]

    def window_teacher_report() -> ModelReport:
        report = teacher_report(window_teacher, resamples, cfg.seed)
        report.role = "baseline"
        return report

    if window_teacher is not None:
        steps.append(("window-only teacher", window_teacher_report))

    def configuration_report(
        record: dict, model, job: StudentJob, kind: str, efficiency: dict | None = None
    ) -> ModelReport:
        """A trained configuration's report, named and marked for pairing (no KD / KD)."""
        report = student_report(
            f"{record['model']}, {kind}",
            model.cpu(),
            data,
            efficiency=efficiency,
            resamples=resamples,
            seed=cfg.seed,
            rhythm=job.rhythm,
        )
        report.family, report.kd = record["model"], job.kd
        return report

    def classical_report(job: StudentJob, kind: str) -> ModelReport:
        record, model = trained_model(
            job,
            data,
            student_settings(cfg, data.dataset),
            results_path(cfg, "students", data.dataset),
            device=cfg.device,
        )
        return configuration_report(record, model, job, kind)

    for model in classical["model"].unique():
        steps += [
            (f"{model}, {kind}", partial(classical_report, job, kind))
            for kind, job in selected_jobs(classical, model, cfg.seed)
        ]
    if quantum is not None and encoders is not None and not quantum.empty:
        from ..quantum import hardware
        from ..quantum.stage import train_one

        builder = encoders.main.builder()
        any_job = StudentJob(data.dataset, "vqc", math.nan, 0.0, 0, rhythm=builder.reads_rhythm)
        compiled = hardware.transpile_for(
            builder(any_job).head.vqc,
            hardware.fake_backend(),
            seed=cfg.seed,
        )
        circuit = circuit_costs(builder.spec.qubits, compiled, math.inf)

        def latent_report(job: StudentJob, kind: str) -> ModelReport:
            record, model = train_one(cfg, data, encoders.for_job(job).builder(), job)
            return configuration_report(
                record, model, job, kind, circuit if job.student == "vqc" else None
            )

        for model in quantum["model"].unique():
            steps += [
                (f"{model}, {kind}", partial(latent_report, job, kind))
                for kind, job in selected_jobs(quantum, model, cfg.seed)
            ]
    bar = progress_bar(steps, desc=f"evaluate {data.dataset}", enabled=progress)
    reports = []
    for name, make_report in bar:
        if hasattr(bar, "set_postfix_str"):  # a bar is drawn (not when bars are off)
            bar.set_postfix_str(name)
        made = make_report()
        reports += made if isinstance(made, list) else [made]
    return reports


def circuit_costs(qubits: int, compiled: Transpiled, shots: float) -> dict:
    """What running the VQC costs: qubits, depth and two-qubit gates on the device, shots per
    window."""
    return {
        "qubits": qubits,
        "depth on device": compiled.depth,
        "two-qubit gates": compiled.two_qubit_gates,
        "device": compiled.device,
        "shots": "exact" if math.isinf(shots) else int(shots),
    }


def device_reports(
    name: str,
    student: LatentStudent,
    data: StudentData,
    device_scores: DeviceScores,
    resamples: int = 1000,
    seed: int = 0,
) -> list[ModelReport]:
    """The VQC student evaluated like every other model, once per mode of ``device_scores``
    (:func:`ecgkd.quantum.stage.device_scores`: exact, finite shots, device noise, noise with
    readout mitigation), on its test subset, at the threshold chosen on validation with the exact
    model; then each noisy mode again at the threshold chosen on the device's own validation
    outputs (rows ending "threshold on the device")."""
    test, val, index = data.splits["test"], data.splits["val"], device_scores.index
    exact_val = (device_scores.y_val, device_scores.val_logits)
    device_val = {
        mode: (val.y[device_scores.val_index], logits)
        for mode, logits in device_scores.device_val.items()
    }
    largest = max(n for _, n, _ in device_scores.runs if not math.isinf(n))
    plans = [(mode, shots, logits, exact_val, "") for mode, shots, logits in device_scores.runs]
    plans += [
        (mode, shots, logits, device_val[mode], ", threshold on the device")
        for mode, shots, logits in device_scores.runs
        if mode in device_val and shots == largest
    ]
    return [
        evaluate_scores(
            f"{name}, {mode}" + ("" if math.isinf(shots) else f", {int(shots)} shots") + suffix,
            data.dataset,
            *validation,
            test.y[index],
            logits,
            groups=test.record[index],
            classes=None if test.aami is None else test.aami[index],
            efficiency={
                **describe(student),
                **circuit_costs(student.head.spec.qubits, device_scores.compiled, shots),
            },
            resamples=resamples,
            seed=seed,
        )
        for mode, shots, logits, validation, suffix in plans
    ]


def vqc_on_device(
    cfg: Config,
    data: StudentData,
    run: AutoencoderRun,
    quantum: pd.DataFrame,
    shots: int = 8192,
    size: int | None = None,
    resamples: int = 1000,
) -> list[ModelReport]:
    """The best-KD VQC (by validation, seed ``cfg.seed``) on a stratified subset of MIT-BIH test
    windows: exact, with ``shots`` per window, and with ``shots`` under the default device's noise
    model, raw and readout-mitigated, at the exact model's threshold and at the device's own
    (:func:`device_reports`).

    ``size`` defaults to :func:`ecgkd.quantum.stage.hardware_windows` (the noisy simulation's cost).
    """
    from ..quantum.stage import best_vqc, device_scores, hardware_cache, hardware_windows

    job, record, model = best_vqc(cfg, data, run, quantum)
    size = size or hardware_windows(cfg)
    scored = device_scores(
        model, data, shots=(shots,), size=size, seed=cfg.seed, cache_dir=hardware_cache(cfg)
    )
    return device_reports(
        f"{record['model']}, {describe_job(job)}", model, data, scored, resamples, cfg.seed
    )


def report_table(reports: list[ModelReport]) -> pd.DataFrame:
    """One row per model: metrics with 95% intervals, calibration, efficiency."""
    return pd.DataFrame([r.row() for r in reports])


def per_class_table(reports: list[ModelReport]) -> pd.DataFrame:
    """Share of each AAMI class called abnormal, one column per model (MIT-BIH reports only)."""
    from ..scoring.metrics import per_class_detection

    columns = {
        r.model: per_class_detection(r.classes, r.scores, r.threshold)["called abnormal"]
        for r in reports
        if r.classes is not None
    }
    return pd.DataFrame(columns).rename_axis(columns="model")


def retention_table(
    reports: list[ModelReport], resamples: int = 1000, seed: int = 0
) -> pd.DataFrame:
    """Each student against its dataset's teacher, on the same units.

    Columns: both AUROCs; the paired difference student - teacher with a bootstrap interval that
    resamples the same records (MIT-BIH) or patients (PTB-XL) for both; and the student's share of
    the teacher's AUROC above chance, (AUROC_s - 0.5) / (AUROC_t - 0.5). Chance is 0.5, so the raw
    ratio AUROC_s / AUROC_t flatters every model: a random one "keeps" more than half of a good
    teacher's AUROC; on the share above chance it keeps 0.
    """
    teachers = {r.dataset: r for r in reports if r.role == "teacher"}
    rows = []
    for report in reports:
        if report.role != "student" or report.dataset not in teachers:
            continue
        teacher = teachers[report.dataset]
        if not np.array_equal(report.y, teacher.y):
            raise ValueError(
                f"{report.model} and the teacher are scored on other {report.dataset} "
                "units: a paired difference needs the same test units in one order"
            )
        student_auroc, teacher_auroc = report.metrics["auroc"], teacher.metrics["auroc"]
        difference, low, high = paired_auroc_difference(
            report.y, report.scores, teacher.scores, report.groups, resamples, seed
        )
        rows.append(
            {
                "dataset": report.dataset,
                "model": report.model,
                "auroc": student_auroc,
                "teacher auroc": teacher_auroc,
                "difference": difference,
                "difference 95% CI": f"[{low:.3f}, {high:.3f}]",
                "share of the teacher's AUROC above chance": (student_auroc - 0.5)
                / (teacher_auroc - 0.5),
                "auroc / teacher": student_auroc / teacher_auroc,
            }
        )
    return pd.DataFrame(rows)


def baseline_table(
    reports: list[ModelReport], resamples: int = 1000, seed: int = 0
) -> pd.DataFrame:
    """Every teacher and student against its dataset's strongest simple baseline (rhythm only on
    MIT-BIH, else the prevalence), on the same units: the paired AUROC difference, its bootstrap
    interval (same records or patients for both), and whether the model beats the baseline, which
    it does only when the whole interval lies above zero."""
    baselines: dict[str, ModelReport] = {}
    for report in reports:
        if report.role == "baseline" and (
            report.dataset not in baselines or report.model == RHYTHM
        ):
            baselines[report.dataset] = report
    rows = []
    for report in reports:
        base = baselines.get(report.dataset)
        if report.role == "baseline" or base is None:
            continue
        if not np.array_equal(report.y, base.y):
            raise ValueError(f"{report.model} and {base.model} are scored on other units")
        difference, low, high = paired_auroc_difference(
            report.y, report.scores, base.scores, report.groups, resamples, seed
        )
        rows.append(
            {
                "dataset": report.dataset,
                "model": report.model,
                "baseline": base.model,
                "auroc": report.metrics["auroc"],
                "baseline auroc": base.metrics["auroc"],
                "difference": difference,
                "difference 95% CI": f"[{low:.3f}, {high:.3f}]",
                "beats the baseline": bool(low > 0),
            }
        )
    return pd.DataFrame(rows)


def kd_gain_table(reports: list[ModelReport], resamples: int = 1000, seed: int = 0) -> pd.DataFrame:
    """Each student's gain from distillation: its best-KD configuration minus its no-KD one (same
    seed, so the same initial weights), as a paired AUROC difference on the same test units, with a
    bootstrap interval that resamples the same records (MIT-BIH) or patients (PTB-XL) for both. A
    gain is distinguishable from zero only when its interval excludes zero."""
    rows = []
    students = [r for r in reports if r.role == "student" and r.kd is not None]
    for plain in (r for r in students if not r.kd):
        for distilled in (
            r for r in students if r.kd and (r.dataset, r.family) == (plain.dataset, plain.family)
        ):
            rows.append(
                {
                    "dataset": plain.dataset,
                    "student": plain.family,
                    "KD configuration": distilled.model.removeprefix(f"{plain.family}, "),
                    "no KD auroc": plain.metrics["auroc"],
                    "KD auroc": distilled.metrics["auroc"],
                    **paired_gain(distilled, plain, "KD", resamples, seed),
                }
            )
    return pd.DataFrame(rows)


def paired_gain(
    report: ModelReport, reference: ModelReport, cause: str, resamples: int, seed: int
) -> dict:
    """``report``'s AUROC minus ``reference``'s on the same test units, with a bootstrap interval
    that resamples the same records or patients for both, and whether the gain is distinguishable
    from zero ("yes: {cause} helped", "yes: {cause} hurt" or "no": the interval holds zero)."""
    if not np.array_equal(report.y, reference.y):
        raise ValueError(f"{report.model} and {reference.model} are scored on other units")
    gain, low, high = paired_auroc_difference(
        report.y, report.scores, reference.scores, report.groups, resamples, seed
    )
    verdict = f"yes: {cause} helped" if low > 0 else f"yes: {cause} hurt" if high < 0 else "no"
    return {
        "gain": gain,
        "gain 95% CI": f"[{low:.3f}, {high:.3f}]",
        "distinguishable from zero": verdict,
    }


def rhythm_gain_table(
    reports: list[ModelReport], resamples: int = 1000, seed: int = 0
) -> pd.DataFrame:
    """What reading the rhythm adds to each model that reads it: its AUROC minus that of the same
    model and configuration on the window alone (the teacher's ablation, or a student's ablation
    row at the same KD cell), paired on the same test units, with a bootstrap interval that
    resamples the same records for both."""
    by_name = {(r.dataset, r.model): r for r in reports}
    rows = []
    for report in reports:
        if RHYTHM_SUFFIX not in report.model:
            continue
        window = by_name.get((report.dataset, report.model.replace(RHYTHM_SUFFIX, "", 1)))
        if window is None:
            continue
        rows.append(
            {
                "dataset": report.dataset,
                "model": report.model,
                "window-only auroc": window.metrics["auroc"],
                "auroc with rhythm": report.metrics["auroc"],
                **paired_gain(report, window, "rhythm", resamples, seed),
            }
        )
    return pd.DataFrame(rows)


def evaluation_tables(
    reports: list[ModelReport], resamples: int = 1000, seed: int = 0
) -> dict[str, pd.DataFrame]:
    """Notebook 05's tables of ``reports``, by the file name :func:`ecgkd.report.save_tables`
    gives them."""
    return {
        "comparison": report_table(reports),
        "retention": retention_table(reports, resamples, seed),
        "baselines": baseline_table(reports, resamples, seed),
        "kd_gains": kd_gain_table(reports, resamples, seed),
        "rhythm_gains": rhythm_gain_table(reports, resamples, seed),
    }
