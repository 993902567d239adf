"""Reading and writing checkpoints in ECGFounder's official file format.

The released files (``12_lead_ECGFounder.pth``, ``1_lead_ECGFounder.pth``) are plain dicts:
``epoch``, ``step``, ``state_dict`` (509 tensors), ``optimizer`` (Adam state), ``scheduler``
(ReduceLROnPlateau state) and ``val_auroc``. :func:`load_ecgfounder` reads such a file (or a bare
state dict, with or without a ``module.`` prefix), checks every key and shape against our
:class:`Net1D`, reports any difference by name, and replaces the 150-label head for fine-tuning.
"""

from __future__ import annotations

import pickle
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from ..cache import atomic_write
from .net1d import Net1D, ecgfounder_config

HF_REPO = "PKUDigitalHealth/ECGFounder"
HEAD_KEYS = ("dense.weight", "dense.bias")
N_LABELS = 150


def head_labels() -> list[str]:
    """The 150 labels of the released head, in output order (``tasks.txt`` of the official
    repository)."""
    labels = (Path(__file__).parent / "ecgfounder_tasks.txt").read_text().splitlines()
    if len(labels) != N_LABELS:
        raise CheckpointError(
            f"ecgfounder_tasks.txt lists {len(labels)} labels, not {N_LABELS}: reinstall ecgkd"
        )
    return labels


class CheckpointError(RuntimeError):
    """A checkpoint cannot be found, read or matched to the architecture; the message says why."""


def checkpoint_filename(leads: int) -> str:
    return f"{leads}_lead_ECGFounder.pth"


def download_hint(leads: int) -> str:
    name = checkpoint_filename(leads)
    return (
        f"Download {name} from https://huggingface.co/{HF_REPO} (needs internet and accepting its "
        f"terms), then pass its path, e.g. load_ecgfounder('~/models/{name}')."
    )


@dataclass
class LoadReport:
    """What a load did: where from, the file's own metadata, and every key that did not match."""

    source: str
    epoch: int | None = None
    step: int | None = None
    val_auroc: float | None = None
    stripped_prefix: bool = False
    head_replaced: bool = False
    missing: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)
    mismatched: list[tuple[str, tuple, tuple]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.missing or self.unexpected or self.mismatched)

    def describe(self) -> str:
        lines = []
        if self.missing:
            lines.append(
                f"{len(self.missing)} key(s) missing from the file: {', '.join(self.missing[:8])}"
                + (" ..." if len(self.missing) > 8 else "")
            )
        if self.unexpected:
            lines.append(
                f"{len(self.unexpected)} unexpected key(s) in the file: "
                f"{', '.join(self.unexpected[:8])}" + (" ..." if len(self.unexpected) > 8 else "")
            )
        for key, got, want in self.mismatched[:8]:
            lines.append(f"shape mismatch for {key}: file {got}, model {want}")
        return "\n".join(lines) or "all keys and shapes match"


def released_weights(folder: Path | None, leads: int) -> Path | None:
    """The released checkpoint for ``leads`` in ``folder`` (``ECGKD_WEIGHTS``), or None without a
    folder.

    A folder that lacks the file is an error, not a silent switch to the stand-in teacher.
    """
    if folder is None:
        return None
    path = Path(folder) / checkpoint_filename(leads)
    if not path.is_file():
        raise CheckpointError(
            f"ECGKD_WEIGHTS={folder} has no {path.name}. {download_hint(leads)} Or unset "
            "ECGKD_WEIGHTS to train the stand-in teacher."
        )
    return path


def resolve_source(source: str | Path, leads: int) -> Path:
    """A local file path, or a Hugging Face repo id fetched with huggingface_hub (optional
    dependency)."""
    path = Path(str(source)).expanduser()
    if path.is_file():
        return path
    if path.exists():
        raise CheckpointError(f"{path} is not a file. {download_hint(leads)}")
    if str(source) != HF_REPO:
        raise CheckpointError(f"checkpoint not found: {path}. {download_hint(leads)}")
    try:
        from huggingface_hub import hf_hub_download
    except ImportError:
        raise CheckpointError(
            f"huggingface_hub is not installed (pip install 'ecgkd[hub]'). {download_hint(leads)}"
        ) from None
    try:
        return Path(hf_hub_download(HF_REPO, checkpoint_filename(leads), etag_timeout=5))
    except Exception as err:  # offline, gated, or not found: one clear message
        raise CheckpointError(
            f"could not fetch {checkpoint_filename(leads)} from {HF_REPO} ({type(err).__name__}: "
            f"{str(err).splitlines()[0] if str(err) else ''}). {download_hint(leads)}"
        ) from None


def read_checkpoint(path: Path, trust: bool = False) -> dict[str, Any]:
    """``torch.load`` with ``weights_only=True``; a file that needs full unpickling needs
    ``trust=True``."""
    try:
        obj = torch.load(path, map_location="cpu", weights_only=not trust)
    except pickle.UnpicklingError as err:
        refused = [line.strip() for line in str(err).splitlines() if "Unsupported global" in line]
        if not refused:
            raise CheckpointError(
                f"{path} is not a readable torch checkpoint (unpickling failed)"
            ) from None
        raise CheckpointError(
            f"{path} holds objects that weights_only loading refuses ({refused[0][:160]}). If you "
            "trust this file, load it with trust=True (it runs pickle code)."
        ) from None
    except (RuntimeError, EOFError, OSError) as err:
        raise CheckpointError(f"{path} is not a readable torch checkpoint: {err}") from None
    if not isinstance(obj, dict):
        raise CheckpointError(
            f"{path} holds a {type(obj).__name__}, not a checkpoint dict or state dict"
        )
    return obj


def extract_state_dict(obj: dict[str, Any]) -> tuple[dict[str, torch.Tensor], bool]:
    """The tensors of an official checkpoint or a bare state dict; strips ``module.``
    (DataParallel)."""
    state = obj.get("state_dict", obj)
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise CheckpointError(
            "no state_dict of tensors found (expected the official dict or a bare state dict)"
        )
    stripped = bool(state) and all(k.startswith("module.") for k in state)
    if stripped:
        state = {k[len("module.") :]: v for k, v in state.items()}
    return state, stripped


def compare_state(
    state: dict[str, torch.Tensor], model: torch.nn.Module, ignore: tuple[str, ...] = ()
) -> tuple[list[str], list[str], list[tuple[str, tuple, tuple]]]:
    """Missing, unexpected and shape-mismatched keys of ``state`` against ``model``."""
    expected = {k: tuple(v.shape) for k, v in model.state_dict().items() if k not in ignore}
    given = {k: tuple(v.shape) for k, v in state.items() if k not in ignore}
    missing = sorted(set(expected) - set(given))
    unexpected = sorted(set(given) - set(expected))
    mismatched = [
        (k, given[k], expected[k])
        for k in sorted(set(given) & set(expected))
        if given[k] != expected[k]
    ]
    return missing, unexpected, mismatched


def load_ecgfounder(
    source: str | Path, leads: int = 12, n_outputs: int = N_LABELS, trust: bool = False
) -> tuple[Net1D, LoadReport]:
    """The released ECGFounder, strictly matched key for key, with a fresh head when ``n_outputs !=
    150``.

    ``source``: a ``.pth`` path, or ``"PKUDigitalHealth/ECGFounder"`` to fetch it with
    huggingface_hub. Raises :class:`CheckpointError` naming every missing, unexpected or mis-shaped
    key.
    """
    path = resolve_source(source, leads)
    obj = read_checkpoint(path, trust)
    state, stripped = extract_state_dict(obj)
    model = Net1D(ecgfounder_config(leads, N_LABELS))
    report = LoadReport(
        str(path), obj.get("epoch"), obj.get("step"), obj.get("val_auroc"), stripped
    )
    report.missing, report.unexpected, report.mismatched = compare_state(state, model)
    if not report.ok:
        raise CheckpointError(
            f"{path} does not match ECGFounder's {leads}-lead Net1D:\n{report.describe()}"
        )
    model.load_state_dict(state, strict=True)
    if n_outputs != N_LABELS:
        model.replace_head(n_outputs)
        report.head_replaced = True
    return model, report


def save_checkpoint(
    path: Path,
    model: torch.nn.Module,
    *,
    epoch: int = 0,
    step: int = 0,
    optimizer: torch.optim.Optimizer | None = None,
    scheduler: Any = None,
    val_auroc: float | None = None,
    **extra: Any,
) -> Path:
    """Write a checkpoint in the official dict format, atomically (extra keys allowed, e.g.
    metadata)."""
    payload = {
        "epoch": epoch,
        "step": step,
        "state_dict": model.state_dict(),
        "optimizer": optimizer.state_dict() if optimizer is not None else {},
        "scheduler": scheduler.state_dict() if scheduler is not None else {},
        "val_auroc": val_auroc,
        **extra,
    }
    return atomic_write(Path(path), lambda tmp: torch.save(payload, tmp))
