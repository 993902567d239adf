"""Teacher vs students: CPU inference and training throughput on the same MIT-BIH windows, as ratios
from one run.

    python benchmarks/students.py           # batch 256, 5 interleaved rounds
    python benchmarks/students.py --smoke   # batch 2, two rounds: checks the script still runs (CI)

Each model reads the same beats in its own view: the students 256 samples at 360 Hz, the teacher the
same window resampled to 500 Hz (356 samples), as in the tutorial. Goal from the issue: the CNN-1D
at least 50x the teacher's windows per second. The ResNet-1D rows at a fraction of the width are
the ones quick and full mode train. The last row is Wang et al.'s full-size ResNet
(64/128/128 channels, no pooling), which our ResNet-1D replaced: it shows why (scoring hardly faster
than the teacher).
"""

from __future__ import annotations

import argparse

import pandas as pd
import torch

from ecgkd.data.preprocess import TEACHER_FS, resampled_length
from ecgkd.modelinfo import count_parameters, describe
from ecgkd.students import STUDENT_LABELS, ResNet1D, build_student
from ecgkd.students.stage import FULL_WIDTH, QUICK_WIDTH
from ecgkd.teacher import Net1D, ecgfounder_config
from ecgkd.timing import format_ratio, interleaved_rates, model_steps, rate_summary, ratio

TEACHER = "teacher (Net1D, full size)"
WANG = "Wang's ResNet (64/128/128, no pooling; not used)"


def main(argv: list[str] | None = None) -> pd.DataFrame:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--smoke", action="store_true", help="batch 2, two rounds: a check, not a measurement"
    )
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument(
        "--min-seconds", type=float, default=0.3, help="each measurement repeats for this long"
    )
    args = parser.parse_args(argv)
    batch, rounds = (2, 2) if args.smoke else (args.batch, args.rounds)
    torch.manual_seed(0)
    teacher = Net1D(ecgfounder_config(1, 1))
    models = {TEACHER: (teacher, (batch, 1, resampled_length(256, 360, TEACHER_FS)))}
    models.update(
        {STUDENT_LABELS[n]: (build_student(n, 0), (batch, 1, 256)) for n in STUDENT_LABELS}
    )
    resnet = STUDENT_LABELS["resnet1d"]
    for mode, widths in (("full", FULL_WIDTH), ("quick", QUICK_WIDTH)):
        label = f"{resnet} x{widths['resnet1d']} ({mode} mode)"
        models[label] = (build_student("resnet1d", 0, width=widths["resnet1d"]), (batch, 1, 256))
    models[WANG] = (ResNet1D.wang(), (batch, 1, 256))
    rows, contenders = [], {}
    for name, (model, shape) in models.items():
        contenders[f"{name} infer"], contenders[f"{name} train"] = model_steps(
            model, torch.randn(*shape)
        )
        params = count_parameters(model) if name == TEACHER else describe(model)["parameters"]
        rows.append({"model": name, "input": "x".join(map(str, shape[1:])), "parameters": params})
    rates = interleaved_rates(
        contenders,
        dict.fromkeys(contenders, batch),
        rounds,
        min_seconds=0.0 if args.smoke else args.min_seconds,
    )
    median = rate_summary(rates).set_index("contender")["median"]
    table = pd.DataFrame(rows)
    for kind, column, versus in (
        ("infer", "windows/s", "x teacher speed"),
        ("train", "train windows/s", "x teacher training speed"),
    ):
        table[column] = [median[f"{m} {kind}"] for m in table.model]
        table[versus] = [
            ratio(rates, f"{m} {kind}", f"{TEACHER} {kind}")["median"] for m in table.model
        ]
    table["x fewer parameters"] = table["parameters"].iloc[0] / table["parameters"]
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads, batch {batch}, {rounds} "
        "interleaved rounds (median rates; ratios per round)"
        + (" [SMOKE: not a measurement]" if args.smoke else "")
    )
    print(table.round(1).to_string(index=False))
    cnn = format_ratio(ratio(rates, f"{STUDENT_LABELS['cnn1d']} infer", f"{TEACHER} infer"))
    print(f"CNN-1D / teacher throughput: {cnn} (goal: >= 50x)")
    ours = STUDENT_LABELS["resnet1d"]
    scoring, training = (
        format_ratio(ratio(rates, f"{ours} {k}", f"{WANG} {k}")) for k in ("infer", "train")
    )
    print(f"our ResNet-1D / Wang's full-size ResNet: {scoring} scoring, {training} training")
    half = f"{ours} x{FULL_WIDTH['resnet1d']} (full mode) train"
    narrow = format_ratio(ratio(rates, half, f"{ours} train"))
    print(f"full mode's ResNet-1D / full width, training: {narrow}")
    return table


if __name__ == "__main__":
    main()
