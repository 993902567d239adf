"""The comparison: the teacher and every student evaluated the same way on the same test split.

For each student the comparison takes two configurations from its finished T x alpha grid: no KD,
and the KD setting with the best mean validation AUROC; both for seed ``cfg.seed``. The grid kept
each run's trained weights, so the comparison reloads them (nothing is trained) and scores the test
split with :func:`ecgkd.scoring.evaluate_scores`. Nothing is chosen on the test split.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import numpy as np
import pandas as pd

from ..config import Config
from ..data.rhythm import RHYTHM_SUFFIX, model_inputs
from ..modelinfo import describe
from ..progress import progress_bar
from ..quantum import hardware
from ..quantum.device import DeviceScores, device_scores, hardware_cache, hardware_windows
from ..quantum.encoders import AutoencoderRun, LatentEncoders, prepare_encoders
from ..quantum.hardware import Transpiled
from ..quantum.model import LatentStudent
from ..quantum.stage import best_vqc, latent_grids, trained_latent
from ..rhythm_head import RHYTHM
from ..scoring.bootstrap import paired_fidelity_difference
from ..scoring.metrics import (
    fidelity,
    fidelity_terms,
    latency_ms,
    per_class_detection,
    roc_auc,
    unit_groups,
    unit_scores,
)
from ..scoring.reports import ModelReport, evaluate_scores, paired_reports
from ..students.grid import StudentJob, TrainedRun, describe_job, selected_jobs
from ..students.inputs import StudentData
from ..students.stage import classical_grid, finished_classical_grid
from ..teacher.stage import PreparedTeacher, prepare_teacher, window_only_teacher
from ..train import predict, torch_threads
from .baselines import baseline_reports


def teacher_report(teacher: PreparedTeacher, resamples: int = 1000, seed: int = 0) -> ModelReport:
    """The teacher, judged where the students are: MIT-BIH beats (bootstrap by record), PTB-XL
    records (bootstrap by patient)."""
    (val, s_val), (test, s_test) = teacher.split_logits("val"), teacher.split_logits("test")
    beats = test.dataset == "mitbih"
    if not beats:  # the teacher's record rows, put in the order the students' records are scored
        order = np.argsort(np.asarray(test.record).astype(str), kind="stable")
        test, s_test = test.subset(order), np.asarray(s_test)[order]
    # one row per beat (MIT-BIH, grouped by record) or per record (PTB-XL, grouped by patient)
    groups, classes = (test.record, test.aami) if beats else (test.patient, None)
    efficiency = describe(teacher.run.model)
    report = evaluate_scores(
        f"teacher ({teacher.label})",
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
    report.latency_ms = latency_ms(teacher.run.model, teacher.input_shape())
    report.role = "teacher"
    return report


def student_report(
    name: str,
    run: TrainedRun,
    data: StudentData,
    efficiency: dict | None = None,
    resamples: int = 1000,
    seed: int = 0,
) -> ModelReport:
    """A trained student on its dataset's test split (PTB-XL scored per record and bootstrapped by
    patient, MIT-BIH scored per beat and bootstrapped by record), from the scores its run computed
    (:attr:`~ecgkd.students.grid.TrainedRun.scores`: nothing is predicted twice)."""
    val, test = data.splits["val"], data.splits["test"]
    if {"val", "test"} <= run.scores.keys():
        (y_val, s_val), (y_test, s_test) = run.scores["val"], run.scores["test"]
    else:  # a run that left the test split unread
        rhythm = bool(run.record.get("rhythm", False))
        with torch_threads(1):  # as in the grid run, so the logits are its logits, bit for bit
            y_val, s_val = unit_scores(val, predict(run.model, model_inputs(val, rhythm)))
            y_test, s_test = unit_scores(test, predict(run.model, model_inputs(test, rhythm)))
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
        efficiency={**describe(run.model), **(efficiency or {})},
        resamples=resamples,
        seed=seed,
    )
    x_one = model_inputs(test.subset(np.arange(1)), bool(run.record.get("rhythm", False)))
    report.latency_ms = latency_ms(run.model, x_one.shape)
    return report


def bootstrap_resamples(cfg: Config) -> int:
    """Bootstrap resamples per model: 200 in quick mode, 1000 in full mode."""
    return 200 if cfg.quick else 1000


def compare(
    cfg: Config,
    teacher: PreparedTeacher,
    classical: pd.DataFrame,
    quantum: pd.DataFrame | None = None,
    encoders: LatentEncoders | None = None,
    resamples: int = 1000,
    progress: bool = False,
    window_teacher: PreparedTeacher | None = None,
) -> list[ModelReport]:
    """The teacher, the baselines (:mod:`.baselines`), then each student's selected configurations
    (:func:`~ecgkd.students.grid.selected_jobs`: no KD and the best KD cell by validation, seed
    ``cfg.seed``) on ``teacher``'s dataset.

    ``classical`` and ``quantum`` are finished grid rows; ``encoders`` are the dataset's
    :class:`~ecgkd.quantum.encoders.LatentEncoders`, needed for the latent students.
    ``window_teacher``: the window-only teacher where ``teacher`` reads rhythm, reported as a
    baseline (the ablation of the teacher's rhythm). Each student is its grid run's saved model
    (trained again from its seed, bit-equal, only where the weights are missing) and bootstrapped:
    with ``progress``, a bar per model.
    """
    data = StudentData.from_teacher(teacher)
    if classical.empty:
        raise ValueError(
            f"no finished classical-student runs for {data.dataset} in {cfg.mode} mode under "
            f"{cfg.cache_root}: run the students stage first (notebook 03, or python -m ecgkd "
            "--stages students)"
        )
    steps: list[tuple[str, Callable[[], ModelReport | list[ModelReport]]]] = [
        ("teacher", lambda: teacher_report(teacher, resamples, cfg.seed)),
        ("baselines", lambda: baseline_reports(data.splits, resamples, cfg.seed)),
    ]

    def window_teacher_report() -> ModelReport:
        report = teacher_report(window_teacher, resamples, cfg.seed)
        report.role = "baseline"
        return report

    if window_teacher is not None:
        steps.append(("window-only teacher", window_teacher_report))

    def configuration_report(
        run: TrainedRun, job: StudentJob, efficiency: dict | None = None
    ) -> ModelReport:
        """A trained configuration's report, named and marked for pairing (no KD / KD)."""
        family = run.record["model"]
        report = student_report(
            f"{family}, {describe_job(job)}",
            run,
            data,
            efficiency=efficiency,
            resamples=resamples,
            seed=cfg.seed,
        )
        report.family, report.kd = family, job.kd
        return report

    grid = classical_grid(cfg, data.dataset)

    def classical_report(job: StudentJob) -> ModelReport:
        return configuration_report(grid.load(grid.select(job, data), data), job)

    jobs = selected_jobs(classical, seeds=(cfg.seed,))
    steps += [(f"{j.student}, {describe_job(j)}", partial(classical_report, j)) for j in jobs]
    if quantum is not None and encoders is not None and not quantum.empty:
        builder = encoders.main.builder()
        any_job = StudentJob(data.dataset, "vqc", math.nan, 0.0, 0, rhythm=builder.reads_rhythm)
        compiled = hardware.transpile_for(
            builder(any_job).head.vqc,
            hardware.fake_backend(),
            seed=cfg.seed,
        )
        circuit = circuit_costs(builder.spec.qubits, compiled, math.inf)

        def latent_report(job: StudentJob) -> ModelReport:
            run = trained_latent(cfg, data, encoders.for_job(job).builder(), job)
            return configuration_report(run, job, circuit if job.student == "vqc" else None)

        steps += [
            (f"{job.student}, {describe_job(job)}", partial(latent_report, job))
            for job in selected_jobs(quantum, seeds=(cfg.seed,))
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
    (:func:`ecgkd.quantum.device.device_scores`: exact, finite shots, device noise, noise with
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
    """The best-KD VQC (by validation, seed ``cfg.seed``) on a stratified subset of ``size``
    MIT-BIH test windows (default :func:`~ecgkd.quantum.device.hardware_windows`: the noisy
    simulation's cost): exact, with ``shots`` per window, and with ``shots`` under the default
    device's noise model, raw and readout-mitigated, at the exact model's threshold and at the
    device's own (:func:`device_reports`)."""
    selection, trained = best_vqc(cfg, data, run, quantum)
    scored = device_scores(
        trained.model,
        data,
        shots=(shots,),
        size=size or hardware_windows(cfg),
        seed=cfg.seed,
        cache_dir=hardware_cache(cfg),
    )
    name = f"{trained.record['model']}, {selection.description}"
    return device_reports(name, trained.model, data, scored, resamples, cfg.seed)


def report_table(reports: list[ModelReport]) -> pd.DataFrame:
    """One row per model: metrics with 95% intervals, calibration, efficiency."""
    return pd.DataFrame([r.row() for r in reports])


def per_class_table(reports: list[ModelReport]) -> pd.DataFrame:
    """Share of each AAMI class called abnormal, one column per model (MIT-BIH reports only)."""
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
    resamples the same records (MIT-BIH) or patients (PTB-XL) for both
    (:func:`~ecgkd.scoring.reports.paired_reports`); and the student's share of the teacher's AUROC
    above chance, (AUROC_s - 0.5) / (AUROC_t - 0.5). Chance is 0.5, so the raw ratio
    AUROC_s / AUROC_t flatters every model: a random one "keeps" more than half of a good
    teacher's AUROC; on the share above chance it keeps 0.
    """
    teachers = {r.dataset: r for r in reports if r.role == "teacher"}
    rows = []
    for report in reports:
        if report.role != "student" or report.dataset not in teachers:
            continue
        teacher = teachers[report.dataset]
        student_auroc, teacher_auroc = report.metrics["auroc"], teacher.metrics["auroc"]
        rows.append(
            {
                "dataset": report.dataset,
                "model": report.model,
                "auroc": student_auroc,
                "teacher auroc": teacher_auroc,
                **paired_reports(report, teacher, resamples, seed),
                "share of the teacher's AUROC above chance": (student_auroc - 0.5)
                / (teacher_auroc - 0.5),
                "auroc / teacher": student_auroc / teacher_auroc,
            }
        )
    return pd.DataFrame(rows)


def strongest_baselines(reports: list[ModelReport]) -> dict[str, ModelReport]:
    """Each dataset's strongest simple baseline among ``reports``: rhythm only on MIT-BIH, else the
    prevalence."""
    baselines: dict[str, ModelReport] = {}
    for report in reports:
        if report.role == "baseline" and (
            report.dataset not in baselines or report.model == RHYTHM
        ):
            baselines[report.dataset] = report
    return baselines


def baseline_table(
    reports: list[ModelReport], resamples: int = 1000, seed: int = 0
) -> pd.DataFrame:
    """Every teacher and student against its dataset's strongest simple baseline
    (:func:`strongest_baselines`), on the same units: the paired AUROC difference and its bootstrap
    interval (same records or patients for both). A model beats the baseline only when the whole
    interval lies above zero."""
    baselines = strongest_baselines(reports)
    rows = []
    for report in reports:
        base = baselines.get(report.dataset)
        if report.role == "baseline" or base is None:
            continue
        rows.append(
            {
                "dataset": report.dataset,
                "model": report.model,
                "baseline": base.model,
                "auroc": report.metrics["auroc"],
                "baseline auroc": base.metrics["auroc"],
                **paired_reports(report, base, resamples, seed),
            }
        )
    return pd.DataFrame(rows)


def kd_gain_table(reports: list[ModelReport], resamples: int = 1000, seed: int = 0) -> pd.DataFrame:
    """Each student's gain from distillation: its best-KD configuration minus its no-KD one (same
    seed, so the same initial weights), as a paired AUROC difference on the same test units, with a
    bootstrap interval that resamples the same records (MIT-BIH) or patients (PTB-XL) for both."""
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
                    **paired_reports(distilled, plain, resamples, seed),
                }
            )
    return pd.DataFrame(rows)


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
                **paired_reports(report, window, resamples, seed),
            }
        )
    return pd.DataFrame(rows)


def _teachers_and_students(reports: list[ModelReport]):
    """(the teacher of each dataset, every student report with one), refusing other units."""
    teachers = {r.dataset: r for r in reports if r.role == "teacher"}
    students = [r for r in reports if r.role == "student" and r.dataset in teachers]
    for report in students:
        if not np.array_equal(report.y, teachers[report.dataset].y):
            raise ValueError(f"{report.model} and its teacher are scored on other test units")
    return teachers, students


def fidelity_table(reports: list[ModelReport]) -> pd.DataFrame:
    """How closely each student behaves like its dataset's teacher on the test units
    (:func:`~ecgkd.scoring.metrics.fidelity`; Stanton et al. 2021): the share of units both call
    alike at their own validation thresholds, the correlation of their logits, and the mean KL
    divergence from the teacher's probabilities to the student's. KD is meant to transfer the
    teacher's behaviour, which accuracy alone does not show."""
    teachers, students = _teachers_and_students(reports)
    rows = []
    for report in students:
        teacher = teachers[report.dataset]
        rows.append(
            {
                "dataset": report.dataset,
                "model": report.model,
                "auroc": report.metrics["auroc"],
                **fidelity(report.scores, report.threshold, teacher.scores, teacher.threshold),
            }
        )
    return pd.DataFrame(rows)


def kd_fidelity_table(
    reports: list[ModelReport], resamples: int = 1000, seed: int = 0
) -> pd.DataFrame:
    """Does distillation make a student more like its teacher? For each student's best-KD
    configuration and its no-KD twin (same seed, same initial weights), each fidelity metric's
    difference KD - no KD, with a bootstrap interval that resamples the same records (MIT-BIH) or
    patients (PTB-XL) for both; one row per (student, metric)."""
    teachers, students = _teachers_and_students(reports)
    rows = []
    for plain in (r for r in students if r.kd is False):
        teacher = teachers[plain.dataset]
        for distilled in (
            r for r in students if r.kd and (r.dataset, r.family) == (plain.dataset, plain.family)
        ):
            terms = [
                fidelity_terms(r.scores, r.threshold, teacher.scores, teacher.threshold)
                for r in (distilled, plain)
            ]
            values = [
                fidelity(r.scores, r.threshold, teacher.scores, teacher.threshold)
                for r in (distilled, plain)
            ]
            paired = paired_fidelity_difference(*terms, plain.groups, resamples, seed)
            for metric, result in paired.items():
                rows.append(
                    {
                        "dataset": plain.dataset,
                        "student": plain.family,
                        "KD configuration": distilled.model.removeprefix(f"{plain.family}, "),
                        "metric": metric,
                        "no KD": values[1][metric],
                        "KD": values[0][metric],
                        **result,
                    }
                )
    return pd.DataFrame(rows)


def own_share_table(
    reports: list[ModelReport], resamples: int = 1000, seed: int = 0
) -> pd.DataFrame:
    """What each anchored model adds of its own. Every model that reads rhythm (MIT-BIH) is the
    rhythm-only regression, fixed, plus its own term (the window term of the teacher and the
    classical students, the circuit's or the MLP's term of the latent students): its logit minus
    the regression's. Per model: the AUROC of the sum, of the anchor and of its own term alone; the
    sum minus the anchor as a paired difference with an interval; and the shares of the logit's
    variance that the anchor and the own term carry (they need not add up to 1: the two
    covary)."""
    anchors = {r.dataset: r for r in reports if r.role == "baseline" and r.model == RHYTHM}
    rows = []
    for report in reports:
        anchor = anchors.get(report.dataset)
        if RHYTHM_SUFFIX not in report.model or anchor is None or report.role == "baseline":
            continue
        own = report.scores - anchor.scores  # the anchor in float64; the model holds it in float32
        name = (report.family or report.model).replace(RHYTHM_SUFFIX, "")
        if report.role == "teacher":
            name = "teacher window"
        total = float(np.var(report.scores))
        rows.append(
            {
                "dataset": report.dataset,
                "model": report.model,
                "what it is": f"rhythm LR + {name} correction",
                "auroc": report.metrics["auroc"],
                "anchor auroc": anchor.metrics["auroc"],
                "own term auroc": roc_auc(report.y, own),
                **paired_reports(report, anchor, resamples, seed),
                "anchor's share of the logit variance": float(np.var(anchor.scores)) / total,
                "own term's share of the logit variance": float(np.var(own)) / total,
            }
        )
    return pd.DataFrame(rows)


def evaluation_tables(
    reports: list[ModelReport], resamples: int = 1000, seed: int = 0
) -> dict[str, pd.DataFrame]:
    """Notebook 06's tables of ``reports``, by the file name :func:`ecgkd.report.save_tables`
    gives them."""
    return {
        "comparison": report_table(reports),
        "retention": retention_table(reports, resamples, seed),
        "baselines": baseline_table(reports, resamples, seed),
        "kd_gains": kd_gain_table(reports, resamples, seed),
        "rhythm_gains": rhythm_gain_table(reports, resamples, seed),
        "fidelity": fidelity_table(reports),
        "kd_fidelity": kd_fidelity_table(reports, resamples, seed),
        "own_share": own_share_table(reports, resamples, seed),
    }


@dataclass
class Evaluation:
    """The evaluation stage of one dataset: every model's report on the test split and, on
    MIT-BIH, the best-KD VQC's reports on a simulated device."""

    dataset: str
    data: StudentData  # the students' splits and the teacher's targets
    grids: pd.DataFrame  # the finished runs of every student's grid the reports were chosen from
    reports: list[ModelReport]
    device: list[ModelReport]
    resamples: int  # bootstrap resamples behind every interval


def evaluate(
    cfg: Config,
    dataset: str,
    resamples: int | None = None,
    device_shots: int = 8192,
    device_windows: int | None = None,
    progress: bool = True,
) -> Evaluation:
    """The evaluation stage of ``dataset`` in one call, from the finished stages (nothing is
    trained): the teacher and its window-only ablation, the students' data, the encoders, the
    finished grids, :func:`compare`, and on MIT-BIH :func:`vqc_on_device` with ``device_shots`` on
    ``device_windows`` windows. ``resamples``: default :func:`bootstrap_resamples`."""
    resamples = resamples or bootstrap_resamples(cfg)
    teacher = prepare_teacher(cfg, dataset, progress=progress)
    data = StudentData.from_teacher(teacher)
    encoders = prepare_encoders(cfg, data, progress=progress)
    classical = finished_classical_grid(cfg, data)
    quantum = latent_grids(cfg, data, encoders, train=False)
    window_teacher = window_only_teacher(cfg, dataset, progress=progress)
    reports = compare(
        cfg, teacher, classical, quantum, encoders, resamples, progress, window_teacher
    )
    device = []
    if dataset == "mitbih" and ((quantum["student"] == "vqc") & (quantum["alpha"] > 0)).any():
        device = vqc_on_device(
            cfg, data, encoders.main, quantum, device_shots, device_windows, resamples
        )
    grids = pd.concat([classical, quantum], ignore_index=True)
    return Evaluation(dataset, data, grids, reports, device, resamples)
