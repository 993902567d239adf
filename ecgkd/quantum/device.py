"""The trained VQC on a (simulated) device: shots, a device's noise, readout mitigation, and the
threshold chosen on the device's own outputs. Notebook 05 and ``python -m ecgkd`` call
:func:`run_device_study`.

The circuit's expectation is sampled with finite shots on Aer's ideal simulator, then transpiled
for a fake IBM device and sampled under its calibrated noise model (:mod:`.hardware`), raw and
corrected for readout errors with M3 (Nation et al. 2021). The student's rhythm anchor, where it
has one, is classical: it is computed exactly beside the device and added to every row, so the
study also reports the circuit's own term (the logit without the anchor), where noise cannot hide
behind the anchor.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from .. import cache
from ..config import Config
from ..data.rhythm import model_inputs
from ..data.split import Split
from ..modelinfo import model_fingerprint
from ..scoring.metrics import binary_metrics, unit_scores, youden_threshold
from ..students.grid import Selection, TrainedRun
from ..students.inputs import StudentData
from ..train import predict
from . import hardware
from .model import LatentStudent, VQCHead, latent_angles
from .stage import QuantumStudy, best_vqc

SHOTS = (128, 512, 2048, 8192)
QUICK_SHOTS = (128, 1024, 8192)


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
    number of shots: the device's own outputs, for an on-device threshold. ``offset`` and
    ``val_offset`` are the rhythm anchor's logits, computed classically, on the scored test windows
    and on the whole validation split (zeros for a student without an anchor): every logit minus
    its offset is the circuit's own term, ``scale * <O> + bias``.
    """

    index: np.ndarray
    y_val: np.ndarray
    val_logits: np.ndarray
    runs: list[tuple[str, float, np.ndarray]]
    compiled: hardware.Transpiled
    val_index: np.ndarray
    device_val: dict[str, np.ndarray]
    offset: np.ndarray
    val_offset: np.ndarray

    @property
    def anchored(self) -> bool:
        """Whether the student adds its circuit's term to a rhythm anchor."""
        return bool(np.any(self.offset != 0) or np.any(self.val_offset != 0))


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
    weights, the windows, the shots, the device and the code, so that notebook 06 and the CLI reuse
    notebook 05's."""
    head = student.head
    if not isinstance(head, VQCHead) or head.backend != "torch":
        raise TypeError(
            "device_scores needs a student with a VQCHead trained on the 'torch' backend"
        )
    if data.dataset != "mitbih":
        raise ValueError(
            "device_scores scores windows one by one: use it on MIT-BIH (PTB-XL is scored"
            " per record)"
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
    device_offset = window_anchor_logits(student, val, val_index)
    device_val = {
        noisy_mode: scale * out["expectations"] + bias + device_offset,
        noisy_mode + MITIGATED: scale * out["mitigated"] + bias + device_offset,
    }
    val_offset = window_anchor_logits(student, val, np.arange(len(val)))
    return DeviceScores(
        index, y_val, s_val, runs, compiled, val_index, device_val, offset, val_offset
    )


MODEL_TERM, CIRCUIT_TERM = "the student's logit", "the circuit's own term"


def hardware_study(result: DeviceScores, data: StudentData) -> pd.DataFrame:
    """Test metrics of a trained VQC student from its :func:`device_scores`: ideal, with finite
    shots, with a device's noise, raw and readout-mitigated; one row per (term, mode, shots), every
    row on the same windows at the threshold chosen on validation with the exact model.

    ``term``: the student's logit, and for a student anchored on the rhythm also the circuit's own
    term (the logit minus the anchor, its threshold chosen on the exact model's validation term):
    a fully depolarised circuit leaves the anchor's ranking to the logit, so only the own term shows
    what noise does to the circuit."""
    y = data.splits["test"].y[result.index]
    terms = [(MODEL_TERM, 0.0)] + ([(CIRCUIT_TERM, 1.0)] if result.anchored else [])
    rows = []
    for term, remove in terms:
        threshold = youden_threshold(result.y_val, result.val_logits - remove * result.val_offset)
        for mode, n, logits in result.runs:
            metrics = binary_metrics(y, logits - remove * result.offset, threshold)
            rows.append({"term": term, "mode": mode, "shots": n, **metrics})
    table = pd.DataFrame(rows)
    table.insert(3, "windows", len(result.index))
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
    """The hardware study's two tables, by the file name the CLI and notebook 05 save them under:
    ``hardware`` (:func:`hardware_study`, with the compiled circuit's device, depth and two-qubit
    gates) and ``hardware_thresholds`` (:func:`threshold_study`)."""
    compiled = result.compiled
    shots = hardware_study(result, data).assign(
        device=compiled.device, depth=compiled.depth, two_qubit_gates=compiled.two_qubit_gates
    )
    return {"hardware": shots, "hardware_thresholds": threshold_study(result, data)}


@dataclass
class DeviceStudy:
    """The device study of one dataset: which VQC ran (its selection and trained run), its scores
    in every mode, and the two tables (:func:`hardware_tables`)."""

    selection: Selection
    student: TrainedRun
    scores: DeviceScores
    tables: dict[str, pd.DataFrame]


def run_device_study(
    cfg: Config,
    study: QuantumStudy,
    shots: tuple[int, ...] | None = None,
    windows: int | None = None,
    device: str = hardware.DEFAULT_DEVICE,
    window_only: bool = False,
) -> DeviceStudy:
    """The device study in one call: the best-KD VQC of ``study`` (:func:`.stage.best_vqc`, seed
    ``cfg.seed``) scored on ``windows`` MIT-BIH test windows with each of ``shots`` (defaults:
    :func:`hardware_windows`, :func:`hardware_shots`), ideal and under ``device``'s noise, raw and
    mitigated; each sampled run cached under :func:`hardware_cache`. ``window_only``: the VQC of
    the window-only encoder instead (no rhythm anchor), the ablation row at the same KD cell."""
    encoder = study.encoders.window if window_only else study.encoders.main
    selection, run = best_vqc(cfg, study.data, encoder, study.runs)
    scores = device_scores(
        run.model,
        study.data,
        shots=shots or hardware_shots(cfg),
        size=windows or hardware_windows(cfg),
        device=device,
        seed=cfg.seed,
        cache_dir=hardware_cache(cfg),
    )
    return DeviceStudy(selection, run, scores, hardware_tables(scores, study.data))
