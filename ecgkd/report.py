"""What every notebook opens and ends with: one setup call, shown source code, the versions
table; and the committed tables of the full-mode run, which the book's page ``book/full_run.md``
renders."""

from __future__ import annotations

import inspect
import platform
from functools import partial
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd

from . import config
from .cache import atomic_write

PACKAGES = (
    "ecgkd",
    "numpy",
    "scipy",
    "pandas",
    "scikit-learn",
    "torch",
    "wfdb",
    "matplotlib",
    "qiskit",
    "qiskit-aer",
    "qiskit-machine-learning",
    "joblib",
)

#: Figures sized for the book's text column (about 7.5 inches at 100 dpi) and readable there.
FIGURE_STYLE = {
    "figure.dpi": 100,
    "savefig.dpi": 100,
    "font.size": 10,
    "axes.titlesize": 10,
    "legend.fontsize": 8,
    "figure.max_open_warning": 0,
}


def setup(**overrides: Any) -> config.Config:
    """The opening of every notebook: the configuration (``ECGKD_*``, see :mod:`ecgkd.config`),
    every random generator seeded, display options for tables and figures, and a one-line banner.

    Keyword ``overrides`` change fields of the configuration (``setup(seed=1)``).
    """
    import matplotlib.pyplot as plt

    cfg = config.load(**overrides)
    config.seed_everything(cfg.seed)
    pd.set_option("display.width", 100)
    pd.set_option("display.max_colwidth", 60)
    pd.set_option("display.precision", 4)
    plt.rcParams.update(FIGURE_STYLE)
    print(banner(cfg))
    return cfg


def banner(cfg: config.Config) -> str:
    """One line saying which mode, data, cache, seed, device and jobs a notebook runs with."""
    return (
        f"ecgkd {metadata.version('ecgkd')} | mode: {cfg.mode} | data: {cfg.data_root} | "
        f"seed: {cfg.seed} | device: {cfg.device}"
        + (f" (grids: {cfg.grids_on})" if cfg.grids_on != cfg.device else "")
        + f" | jobs: {cfg.n_jobs}"
    )


class SourceCode:
    """The source of a function or class, shown as a highlighted code block in JupyterLab and the
    book.

    A notebook shows the code it teaches where it teaches it; the package keeps the one definition.
    """

    def __init__(self, obj: Any):
        self.name = f"{obj.__module__}.{obj.__qualname__}"
        self.text = inspect.getsource(obj).rstrip()

    def _repr_markdown_(self) -> str:
        return f"`{self.name}`:\n\n```python\n{self.text}\n```"

    def __repr__(self) -> str:
        return self.text


def show_source(obj: Any) -> SourceCode:
    """``show_source(kd_loss)`` as the last line of a cell displays the code of ``kd_loss``."""
    return SourceCode(obj)


def versions_table(packages: tuple[str, ...] = PACKAGES) -> pd.DataFrame:
    """Python, platform and package versions (``not installed`` where absent)."""
    rows = {"python": platform.python_version(), "platform": platform.platform(terse=True)}
    for name in packages:
        try:
            rows[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            rows[name] = "not installed"
    return pd.DataFrame({"version": rows})


def titled(table: pd.DataFrame | pd.Series, caption: str, precision: int = 4):
    """A table with a caption naming what it shows and on which dataset (a pandas Styler); a
    missing value (no temperature without KD, no difference for a reference row) shows as '-'."""
    frame = table.to_frame() if isinstance(table, pd.Series) else table
    styled = frame.style.set_caption(caption).format(precision=precision, na_rep="-")
    # a plain row number says nothing: hide it (a named index, like "split", stays)
    return styled.hide(axis="index") if isinstance(frame.index, pd.RangeIndex) else styled


def _setting(value: Any) -> str:
    """A setting as a reader writes it: 0.003 and 2048, not 0.0030 and 2048.0000; unset as '-'."""
    if value is None or (isinstance(value, float) and value != value):
        return "-"
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return f"{value:g}"
    return str(value)


def settings_table(settings: dict[str, Any], caption: str):
    """Training settings side by side, one row per owner (``{"mitbih": TrainSettings, ...}``)."""
    rows = {name: s.as_dict() if hasattr(s, "as_dict") else dict(s) for name, s in settings.items()}
    frame = pd.DataFrame.from_dict(rows, orient="index")
    return frame.style.set_caption(caption).format(_setting)


def save_tables(folder: Path, tables: dict[str, pd.DataFrame]) -> list[Path]:
    """Write each table to ``folder/<name>.csv``, atomically (a table whose index is named, such
    as the per-class table, keeps it as its first column). The notebooks and the CLI write every
    table with it, so that their files can be compared."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, table in tables.items():
        frame = table.reset_index() if table.index.name is not None else table
        path = folder / f"{name}.csv"
        paths.append(atomic_write(path, partial(_to_csv, frame)))
    return paths


def _to_csv(table: pd.DataFrame, path: Path) -> None:
    table.to_csv(path, index=False)


#: The committed tables of the last full-mode run, as ``python -m ecgkd --full`` wrote them (with
#: its ``provenance.csv``: commit, machine, command); ``book/full_run.md`` renders them.
FULL_RUN_DIR = "results/full"


def full_run_folder() -> Path:
    """The folder of the committed full-mode run's tables in this checkout."""
    return config.project_root() / FULL_RUN_DIR


def full_run_table(name: str, folder: Path | None = None) -> pd.DataFrame:
    """The full-mode run's table ``name`` (``results/full/<name>.csv``) exactly as the CLI wrote
    it; a missing file is an error that names it and says how to make it."""
    path = Path(folder or full_run_folder()) / f"{name}.csv"
    if not path.is_file():
        raise FileNotFoundError(
            f"{path}: no such table of the full-mode run. Make the run's tables with "
            f"`python -m ecgkd --full --datasets mitbih --data <folder> --out {FULL_RUN_DIR}` "
            "(README: Quick mode and full mode)."
        )
    return pd.read_csv(path)


def full_run_caption(name: str, what: str) -> str:
    """A caption that names the table, the dataset and the file it shows."""
    return f"{what}. MIT-BIH, full-mode run ({FULL_RUN_DIR}/{name}.csv)"


def show_full_run(
    name: str,
    what: str,
    columns: list[str] | None = None,
    precision: int = 4,
    read_down: bool = False,
):
    """The full-mode run's table ``name`` (``columns`` of it, default all) as a captioned table;
    ``read_down``: a one-row table (the provenance) as field / value pairs."""
    table = full_run_table(name)
    table = table[columns] if columns else table
    if read_down:
        if len(table) != 1:
            raise ValueError(f"read_down shows a one-row table; {name}.csv has {len(table)} rows")
        table = pd.DataFrame({"field": table.columns, "value": table.iloc[0].astype(str).values})
    return titled(table, full_run_caption(name, what), precision)
