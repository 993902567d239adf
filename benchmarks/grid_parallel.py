"""How to spend a CPU's cores on a T x alpha grid: one run using every core, or one run per core.

    python benchmarks/grid_parallel.py           # batch 128, 30 training steps per measurement
    python benchmarks/grid_parallel.py --smoke   # batch 4, 2 steps: the script still runs (CI)

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

import pandas as pd


def train_rate(student: str, threads: int, batch: int, steps: int) -> float:
    """Training windows per second of one student in this process with ``threads`` threads."""
    import torch

    from ecgkd.students import build_student

    torch.set_num_threads(threads)
    model = build_student(student, 0)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    x, y = torch.randn(batch, 1, 256), torch.randint(0, 2, (batch,)).float()

    def step() -> None:
        optimizer.zero_grad()
        torch.nn.functional.binary_cross_entropy_with_logits(model(x).squeeze(-1), y).backward()
        optimizer.step()

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
    parser.add_argument("--cores", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--students", nargs="+", default=["resnet1d", "cnn1d"])
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--threads", type=int, default=1, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(train_rate(args.worker, args.threads, args.batch, args.steps))
        return pd.DataFrame()
    batch, steps = (4, 2) if args.smoke else (args.batch, args.steps)
    rows = []
    for student in args.students:
        together = processes(student, 1, args.cores, batch, steps)
        apart = processes(student, args.cores, 1, batch, steps)
        rows.append(
            {
                "student": student,
                f"1 process x {args.cores} threads": together,
                f"{args.cores} processes x 1 thread": apart,
                "ratio": apart / together,
            }
        )
    table = pd.DataFrame(rows)
    print(
        f"training windows/s, batch {batch}, {steps} steps, {args.cores} cores"
        + (" [SMOKE: not a measurement]" if args.smoke else "")
    )
    print(table.round(2).to_string(index=False))
    return table


if __name__ == "__main__":
    main()
