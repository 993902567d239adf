"""Fingerprints and atomic on-disk caches.

A cached file is named by a fingerprint of everything that produced it (inputs, parameters, code
version), so a change to any of them gives a new name instead of silently reusing a stale file.
Files are written to a temporary name in the same folder and renamed into place, so an interrupted
run never leaves a half-written cache behind.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

META_KEY = "__meta__"


class CacheError(RuntimeError):
    """A cache file that cannot be read (truncated, overwritten by hand, from another tool). The
    message names the file and what to delete; nothing is rebuilt behind the user's back."""


def damaged(path: Path, error: BaseException) -> CacheError:
    """The one message for a cache file that cannot be read."""
    reason = f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}"
    return CacheError(
        f"{path} is damaged and cannot be read ({reason[:160]}). Delete this file and run again: "
        "only what it held is rebuilt (every other cache entry is kept)."
    )


def read_cached(path: Path, read: Callable[[Path], Any]) -> Any:
    """``read(path)`` for a cache file this package wrote; any failure to read it becomes a
    :class:`CacheError` naming the file and what to delete."""
    try:
        return read(Path(path))
    except CacheError:
        raise
    except Exception as error:  # zip, pickle, torch and parser errors all mean the same here
        raise damaged(Path(path), error) from None


def _canonical(obj: Any) -> Any:
    """Turn paths, numpy scalars, tuples and sets into JSON-stable values."""
    if isinstance(obj, Mapping):
        return {str(k): _canonical(v) for k, v in sorted(obj.items(), key=lambda kv: str(kv[0]))}
    if isinstance(obj, (list, tuple)):
        return [_canonical(v) for v in obj]
    if isinstance(obj, (set, frozenset)):
        return sorted(_canonical(v) for v in obj)
    if isinstance(obj, Path):
        return obj.as_posix()
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, (str, int, float, bool)) or obj is None:
        return obj
    raise TypeError(f"cannot fingerprint a {type(obj).__name__}: pass plain values, paths or lists")


def fingerprint(obj: Any, length: int = 16) -> str:
    """A short sha256 hex digest of a JSON-able description (dict order does not matter)."""
    text = json.dumps(_canonical(obj), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:length]


def code_version(*modules: ModuleType) -> str:
    """Fingerprint of the source text of modules: editing the code that made a cache invalidates
    it."""
    digest = hashlib.sha256()
    for module in modules:
        source = Path(module.__file__).read_bytes()  # type: ignore[arg-type]
        digest.update(module.__name__.encode() + b"\0" + source)
    return digest.hexdigest()[:16]


def file_stamp(paths: Iterable[Path], root: Path) -> list[list[Any]]:
    """Relative path, size and modification time of input files: cheap to compute, changes with
    them."""
    stamps = []
    for path in sorted(Path(p) for p in paths):
        st = path.stat()
        stamps.append([path.relative_to(root).as_posix(), st.st_size, st.st_mtime_ns])
    return stamps


class Kept:
    """What one process keeps of a slow computation it repeats with the same inputs (a record
    parsed by wfdb, a regression fitted on the same split), by key, up to ``limit`` in the units
    of ``size`` (default: one per entry), the oldest entry dropped first. Nothing is written."""

    def __init__(self, limit: float, size: Callable[[Any], float] = lambda value: 1) -> None:
        self.limit, self.size = limit, size
        self._entries: dict[Any, Any] = {}
        self._total = 0.0

    def get(self, key: Any, make: Callable[[], Any]) -> Any:
        """The entry of ``key``, made by ``make()`` the first time."""
        if key not in self._entries:
            value = self._entries[key] = make()
            self._total += self.size(value)
            while self._total > self.limit and len(self._entries) > 1:
                self._total -= self.size(self._entries.pop(next(iter(self._entries))))
        return self._entries[key]

    def keys(self) -> list[Any]:
        return list(self._entries)

    def clear(self) -> None:
        """Forget every entry (what a fresh process would start with)."""
        self._entries.clear()
        self._total = 0.0


def atomic_write(path: Path, write: Callable[[Path], None]) -> Path:
    """Call ``write(tmp)`` on a temporary file beside ``path``, then rename it into place."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def save_arrays(path: Path, arrays: Mapping[str, np.ndarray], meta: Mapping[str, Any]) -> Path:
    """Save named arrays and a JSON metadata dict to one ``.npz`` file, atomically."""
    if META_KEY in arrays:
        raise ValueError(f"array name {META_KEY!r} is reserved for metadata")
    payload = {k: np.asarray(v) for k, v in arrays.items()}
    payload[META_KEY] = np.array(json.dumps(_canonical(dict(meta))))

    def write(tmp: Path) -> None:
        with open(tmp, "wb") as handle:
            np.savez(handle, **payload)

    return atomic_write(Path(path), write)


def load_arrays(path: Path) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Load what :func:`save_arrays` wrote: (arrays, metadata); a damaged file is a
    :class:`CacheError`."""

    def read(path: Path) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files if k != META_KEY}
            meta = json.loads(str(data[META_KEY])) if META_KEY in data.files else {}
        return arrays, meta

    return read_cached(path, read)


def load_torch(path: Path, device: str = "cpu") -> Any:
    """A torch file this package saved (checkpoints, encoders); a damaged one is a
    :class:`CacheError`."""
    import torch

    return read_cached(path, lambda p: torch.load(p, map_location=device, weights_only=False))


def read_table(path: Path) -> Any:
    """A results CSV this package wrote (a grid's runs); a damaged one is a :class:`CacheError`."""
    import pandas as pd

    return read_cached(path, pd.read_csv)


def cached_arrays(
    path: Path,
    build: Callable[[], tuple[dict[str, np.ndarray], dict[str, Any]]],
    key: str,
) -> tuple[dict[str, np.ndarray], dict[str, Any], bool]:
    """Load ``path`` if it holds ``key``; else build, save and return. Third value: was it a hit?

    The key is stored inside the file too, so a file renamed or copied by hand is still checked.
    """
    path = Path(path)
    if path.is_file():
        arrays, meta = load_arrays(path)
        if meta.get("key") == key:
            return arrays, meta, True
    arrays, meta = build()
    meta = {**meta, "key": key}
    save_arrays(path, arrays, meta)
    return arrays, meta, False
