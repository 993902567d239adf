"""Every figure the notebooks show, so that the notebooks stay short and the figures consistent."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from .data.split import Split

#: The book's text column holds a figure about this many inches wide at 100 dpi without shrinking
#  it.
PAGE_WIDTH = 8.0


def panel_grid(
    count: int, columns: int, height: float, width: float = PAGE_WIDTH, **kwargs
) -> tuple[plt.Figure, list[plt.Axes]]:
    """``count`` panels in rows of at most ``columns``, the page's width in all: small multiples
    that stay readable in the book instead of one long, shrunken row. Unused cells are hidden."""
    columns = max(1, min(columns, count))
    rows = -(-count // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(width, height * rows), squeeze=False, **kwargs)
    for ax in axes.flat[count:]:
        ax.axis("off")
    return fig, list(axes.flat[:count])


AAMI_COLOURS = {"N": "#4C72B0", "S": "#DD8452", "V": "#C44E52", "F": "#8172B3", "Q": "#937860"}
AAMI_NAMES = {
    "N": "normal / bundle branch block",
    "S": "supraventricular ectopic",
    "V": "ventricular ectopic",
    "F": "fusion",
    "Q": "unknown / paced",
}


def plot_record_beats(
    raw: np.ndarray,
    fs: float,
    r_peaks: np.ndarray,
    aami: np.ndarray,
    pre: int,
    post: int,
    seconds: tuple[float, float],
    highlight: int,
    title: str = "",
) -> plt.Figure:
    """A stretch of one lead with its beat labels, one beat's window shaded."""
    lo, hi = (int(s * fs) for s in seconds)
    t = np.arange(lo, hi) / fs
    fig, ax = plt.subplots(figsize=(PAGE_WIDTH, 2.8))
    ax.plot(t, raw[lo:hi], color="black", lw=0.8)
    for r, cls in zip(r_peaks, aami):
        if lo <= r < hi:
            ax.annotate(
                cls,
                (r / fs, raw[r]),
                xytext=(0, 8),
                textcoords="offset points",
                ha="center",
                color=AAMI_COLOURS.get(cls, "grey"),
                fontweight="bold",
            )
    r = r_peaks[highlight]
    ax.axvspan(
        (r - pre) / fs,
        (r + post) / fs,
        color="gold",
        alpha=0.3,
        label=f"one window: {pre + post} samples",
    )
    ax.axvline(r / fs, color="gold", lw=1)
    ax.set(xlabel="time (s)", ylabel="mV", title=title)
    ax.legend(loc="upper right")
    fig.tight_layout()
    return fig


def plot_class_examples(
    split: Split,
    r_offset: int,
    classes: tuple[str, ...] = ("N", "S", "V", "F", "Q"),
    per_class: int = 20,
    seed: int = 0,
) -> plt.Figure:
    """Up to ``per_class`` random windows of each AAMI class (thin) and their mean (thick).

    ``r_offset``: sample of the R peak inside a window (time zero on the axis).
    """
    rng = np.random.default_rng(seed)
    present = [c for c in classes if (split.aami == c).any()]
    fig, axes = panel_grid(len(present), 3, 2.8, sharey=True)
    t = (np.arange(split.length) - r_offset) / split.fs * 1000
    for ax, cls in zip(axes, present):
        idx = np.flatnonzero(split.aami == cls)
        pick = rng.choice(idx, size=min(per_class, len(idx)), replace=False)
        ax.plot(t, split.x[pick, 0].T, color=AAMI_COLOURS[cls], alpha=0.25, lw=0.7)
        ax.plot(t, split.x[idx, 0].mean(0), color="black", lw=1.8)
        ax.set(title=f"{cls}: {AAMI_NAMES[cls]}\n{len(idx)} beats", xlabel="ms from R")
        ax.title.set_fontsize(9)
    axes[0].set_ylabel("z-scored amplitude")
    fig.suptitle(f"{split.dataset} {split.name}: windows per AAMI class (mean in black)")
    fig.tight_layout()
    return fig


def plot_12lead(x: np.ndarray, leads: tuple[str, ...], fs: float, title: str = "") -> plt.Figure:
    """A 12-lead record in the usual 6 x 2 layout."""
    fig, axes = plt.subplots(6, 2, figsize=(PAGE_WIDTH, 7), sharex=True)
    t = np.arange(x.shape[-1]) / fs
    for k, ax in enumerate(axes.T.ravel()):
        ax.plot(t, x[k], color="black", lw=0.7)
        ax.set_ylabel(leads[k], rotation=0, labelpad=18)
        ax.grid(alpha=0.3)
    for ax in axes[-1]:
        ax.set_xlabel("time (s)")
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_filters(
    signals: dict[str, np.ndarray], fs: float, seconds: tuple[float, float], title: str = ""
) -> plt.Figure:
    """One lead under several filters (name -> 1-d mV signal), overlaid on one time axis, with the
    zero line: where an ST segment sits above or below it, a filter either keeps that or not."""
    fig, ax = plt.subplots(figsize=(PAGE_WIDTH, 3.0))
    lo, hi = (int(round(s * fs)) for s in seconds)
    t = np.arange(lo, hi) / fs
    styles = ("-", "--", ":", "-.")
    for k, (name, x) in enumerate(signals.items()):
        ax.plot(t, x[lo:hi], lw=1.0, ls=styles[k % len(styles)], label=name)
    ax.axhline(0, color="grey", lw=0.6)
    ax.set(xlabel="time (s)", ylabel="mV", title=title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, ncol=len(signals), loc="upper center", bbox_to_anchor=(0.5, -0.22))
    fig.tight_layout()
    return fig


def plot_rr_series(split: Split, record: str, title: str = "") -> plt.Figure:
    """The RR interval before each beat of one record (MIT-BIH rhythm features), coloured by AAMI
    class, with the local average: premature beats fall below it, pauses rise above it."""
    from .data.rhythm import RHYTHM_FEATURES

    if split.rhythm is None or split.aami is None:
        raise ValueError(f"{split.dataset}/{split.name} has no rhythm features or AAMI classes")
    rows = np.flatnonzero(split.record == record)
    if not len(rows):
        raise ValueError(f"record {record} is not in {split.dataset}/{split.name}")
    t = split.start[rows] / split.fs
    pre = split.rhythm[rows, RHYTHM_FEATURES.index("pre_rr")]
    local = split.rhythm[rows, RHYTHM_FEATURES.index("local_rr")]
    fig, ax = plt.subplots(figsize=(PAGE_WIDTH, 3.0))
    ax.plot(t, local, color="black", lw=1.0, label="local average (last 10 beats)")
    for cls in sorted(set(split.aami[rows])):
        mask = split.aami[rows] == cls
        size = 6 if cls == "N" else 18
        ax.scatter(t[mask], pre[mask], s=size, color=AAMI_COLOURS[cls], label=f"{cls} beats")
    ax.set(xlabel="time in the record (s)", ylabel="RR before the beat (s)", title=title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, ncol=5, loc="upper center", bbox_to_anchor=(0.5, -0.22))
    fig.tight_layout()
    return fig


def plot_record_windows(split: Split, record: str, title: str = "") -> plt.Figure:
    """The windows cut from one record, drawn at their place in the record."""
    idx = np.flatnonzero(split.record == record)
    fig, ax = plt.subplots(figsize=(PAGE_WIDTH, 2.6))
    colours = plt.cm.viridis(np.linspace(0, 0.85, len(idx)))
    for k, (i, colour) in enumerate(zip(idx, colours)):
        t = (split.start[i] + np.arange(split.length)) / split.fs
        ax.plot(t, split.x[i, 0], color=colour, lw=0.9, label=f"window {k + 1}")
        ax.axvspan(t[0], t[-1], color=colour, alpha=0.08)
    label = "abnormal" if split.y[idx[0]] else "normal"
    ax.set(
        xlabel="time (s)",
        ylabel="z-scored",
        title=title
        or f"{split.dataset} record {record} ({label}), lead {split.leads[0]}: the student windows",
    )
    ax.legend(ncol=len(idx), fontsize=8, loc="upper right")
    fig.tight_layout()
    return fig


def plot_history(history, title: str = "") -> plt.Figure:
    """Training curves of :func:`ecgkd.train.fit`: losses and validation AUROC per epoch, best epoch
    marked."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(PAGE_WIDTH, 3.0))
    left.plot(history["epoch"], history["train_loss"], "o-", label="train loss (weighted BCE)")
    left.plot(history["epoch"], history["val_loss"], "s-", label="validation loss (BCE)")
    left.set(xlabel="epoch", ylabel="loss")
    left.legend()
    best = int(history["val_auroc"].idxmax())
    right.plot(history["epoch"], history["val_auroc"], "o-", color="C2")
    right.axvline(
        history["epoch"][best], color="grey", ls=":", label=f"kept: epoch {history['epoch'][best]}"
    )
    right.set(xlabel="epoch", ylabel="validation AUROC")
    right.legend()
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_roc(
    curves: dict[str, tuple[np.ndarray, np.ndarray]],
    title: str = "",
    points: dict[str, tuple[np.ndarray, np.ndarray, float]] | None = None,
    ax: plt.Axes | None = None,
) -> plt.Figure:
    """ROC curves, one per label (``label: (y, score)``); ``points`` marks operating thresholds."""
    from sklearn.metrics import roc_auc_score, roc_curve

    own = ax is None  # a figure made here is laid out here; a caller's axes, by the caller
    fig, ax = plt.subplots(figsize=(6, 4.6)) if own else (ax.figure, ax)
    for i, (label, (y, score)) in enumerate(curves.items()):
        fpr, tpr, _ = roc_curve(y, score)
        ax.plot(fpr, tpr, color=f"C{i}", label=f"{label} (AUROC {roc_auc_score(y, score):.3f})")
    for i, (label, (y, score, threshold)) in enumerate((points or {}).items()):
        pred = np.asarray(score) >= threshold
        y = np.asarray(y).astype(bool)
        ax.plot(
            (pred & ~y).sum() / max(1, (~y).sum()),
            (pred & y).sum() / max(1, y.sum()),
            "o",
            color=f"C{i}",
            markersize=8,
            markeredgecolor="black",
            label=f"{label}: validation threshold",
        )
    ax.plot([0, 1], [0, 1], color="grey", ls=":", lw=1)
    ax.set(xlabel="1 - specificity", ylabel="sensitivity", title=title, xlim=(0, 1), ylim=(0, 1.01))
    if len(curves) + len(points or {}) > 4:
        # many curves: the legend under the axes, where it is readable; the figure is saved with
        # bbox_inches="tight" (the notebooks' inline backend and the CLI), which keeps it
        ax.legend(
            loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=2, fontsize=8, frameon=False
        )
    else:
        ax.legend(loc="lower right", fontsize=8)
        if own:
            fig.tight_layout()
    return fig


def plot_teacher_view(
    student_x: np.ndarray,
    student_fs: float,
    teacher_x: np.ndarray,
    teacher_fs: float,
    leads: tuple[str, ...] = ("",),
    title: str = "",
) -> plt.Figure:
    """One example as the students see it and as the teacher sees it (first lead of each)."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(PAGE_WIDTH, 2.8))
    left.plot(np.arange(student_x.shape[-1]) / student_fs, student_x[0], color="black", lw=0.9)
    left.set(
        xlabel="time (s)",
        ylabel="z-score",
        title=f"student: {student_x.shape[-1]} samples at {student_fs:g} Hz",
    )
    right.plot(np.arange(teacher_x.shape[-1]) / teacher_fs, teacher_x[0], color="C0", lw=0.9)
    right.set(
        xlabel="time (s)",
        title=f"teacher: {teacher_x.shape[0]} lead(s) x {teacher_x.shape[-1]} samples at "
        f"{teacher_fs:g} Hz{' (lead ' + leads[0] + ' shown)' if leads[0] else ''}",
    )
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_soft_targets(
    temperatures: tuple[float, ...] = (1, 2, 4, 8), span: float = 8.0
) -> plt.Figure:
    """P(abnormal) the student is asked to match, as a function of the teacher's logit, at several
    T."""
    z = np.linspace(-span, span, 400)
    fig, ax = plt.subplots(figsize=(5.5, 3.4))
    for t in temperatures:
        ax.plot(z, 1 / (1 + np.exp(-z / t)), label=f"T = {t:g}")
    ax.axhline(0.5, color="grey", lw=0.7, ls=":")
    ax.set(
        xlabel="teacher logit",
        ylabel="soft target P(abnormal)",
        title="Softened targets: higher T, softer",
    )
    ax.legend()
    fig.tight_layout()
    return fig


def plot_kd_heatmaps(
    table, value: str, title: str, centre: float | None = None, fmt: str = "{:.3f}"
) -> plt.Figure:
    """One T x alpha heatmap per (dataset, model) of ``value`` averaged over seeds (alpha = 0: no
    KD).

    The teacher the students learnt from (the table's ``teacher`` column) is named under the title,
    so a figure made with the stand-in teacher says so wherever it ends up.
    """
    panels = list(table.groupby(["dataset", "model"], sort=True))
    fig, axes = panel_grid(len(panels), 2, 3.2)
    for ax, ((dataset, model), rows) in zip(axes, panels):
        grid = rows.pivot_table(
            index="temperature", columns="alpha", values=value, aggfunc="mean", dropna=False
        )
        grid = grid.sort_index(ascending=False)
        values = grid.to_numpy(dtype=float)
        kwargs = {}
        if centre is not None:
            span = np.nanmax(np.abs(values - centre)) or 1e-3
            kwargs = {"cmap": "RdBu", "vmin": centre - span, "vmax": centre + span}
        image = ax.imshow(values, aspect="auto", **kwargs)
        ax.set_xticks(range(grid.shape[1]), [f"{a:g}" for a in grid.columns])
        ax.set_yticks(range(grid.shape[0]), [f"{t:g}" for t in grid.index])
        low, high = image.get_clim()
        for (i, j), v in np.ndenumerate(values):
            if np.isfinite(v):
                extreme = (
                    abs((v - low) / ((high - low) or 1) - 0.5) > 0.3
                    if centre is not None
                    else ((v - low) / ((high - low) or 1) < 0.4)
                )
                ax.text(
                    j,
                    i,
                    fmt.format(v),
                    ha="center",
                    va="center",
                    fontsize=8,
                    color="white" if extreme else "black",
                )
        ax.set(
            xlabel="alpha (weight of the teacher)",
            ylabel="temperature T",
            title=f"{dataset}, {model}",
        )
        fig.colorbar(image, ax=ax, shrink=0.8)
    teachers = sorted(table["teacher"].dropna().unique()) if "teacher" in table.columns else []
    fig.suptitle(title + (f"\nteacher: {' | '.join(teachers)}" if teachers else ""))
    fig.tight_layout()
    return fig


def plot_kd_auroc(table, who: str) -> plt.Figure:
    """Mean test AUROC over seeds per T x alpha cell (the no-KD column repeated in every row)."""
    from .students.tables import by_temperature

    return plot_kd_heatmaps(
        by_temperature(table), "test_auroc", title=f"{who}: test AUROC (mean over seeds)"
    )


def plot_kd_gains(table, who: str) -> plt.Figure:
    """Each KD run's test AUROC minus its no-KD twin's (same seed, same initial weights)."""
    from .students.tables import gain_table

    return plot_kd_heatmaps(
        gain_table(table),
        "gain",
        centre=0.0,
        fmt="{:+.3f}",
        title=f"{who}: test AUROC gain over no KD (same seed, same start)",
    )


def plot_reconstructions(
    x: np.ndarray, reconstructed: np.ndarray, labels: np.ndarray, fs: float, title: str = ""
) -> plt.Figure:
    """Windows and their autoencoder reconstructions, one panel each."""
    fig, axes = panel_grid(len(x), 4, 2.6, sharey=True)
    t = np.arange(x.shape[-1]) / fs * 1000
    for ax, original, rebuilt, label in zip(axes, x, reconstructed, labels):
        ax.plot(t, original[0], color="black", lw=1, label="window")
        ax.plot(t, rebuilt[0], color="C3", lw=1.2, label="reconstruction")
        ax.set(xlabel="ms", title="abnormal" if label else "normal")
    axes[0].legend(fontsize=8)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_angles(angles: np.ndarray, y: np.ndarray, title: str = "") -> plt.Figure:
    """Distribution of each encoding angle in the training split, normal vs abnormal windows."""
    d = angles.shape[1]
    fig, axes = panel_grid(d, 3, 2.4, sharey=True)
    bins = np.linspace(0, np.pi, 25)
    for i, ax in enumerate(axes):
        for label, colour in ((0, "C0"), (1, "C3")):
            ax.hist(
                angles[y == label, i],
                bins=bins,
                density=True,
                alpha=0.5,
                color=colour,
                label="abnormal" if label else "normal",
            )
        ax.set(
            xlabel=f"qubit {i}: angle", xticks=[0, np.pi / 2, np.pi], xticklabels=["0", "π/2", "π"]
        )
    axes[0].legend(fontsize=8)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_shots(table, metric: str = "auroc", title: str = "") -> plt.Figure:
    """``metric`` against shots for each evaluation mode, the exact value as a horizontal line."""
    fig, ax = plt.subplots(figsize=(6, 3.4))
    exact = table[~np.isfinite(table["shots"].astype(float))]
    for mode, rows in table[np.isfinite(table["shots"].astype(float))].groupby("mode", sort=False):
        ax.plot(rows["shots"], rows[metric], "o-", label=mode)
    for _, row in exact.iterrows():
        ax.axhline(row[metric], color="grey", ls="--", label=row["mode"])
    ax.set(xscale="log", xlabel="shots per window", ylabel=metric, title=title)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def plot_pipeline(teacher_parameters: int) -> plt.Figure:
    """The tutorial's pipeline as boxes and arrows, one box per notebook: data -> teacher ->
    students -> quantum -> device -> evaluation -> what distillation transfers
    (``teacher_parameters``: ECGFounder's, counted by the caller)."""
    fig, ax = plt.subplots(figsize=(PAGE_WIDTH, 3.4))
    ax.set(xlim=(0, 13.9), ylim=(0, 4.2))
    ax.axis("off")
    millions = f"{teacher_parameters / 1e6:.1f} M parameters"
    boxes = {  # centre, text, colour
        "data": ((1.2, 2.1), "01 data\nMIT-BIH beats\nPTB-XL records\npatient-disjoint", "#dde8f5"),
        "teacher": ((3.9, 2.1), f"02 teacher\nECGFounder Net1D\n{millions}\nbinary", "#f5e3d0"),
        "classical": (
            (6.8, 3.4),
            "03 classical students\nResNet-1D, CNN-1D\nKD, T x alpha",
            "#dff0dc",
        ),
        "quantum": ((6.8, 0.8), "04 quantum student\nautoencoder 256 -> 6\n6-qubit VQC", "#ece0f5"),
        "device": ((10.0, 0.8), "05 VQC on a device\nshots, noise\nM3, threshold", "#ece0f5"),
        "evaluate": ((10.0, 3.4), "06 evaluation\nsame test sets\npaired intervals", "#eeeeee"),
        "transfer": (
            (12.7, 2.1),
            "07 what KD\ntransfers\nprivileged info,\nscarce labels",
            "#fbf3c9",
        ),
    }
    for (x, y), text, colour in boxes.values():
        ax.text(
            x,
            y,
            text,
            ha="center",
            va="center",
            fontsize=8,
            bbox={"boxstyle": "round,pad=0.4", "facecolor": colour, "edgecolor": "grey"},
        )
    arrows = [  # start, end, label
        ((2.25, 2.1), (2.85, 2.1), "windows"),
        ((4.9, 2.5), (5.7, 3.2), "soft labels"),
        ((4.9, 1.7), (5.7, 1.0), "soft labels"),
        ((7.85, 3.4), (9.0, 3.4), ""),
        ((7.85, 0.8), (9.0, 0.8), "trained VQC"),
        ((7.6, 1.3), (9.1, 2.95), ""),
        ((10.0, 1.35), (10.0, 2.85), ""),
        ((11.05, 3.1), (11.95, 2.6), ""),
    ]
    for start, end, label in arrows:
        ax.annotate("", xy=end, xytext=start, arrowprops={"arrowstyle": "->", "color": "black"})
        if label:
            ax.text(
                (start[0] + end[0]) / 2,
                (start[1] + end[1]) / 2 + 0.25,
                label,
                fontsize=7,
                ha="center",
                bbox={"boxstyle": "square,pad=0.1", "facecolor": "white", "edgecolor": "none"},
            )
    fig.tight_layout()
    return fig


def plot_confusions(reports, title: str = "") -> plt.Figure:
    """Confusion matrices at each model's validation threshold, as shares of each true class."""
    fig, axes = panel_grid(len(reports), 3, 2.9)
    for ax, report in zip(axes, reports):
        counts = report.confusion
        shares = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
        ax.imshow(shares, cmap="Blues", vmin=0, vmax=1)
        for (i, j), n in np.ndenumerate(counts):
            ax.text(
                j,
                i,
                f"{n}\n{shares[i, j]:.0%}",
                ha="center",
                va="center",
                fontsize=8,
                color="white" if shares[i, j] > 0.6 else "black",
            )
        ax.set_xticks([0, 1], ["normal", "abnormal"], fontsize=8)
        ax.set_yticks([0, 1], ["normal", "abnormal"], fontsize=8)
        ax.set_xlabel("predicted", fontsize=8)
        ax.set_title(report.model.replace(", ", "\n", 1), fontsize=8)
    for ax in axes[:: min(3, len(reports))]:  # the first panel of each row
        ax.set_ylabel("true")
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_reliability(reports, bins: int = 10, title: str = "") -> plt.Figure:
    """Observed abnormal rate against sigmoid(logit), in equal-width bins: on the diagonal is
    calibrated."""
    from .scoring.metrics import sigmoid

    fig, ax = plt.subplots(figsize=(5.2, 4.6))
    ax.plot([0, 1], [0, 1], color="grey", ls=":", label="calibrated")
    for i, report in enumerate(reports):
        p = sigmoid(report.scores)
        which = np.minimum((p * bins).astype(int), bins - 1)
        filled = np.bincount(which, minlength=bins) > 0
        mean_p = (
            np.bincount(which, weights=p, minlength=bins)[filled]
            / np.bincount(which, minlength=bins)[filled]
        )
        rate = (
            np.bincount(which, weights=report.y, minlength=bins)[filled]
            / np.bincount(which, minlength=bins)[filled]
        )
        ax.plot(
            mean_p,
            rate,
            "o-",
            ms=3,
            color=f"C{i % 10}",
            label=f"{report.model} (ECE {report.metrics['ece']:.3f})",
        )
    ax.set(
        xlabel="predicted probability of abnormal", ylabel="observed share abnormal", title=title
    )
    ax.legend(fontsize=6.5)
    fig.tight_layout()
    return fig


def plot_auroc_vs_parameters(table, title: str = "") -> plt.Figure:
    """Test AUROC (with its 95% interval) against parameters at inference, log scale, one panel per
    dataset."""
    datasets = list(dict.fromkeys(table["dataset"]))
    # each panel as tall as its legend, which sits right of the axes (kept by bbox_inches="tight",
    # as notebooks show figures; tight_layout cannot make room for it and only warns)
    entries = table["dataset"].value_counts().max()
    fig, axes = panel_grid(len(datasets), 1, max(3.6, 0.2 * entries), width=PAGE_WIDTH - 2.5)
    fig.subplots_adjust(hspace=0.45)
    for ax, dataset in zip(axes, datasets):
        rows = table[table["dataset"] == dataset]
        for i, (_, row) in enumerate(rows.iterrows()):
            low, high = (float(v) for v in row["auroc 95% CI"].strip("[]").split(","))
            ax.errorbar(
                row["parameters"],
                row["auroc"],
                yerr=[[row["auroc"] - low], [high - row["auroc"]]],
                fmt="o",
                color=f"C{i % 10}",
                capsize=3,
                label=row["model"],
            )
        ax.set(
            xscale="log",
            xlabel="parameters at inference (a frozen encoder included)",
            ylabel="test AUROC",
            title=dataset,
        )
        ax.legend(loc="center left", bbox_to_anchor=(1.02, 0.5), fontsize=8, frameon=False)
    fig.suptitle(title)
    return fig


def plot_score_distributions(
    reports, labels: tuple[str, ...] | None = None, title: str = ""
) -> plt.Figure:
    """Each report's test logits, normal and abnormal windows apart, with its validation threshold:
    one panel per report on a shared axis, so a shift or a squeeze of the distribution is
    visible."""
    labels = labels or tuple(r.model for r in reports)
    fig, axes = plt.subplots(
        len(reports), 1, figsize=(7, 1.9 * len(reports)), sharex=True, squeeze=False
    )
    edges = np.histogram_bin_edges(np.concatenate([r.scores for r in reports]), bins=40)
    for ax, report, label in zip(axes[:, 0], reports, labels):
        for cls, name in ((0, "normal"), (1, "abnormal")):
            ax.hist(
                report.scores[report.y == cls],
                bins=edges,
                density=True,
                alpha=0.55,
                color=f"C{cls}",
                label=name,
            )
        ax.axvline(report.threshold, color="k", ls="--", lw=1, label="threshold (validation)")
        ax.set_ylabel("density")
        ax.set_title(label, fontsize=9)
    axes[0, 0].legend(fontsize=7)
    axes[-1, 0].set_xlabel("logit")
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_scarce_labels(curve, teacher_auroc: float | None = None, title: str = "") -> plt.Figure:
    """Test AUROC against the number of labelled training patients, one line per arm (labels
    only, KD, pseudo-labels), the interval over records and seeds shaded; ``teacher_auroc`` as a
    dashed line. The x axis places "all" one step beyond the largest count."""
    fig, ax = plt.subplots(figsize=(6.4, 3.8))
    counts = sorted(k for k in curve["k"].unique() if k != 0)
    position = {k: i for i, k in enumerate(counts)} | {0: len(counts)}
    for arm, rows in curve.groupby("arm", sort=False):
        rows = rows.sort_values("k", key=lambda k: k.map(position))
        x = rows["k"].map(position).to_numpy()
        (line,) = ax.plot(x, rows["test auroc"], marker="o", label=arm)
        ax.fill_between(x, rows["CI low"], rows["CI high"], color=line.get_color(), alpha=0.15)
    if teacher_auroc is not None:
        ax.axhline(teacher_auroc, color="0.4", ls="--", lw=1, label="its teacher")
    ax.set_xticks(range(len(position)), [str(k) for k in counts] + ["all"])
    ax.set_xlabel("training patients whose labels the student sees")
    ax.set_ylabel("test AUROC")
    ax.set_title(title)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig
