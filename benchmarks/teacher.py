"""Teacher size and CPU throughput, full width vs the quick-mode stand-in, measured in one run.

    python benchmarks/teacher.py            # batch 64
    python benchmarks/teacher.py --smoke    # tiny batches, one repeat: the script still runs (CI)

Prints parameters and windows per second (inference and one training step: forward, backward, AdamW)
for each teacher on each dataset's input view, then the ratios quick / full. Threads: torch's
default, or ``--threads``.
"""

from __future__ import annotations

import argparse
import time

import pandas as pd
import torch

from ecgkd.data.preprocess import TEACHER_FS, resampled_length
from ecgkd.modelinfo import count_parameters
from ecgkd.teacher import Net1D, ecgfounder_config, scaled_config
from ecgkd.teacher.finetune import QUICK_SCALE

VIEWS = {  # dataset: (leads, samples at 500 Hz) of the teacher's input view (ecgkd.teacher.inputs)
    "mitbih": (1, resampled_length(256, 360, TEACHER_FS)),
    "ptbxl": (12, resampled_length(1000, 100, TEACHER_FS)),
}


def throughput(
    model: Net1D, leads: int, length: int, batch: int, repeats: int
) -> tuple[float, float]:
    """(inference, training) windows per second, after one warm-up call of each."""
    x = torch.randn(batch, leads, length)
    y = torch.randint(0, 2, (batch,)).float()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)

    def train_step() -> None:
        optimizer.zero_grad()
        torch.nn.functional.binary_cross_entropy_with_logits(model(x)[:, 0], y).backward()
        optimizer.step()

    def infer() -> None:
        with torch.inference_mode():
            model(x)

    rates = []
    for step, train in ((infer, False), (train_step, True)):
        model.train(train)
        step()
        start = time.perf_counter()
        for _ in range(repeats):
            step()
        rates.append(batch * repeats / (time.perf_counter() - start))
    return rates[0], rates[1]


def main(argv: list[str] | None = None) -> pd.DataFrame:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--smoke", action="store_true", help="batch 2, one repeat: a check, not a measurement"
    )
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    batch, repeats = (2, 1) if args.smoke else (args.batch, args.repeats)
    torch.manual_seed(0)
    rows = []
    for dataset, (leads, length) in VIEWS.items():
        for name, (width, depth) in (
            ("full (ECGFounder size)", (1.0, 1.0)),
            ("quick stand-in", QUICK_SCALE),
        ):
            model = Net1D(scaled_config(ecgfounder_config(leads, 1), width, depth))
            infer, train = throughput(model, leads, length, batch, repeats)
            rows.append(
                {
                    "dataset": dataset,
                    "input": f"{leads} x {length}",
                    "teacher": name,
                    "parameters": count_parameters(model),
                    "infer windows/s": round(infer, 1),
                    "train windows/s": round(train, 1),
                }
            )
    table = pd.DataFrame(rows)
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads, batch {batch}, {repeats} "
        "repeat(s)" + (" [SMOKE: not a measurement]" if args.smoke else "")
    )
    print(table.to_string(index=False))
    for dataset, group in table.groupby("dataset", sort=False):
        full, quick = group.iloc[0], group.iloc[1]
        print(
            f"{dataset}: quick stand-in has {full['parameters'] / quick['parameters']:.1f}x fewer "
            "parameters, "
            f"infers {quick['infer windows/s'] / full['infer windows/s']:.1f}x and trains "
            f"{quick['train windows/s'] / full['train windows/s']:.1f}x faster"
        )
    return table


if __name__ == "__main__":
    main()
