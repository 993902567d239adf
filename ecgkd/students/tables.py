"""The result tables of a T x alpha grid: gains over no KD, heatmap rows, the best KD cell by
validation."""

from __future__ import annotations

import math

import pandas as pd

#: What a notebook shows of each grid run (the CSV holds more: F1, sensitivity, sizes, timings).
RUN_COLUMNS = [
    "dataset",
    "model",
    "temperature",
    "alpha",
    "seed",
    "best_epoch",
    "val_auroc",
    "test_auroc",
]


def gain_table(table: pd.DataFrame, metric: str = "test_auroc") -> pd.DataFrame:
    """Each KD run's ``metric`` minus that of the no-KD run of the same dataset, model (student,
    with or without rhythm) and seed."""
    keys = ["dataset", "model", "seed"]
    base = table[table["alpha"] == 0].set_index(keys)[metric].rename("no_kd")
    kd = table[table["alpha"] > 0].join(base, on=keys)
    return kd.assign(gain=kd[metric] - kd["no_kd"])


def by_temperature(table: pd.DataFrame) -> pd.DataFrame:
    """The no-KD rows (alpha = 0, T = NaN) repeated under every temperature of the grid, for
    heatmaps."""
    temperatures = sorted(table.loc[table["alpha"] > 0, "temperature"].dropna().unique())
    plain = table[table["alpha"] == 0]
    copies = [plain.assign(temperature=t) for t in temperatures]
    return pd.concat([table[table["alpha"] > 0], *copies], ignore_index=True)


def best_kd_cell(runs: pd.DataFrame) -> tuple[float, float] | None:
    """The one rule that picks a KD configuration, everywhere: the (T, alpha) cell of ``runs`` (one
    model's grid rows) with the best mean validation AUROC over seeds (ties: the first cell in
    (T, alpha) order); None when no run distils. The test split plays no part."""
    kd = runs[runs["alpha"] > 0]
    if kd.empty:
        return None
    temperature, alpha = kd.groupby(["temperature", "alpha"])["val_auroc"].mean().idxmax()
    return float(temperature), float(alpha)


def summary_table(table: pd.DataFrame, metric: str = "test_auroc") -> pd.DataFrame:
    """Per dataset and student: no-KD mean, best KD (T, alpha) by validation AUROC
    (:func:`best_kd_cell`), and its test gain. A table to read; selections travel as
    :class:`ecgkd.students.grid.Selection` objects, not as these columns."""
    rows = []
    for (dataset, model), group in table.groupby(["dataset", "model"], sort=True):
        plain = group[group["alpha"] == 0]
        kd = group[group["alpha"] > 0]
        means = kd.groupby(["temperature", "alpha"])[["val_auroc", metric]].mean()
        best = best_kd_cell(group) or (math.nan, math.nan)
        rows.append(
            {
                "dataset": dataset,
                "student": model,
                "seeds": plain["seed"].nunique(),
                f"no KD {metric}": plain[metric].mean(),
                "best KD T (by val)": best[0],
                "best KD alpha (by val)": best[1],
                f"best KD {metric}": means.loc[best, metric] if len(means) else math.nan,
            }
        )
        rows[-1]["gain"] = rows[-1][f"best KD {metric}"] - rows[-1][f"no KD {metric}"]
    return pd.DataFrame(rows)


def paired_summary(study: pd.DataFrame, by: str, reference: str) -> pd.DataFrame:
    """Validation AUROC of a study's variants (column ``by``), per dataset: mean and spread over
    seeds, and the paired difference from the variant ``reference`` (same dataset and seed, so the
    same initial weights wherever the variants share a model), its mean and range over seeds."""
    keys = ["dataset", "seed"]
    ref = study[study[by] == reference].set_index(keys)["val_auroc"]
    if ref.empty:
        raise ValueError(f"the study has no rows with {by} = {reference!r} to compare with")
    paired = ref.reindex(pd.MultiIndex.from_frame(study[keys])).to_numpy()
    table = study.assign(diff=study["val_auroc"].to_numpy() - paired).groupby(
        ["dataset", by], sort=False
    )
    return pd.DataFrame(
        {
            "seeds": table["seed"].count(),
            "val AUROC (mean)": table["val_auroc"].mean(),
            "val AUROC (sd)": table["val_auroc"].std(ddof=1),
            f"minus {reference} (mean)": table["diff"].mean(),
            f"minus {reference} (min)": table["diff"].min(),
            f"minus {reference} (max)": table["diff"].max(),
        }
    )


def best_cell_by_seed(table: pd.DataFrame) -> pd.DataFrame:
    """How stable the choice of the KD cell is: per dataset, student and seed, the (T, alpha) with
    the best validation AUROC of that seed alone, and whether it is the cell chosen on the mean over
    seeds (:func:`summary_table`'s choice)."""
    kd = table[table["alpha"] > 0]
    rows = []
    for (dataset, model), group in kd.groupby(["dataset", "model"], sort=True):
        chosen = best_kd_cell(group)
        for seed, runs in group.groupby("seed", sort=True):
            best = runs.loc[runs["val_auroc"].idxmax()]
            cell = (best["temperature"], best["alpha"])
            rows.append(
                {
                    "dataset": dataset,
                    "student": model,
                    "seed": seed,
                    "best T": cell[0],
                    "best alpha": cell[1],
                    "val_auroc": best["val_auroc"],
                    "same as the mean's choice": bool(cell == chosen),
                }
            )
    return pd.DataFrame(rows)


def rhythm_table(table: pd.DataFrame, metric: str = "test_auroc") -> pd.DataFrame:
    """What the rhythm features add to each student: every configuration run both ways (no KD and
    the best KD cell, :func:`ecgkd.students.stage.window_only_jobs`), its ``metric`` with rhythm and
    on the window alone, and the difference paired by seed (same initial weights for the window's
    part of the model): mean, min and max over seeds."""
    if "rhythm" not in table or not table["rhythm"].astype(bool).any():
        raise ValueError("the table holds no runs with rhythm: nothing to compare")
    keys = ["dataset", "student", "temperature", "alpha", "seed"]
    runs = table.assign(
        temperature=table["temperature"].fillna(0.0), rhythm=table["rhythm"].astype(bool)
    )
    window = runs[~runs["rhythm"]].set_index(keys)[metric].rename("window")
    paired = runs[runs["rhythm"]].join(window, on=keys, how="inner")
    paired = paired.assign(difference=paired[metric] - paired["window"])
    summary = paired.groupby(["dataset", "model", "temperature", "alpha"], sort=True).agg(
        seeds=("seed", "count"),
        with_rhythm=(metric, "mean"),
        window_only=("window", "mean"),
        difference=("difference", "mean"),
        difference_min=("difference", "min"),
        difference_max=("difference", "max"),
    )
    summary = summary.reset_index()
    summary["temperature"] = summary["temperature"].where(summary["alpha"] > 0)
    return summary.rename(
        columns={
            "with_rhythm": f"{metric} with rhythm",
            "window_only": f"{metric} window only",
            "difference_min": "difference (min)",
            "difference_max": "difference (max)",
        }
    )
