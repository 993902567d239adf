"""Teacher size and CPU throughput, full width vs the quick-mode stand-in, measured in one run.

    python benchmarks/teacher.py            # batch 64, 5 interleaved rounds
    python benchmarks/teacher.py --smoke    # tiny batches, two rounds: the script still runs (CI)

Prints parameters and windows per second (inference and one training step: forward, backward, AdamW)
for each teacher on each dataset's input view, then the ratios quick / full: the contenders are
timed in interleaved rounds (:mod:`ecgkd.timing`), each ratio the median of the rounds' with its
spread. Threads: torch's default, or ``--threads``.
"""

from __future__ import annotations

import argparse

import pandas as pd
import torch

from ecgkd.data.preprocess import TEACHER_FS, resampled_length
from ecgkd.modelinfo import count_parameters
from ecgkd.teacher import Net1D, ecgfounder_config, scaled_config
from ecgkd.teacher.finetune import QUICK_SCALE
from ecgkd.timing import format_ratio, interleaved_rates, model_steps, rate_summary, ratio

VIEWS = {  # dataset: (leads, samples at 500 Hz) of the teacher's input view (ecgkd.teacher.inputs)
    "mitbih": (1, resampled_length(256, 360, TEACHER_FS)),
    "ptbxl": (12, resampled_length(1000, 100, TEACHER_FS)),
}
TEACHERS = {"full (ECGFounder size)": (1.0, 1.0), "quick stand-in": QUICK_SCALE}  # (width, depth)


def main(argv: list[str] | None = None) -> pd.DataFrame:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--smoke", action="store_true", help="batch 2, two rounds: a check, not a measurement"
    )
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    batch, rounds = (2, 2) if args.smoke else (args.batch, args.rounds)
    torch.manual_seed(0)
    rows, contenders = [], {}
    for dataset, (leads, length) in VIEWS.items():
        for name, (width, depth) in TEACHERS.items():
            model = Net1D(scaled_config(ecgfounder_config(leads, 1), width, depth))
            infer, train = model_steps(model, torch.randn(batch, leads, length))
            contenders[f"{dataset} {name} infer"], contenders[f"{dataset} {name} train"] = (
                infer,
                train,
            )
            rows.append(
                {
                    "dataset": dataset,
                    "input": f"{leads} x {length}",
                    "teacher": name,
                    "parameters": count_parameters(model),
                }
            )
    rates = interleaved_rates(contenders, dict.fromkeys(contenders, batch), rounds)
    median = rate_summary(rates).set_index("contender")["median"]
    table = pd.DataFrame(rows)
    for kind in ("infer", "train"):
        table[f"{kind} windows/s"] = [
            round(median[f"{d} {t} {kind}"], 1) for d, t in zip(table.dataset, table.teacher)
        ]
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads, batch {batch}, {rounds} "
        "interleaved rounds (median rates; ratios per round, low-high)"
        + (" [SMOKE: not a measurement]" if args.smoke else "")
    )
    print(table.to_string(index=False))
    full, quick = TEACHERS
    for dataset, group in table.groupby("dataset", sort=False):
        fewer = group["parameters"].iloc[0] / group["parameters"].iloc[1]
        infer, train = (
            format_ratio(ratio(rates, f"{dataset} {quick} {k}", f"{dataset} {full} {k}"))
            for k in ("infer", "train")
        )
        print(
            f"{dataset}: quick stand-in has {fewer:.1f}x fewer parameters, infers {infer} and "
            f"trains {train} faster"
        )
    return table


if __name__ == "__main__":
    main()
