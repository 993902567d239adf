"""How to spend a CPU's cores on a T x alpha grid: one run using every core, or one run per core.

    python benchmarks/grid_parallel.py           # batch 128, 30 training steps, 3 rounds
    python benchmarks/grid_parallel.py --smoke   # batch 4, 2 steps, 1 round: the script still runs

Each measurement trains a student (forward, backward, AdamW step) on random 256-sample windows in
fresh processes: once as one process with all the cores' threads, once as one single-thread process
per core, all at the same time. The ratio of windows per second says whether ``ECGKD_JOBS=<cores>``
(joblib runs one configuration per worker, one thread each) or ``ECGKD_JOBS=1`` finishes a grid
sooner.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

import numpy as np
import pandas as pd


def train_rate(student: str, threads: int, batch: int, steps: int) -> float:
    """Training windows per second of one student in this process with ``threads`` threads."""
    import torch

    from ecgkd.students import build_student
    from ecgkd.timing import model_steps

    torch.set_num_threads(threads)
    _, step = model_steps(build_student(student, 0), torch.randn(batch, 1, 256), lr=1e-3)
    step()  # warm-up
    start = time.perf_counter()
    for _ in range(steps):
        step()
    return batch * steps / (time.perf_counter() - start)


def processes(student: str, count: int, threads: int, batch: int, steps: int) -> float:
    """Total windows per second of ``count`` processes training at the same time."""
    command = [
        sys.executable,
        __file__,
        "--worker",
        student,
        "--threads",
        str(threads),
        "--batch",
        str(batch),
        "--steps",
        str(steps),
    ]
    env = {**os.environ, "OMP_NUM_THREADS": str(threads)}
    running = [
        subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env) for _ in range(count)
    ]
    rates = []
    for proc in running:
        out, _ = proc.communicate()
        if proc.returncode != 0:
            raise RuntimeError(
                f"benchmark worker failed (exit {proc.returncode}): {' '.join(command)}"
            )
        rates.append(float(out.strip().splitlines()[-1]))
    return sum(rates)


def main(argv: list[str] | None = None) -> pd.DataFrame:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--smoke", action="store_true", help="batch 4, 2 steps: a check, not a measurement"
    )
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--cores", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--students", nargs="+", default=["resnet1d", "cnn1d"])
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--threads", type=int, default=1, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(train_rate(args.worker, args.threads, args.batch, args.steps))
        return pd.DataFrame()
    batch, steps, rounds = (4, 2, 1) if args.smoke else (args.batch, args.steps, args.rounds)
    together, apart = f"1 process x {args.cores} threads", f"{args.cores} processes x 1 thread"
    layouts = {together: (1, args.cores), apart: (args.cores, 1)}  # (processes, threads each)
    rows = []
    for student in args.students:
        rates = {name: [] for name in layouts}
        for r in range(rounds):  # interleaved, the order swapped every round
            for name in list(layouts)[:: 1 if r % 2 == 0 else -1]:
                rates[name].append(processes(student, *layouts[name], batch, steps))
        per_round = np.array(rates[apart]) / np.array(rates[together])
        rows.append(
            {
                "student": student,
                together: float(np.median(rates[together])),
                apart: float(np.median(rates[apart])),
                "ratio": float(np.median(per_round)),
                "ratio low": float(per_round.min()),
                "ratio high": float(per_round.max()),
            }
        )
    table = pd.DataFrame(rows)
    print(
        f"training windows/s (median of {rounds} interleaved rounds; ratio per round, low-high), "
        f"batch {batch}, {steps} steps, {args.cores} cores"
        + (" [SMOKE: not a measurement]" if args.smoke else "")
    )
    print(table.round(2).to_string(index=False))
    return table


if __name__ == "__main__":
    main()
