"""The paired AUROC bootstrap by record: a group pair matrix against row weights.

    python benchmarks/bootstrap.py           # 50,000 beats in 22 records, 1,000 resamples, 5 rounds
    python benchmarks/bootstrap.py --smoke   # 2,000 beats, 50 resamples, 1 round: the script runs

A full run's evaluation bootstraps every paired AUROC difference (KD gains, baselines, rhythm gains)
over DS2's 22 records. Each resample draws whole records, so a resample's AUROC is a function of
how often each record is drawn: ``resampled_auroc`` computes it from a 22 x 22 matrix of
positive-negative wins between records, built once; the row way weights all ~50,000 beats in every
resample (``weighted_auroc``). Both give the same numbers, bit for bit (checked below and in
tests/scoring/test_metrics.py); the table gives their time per paired difference.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

from ecgkd.scoring import bootstrap as metrics


def by_rows(y: np.ndarray, score: np.ndarray, reference: np.ndarray, counts, rows) -> np.ndarray:
    """The differences the row way: each resample's rows weighted by their record's count."""
    parts = [
        metrics.weighted_auroc(y, score, w) - metrics.weighted_auroc(y, reference, w)
        for w in metrics._chunks(counts, rows)
    ]
    return np.concatenate(parts)


def by_groups(y: np.ndarray, score: np.ndarray, reference: np.ndarray, counts, rows) -> np.ndarray:
    """The differences from the record pair matrices (what ``paired_auroc_difference`` uses)."""
    return metrics.resampled_auroc(y, score, counts, rows) - metrics.resampled_auroc(
        y, reference, counts, rows
    )


def main(argv: list[str] | None = None) -> pd.DataFrame:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="a check, not a measurement")
    parser.add_argument("--beats", type=int, default=50_000)
    parser.add_argument("--records", type=int, default=22)
    parser.add_argument("--resamples", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    beats, resamples, rounds = (
        (2000, 50, 1) if args.smoke else (args.beats, args.resamples, args.rounds)
    )
    rng = np.random.default_rng(0)
    y = (rng.random(beats) < 0.15).astype(int)  # DS2's share of abnormal beats, roughly
    score, reference = rng.normal(size=beats) + y, rng.normal(size=beats) + y
    groups = rng.integers(0, args.records, beats).astype(str)
    counts, rows, _ = metrics.resample_weights(groups, beats, resamples, seed=0)
    contenders = {"row weights": by_rows, "record pair matrix": by_groups}
    seconds: dict[str, list[float]] = {name: [] for name in contenders}
    results = {}
    for r in range(rounds):  # interleaved, the order swapped every round
        for name in list(contenders)[:: 1 if r % 2 == 0 else -1]:
            start = time.perf_counter()
            results[name] = contenders[name](y, score, reference, counts, rows)
            seconds[name].append(time.perf_counter() - start)
    same = np.array_equal(*results.values(), equal_nan=True)
    per_round = np.array(seconds["row weights"]) / np.array(seconds["record pair matrix"])
    table = pd.DataFrame(
        [
            {"method": name, "seconds per difference": float(np.median(s))}
            for name, s in seconds.items()
        ]
    )
    table["speed-up"] = table["seconds per difference"].iloc[0] / table["seconds per difference"]
    print(
        f"paired AUROC bootstrap: {beats:,} beats in {args.records} records, {resamples} resamples "
        f"(median of {rounds} interleaved rounds)"
        + (" [SMOKE: not a measurement]" if args.smoke else "")
    )
    print(table.round(4).to_string(index=False))
    print(
        f"speed-up per round: median {np.median(per_round):.1f}x "
        f"(low {per_round.min():.1f}x, high {per_round.max():.1f}x); same differences: {same}"
    )
    return table


if __name__ == "__main__":
    main()
