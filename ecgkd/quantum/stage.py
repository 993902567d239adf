"""The quantum-student stage: a cached autoencoder, the student builders, the grids and the hardware
study.

Everything here glues pieces defined once elsewhere: the autoencoder (:mod:`.autoencoder`), the
circuit and its simulators (:mod:`.circuit`, :mod:`.statevector`), the training loop and the grid
runner (:mod:`ecgkd.train`, :mod:`ecgkd.students.grid`). The VQC and its classical control are
trained by
:func:`ecgkd.students.grid.run_grid`, the function that trains the classical students, with a
builder that wraps the frozen encoder. The settings (our choices) are named here, for notebook 04's
parameters cell.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from .. import cache
from ..config import Config, seed_everything
from ..data.rhythm import N_RHYTHM, has_rhythm, model_inputs
from ..data.split import Split
from ..modelinfo import model_fingerprint
from ..progress import progress_bar
from ..scoring.metrics import binary_metrics, unit_scores, youden_threshold
from ..students.grid import (
    GridPlan,
    StudentJob,
    finished_runs,
    results_path,
    run_grid,
    trained_model,
)
from ..students.inputs import StudentData
from ..students.stage import grid_plan, window_only_jobs
from ..students.tables import paired_summary, summary_table
from ..train import TrainSettings, predict
from . import autoencoder as ae_mod
from . import hardware
from .autoencoder import (
    AngleScaler,
    ConvAutoencoder,
    encode,
    reconstruction_error,
    train_autoencoder,
)
from .circuit import VQCSpec, build_vqc
from .model import (
    RHYTHM_ANGLES,
    RHYTHM_COLUMNS,
    LatentStudent,
    QuantumBuilder,
    VQCHead,
    head_parameters,
    latent_angles,
)

SHOTS = (128, 512, 2048, 8192)
QUICK_SHOTS = (128, 1024, 8192)
LATENT = 6  # latent size of the autoencoder: one number per qubit (with rhythm: 4 + 2 angles)
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


def hardware_windows(cfg: Config) -> int:
    """How many MIT-BIH test windows the Aer runs score (a noisy simulation costs milliseconds
    each)."""
    return 100 if cfg.quick else 2000


def hardware_cache(cfg: Config) -> Path:
    """Where :func:`device_scores` keeps its sampled runs: ``<cache>/hardware``."""
    return Path(cfg.cache_root) / "hardware"


def hardware_shots(cfg: Config) -> tuple[int, ...]:
    """The shot counts of the hardware study."""
    return QUICK_SHOTS if cfg.quick else SHOTS


def ae_settings(cfg: Config, dataset: str) -> TrainSettings:
    """Our choice. MIT-BIH: many beats, so a budget of samples per epoch; PTB-XL: few windows, small
    batches and more epochs (its 2.56 s windows hold several beats at any phase: harder to
    compress). The learning rate is lowered tenfold after two epochs without a better validation
    error."""
    common = {"lr": 2e-3, "weight_decay": 1e-5, "plateau_patience": 2}
    if dataset == "ptbxl":
        return TrainSettings(
            epochs=20 if cfg.quick else 80, batch_size=64, patience=4 if cfg.quick else 8, **common
        )
    if cfg.quick:
        return TrainSettings(epochs=4, batch_size=256, patience=4, samples_per_epoch=4096, **common)
    return TrainSettings(epochs=30, batch_size=256, patience=4, samples_per_epoch=16384, **common)


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


@dataclass
class AutoencoderRun:
    """A trained encoder, its angle scaler (fitted on training latents) and how training went."""

    dataset: str
    model: ConvAutoencoder
    scaler: AngleScaler
    history: pd.DataFrame
    reconstruction: dict[str, float]
    key: str
    rhythm_scaler: AngleScaler | None = None  # the rhythm angles' scaler, when they are read

    @property
    def reads_rhythm(self) -> bool:
        return self.rhythm_scaler is not None

    def angles(self, split: Split) -> np.ndarray:
        """The angles (n, 6) a circuit on this encoder receives for a split's examples: the
        latent's, then the rhythm's when read."""
        angles = self.scaler(torch.from_numpy(encode(self.model, split.x))).numpy()
        if self.rhythm_scaler is None:
            return angles
        rhythm = torch.from_numpy(split.rhythm[:, RHYTHM_COLUMNS])
        return np.concatenate([angles, self.rhythm_scaler(rhythm).numpy()], axis=1)

    def builder(self, spec: VQCSpec | None = None, end_to_end: bool = False) -> QuantumBuilder:
        """The builder of the VQC and control students on this encoder."""
        return QuantumBuilder(
            self.model, self.scaler, self.key, spec or VQCSpec(), end_to_end, self.rhythm_scaler
        )


@dataclass
class LatentEncoders:
    """A dataset's encoders for the latent students: ``window``, the paper's 6-d latent of the
    window alone (every dataset), and ``rhythm``, a 4-d latent with the 2 rhythm angles of
    :data:`ecgkd.quantum.model.RHYTHM_ANGLES` (MIT-BIH: our main latent students; the window-only
    ones are its ablation rows)."""

    window: AutoencoderRun
    rhythm: AutoencoderRun | None = None

    @property
    def main(self) -> AutoencoderRun:
        """The encoder of the study's latent students: with rhythm wherever there is one."""
        return self.rhythm or self.window

    def for_job(self, job: StudentJob) -> AutoencoderRun:
        """The encoder a job's student reads through."""
        if job.rhythm and self.rhythm is None:
            raise ValueError(f"{job.dataset}: no rhythm encoder for a job with rhythm=True")
        return self.rhythm if job.rhythm else self.window


def prepare_encoders(
    cfg: Config,
    data: StudentData,
    settings: TrainSettings | None = None,
    progress: bool = True,
    latent: int = LATENT,
) -> LatentEncoders:
    """The window-only autoencoder of ``data`` (``latent`` numbers, one per qubit) and, where the
    data carry rhythm features, the smaller one that leaves two of the angles to the rhythm (both
    cached)."""
    window = prepare_autoencoder(cfg, data, latent, settings, progress)
    if not has_rhythm(data.dataset):
        return LatentEncoders(window)
    smaller = latent - len(RHYTHM_ANGLES)
    rhythm = prepare_autoencoder(cfg, data, smaller, settings, progress, rhythm=True)
    return LatentEncoders(window, rhythm)


def prepare_autoencoder(
    cfg: Config,
    data: StudentData,
    latent: int = LATENT,
    settings: TrainSettings | None = None,
    progress: bool = True,
    rhythm: bool = False,
) -> AutoencoderRun:
    """Train the autoencoder on the training windows (or reload it from
    ``<cache>/autoencoder/``). ``rhythm``: the run's students read the rhythm angles too, scaled
    to [0, pi] from the training split's percentiles as the latent is."""
    settings = settings or ae_settings(cfg, data.dataset)
    splits = data.splits
    key = cache.fingerprint(
        {
            "data": {n: s.fingerprint() for n, s in splits.items()},
            "latent": latent,
            "settings": settings.as_dict(),
            "seed": cfg.seed,
            "code": cache.code_version(ae_mod),
        }
    )
    path = Path(cfg.cache_root) / "autoencoder" / f"{data.dataset}-latent{latent}-{key}.pt"
    seed_everything(cfg.seed)
    model = ConvAutoencoder(latent)
    if path.is_file():
        saved = torch.load(path, map_location="cpu", weights_only=False)
        model.load_state_dict(saved["model"])
        history = pd.DataFrame(saved["history"])
    else:
        result = train_autoencoder(
            model,
            splits["train"].x,
            splits["val"].x,
            settings,
            seed=cfg.seed,
            checkpoint=path.with_suffix(".fit-state.pt"),
            key=key,
            progress=progress,
        )
        history = result.history
        payload = {"model": model.state_dict(), "history": history.to_dict("list"), "key": key}
        cache.atomic_write(path, lambda tmp: torch.save(payload, tmp))
        path.with_suffix(".fit-state.pt").unlink(missing_ok=True)
    model.eval()
    scaler = AngleScaler.fit(encode(model, splits["train"].x))
    errors = {name: reconstruction_error(model, split.x) for name, split in splits.items()}
    rhythm_scaler = None
    if rhythm:
        train_rhythm = model_inputs(splits["train"], True)[:, 0, -N_RHYTHM:]  # checks it is there
        rhythm_scaler = AngleScaler.fit(train_rhythm[:, RHYTHM_COLUMNS])
    return AutoencoderRun(data.dataset, model, scaler, history, errors, key, rhythm_scaler)


def ablation_seeds(cfg: Config) -> tuple[int, ...]:
    """Seeds of the circuit ablation: two in quick mode, three in full mode."""
    return tuple(cfg.seed + s for s in (QUICK_ABLATION_SEEDS if cfg.quick else ABLATION_SEEDS))


def circuit_ablation(
    cfg: Config,
    data: StudentData,
    run: AutoencoderRun,
    variants: dict[str, VQCSpec] | None = None,
    settings: TrainSettings | None = None,
    progress: bool = True,
) -> pd.DataFrame:
    """Validation AUROC of each circuit variant (default :data:`CIRCUIT_VARIANTS`), trained on the
    labels alone (alpha = 0: the choice of circuit comes before the KD study) for each seed of
    :func:`ablation_seeds`, on the frozen encoder of ``run``; one row per (variant, seed), cached
    in ``<cache>/results/circuits-*.csv``. The test split is never scored.
    """
    variants = variants or CIRCUIT_VARIANTS
    settings = settings or quantum_settings(cfg, data.dataset)
    jobs = [StudentJob(data.dataset, "vqc", math.nan, 0.0, seed) for seed in ablation_seeds(cfg)]
    tables = []
    for name, spec in progress_bar(variants.items(), desc="circuits", enabled=progress):
        builder = run.builder(spec)
        runs = run_grid(
            jobs,
            data,
            settings,
            results_path(cfg, "circuits", data.dataset),
            n_jobs=cfg.n_jobs,
            cluster=cfg.cluster,
            device=cfg.device,
            progress=False,
            build=builder,
            label=builder.label("vqc"),
            model_code=builder.model_code(),
            score_test=False,
        )
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


def run_latent_grids(
    cfg: Config,
    data: StudentData,
    encoders: LatentEncoders,
    plan: GridPlan | None = None,
    settings: TrainSettings | None = None,
    spec: VQCSpec | None = None,
    progress: bool = True,
) -> pd.DataFrame:
    """The VQC and its control over the T x alpha grid on the main encoder (with rhythm on
    MIT-BIH), then, where that reads rhythm, the window-only students of the paper as ablation
    rows: no KD and the grid's best KD cell by validation
    (:func:`ecgkd.students.stage.window_only_jobs`)."""
    main = encoders.main

    def run(jobs: list[StudentJob], builder: QuantumBuilder, student: str) -> pd.DataFrame:
        return run_quantum_grid(cfg, data, builder, student, jobs, progress, settings)

    grids = [
        run(quantum_jobs(cfg, data.dataset, s, plan, main.reads_rhythm), main.builder(spec), s)
        for s in LATENT_STUDENTS
    ]
    grid = pd.concat(grids, ignore_index=True)
    if not main.reads_rhythm:
        return grid
    window = encoders.window.builder(spec)
    ablation = window_only_jobs(grid)
    rows = [run([j for j in ablation if j.student == s], window, s) for s in LATENT_STUDENTS]
    return pd.concat([grid, *rows], ignore_index=True)


def finished_latent_grids(
    cfg: Config, data: StudentData, encoders: LatentEncoders, spec: VQCSpec | None = None
) -> pd.DataFrame:
    """The finished rows of :func:`run_latent_grids` for this mode and data; nothing is trained."""
    main, path = encoders.main, results_path(cfg, "quantum", data.dataset)
    settings = quantum_settings(cfg, data.dataset)

    def finished(jobs: list[StudentJob], run: AutoencoderRun) -> pd.DataFrame:
        return finished_runs(jobs, data, settings, path, run.builder(spec).model_code())

    grid = pd.concat(
        [
            finished(quantum_jobs(cfg, data.dataset, s, rhythm=main.reads_rhythm), main)
            for s in LATENT_STUDENTS
        ],
        ignore_index=True,
    )
    if not main.reads_rhythm or grid.empty:
        return grid
    return pd.concat([grid, finished(window_only_jobs(grid), encoders.window)], ignore_index=True)


def run_quantum_grid(
    cfg: Config,
    data: StudentData,
    builder: QuantumBuilder,
    student: str = "vqc",
    jobs: list[StudentJob] | None = None,
    progress: bool = True,
    settings: TrainSettings | None = None,
) -> pd.DataFrame:
    """Train the VQC (or its MLP control) over the grid (``jobs``: default :func:`quantum_jobs`,
    ``settings``: default :func:`quantum_settings`); results in
    ``<cache>/results/quantum-*.csv``."""
    if jobs is None:
        jobs = quantum_jobs(cfg, data.dataset, student, rhythm=builder.reads_rhythm)
    label = builder.label(student)
    path = results_path(cfg, "quantum", data.dataset)
    return run_grid(
        jobs,
        data,
        settings or quantum_settings(cfg, data.dataset),
        path,
        n_jobs=cfg.n_jobs,
        cluster=cfg.cluster,
        device=cfg.device,
        progress=progress,
        build=builder,
        label=label,
        model_code=builder.model_code(),
    )


def end_to_end_settings(cfg: Config, dataset: str) -> TrainSettings:
    """Training the encoder with the circuit (our choice): the head's settings at the autoencoder's
    learning rate. At the circuit's larger step the encoder's latents leave the angle scaler's
    range, where its clamp passes no gradient, and every window ends up with the same angles."""
    return replace(quantum_settings(cfg, dataset), lr=ae_settings(cfg, dataset).lr)


def train_one(
    cfg: Config,
    data: StudentData,
    builder: QuantumBuilder,
    job: StudentJob,
    settings: TrainSettings | None = None,
) -> tuple[dict, LatentStudent]:
    """One run and its trained model (for the comparison, the hardware study and the pictures):
    the grid's saved weights where the grid ran it, else trained now and saved beside the grid's
    (:func:`ecgkd.students.grid.trained_model`). ``settings``: default :func:`quantum_settings`,
    :func:`end_to_end_settings` for an end-to-end builder."""
    if settings is None:
        settings = (end_to_end_settings if builder.end_to_end else quantum_settings)(
            cfg, data.dataset
        )
    return trained_model(
        job,
        data,
        settings,
        results_path(cfg, "quantum", data.dataset),
        device=cfg.device,
        build=builder,
        label=builder.label(job.student),
        model_code=builder.model_code(),
        expect_saved=not builder.end_to_end,  # no grid trains the end-to-end variant
    )


def hardware_subset(y: np.ndarray, size: int, seed: int) -> np.ndarray:
    """Indices of a class-stratified random subset (sorted): the windows the Aer runs evaluate."""
    rng = np.random.default_rng(seed)
    if size >= len(y):
        return np.arange(len(y))
    picked = []
    for label in (0, 1):
        members = np.flatnonzero(y == label)
        take = max(1, round(size * len(members) / len(y)))
        picked.append(rng.choice(members, size=min(take, len(members)), replace=False))
    return np.sort(np.concatenate(picked))


def balanced_subset(y: np.ndarray, size: int, seed: int) -> np.ndarray:
    """Indices (sorted) of up to ``size`` windows, half of each class where the split holds enough:
    the validation windows that choose an on-device threshold. Youden's J does not depend on
    prevalence, so drawing abnormal windows at 1 in 2 rather than 1 in 20 gives its estimate more
    of them for the same device time, without biasing it."""
    rng = np.random.default_rng(seed)
    abnormal, normal = np.flatnonzero(y == 1), np.flatnonzero(y == 0)
    take = min(len(abnormal), size // 2)
    picked = [
        rng.choice(abnormal, size=take, replace=False),
        rng.choice(normal, size=min(len(normal), size - take), replace=False),
    ]
    return np.sort(np.concatenate(picked))


def window_angles(student: LatentStudent, split: Split, index: np.ndarray) -> np.ndarray:
    """The angles a latent student's circuit receives for the windows ``index`` of ``split`` (with
    the rhythm angles where it reads them): what a device runs."""
    return latent_angles(student, model_inputs(split.subset(index), student.reads_rhythm))


def window_anchor_logits(student: LatentStudent, split: Split, index: np.ndarray) -> np.ndarray:
    """The rhythm anchor's logits for the windows ``index`` of ``split`` (zeros without one): what
    the classical side adds to a device's ``scale * <O> + bias``."""
    x = torch.from_numpy(model_inputs(split.subset(index), student.reads_rhythm))
    with torch.inference_mode():
        return student.anchor_logits(x).double().numpy()


def circuit_weights(student: LatentStudent) -> np.ndarray:
    """The trained weights of a VQC student's circuit, in the circuit's parameter order."""
    return student.head.circuit_weights.detach().double().numpy()


MITIGATED = " + M3"  # appended to a noisy mode: its counts corrected for readout errors


@dataclass
class DeviceScores:
    """A trained VQC student's test logits as a device would give them: exact, with finite shots,
    with noise, with noise and readout mitigation.

    ``index`` picks the scored windows of the test split (a stratified subset: Aer's noisy
    simulation costs milliseconds per window); ``runs`` holds (mode, shots, logits) with shots = inf
    for the exact value. ``val_logits`` are the exact model's on the whole validation split (the
    threshold chosen on the simulator, before any circuit is sent). ``device_val`` holds the noisy
    modes' logits on ``val_index``, a class-balanced subset of validation windows run at the largest
    number of shots: the device's own outputs, for an on-device threshold.
    """

    index: np.ndarray
    y_val: np.ndarray
    val_logits: np.ndarray
    runs: list[tuple[str, float, np.ndarray]]
    compiled: hardware.Transpiled
    val_index: np.ndarray
    device_val: dict[str, np.ndarray]


def device_scores(
    student: LatentStudent,
    data: StudentData,
    *,
    shots: tuple[int, ...] = SHOTS,
    size: int = 2000,
    device: str = hardware.DEFAULT_DEVICE,
    seed: int = 0,
    cache_dir: Path | None = None,
) -> DeviceScores:
    """Score ``size`` stratified MIT-BIH test windows exactly, with each number of ``shots`` (ideal
    sampler), and with each number of shots under ``device``'s noise model (transpiled to its
    basis), raw and readout-mitigated (M3, one calibration of the circuit's qubits); then ``size``
    class-balanced validation windows under noise at the largest number of shots
    (:func:`balanced_subset`). ``cache_dir``: keep each sampled run there, keyed by the model's
    weights, the windows, the shots, the device and the code, so that notebook 05 and the CLI reuse
    notebook 04's."""
    head = student.head
    if not isinstance(head, VQCHead) or head.backend != "torch":
        raise TypeError(
            "device_scores needs a student with a VQCHead trained on the 'torch' backend"
        )
    if data.dataset != "mitbih":
        raise ValueError(
            "device_scores scores windows one by one: use it on MIT-BIH (PTB-XL is scored per "
            "record)"
        )
    val, test = data.splits["val"], data.splits["test"]
    y_val, s_val = unit_scores(val, predict(student, model_inputs(val, student.reads_rhythm)))
    weights = circuit_weights(student)
    scale, bias = float(head.scale.detach()), float(head.bias.detach())
    backend = hardware.fake_backend(device)
    compiled = hardware.transpile_for(head.vqc, backend, seed)
    mitigation: list[hardware.ReadoutMitigation] = []  # calibrated once, on the first noisy run
    noisy_mode = f"noisy ({compiled.device})"
    common = {  # what every sampled run's cache key holds, computed once
        "model": model_fingerprint(student),
        "data": data.fingerprint(),
        "seed": seed,
        "calibration shots": hardware.CALIBRATION_SHOTS,
        "code": cache.code_version(hardware),
    }

    def sampled(split: str, index: np.ndarray, mode: str, n: int) -> dict[str, np.ndarray]:
        """Expectations of one sampled run (and their mitigated values under noise), cached."""
        noisy = compiled if mode == noisy_mode else None

        def sample() -> tuple[dict[str, np.ndarray], dict]:
            angles = window_angles(student, data.splits[split], index)
            noise = (  # the noise of the qubits the circuit runs on, built once
                hardware.noise_model(backend, hardware.active_qubits(noisy.circuit))
                if noisy is not None
                else None
            )
            bits = hardware.sampled_bits(
                head.vqc, angles, weights, n, seed=seed, noisy=noisy, noise=noise
            )
            out = {"expectations": hardware.z_expectation(bits, hardware.readout_mask(head.vqc))}
            if noisy is not None:
                if not mitigation:
                    system = hardware.calibration_system(backend, seed, noise)
                    mitigation.append(hardware.readout_mitigation(system, compiled.circuit))
                out["mitigated"] = mitigation[0].expectations(bits, head.vqc)
            return out, {}

        if cache_dir is None:
            return sample()[0]
        key = cache.fingerprint(
            {**common, "windows": [split, index.tolist()], "mode": mode, "shots": n}
        )
        path = Path(cache_dir) / f"{data.dataset}-{key}.npz"
        return cache.cached_arrays(path, sample, key)[0]

    index = hardware_subset(test.y, size, seed)
    ideal = head.simulator.expectation(
        torch.from_numpy(window_angles(student, test, index)).double(), torch.from_numpy(weights)
    ).numpy()
    offset = window_anchor_logits(student, test, index)  # the rhythm anchor, computed classically
    runs = [("ideal (exact)", math.inf, scale * ideal + bias + offset)]
    for mode in ("ideal + shots", noisy_mode):
        for n in shots:
            out = sampled("test", index, mode, n)
            runs.append((mode, float(n), scale * out["expectations"] + bias + offset))
            if mode == noisy_mode:
                runs.append((mode + MITIGATED, float(n), scale * out["mitigated"] + bias + offset))
    val_index = balanced_subset(val.y, size, seed)
    out = sampled("val", val_index, noisy_mode, max(shots))
    val_offset = window_anchor_logits(student, val, val_index)
    device_val = {
        noisy_mode: scale * out["expectations"] + bias + val_offset,
        noisy_mode + MITIGATED: scale * out["mitigated"] + bias + val_offset,
    }
    return DeviceScores(index, y_val, s_val, runs, compiled, val_index, device_val)


def hardware_study(result: DeviceScores, data: StudentData) -> pd.DataFrame:
    """Test metrics of a trained VQC student from its :func:`device_scores`: ideal, with finite
    shots, with a device's noise, raw and readout-mitigated; one row per (mode, shots), every row on
    the same windows at the threshold chosen on validation with the exact model."""
    threshold = youden_threshold(result.y_val, result.val_logits)
    y = data.splits["test"].y[result.index]
    table = pd.DataFrame(
        [
            {"mode": mode, "shots": n, **binary_metrics(y, logits, threshold)}
            for mode, n, logits in result.runs
        ]
    )
    table.insert(2, "windows", len(result.index))
    return table


def threshold_study(result: DeviceScores, data: StudentData) -> pd.DataFrame:
    """The operating threshold on a device: ideal, noisy and noisy + readout-mitigated test logits
    at the largest number of shots, each judged at the exact model's validation threshold and at a
    threshold chosen (Youden's J) on the device's own outputs for validation windows."""
    y_test = data.splits["test"].y[result.index]
    y_val = data.splits["val"].y[result.val_index]
    exact = youden_threshold(result.y_val, result.val_logits)
    shots = max(n for _, n, _ in result.runs if not math.isinf(n))
    rows = []
    for mode, n, logits in result.runs:
        if not (math.isinf(n) or (n == shots and mode in result.device_val)):
            continue
        choices = [("exact model, validation", exact)]
        if mode in result.device_val:
            choices.append(("device, validation", youden_threshold(y_val, result.device_val[mode])))
        for source, threshold in choices:
            rows.append(
                {
                    "mode": mode,
                    "shots": n,
                    "threshold from": source,
                    **binary_metrics(y_test, logits, threshold),
                }
            )
    return pd.DataFrame(rows)


def hardware_tables(result: DeviceScores, data: StudentData) -> dict[str, pd.DataFrame]:
    """The hardware study's two tables, by the file name the CLI and notebook 04 save them under:
    ``hardware`` (:func:`hardware_study`, with the compiled circuit's device, depth and two-qubit
    gates) and ``hardware_thresholds`` (:func:`threshold_study`)."""
    compiled = result.compiled
    shots = hardware_study(result, data).assign(
        device=compiled.device, depth=compiled.depth, two_qubit_gates=compiled.two_qubit_gates
    )
    return {"hardware": shots, "hardware_thresholds": threshold_study(result, data)}


def best_vqc(
    cfg: Config, data: StudentData, run: AutoencoderRun, results: pd.DataFrame
) -> tuple[StudentJob, dict, LatentStudent]:
    """The VQC of ``run``'s encoder (with or without rhythm) at its best KD setting (mean
    validation AUROC over seeds) for seed ``cfg.seed``: the grid's saved model, with its training
    curves; what the hardware study runs."""
    rows = results[
        (results["dataset"] == data.dataset)
        & (results["student"] == "vqc")
        & (results["rhythm"].astype(bool) == run.reads_rhythm)
    ]
    if rows.empty or not (rows["alpha"] > 0).any():
        raise ValueError(
            f"no finished VQC runs with KD for {data.dataset}: run the quantum grid first"
        )
    best = summary_table(rows).iloc[0]
    job = StudentJob(
        data.dataset,
        "vqc",
        float(best["best KD T (by val)"]),
        float(best["best KD alpha (by val)"]),
        cfg.seed,
        rhythm=run.reads_rhythm,
    )
    record, model = train_one(cfg, data, run.builder(), job)
    return job, record, model
