"""``python -m ecgkd``: the tutorial's stages without notebooks, writing tables and figures to a
folder.

    python -m ecgkd --quick                  # every stage, quick mode, into _build/results-quick/
    python -m ecgkd --stages evaluate        # notebook 06's comparison from the finished grids
    python -m ecgkd --full --stages teacher students  # full mode, two stages
    python -m ecgkd --data ~/ecg-data        # a data folder named: full mode unless --quick
    python -m ecgkd --help

A bad input (an ``ECGKD_*`` value, a missing folder, a checksum mismatch) ends the run with one line
naming it and what to do, and exit status 2.

The stages call the same package functions as the notebooks, with the same caches (``ECGKD_CACHE``),
so a stage a notebook has finished is reloaded, not recomputed, and the numbers are the notebooks'
numbers. Settings not given as options come from the environment (``ECGKD_*``, see the README). Each
finished stage appends its wall time to ``stage_times.csv`` in the output folder.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # the CLI writes figures to files; it never opens a window

import pandas as pd  # noqa: E402

from . import cache, config  # noqa: E402
from .report import save_tables  # noqa: E402

STAGES = ("data", "teacher", "students", "quantum", "device", "evaluate", "transfer")
DATASETS = ("mitbih", "ptbxl")


def _write_figure(fig, path: Path) -> None:
    import matplotlib.pyplot as plt

    cache.atomic_write(
        path, lambda tmp: fig.savefig(tmp, dpi=120, bbox_inches="tight", format="png")
    )
    plt.close(fig)


def write_data(cfg: config.Config, out: Path, datasets: tuple[str, ...], progress: bool) -> None:
    """Windows, records and patients per split: ``data.csv``."""
    from .data import load

    tables = [
        load(cfg, name, progress=progress).summary().assign(dataset=name) for name in datasets
    ]
    save_tables(out, {"data": pd.concat(tables).reset_index()})


def write_teacher(cfg: config.Config, out: Path, datasets: tuple[str, ...], progress: bool) -> None:
    """The teachers' validation and test metrics (``teacher.csv``) and test ROC curves."""
    import matplotlib.pyplot as plt

    from . import plots
    from .teacher.stage import run_teacher

    studies = {name: run_teacher(cfg, name, progress) for name in datasets}
    metrics = [study.metrics_table() for study in studies.values()]
    save_tables(out, {"teacher": pd.concat(metrics, ignore_index=True)})
    fig, axes = plt.subplots(
        1, len(studies), figsize=(4.8 * len(studies), 4.4), squeeze=False, layout="constrained"
    )
    for ax, (name, study) in zip(axes[0], studies.items()):
        rows, logits = study.teacher.split_logits("test")
        plots.plot_roc({name: (rows.y, logits)}, title=study.teacher.label, ax=ax)
    _write_figure(fig, out / "teacher_roc.png")


def write_students(
    cfg: config.Config, out: Path, datasets: tuple[str, ...], progress: bool
) -> None:
    """The classical T x alpha grids: every run (``students.csv``), the summary and the heatmaps."""
    from . import plots
    from .students.stage import run_students
    from .students.tables import summary_table

    results = pd.concat([run_students(cfg, n, progress=progress) for n in datasets])
    results = results.reset_index(drop=True)
    save_tables(out, {"students": results, "students_summary": summary_table(results)})
    _write_figure(plots.plot_kd_auroc(results, "Classical students"), out / "students_auroc.png")


def write_quantum(cfg: config.Config, out: Path, datasets: tuple[str, ...], progress: bool) -> None:
    """Autoencoders, the VQC and control grids: ``quantum.csv``, its summary and heatmaps."""
    from . import plots
    from .quantum.stage import run_quantum
    from .students.tables import summary_table

    results = pd.concat([run_quantum(cfg, n, progress=progress).runs for n in datasets])
    results = results.reset_index(drop=True)
    save_tables(out, {"quantum": results, "quantum_summary": summary_table(results)})
    _write_figure(plots.plot_kd_auroc(results, "Latent students"), out / "quantum_auroc.png")


def write_device(cfg: config.Config, out: Path, datasets: tuple[str, ...], progress: bool) -> None:
    """The shots / noise study of the best-KD VQC on MIT-BIH (notebook 05): ``hardware.csv``,
    ``hardware_thresholds.csv``, the window-only VQC's ``hardware_window_only.csv`` and the shots
    figure."""
    from . import plots
    from .quantum.device import MODEL_TERM, run_device_study
    from .quantum.stage import run_quantum

    if "mitbih" not in datasets:
        return
    study = run_quantum(cfg, "mitbih", train=False, progress=progress)
    device = run_device_study(cfg, study)
    tables = dict(device.tables)
    if study.encoders.rhythm is not None:
        window_only = run_device_study(cfg, study, window_only=True)
        tables["hardware_window_only"] = window_only.tables["hardware"]
    save_tables(out, tables)
    shots = tables["hardware"][tables["hardware"]["term"] == MODEL_TERM]
    _write_figure(
        plots.plot_shots(shots, "auroc", title="VQC on MIT-BIH test windows"),
        out / "hardware.png",
    )


def write_evaluation(
    cfg: config.Config, out: Path, datasets: tuple[str, ...], progress: bool
) -> None:
    """Notebook 06's comparison from the finished stages: ``comparison.csv``, ``retention.csv``,
    ``baselines.csv``, ``kd_gains.csv``, ``rhythm_gains.csv``, the per-class table, the VQC on a
    device, the ROC curves."""
    import matplotlib.pyplot as plt

    from . import plots
    from .evaluation.stage import evaluate, evaluation_tables, per_class_table, report_table

    studies = {name: evaluate(cfg, name, progress=progress) for name in datasets}
    every = [r for study in studies.values() for r in study.reports]
    tables = evaluation_tables(every, studies[datasets[0]].resamples)
    if "mitbih" in studies:
        tables["per_class_mitbih"] = per_class_table(studies["mitbih"].reports).T
        if studies["mitbih"].device:
            device = studies["mitbih"].device
            tables["vqc_on_device"] = report_table(device)
            _write_figure(
                plots.plot_score_distributions(device, title="VQC logits on the DS2 subset"),
                out / "vqc_on_device.png",
            )
    save_tables(out, tables)
    fig, axes = plt.subplots(
        len(studies), 1, figsize=(7, 6 * len(studies)), squeeze=False, gridspec_kw={"hspace": 0.6}
    )
    for ax, (name, study) in zip(axes[:, 0], studies.items()):
        plots.plot_roc({r.model: (r.y, r.scores) for r in study.reports}, title=name, ax=ax)
    _write_figure(fig, out / "comparison_roc.png")


def write_transfer(
    cfg: config.Config, out: Path, datasets: tuple[str, ...], progress: bool
) -> None:
    """Notebook 07's studies (MIT-BIH only: the one dataset whose teacher knows the rhythm):
    ``primary.csv``, ``privileged*.csv``, ``scarce_*.csv`` and ``scarce_labels.png``."""
    from . import plots
    from .evaluation.transfer import run_transfer

    if "mitbih" not in datasets:
        return
    study = run_transfer(cfg, "mitbih", progress=progress)
    save_tables(out, study.tables)
    teacher = study.setup.window_teacher.test_metrics()["auroc"]
    _write_figure(
        plots.plot_scarce_labels(study.tables["scarce_curve"], teacher, "MIT-BIH DS2"),
        out / "scarce_labels.png",
    )


WRITERS = {
    "data": write_data,
    "teacher": write_teacher,
    "students": write_students,
    "quantum": write_quantum,
    "device": write_device,
    "evaluate": write_evaluation,
    "transfer": write_transfer,
}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m ecgkd",
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument(
        "--quick",
        action="store_true",
        help="quick mode (default: ECGKD_QUICK, else quick on the shipped sample)",
    )
    mode.add_argument("--full", action="store_true", help="full mode: the real experiment")
    parser.add_argument(
        "--stages",
        nargs="+",
        choices=STAGES,
        default=list(STAGES),
        metavar="STAGE",
        help=f"stages to run, in pipeline order whatever the order given: {', '.join(STAGES)}",
    )
    parser.add_argument(
        "--datasets",
        nargs="+",
        choices=DATASETS,
        default=list(DATASETS),
        metavar="DATASET",
        help="mitbih and/or ptbxl",
    )
    parser.add_argument(
        "--data", type=Path, help="data folder (default: ECGKD_DATA, else the repository's data/)"
    )
    parser.add_argument(
        "--cache",
        type=Path,
        help="cache folder (default: ECGKD_CACHE, else the repository's cache/)",
    )
    parser.add_argument("--out", type=Path, help="output folder (default: _build/results-<mode>/)")
    parser.add_argument(
        "--jobs", type=int, help="parallel training runs in the grids (default: ECGKD_JOBS)"
    )
    parser.add_argument(
        "--cluster",
        metavar="ADDRESS",
        help="run the grids on the Dask cluster whose scheduler is at ADDRESS "
        "(default: ECGKD_CLUSTER, else local workers; needs pip install -e '.[cluster]')",
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")
    return parser.parse_args(argv)


def provenance(cfg: config.Config, argv: list[str], stages: list[str]) -> dict[str, str]:
    """Where a folder of tables came from: the commit (and whether the checkout had uncommitted
    changes), the machine, the command and the settings. The CLI writes it beside the tables
    (``provenance.csv``), so that committed results say what made them."""
    import platform
    import subprocess

    import torch

    def git(*args: str) -> str:
        try:
            run = subprocess.run(
                ["git", *args], cwd=config.project_root(), capture_output=True, text=True
            )
        except OSError:
            return ""
        return run.stdout.strip() if run.returncode == 0 else ""

    commit = git("rev-parse", "HEAD") or "unknown (not a git checkout)"
    dirty = bool(git("status", "--porcelain", "--untracked-files=no"))
    gpu = torch.cuda.get_device_name(0) if cfg.device.startswith("cuda") else "none"
    return {
        "commit": commit + (" + uncommitted changes" if dirty else ""),
        "command": "python -m ecgkd " + " ".join(argv),
        "stages": " ".join(stages),
        "mode": cfg.mode,
        "machine": f"{platform.platform()}, {os.cpu_count()} CPU cores, GPU: {gpu}",
        "device": cfg.device,
        "jobs": str(cfg.n_jobs),
        "seed": str(cfg.seed),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "finished (UTC)": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime()),
    }


def user_errors() -> tuple[type[Exception], ...]:
    """Errors whose message already names the bad input and what to do: shown as one line."""
    from .data.integrity import DataError
    from .teacher.checkpoint import CheckpointError
    from .teacher.outputs import StaleOutputsError

    return config.ConfigError, DataError, CheckpointError, StaleOutputsError, cache.CacheError


def main(argv: list[str] | None = None) -> int:
    """Run the stages; a bad input ends with one line naming it, and exit status 2, not a
    traceback."""
    try:
        return run(argv)
    except Exception as error:
        if not isinstance(error, user_errors()):
            raise
        print(f"ecgkd: error: {error}", file=sys.stderr)
        return 2


def run(argv: list[str] | None = None) -> int:
    """:func:`main` without the error handling (tests call it to see the exception itself)."""
    args = parse_args(argv)
    overrides: dict = {}
    if args.quick or args.full:
        overrides["quick"] = bool(args.quick)
    for option, field in (("data", "data_root"), ("cache", "cache_root")):
        value = getattr(args, option)
        if value is not None:
            if option == "data" and not value.is_dir():
                raise config.ConfigError(
                    f"--data {value}: not a folder. Point it at a folder holding "
                    "mitdb/ and ptb-xl/ (see data/README.md)."
                )
            overrides[field] = value.expanduser().resolve()
    if args.jobs is not None:
        if args.jobs < 1:
            raise config.ConfigError(f"--jobs {args.jobs}: use 1 or more")
        overrides["n_jobs"] = args.jobs
    if args.cluster is not None:
        overrides["cluster"] = config.parse_cluster("--cluster", args.cluster)
    cfg = config.load(**overrides)
    config.seed_everything(cfg.seed)
    out = (args.out or cfg.results_root).expanduser().resolve()
    out.mkdir(parents=True, exist_ok=True)
    datasets = tuple(d for d in DATASETS if d in args.datasets)
    print(
        f"ecgkd: mode {cfg.mode} | data {cfg.data_root} | cache {cfg.cache_root} | out {out}",
        file=sys.stderr,
    )
    times_path = out / "stage_times.csv"
    times = pd.read_csv(times_path) if times_path.is_file() else pd.DataFrame()
    for stage in (s for s in STAGES if s in args.stages):
        started = time.perf_counter()
        WRITERS[stage](cfg, out, datasets, not args.no_progress)
        seconds = round(time.perf_counter() - started, 1)
        row = pd.DataFrame(
            [{"stage": stage, "mode": cfg.mode, "datasets": " ".join(datasets), "seconds": seconds}]
        )
        times = pd.concat([times, row], ignore_index=True)
        save_tables(times_path.parent, {times_path.stem: times})
        print(f"ecgkd: stage {stage} done in {seconds} s", file=sys.stderr)
    stages = [s for s in STAGES if s in args.stages]
    info = provenance(cfg, sys.argv[1:] if argv is None else list(argv), stages)
    save_tables(out, {"provenance": pd.DataFrame([info])})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
