"""Finding data files and verifying their sha256 checksums before they are read.

Checksum lists are read from the data root (``SHA256SUMS``, paths relative to the root, as in this
repository's ``data/``) and from each database folder (PhysioNet's ``SHA256SUMS.txt`` and any
``SHA256SUMS*.txt``, paths relative to that folder). A file listed with another digest is an error;
a file listed nowhere is read, and reported once with a warning, never silently.
"""

from __future__ import annotations

import hashlib
import warnings
from functools import cache
from pathlib import Path

GET_DATA_HINT = (
    "The repository ships a small real sample in data/ (see data/README.md). For the full "
    "databases run `python -m ecgkd.data.download --dest DIR` (needs internet) and set "
    "ECGKD_DATA=DIR."
)


class DataError(RuntimeError):
    """Data is missing or cannot be used; the message names the file and what to do."""


class ChecksumError(DataError):
    """A data file's sha256 differs from its checksum list."""


def require_path(path: Path, what: str) -> Path:
    """Return ``path`` if it exists, else raise a :class:`DataError` naming it and how to get
    data."""
    path = Path(path)
    if not path.exists():
        raise DataError(f"{what} not found: {path}. {GET_DATA_HINT}")
    return path


@cache
def _sha256(path: str, size: int, mtime_ns: int) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def sha256_file(path: Path) -> str:
    """sha256 of a file, memoised on (path, size, mtime) so that a rerun does not hash twice."""
    st = Path(path).stat()
    return _sha256(str(Path(path).resolve()), st.st_size, st.st_mtime_ns)


def parse_checksum_list(path: Path) -> dict[str, str]:
    """Read a ``sha256sum`` style list: ``<hex>  <relative path>`` per line."""
    entries: dict[str, str] = {}
    for number, line in enumerate(Path(path).read_text().splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        parts = line.split(maxsplit=1)
        if len(parts) != 2 or len(parts[0]) != 64:
            raise DataError(f"{path}, line {number}: not a sha256sum line: {line!r}")
        entries[parts[1].strip().lstrip("*")] = parts[0].lower()
    return entries


class ChecksumIndex:
    """All checksum lists under a data root, for verifying files as they are read."""

    def __init__(self, root: Path, databases: tuple[str, ...] = ("mitdb", "ptb-xl")) -> None:
        self.root = Path(root).resolve()
        self.digests: dict[Path, str] = {}
        self.lists: list[Path] = []
        root_list = self.root / "SHA256SUMS"
        if root_list.is_file():
            self._add(root_list, self.root)
        for db in databases:
            folder = self.root / db
            for listing in sorted(folder.glob("SHA256SUMS*.txt")) if folder.is_dir() else []:
                self._add(listing, folder)
        self.verified: set[Path] = set()
        self.unlisted: set[Path] = set()

    def _add(self, listing: Path, base: Path) -> None:
        self.lists.append(listing)
        for rel, digest in parse_checksum_list(listing).items():
            self.digests[(base / rel).resolve()] = digest

    def verify(self, path: Path) -> bool:
        """Check one file; True if a list covers it. Raises :class:`ChecksumError` on a mismatch."""
        path = Path(path).resolve()
        expected = self.digests.get(path)
        if expected is None:
            self.unlisted.add(path)
            return False
        actual = sha256_file(path)
        if actual != expected:
            raise ChecksumError(
                f"checksum mismatch for {path}: expected sha256 {expected}, found {actual}. The "
                "file is corrupt or was changed: restore it (git checkout, or download it "
                "again). "
                f"{GET_DATA_HINT}"
            )
        self.verified.add(path)
        return True

    def verify_all(self, paths: list[Path]) -> None:
        for path in paths:
            self.verify(path)

    def warn_unlisted(self, what: str) -> None:
        """One warning naming how many files no checksum list covers (they were read unverified)."""
        if self.unlisted:
            example = sorted(self.unlisted)[0]
            warnings.warn(
                f"{what}: {len(self.unlisted)} file(s) are in no checksum list under {self.root} "
                f"and were read unverified (e.g. {example}).",
                stacklevel=3,
            )

    def summary(self) -> dict[str, int]:
        return {"verified": len(self.verified), "unlisted": len(self.unlisted)}
