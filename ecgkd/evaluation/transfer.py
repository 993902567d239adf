"""What distillation transfers (notebook 07): two studies in which the teacher knows something the
student cannot learn from its own labels, and the tutorial's primary contrasts.

**Privileged information** (Vapnik and Vashist 2009; Lopez-Paz et al. 2016). The paper's students
read a 256-sample window; on MIT-BIH our teacher reads the window *and* the beat's rhythm. A
window-only student distilled from that teacher is offered what its input does not hold; the
control is the same student distilled from the window-only teacher, which knows no more than the
student could. The contrast that matters is the difference of the two KD gains, which is simply
(KD from the rhythm teacher) minus (KD from the window-only teacher): the no-KD twin cancels.

**Scarce labels** (a transfer set, Hinton et al. 2015). A student sees the labels of only ``k``
training patients, and the teacher's soft targets on every training beat. Controls: the same
student on the ``k`` patients' labels alone (no KD), and on the teacher's *hard* pseudo-labels of
the other beats (so that soft targets are told apart from pseudo-labelling). The targets are the
window-only teacher's cross-fitted logits (:mod:`ecgkd.teacher.crossfit`): every beat's target
comes from a fold teacher that never trained on its patient, and the window-only student holds no
anchor fitted on labels it may not see (our choice).

Every gain is paired over DS2's records *and* the seeds (:func:`seeded_auroc_draws`); the KD cell
(T, alpha) of each study is chosen on validation, never on the test split.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from ..config import Config
from ..quantum.encoders import LatentEncoders, prepare_encoders
from ..quantum.stage import LATENT_STUDENTS, latent_grid, latent_grids
from ..scoring.bootstrap import draws_summary, holm, seeded_auroc_draws
from ..scoring.metrics import unit_groups, unit_scores
from ..students.grid import Grid, StudentJob, job_data, job_label
from ..students.inputs import StudentData
from ..students.stage import CLASSICAL, classical_grid, finished_classical_grid, grid_plan
from ..students.tables import best_kd_cell
from ..teacher.stage import PreparedTeacher, anchor_scores, prepare_teacher, window_only_teacher

PRIVILEGED_STUDENTS = CLASSICAL + LATENT_STUDENTS  # ResNet-1D, CNN-1D, VQC, its MLP control
SCARCE_STUDENT = "cnn1d"  # the cheapest student: the one the scarce-label curve is drawn for
ALL = 0  # a patient count meaning "every training patient"
QUICK_PATIENTS = (1, 2, 4, ALL)
FULL_PATIENTS = (1, 2, 4, 8, ALL)
QUICK_SEEDS, FULL_SEEDS = 2, 5  # seeds of both studies (offsets from ECGKD_SEED)
SELECTION_SEEDS = 2  # the scarce-label KD cell is chosen on the first two seeds' validation
RHYTHM_TEACHER, WINDOW_TEACHER, NO_TEACHER = "rhythm teacher", "window-only teacher", "no KD"
LABELS_ONLY, KD, PSEUDO = "labels only", "KD (soft targets)", "hard pseudo-labels"
ARMS = (LABELS_ONLY, KD, PSEUDO)
#: The primary contrasts, named before anything is run (notebook 00 prints them); notebook 07
#: tests them together with Holm's correction. Everything else is secondary.
PRIMARY_CONTRASTS = {
    "privileged information": (
        "window-only CNN-1D: KD from the rhythm teacher minus KD from the window-only teacher "
        "(the difference of the two KD gains), DS2 AUROC"
    ),
    "scarce labels": (
        "CNN-1D that sees the labels of one DS1 patient: KD (soft targets on every beat) minus "
        "labels only, DS2 AUROC"
    ),
    "teacher vs its anchor": (
        "the rhythm teacher minus its own rhythm anchor (the rhythm-only logistic regression), "
        "DS2 AUROC"
    ),
}
FAMILY_LEVEL = 0.05  # Holm's family-wise error rate across the primary contrasts


def transfer_seeds(cfg: Config, count: int | None = None) -> tuple[int, ...]:
    """Seeds of both studies: ``count`` from the base seed (default 2 in quick mode, 5 in full)."""
    count = count or (QUICK_SEEDS if cfg.quick else FULL_SEEDS)
    return tuple(cfg.seed + s for s in range(count))


def patient_counts(cfg: Config) -> tuple[int, ...]:
    """The numbers of labelled patients of the scarce-label curve in this mode (0: all)."""
    return QUICK_PATIENTS if cfg.quick else FULL_PATIENTS


@dataclass
class TransferSetup:
    """What both studies start from: the two teachers, the students' data under each teacher's
    targets, the latent students' encoders and the finished grids of notebooks 03 and 04 (where
    each student's KD cell was chosen on validation)."""

    cfg: Config
    teacher: PreparedTeacher
    window_teacher: PreparedTeacher
    from_rhythm: StudentData
    from_window: StudentData
    encoders: LatentEncoders
    grids: pd.DataFrame

    @property
    def dataset(self) -> str:
        return self.from_rhythm.dataset

    def data(self, teacher: str) -> StudentData:
        """The students' data with ``teacher``'s targets (the rhythm or the window-only one)."""
        return self.from_window if teacher == WINDOW_TEACHER else self.from_rhythm

    def grid(self, student: str) -> Grid:
        """The grid a window-only ``student`` runs in (its notebook 03 or 04 grid's file)."""
        if student in CLASSICAL:
            return classical_grid(self.cfg, self.dataset)
        return latent_grid(self.cfg, self.dataset, self.encoders.window.builder(), student)

    def kd_cell(self, student: str) -> tuple[float, float]:
        """The KD cell of ``student`` chosen on validation in its grid (with rhythm, as
        :func:`ecgkd.students.stage.window_only_jobs` takes it for the ablation rows)."""
        rows = self.grids[(self.grids["student"] == student) & self.grids["rhythm"].astype(bool)]
        cell = best_kd_cell(rows)
        if cell is None:
            raise ValueError(f"{student}: no finished KD runs in its grid; run notebooks 03-04")
        return cell


def transfer_setup(cfg: Config, dataset: str = "mitbih", progress: bool = True) -> TransferSetup:
    """Reload both teachers (with their fold teachers), both students' data and the finished
    grids; nothing is trained here when notebooks 02-04 ran."""
    teacher = prepare_teacher(cfg, dataset, progress=progress)
    window = window_only_teacher(cfg, dataset, progress=progress)
    if window is None:
        raise ValueError(
            f"{dataset}: its teacher reads no rhythm, so it knows nothing a window-only student "
            "cannot see; the privileged-information study runs on mitbih"
        )
    from_rhythm, from_window = StudentData.from_teacher(teacher), StudentData.from_teacher(window)
    encoders = prepare_encoders(cfg, from_rhythm, progress=progress)
    grids = pd.concat(
        [
            finished_classical_grid(cfg, from_rhythm),
            latent_grids(cfg, from_rhythm, encoders, train=False),
        ],
        ignore_index=True,
    )
    return TransferSetup(cfg, teacher, window, from_rhythm, from_window, encoders, grids)


@dataclass
class SeededScores:
    """One configuration's DS2 logits, one array per seed, and its records."""

    label: str
    y: np.ndarray
    scores: list[np.ndarray]
    val_auroc: list[float]
    test_auroc: list[float]


def train_configurations(
    grid: Grid,
    configurations: list[tuple[list[StudentJob], StudentData | list[StudentData]]],
    label: str | list[str],
    progress: bool = False,
) -> list[SeededScores]:
    """Train (or reload) several configurations at once (all their runs dispatched together, so
    that the workers stay busy), each as (jobs, one job per seed; data, one for all or one per
    job), and collect each configuration's test logits. ``label``: the model's name, or one per
    configuration."""
    labels = [label] * len(configurations) if isinstance(label, str) else list(label)
    if len(labels) != len(configurations):
        raise ValueError(f"{len(configurations)} configurations and {len(labels)} labels")
    jobs = [job for these, _ in configurations for job in these]
    datas = [d for these, data in configurations for d in job_data(these, data)]
    grid.run(jobs, datas, progress=progress)
    out, start = [], 0
    for (these, _), label in zip(configurations, labels):
        y, scores, val, test = None, [], [], []
        for job, data in zip(these, datas[start : start + len(these)]):
            run = grid.load(grid.select(job, data), data)
            y, score = run.scores["test"]
            scores.append(score)
            val.append(float(run.record["val_auroc"]))
            test.append(float(run.record["test_auroc"]))
        out.append(SeededScores(label, y, scores, val, test))
        start += len(these)
    return out


def privileged_study(
    setup: TransferSetup, seeds: tuple[int, ...], progress: bool = True
) -> dict[str, dict[str, SeededScores]]:
    """For each window-only student: no KD, KD from the rhythm teacher and KD from the window-only
    teacher at the student's KD cell, for every seed. Returns {student: {teacher: scores}}."""
    teachers = (NO_TEACHER, RHYTHM_TEACHER, WINDOW_TEACHER)
    groups: dict[str, list[str]] = {}  # the classical students share one grid, so one call
    for student in PRIVILEGED_STUDENTS:
        groups.setdefault("classical" if student in CLASSICAL else student, []).append(student)
    study = {}
    for group in groups.values():
        grid, configurations, labels = setup.grid(group[0]), [], []
        for student in group:
            temperature, alpha = setup.kd_cell(student)
            plain = [
                StudentJob(setup.dataset, student, np.nan, 0.0, s, _width(setup, student))
                for s in seeds
            ]
            distilled = [replace(j, temperature=temperature, alpha=alpha) for j in plain]
            configurations += [
                (plain, setup.from_rhythm),
                (distilled, setup.data(RHYTHM_TEACHER)),
                (distilled, setup.data(WINDOW_TEACHER)),
            ]
            labels += [job_label(plain[0], grid.label)] * len(teachers)
        runs = train_configurations(grid, configurations, labels, progress)
        for i, student in enumerate(group):
            study[student] = dict(zip(teachers, runs[i * len(teachers) : (i + 1) * len(teachers)]))
    return {student: study[student] for student in PRIVILEGED_STUDENTS}


def _width(setup: TransferSetup, student: str) -> float:
    """The width the student's grid trains it at."""
    rows = setup.grids[setup.grids["student"] == student]
    return float(rows["width"].iloc[0]) if "width" in rows and len(rows) else 1.0


def _paired_row(
    y: np.ndarray,
    groups: np.ndarray,
    scores: SeededScores,
    reference: SeededScores | None,
    resamples: int,
    seed: int,
) -> dict:
    """The paired columns of one contrast (reference None: the AUROC itself, with its interval)."""
    estimate, draws = seeded_auroc_draws(
        y, scores.scores, None if reference is None else reference.scores, groups, resamples, seed
    )
    return draws_summary(estimate, draws)


def privileged_table(
    setup: TransferSetup, study: dict, resamples: int = 1000, seed: int = 0
) -> pd.DataFrame:
    """Per window-only student: its two KD gains (over no KD, same seeds) and their difference,
    KD from the rhythm teacher minus KD from the window-only teacher, each paired over DS2's
    records and the seeds."""
    test = setup.from_rhythm.splits["test"]
    groups = unit_groups(test)
    rows = []
    for runs in study.values():
        contrasts = (
            ("gain from the rhythm teacher", runs[RHYTHM_TEACHER], runs[NO_TEACHER]),
            ("gain from the window-only teacher", runs[WINDOW_TEACHER], runs[NO_TEACHER]),
            ("difference of the gains", runs[RHYTHM_TEACHER], runs[WINDOW_TEACHER]),
        )
        for contrast, a, b in contrasts:
            rows.append(
                {
                    "dataset": setup.dataset,
                    "student": runs[NO_TEACHER].label,
                    "contrast": contrast,
                    "seeds": len(a.scores),
                    **_paired_row(a.y, groups, a, b, resamples, seed),
                }
            )
    return pd.DataFrame(rows)


def privileged_auroc_table(study: dict) -> pd.DataFrame:
    """Mean validation and test AUROC over seeds of each student under each teacher."""
    rows = [
        {
            "student": runs[NO_TEACHER].label,
            "taught by": teacher,
            "seeds": len(s.scores),
            "val auroc (mean)": float(np.mean(s.val_auroc)),
            "test auroc (mean)": float(np.mean(s.test_auroc)),
        }
        for runs in study.values()
        for teacher, s in runs.items()
    ]
    return pd.DataFrame(rows)


def privileged_by_class(
    setup: TransferSetup, study: dict, resamples: int = 1000, seed: int = 0
) -> pd.DataFrame:
    """The difference of the KD gains per AAMI class: each abnormal class's beats against the
    normal beats (N) of DS2, paired over records and seeds. Where should S beats gain? They are
    told apart from N mostly by their timing, which the window-only student cannot see."""
    test = setup.from_rhythm.splits["test"]
    classes = np.asarray(test.aami).astype(str)
    rows = []
    for runs in study.values():
        for cls in sorted(set(classes[test.y == 1])):
            keep = (classes == "N") | (classes == cls)
            sub = {t: _subset(s, keep, cls, classes) for t, s in runs.items()}
            for contrast, a, b in (
                ("gain from the rhythm teacher", RHYTHM_TEACHER, NO_TEACHER),
                ("difference of the gains", RHYTHM_TEACHER, WINDOW_TEACHER),
            ):
                rows.append(
                    {
                        "student": runs[NO_TEACHER].label,
                        "class": cls,
                        "beats": int((classes == cls).sum()),
                        "contrast": contrast,
                        **_paired_row(
                            sub[a].y,
                            np.asarray(test.record)[keep],
                            sub[a],
                            sub[b],
                            resamples,
                            seed,
                        ),
                    }
                )
    return pd.DataFrame(rows)


def _subset(scores: SeededScores, keep: np.ndarray, cls: str, classes: np.ndarray) -> SeededScores:
    """``scores`` on the rows ``keep``, with class ``cls`` as the positive label."""
    y = (classes[keep] == cls).astype(np.int64)
    return replace(scores, y=y, scores=[s[keep] for s in scores.scores])


def patient_order(patients: np.ndarray, y: np.ndarray, seed: int) -> np.ndarray:
    """The order in which training patients give their labels away: a random order drawn by
    ``seed``, with the first patient whose beats hold both classes moved to the front (a student
    trained on one patient needs both classes to learn anything at all)."""
    patients = np.asarray(patients).astype(str)
    names = np.random.default_rng(seed).permutation(np.unique(patients))
    both = [p for p in names if len(np.unique(y[patients == p])) == 2]
    if not both:
        raise ValueError("no training patient holds both classes: the scarce-label study needs one")
    return np.array([both[0], *[p for p in names if p != both[0]]])


def labelled_rows(data: StudentData, k: int, seed: int) -> np.ndarray:
    """Mask of the training beats whose label the student sees: those of the first ``k``
    patients of :func:`patient_order` (``k`` = :data:`ALL`: every patient)."""
    train = data.splits["train"]
    order = patient_order(train.patient, train.y, seed)
    if k != ALL and k > len(order):
        raise ValueError(f"k={k} labelled patients asked for; the training split has {len(order)}")
    return np.isin(np.asarray(train.patient).astype(str), order if k == ALL else order[:k])


def scarce_data(
    data: StudentData, k: int, seed: int, arm: str, teacher_threshold: float
) -> StudentData:
    """The students' data of one arm at ``k`` labelled patients (drawn by ``seed``): the labelled
    beats alone (labels only), every beat with the others unlabelled (KD), or every beat with the
    others labelled by the teacher's cross-fitted logit at its validation threshold (pseudo)."""
    if k == ALL:
        return data
    rows = labelled_rows(data, k, seed)
    name = f"{k} labelled patients (seed {seed})"
    y = data.splits["train"].y.astype(np.float32)
    if arm == LABELS_ONLY:
        return data.restricted(rows, name)
    if arm == KD:
        return data.with_train_labels(np.where(rows, y, np.nan), name + ", rest unlabelled")
    if arm == PSEUDO:
        pseudo = (data.teacher_logits["train"] >= teacher_threshold).astype(np.float32)
        return data.with_train_labels(np.where(rows, y, pseudo), name + ", rest pseudo-labelled")
    raise ValueError(f"arm={arm!r}: use one of {ARMS}")


def scarce_study(
    setup: TransferSetup,
    counts: tuple[int, ...],
    seeds: tuple[int, ...],
    progress: bool = True,
) -> tuple[dict[tuple[int, str], SeededScores], tuple[float, float]]:
    """The window-only :data:`SCARCE_STUDENT` at each number of labelled patients in ``counts``,
    in the three :data:`ARMS`, for every seed, taught by the window-only teacher's cross-fitted
    targets. The KD cell is chosen on validation at the smallest ``k`` among the T x alpha cells
    of the default plan (mean over the first :data:`SELECTION_SEEDS` seeds), then kept for every
    ``k``. Returns ({(k, arm): scores},
    the cell)."""
    data, student = setup.from_window, SCARCE_STUDENT
    grid, threshold = setup.grid(student), setup.window_teacher.run.threshold
    width = _width(setup, student)
    label = job_label(StudentJob(setup.dataset, student, np.nan, 0.0, 0, width), grid.label)
    plan = grid_plan(setup.cfg)
    smallest = min((k for k in counts if k != ALL), default=ALL)

    def arm(
        k: int, name: str, temperature: float, alpha: float, only: tuple[int, ...] = seeds
    ) -> tuple[list, list]:
        """One arm's jobs, one per seed, each with its own data (its seed draws the patients)."""
        jobs = [StudentJob(setup.dataset, student, temperature, alpha, s, width) for s in only]
        return jobs, [scarce_data(data, k, s, name, threshold) for s in only]

    cells = [(t, a) for a in plan.alphas if a > 0 for t in plan.temperatures]
    trying = seeds[:SELECTION_SEEDS]
    tried = train_configurations(
        grid, [arm(smallest, KD, *c, trying) for c in cells], label, progress
    )
    trials = dict(zip(cells, tried))
    chosen = max(cells, key=lambda c: (np.mean(trials[c].val_auroc), -cells.index(c)))
    wanted = [
        (k, name)
        for k in counts
        for name in ARMS
        if not (k == ALL and name == PSEUDO)  # with every label there is nothing to pseudo-label
    ]
    cell = {LABELS_ONLY: (np.nan, 0.0), PSEUDO: (np.nan, 0.0), KD: chosen}
    runs = train_configurations(
        grid, [arm(k, name, *cell[name]) for k, name in wanted], label, progress
    )
    study = dict(zip(wanted, runs))  # the chosen cell's selection runs are reloaded, not redone
    order = sorted(study, key=lambda kn: (kn[0] == ALL, kn[0], ARMS.index(kn[1])))
    study = {key: study[key] for key in order}
    return study, chosen


def scarce_tables(
    setup: TransferSetup, study: dict, resamples: int = 1000, seed: int = 0
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(each arm's DS2 AUROC at each k, mean over seeds with an interval over records and seeds;
    the gains at each k: KD and pseudo-labels minus labels only, KD minus pseudo-labels, paired)."""
    test = setup.from_window.splits["test"]
    groups = unit_groups(test)
    curve, gains = [], []
    for (k, arm), scores in study.items():
        summary = _paired_row(scores.y, groups, scores, None, resamples, seed)
        curve.append(
            {
                "dataset": setup.dataset,
                "labelled patients": "all" if k == ALL else k,
                "k": k,
                "arm": arm,
                "seeds": len(scores.scores),
                "val auroc (mean)": float(np.mean(scores.val_auroc)),
                "test auroc": summary["difference"],
                "CI low": summary["CI low"],
                "CI high": summary["CI high"],
            }
        )
    for k in dict.fromkeys(k for k, _ in study):
        pairs = [(KD, LABELS_ONLY), (PSEUDO, LABELS_ONLY), (KD, PSEUDO)]
        for a, b in pairs:
            if (k, a) in study and (k, b) in study:
                gains.append(
                    {
                        "labelled patients": "all" if k == ALL else k,
                        "contrast": f"{a} - {b}",
                        **_paired_row(
                            study[(k, a)].y, groups, study[(k, a)], study[(k, b)], resamples, seed
                        ),
                    }
                )
    return pd.DataFrame(curve), pd.DataFrame(gains)


def teacher_anchor_draws(
    teacher: PreparedTeacher, resamples: int = 1000, seed: int = 0
) -> tuple[float, np.ndarray]:
    """The rhythm teacher minus its rhythm anchor alone (the rhythm-only logistic regression
    fitted on the same training split), DS2 AUROC: estimate and draws over records."""
    test, logits = teacher.split_logits("test")
    y, s_teacher = unit_scores(test, logits)
    _, s_anchor = anchor_scores(teacher.student_data.splits)["test"]
    return seeded_auroc_draws(y, [s_teacher], [s_anchor], unit_groups(test), resamples, seed)


def primary_table(
    setup: TransferSetup,
    privileged: dict,
    scarce: dict,
    resamples: int = 1000,
    seed: int = 0,
) -> pd.DataFrame:
    """The :data:`PRIMARY_CONTRASTS`, each with its interval over records (and seeds) and its
    bootstrap p-value, adjusted by Holm across the three."""
    groups = unit_groups(setup.from_rhythm.splits["test"])
    cnn = privileged[SCARCE_STUDENT]
    smallest = min(k for k, _ in scarce if k != ALL)
    draws = {
        "privileged information": seeded_auroc_draws(
            cnn[RHYTHM_TEACHER].y,
            cnn[RHYTHM_TEACHER].scores,
            cnn[WINDOW_TEACHER].scores,
            groups,
            resamples,
            seed,
        ),
        "scarce labels": seeded_auroc_draws(
            scarce[(smallest, KD)].y,
            scarce[(smallest, KD)].scores,
            scarce[(smallest, LABELS_ONLY)].scores,
            groups,
            resamples,
            seed,
        ),
        "teacher vs its anchor": teacher_anchor_draws(setup.teacher, resamples, seed),
    }
    seeds = {
        "privileged information": len(cnn[RHYTHM_TEACHER].scores),
        "scarce labels": len(scarce[(smallest, KD)].scores),
        "teacher vs its anchor": 1,
    }
    rows = [
        {
            "contrast": name,
            "what": PRIMARY_CONTRASTS[name],
            "seeds": seeds[name],
            **draws_summary(*draws[name]),
        }
        for name in PRIMARY_CONTRASTS
    ]
    table = pd.DataFrame(rows)
    table["p (Holm)"] = holm(table["p (bootstrap)"].to_numpy())
    table[f"significant at {FAMILY_LEVEL:g} (Holm)"] = table["p (Holm)"] < FAMILY_LEVEL
    return table.set_index("contrast")


@dataclass
class TransferStudy:
    """Both studies of notebook 07 and their tables."""

    setup: TransferSetup
    privileged: dict
    scarce: dict
    scarce_cell: tuple[float, float]
    tables: dict[str, pd.DataFrame]


def run_transfer(
    cfg: Config,
    dataset: str = "mitbih",
    seeds: int | None = None,
    counts: tuple[int, ...] | None = None,
    resamples: int | None = None,
    progress: bool = True,
) -> TransferStudy:
    """Notebook 07 in one call (``python -m ecgkd`` runs it too): both studies, trained or
    reloaded, and their tables (``resamples``: 200 in quick mode, 1000 in full mode)."""
    resamples = resamples or (200 if cfg.quick else 1000)
    setup = transfer_setup(cfg, dataset, progress)
    chosen_seeds = transfer_seeds(cfg, seeds)
    privileged = privileged_study(setup, chosen_seeds, progress)
    scarce, cell = scarce_study(setup, counts or patient_counts(cfg), chosen_seeds, progress)
    curve, gains = scarce_tables(setup, scarce, resamples, cfg.seed)
    tables = {
        "privileged_auroc": privileged_auroc_table(privileged),
        "privileged": privileged_table(setup, privileged, resamples, cfg.seed),
        "privileged_by_class": privileged_by_class(setup, privileged, resamples, cfg.seed),
        "scarce_curve": curve,
        "scarce_gains": gains,
        "primary": primary_table(setup, privileged, scarce, resamples, cfg.seed),
    }
    return TransferStudy(setup, privileged, scarce, cell, tables)
