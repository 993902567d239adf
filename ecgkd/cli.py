"""``python -m ecgkd``: the tutorial's stages without notebooks, writing tables and figures to a
folder.

    python -m ecgkd --quick                  # every stage, quick mode, into _build/results-quick/
    python -m ecgkd --stages evaluate        # notebook 05's comparison from the finished grids
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
import sys
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # the CLI writes figures to files; it never opens a window

import pandas as pd  # noqa: E402

from . import cache, config  # noqa: E402
from .report import save_tables  # noqa: E402

STAGES = ("data", "teacher", "students", "quantum", "evaluate")
DATASETS = ("mitbih", "ptbxl")


def _write_figure(fig, path: Path) -> None:
    import matplotlib.pyplot as plt

    cache.atomic_write(
        path, lambda tmp: fig.savefig(tmp, dpi=120, bbox_inches="tight", format="png")
    )
    plt.close(fig)


def stage_data(cfg: config.Config, out: Path, datasets: tuple[str, ...], progress: bool) -> None:
    """Windows, records and patients per split: ``data.csv``."""
    from .data import load

    tables = [
        load(cfg, name, progress=progress).summary().assign(dataset=name) for name in datasets
    ]
    save_tables(out, {"data": pd.concat(tables).reset_index()})


def stage_teacher(cfg: config.Config, out: Path, datasets: tuple[str, ...], progress: bool) -> None:
    """The teacher's validation and test metrics (``teacher.csv``) and test ROC curves."""
    import matplotlib.pyplot as plt

    from . import plots
    from .teacher import prepare_teacher
    from .teacher.stage import window_only_teacher

    stages = {name: prepare_teacher(cfg, name, progress=progress) for name in datasets}
    ablations = [window_only_teacher(cfg, name, progress=progress) for name in datasets]
    metrics = [s.metrics_table() for s in [*stages.values(), *ablations] if s is not None]
    save_tables(out, {"teacher": pd.concat(metrics, ignore_index=True)})
    fig, axes = plt.subplots(
        1, len(stages), figsize=(4.8 * len(stages), 4.4), squeeze=False, layout="constrained"
    )
    for ax, (name, stage) in zip(axes[0], stages.items()):
        rows, logits = stage.split_logits("test")
        plots.plot_roc({name: (rows.y, logits)}, title=stage.label, ax=ax)
    _write_figure(fig, out / "teacher_roc.png")


def stage_students(
    cfg: config.Config, out: Path, datasets: tuple[str, ...], progress: bool
) -> None:
    """The classical T x alpha grids: every run (``students.csv``), the summary and the heatmaps."""
    from . import plots, students
    from .teacher import prepare_teacher

    tables = []
    for name in datasets:
        data = students.StudentData.from_stage(prepare_teacher(cfg, name, progress=progress))
        tables.append(students.run_classical_grid(cfg, data, progress=progress))
    results = pd.concat(tables, ignore_index=True)
    save_tables(out, {"students": results, "students_summary": students.summary_table(results)})
    _write_figure(
        plots.plot_kd_auroc(results, "Classical students"),
        out / "students_auroc.png",
    )


def stage_quantum(cfg: config.Config, out: Path, datasets: tuple[str, ...], progress: bool) -> None:
    """Autoencoders, the VQC and control grids, and the shots / noise study on MIT-BIH."""
    from . import plots, students
    from .quantum.stage import (
        best_vqc,
        device_scores,
        hardware_cache,
        hardware_shots,
        hardware_tables,
        hardware_windows,
        prepare_encoders,
        run_latent_grids,
    )
    from .teacher import prepare_teacher

    tables, runs, data = [], {}, {}
    for name in datasets:
        data[name] = students.StudentData.from_stage(prepare_teacher(cfg, name, progress=progress))
        runs[name] = prepare_encoders(cfg, data[name], progress=progress)
        tables.append(run_latent_grids(cfg, data[name], runs[name], progress=progress))
    results = pd.concat(tables, ignore_index=True)
    save_tables(out, {"quantum": results, "quantum_summary": students.summary_table(results)})
    _write_figure(
        plots.plot_kd_auroc(results, "Latent students"),
        out / "quantum_auroc.png",
    )
    if "mitbih" in datasets:
        _, _, model = best_vqc(cfg, data["mitbih"], runs["mitbih"].main, results)
        scores = device_scores(
            model,
            data["mitbih"],
            shots=hardware_shots(cfg),
            size=hardware_windows(cfg),
            seed=cfg.seed,
            cache_dir=hardware_cache(cfg),
        )
        tables = hardware_tables(scores, data["mitbih"])
        save_tables(out, tables)
        _write_figure(
            plots.plot_shots(tables["hardware"], "auroc", title="VQC on MIT-BIH test windows"),
            out / "hardware.png",
        )


def stage_evaluate(
    cfg: config.Config, out: Path, datasets: tuple[str, ...], progress: bool
) -> None:
    """Notebook 05's comparison from the finished grids: ``comparison.csv``, ``retention.csv``,
    ``baselines.csv``, ``kd_gains.csv``, ``rhythm_gains.csv``, the per-class table, the ROC
    curves."""
    import matplotlib.pyplot as plt

    from . import plots
    from .evaluation import stage as comparison
    from .quantum.stage import prepare_encoders
    from .students import StudentData
    from .teacher import prepare_teacher
    from .teacher.stage import window_only_teacher

    reports, resamples = {}, comparison.bootstrap_resamples(cfg)
    tables: dict[str, pd.DataFrame] = {}
    for name in datasets:
        stage = prepare_teacher(cfg, name, progress=progress)
        data = StudentData.from_stage(stage)
        encoders = prepare_encoders(cfg, data, progress=progress)
        classical, quantum = comparison.finished_grids(cfg, data, encoders)
        reports[name] = comparison.compare(
            cfg,
            stage,
            classical,
            quantum,
            encoders,
            resamples,
            progress=progress,
            window_teacher=window_only_teacher(cfg, name, progress=progress),
        )
        if (
            name == "mitbih"
            and not quantum.empty
            and ((quantum["student"] == "vqc") & (quantum["alpha"] > 0)).any()
        ):
            device = comparison.vqc_on_device(
                cfg, data, encoders.main, quantum, resamples=resamples
            )
            tables["vqc_on_device"] = comparison.report_table(device)
            _write_figure(
                plots.plot_score_distributions(device, title="VQC logits on the DS2 subset"),
                out / "vqc_on_device.png",
            )
    every = [r for rs in reports.values() for r in rs]
    tables |= comparison.evaluation_tables(every, resamples)
    if "mitbih" in reports:
        tables["per_class_mitbih"] = comparison.per_class_table(reports["mitbih"]).T
    save_tables(out, tables)
    fig, axes = plt.subplots(
        len(reports), 1, figsize=(7, 6 * len(reports)), squeeze=False, gridspec_kw={"hspace": 0.6}
    )
    for ax, (name, rs) in zip(axes[:, 0], reports.items()):
        plots.plot_roc({r.model: (r.y, r.scores) for r in rs}, title=name, ax=ax)
    _write_figure(fig, out / "comparison_roc.png")


RUNNERS = {
    "data": stage_data,
    "teacher": stage_teacher,
    "students": stage_students,
    "quantum": stage_quantum,
    "evaluate": stage_evaluate,
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


def user_errors() -> tuple[type[Exception], ...]:
    """Errors whose message already names the bad input and what to do: shown as one line."""
    from .data.integrity import DataError
    from .teacher.checkpoint import CheckpointError
    from .teacher.outputs import StaleOutputsError

    return config.ConfigError, DataError, CheckpointError, StaleOutputsError


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
        RUNNERS[stage](cfg, out, datasets, not args.no_progress)
        seconds = round(time.perf_counter() - started, 1)
        row = pd.DataFrame(
            [{"stage": stage, "mode": cfg.mode, "datasets": " ".join(datasets), "seconds": seconds}]
        )
        times = pd.concat([times, row], ignore_index=True)
        save_tables(times_path.parent, {times_path.stem: times})
        print(f"ecgkd: stage {stage} done in {seconds} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
