"""Small tables every notebook ends with: the versions that produced its numbers."""

from __future__ import annotations

import platform
from importlib import metadata

import pandas as pd

PACKAGES = ("ecgkd", "numpy", "scipy", "pandas", "scikit-learn", "torch", "wfdb", "matplotlib", "qiskit",
            "qiskit-aer", "qiskit-machine-learning", "joblib")


def versions_table(packages: tuple[str, ...] = PACKAGES) -> pd.DataFrame:
    """Python, platform and package versions (``not installed`` where absent)."""
    rows = {"python": platform.python_version(), "platform": platform.platform(terse=True)}
    for name in packages:
        try:
            rows[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            rows[name] = "not installed"
    return pd.DataFrame({"version": rows})
