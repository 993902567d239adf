"""Run configuration: quick/full mode, data and cache folders, seed, device.

All environment parsing of the project lives here, so that a notebook, a test and the CLI see the
same settings. Read them with :func:`load`:

==================  ======================================================  ================
variable            meaning                                                 default
==================  ======================================================  ================
``ECGKD_QUICK``     ``1`` quick mode (minutes), ``0`` full (the experiment)  see below
``ECGKD_DATA``      folder holding ``mitdb/`` and ``ptb-xl/``                repo ``data/``
``ECGKD_CACHE``     prepared arrays, checkpoints, teacher outputs           repo ``cache/``
``ECGKD_SEED``      base random seed                                        ``0``
``ECGKD_DEVICE``    ``auto`` (GPU when present), ``cpu``, ``cuda[:N]``      ``auto``
``ECGKD_GRID_DEVICE`` where the grids' small students train                 ``ECGKD_DEVICE``
``ECGKD_JOBS``      parallel training runs (grids; teachers beside folds)   CPU cores (GPU 1)
``ECGKD_CLUSTER``   a Dask scheduler's address: the grids run there         unset (local)
``ECGKD_WEIGHTS``   folder holding ECGFounder's released ``.pth`` files     unset (stand-in)
``ECGKD_PROGRESS``  ``1`` progress bars, ``0`` none (the book's execution)  ``1``
==================  ======================================================  ================

The mode, when ``ECGKD_QUICK`` is not set, follows the data: quick on the repository's sample
(``ECGKD_DATA`` unset), full when ``ECGKD_DATA`` (or the CLI's ``--data``) names a data folder.
``ECGKD_QUICK`` always wins.
"""

from __future__ import annotations

import os
import random
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

PACKAGE_DIR = Path(__file__).resolve().parent
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


class ConfigError(ValueError):
    """An environment variable or argument has a value ecgkd cannot use."""


def project_root() -> Path:
    """The checkout holding this package (where ``data/`` lives), else the working directory."""
    candidate = PACKAGE_DIR.parent
    return candidate if (candidate / "pyproject.toml").is_file() else Path.cwd()


@dataclass(frozen=True)
class Config:
    """Settings of one run; immutable so that a notebook cannot drift from what it printed."""

    quick: bool
    data_root: Path
    cache_root: Path
    seed: int = 0
    device: str = "cpu"
    n_jobs: int = 1
    # where the grids' runs train (students, latent heads); None: ``device``. On a machine with a
    # GPU and many cores, the teacher on the GPU and the small students on the cores, in parallel
    grid_device: str | None = None
    # folder holding ECGFounder's released .pth files, when the user has them
    weights: Path | None = None
    # a Dask scheduler's address ("tcp://host:8786"): the grids run on that cluster
    cluster: str | None = None

    @property
    def mode(self) -> str:
        return "quick" if self.quick else "full"

    @property
    def results_root(self) -> Path:
        """Where tables and figures go by default: ``_build/results-<mode>/`` in the checkout."""
        return project_root() / "_build" / f"results-{self.mode}"

    @property
    def grids_on(self) -> str:
        """The device the grids' runs train on (``ECGKD_GRID_DEVICE``, else ``device``)."""
        return self.grid_device or self.device

    def with_(self, **changes: object) -> Config:
        """A copy with some fields changed (e.g. ``cfg.with_(seed=1)``)."""
        return replace(self, **changes)


def parse_bool(name: str, value: str) -> bool:
    """Parse a yes/no environment value, naming the variable when it is neither."""
    text = value.strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ConfigError(f"{name}={value!r} is not a yes/no value: use 1 or 0 (or unset it).")


def parse_int(name: str, value: str, minimum: int = 0) -> int:
    """Parse a whole number >= minimum, naming the variable when it is not one."""
    try:
        number = int(value.strip())
    except ValueError:
        raise ConfigError(f"{name}={value!r} is not a whole number.") from None
    if number < minimum:
        raise ConfigError(f"{name}={value!r} must be >= {minimum}.")
    return number


def resolve_device(name: str, value: str) -> str:
    """``auto`` picks CUDA when torch sees a GPU; an explicit CUDA request without one is an
    error."""
    import torch

    text = value.strip().lower() or "auto"
    if text == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if text == "cpu":
        return "cpu"
    if text.startswith("cuda"):
        if not torch.cuda.is_available():
            raise ConfigError(
                f"{name}={value!r} asks for a GPU but torch sees none: use cpu or auto."
            )
        return text
    raise ConfigError(f"{name}={value!r} is not a device: use auto, cpu or cuda[:N].")


def default_jobs(device: str) -> str:
    """Grid runs at once by default: one per CPU core (each run uses one thread, see
    :func:`ecgkd.students.grid.train_student`, so the numbers do not depend on this), one on a
    GPU."""
    return str(os.cpu_count() or 1) if device == "cpu" else "1"


def parse_cluster(name: str, value: str) -> str | None:
    """A Dask scheduler address (``tcp://host:8786``, ``host:8786``), or None when empty."""
    text = value.strip()
    if not text:
        return None
    if ":" not in text or any(c.isspace() for c in text):
        raise ConfigError(
            f"{name}={value!r} is not a scheduler address: use host:port or tcp://host:port (what "
            "dask.distributed prints as the scheduler's address), or unset it for local workers."
        )
    return text


def default_quick(env: Mapping[str, str], data_given: bool) -> bool:
    """``ECGKD_QUICK`` when set; otherwise quick mode on the shipped sample, full mode on a data
    folder the user named (the sample is a 5-minute excerpt: full mode on it is neither quick nor
    the experiment)."""
    text = env.get("ECGKD_QUICK", "").strip()
    return parse_bool("ECGKD_QUICK", text) if text else not data_given


def progress_enabled(env: Mapping[str, str] | None = None) -> bool:
    """``ECGKD_PROGRESS`` (default on): off when a notebook is executed to be stored (the book's
    build)."""
    env = os.environ if env is None else env
    return parse_bool("ECGKD_PROGRESS", env.get("ECGKD_PROGRESS", "1") or "1")


def load(env: Mapping[str, str] | None = None, **overrides: object) -> Config:
    """Read the configuration from the environment (or ``env``); keyword overrides win.

    The data folder must exist; its content is checked when a dataset is read, so that the error
    can name the missing file.
    """
    env = os.environ if env is None else env
    root = project_root()
    data_text = env.get("ECGKD_DATA", "").strip()
    quick = default_quick(env, data_given=bool(data_text) or "data_root" in overrides)
    data_root = Path(data_text).expanduser() if data_text else root / "data"
    if data_text and not data_root.is_dir():
        raise ConfigError(
            f"ECGKD_DATA={data_text!r} is not a folder. Point it at a folder holding mitdb/ and "
            "ptb-xl/ (see data/README.md), or unset it to use the sample in the repository's "
            "data/."
        )
    cache_text = env.get("ECGKD_CACHE", "").strip()
    cache_root = Path(cache_text).expanduser() if cache_text else root / "cache"
    weights_text = env.get("ECGKD_WEIGHTS", "").strip()
    weights = Path(weights_text).expanduser().resolve() if weights_text else None
    if weights is not None and not weights.is_dir():
        raise ConfigError(
            f"ECGKD_WEIGHTS={weights_text!r} is not a folder. Put 1_lead_ECGFounder.pth and/or "
            "12_lead_ECGFounder.pth (https://huggingface.co/PKUDigitalHealth/ECGFounder) in a "
            "folder and point "
            "ECGKD_WEIGHTS at it, or unset it to train the stand-in teacher."
        )
    device = resolve_device("ECGKD_DEVICE", env.get("ECGKD_DEVICE", "auto"))
    grid_text = env.get("ECGKD_GRID_DEVICE", "").strip()
    grid_device = resolve_device("ECGKD_GRID_DEVICE", grid_text) if grid_text else None
    cfg = Config(
        quick=quick,
        data_root=data_root.resolve(),
        cache_root=cache_root.resolve(),
        seed=parse_int("ECGKD_SEED", env.get("ECGKD_SEED", "0")),
        device=device,
        n_jobs=parse_int(
            "ECGKD_JOBS", env.get("ECGKD_JOBS") or default_jobs(grid_device or device), minimum=1
        ),
        grid_device=grid_device,
        weights=weights,
        cluster=parse_cluster("ECGKD_CLUSTER", env.get("ECGKD_CLUSTER", "")),
    )
    for name in ("data_root", "cache_root", "weights"):  # a folder given as text works too
        if overrides.get(name) is not None:
            overrides[name] = Path(str(overrides[name])).expanduser().resolve()
    return cfg.with_(**overrides) if overrides else cfg


def seed_everything(seed: int, deterministic: bool = True) -> None:
    """Seed Python, NumPy and torch; with ``deterministic`` ask torch for reproducible kernels.

    On the CPU this makes a rerun give the same numbers bit for bit.
    """
    import torch

    if not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ConfigError(f"seed={seed!r} must be a non-negative integer.")
    random.seed(int(seed))
    np.random.seed(int(seed) % 2**32)
    torch.manual_seed(int(seed))
    if deterministic:
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        # torch.use_deterministic_algorithms sets this flag and also configures torch.compile,
        # importing torch._inductor and torch._dynamo (~800 modules, 0.8 s) in every kernel and
        # every worker that seeds; nothing here is compiled, so the flag alone is set
        flag = getattr(torch._C, "_set_deterministic_algorithms", None)
        if flag is None:
            torch.use_deterministic_algorithms(True, warn_only=True)
        else:
            flag(True, warn_only=True)
        torch.backends.cudnn.benchmark = False
