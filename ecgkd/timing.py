"""Speed measurements that hold still: contenders interleaved round by round, ratios per round.

Timing one contender after another lets a slow spell of the machine (another process, a CPU
frequency change) fall on one of them only, and the ratio moves with it: the same VQC benchmark once
gave 9x and then 17x. Here every round calls every contender once, in an order rotated each round,
so a slow spell hits them alike; each round gives its own ratio, and the benchmarks print the median
ratio with its spread (the lowest and highest round).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping

import numpy as np
import pandas as pd
import torch


def interleaved_rates(
    contenders: Mapping[str, Callable[[], object]],
    items: Mapping[str, int],
    rounds: int,
    warmup: int = 1,
    min_seconds: float = 0.0,
) -> pd.DataFrame:
    """Items per second of each contender in each round: one row per (round, contender).

    ``contenders[name]()`` does one timed unit of work on ``items[name]`` items (windows, samples);
    each is called ``warmup`` times first, untimed. Round r calls them in the order rotated by r.
    ``min_seconds``: within a round, a contender's unit is repeated until that much time has passed,
    so that one measurement of a fast contender is not a single call of a few milliseconds.
    """
    if rounds < 1:
        raise ValueError(f"rounds={rounds}: give at least one round")
    names = list(contenders)
    missing = set(names) - set(items)
    if missing:
        raise ValueError(f"no item count for {sorted(missing)}: give items[name] for each")
    for name in names:
        for _ in range(warmup):
            contenders[name]()
    rows = []
    for r in range(rounds):
        shift = r % len(names)
        for name in names[shift:] + names[:shift]:
            calls, start = 0, time.perf_counter()
            while True:
                contenders[name]()
                calls += 1
                seconds = time.perf_counter() - start
                if seconds >= min_seconds:
                    break
            rows.append(
                {
                    "round": r,
                    "contender": name,
                    "calls": calls,
                    "seconds": seconds,
                    "rate": items[name] * calls / seconds,
                }
            )
    return pd.DataFrame(rows)


def rate_summary(rates: pd.DataFrame) -> pd.DataFrame:
    """Per contender: the median rate over rounds, with the lowest and highest, in first-seen
    order."""
    grouped = rates.groupby("contender", sort=False)["rate"]
    return pd.DataFrame(
        {"median": grouped.median(), "low": grouped.min(), "high": grouped.max()}
    ).reset_index()


def ratio(rates: pd.DataFrame, numerator: str, denominator: str) -> dict[str, float]:
    """``numerator``'s rate over ``denominator``'s, round by round (the two timed side by side):
    median, low and high over the rounds."""
    table = rates.pivot(index="round", columns="contender", values="rate")
    for name in (numerator, denominator):
        if name not in table:
            raise KeyError(f"{name!r} was not timed; contenders: {list(table.columns)}")
    per_round = (table[numerator] / table[denominator]).to_numpy()
    return {
        "median": float(np.median(per_round)),
        "low": float(per_round.min()),
        "high": float(per_round.max()),
        "rounds": len(per_round),
    }


def format_ratio(summary: Mapping[str, float]) -> str:
    """'12.3x (spread 11.0-13.9x over 7 rounds)'."""
    return (
        f"{summary['median']:,.1f}x (spread {summary['low']:,.1f}-{summary['high']:,.1f}x over "
        f"{summary['rounds']:d} rounds)"
    )


def model_steps(
    model: torch.nn.Module, x: torch.Tensor, lr: float = 1e-4
) -> tuple[Callable[[], None], Callable[[], None]]:
    """(inference, training step) of a binary classifier on the batch ``x``: the units of work the
    model benchmarks time. A training step is what the training loop does per batch: forward,
    weighted BCE, backward, one AdamW update (random labels)."""
    from .train import bce_loss, binary_logits

    y = torch.randint(0, 2, (len(x),), generator=torch.Generator().manual_seed(0)).float()
    loss = bce_loss()
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr)

    def infer() -> None:
        model.eval()
        with torch.inference_mode():
            model(x)

    def train_step() -> None:
        model.train()
        optimizer.zero_grad(set_to_none=True)
        loss(binary_logits(model(x)), y).backward()
        optimizer.step()

    return infer, train_step
