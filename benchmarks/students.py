"""Teacher vs students: CPU inference and training throughput on the same MIT-BIH windows, as ratios
from one run.

    python benchmarks/students.py           # batch 256, 5 repeats
    python benchmarks/students.py --smoke   # batch 2, one repeat: checks the script still runs (CI)

Each model reads the same beats in its own view: the students 256 samples at 360 Hz, the teacher the
same window resampled to 500 Hz (356 samples), as in the tutorial. Goal from the issue: the CNN-1D
at least 50x the teacher's windows per second. The last row is Wang et al.'s full-size ResNet
(64/128/128 channels, no pooling), which our ResNet-1D replaced: it shows why (scoring hardly faster
than the teacher).
"""

from __future__ import annotations

import argparse
import time

import pandas as pd
import torch

from ecgkd.data.preprocess import TEACHER_FS, resampled_length
from ecgkd.modelinfo import count_parameters, describe
from ecgkd.students import STUDENT_LABELS, ResNet1D, build_student
from ecgkd.teacher import Net1D, ecgfounder_config
from ecgkd.train import bce_loss, binary_logits

WANG = "Wang's ResNet (64/128/128, no pooling; not used)"


def windows_per_second(model: torch.nn.Module, shape: tuple[int, ...], repeats: int) -> float:
    x = torch.randn(*shape)
    model.eval()
    with torch.inference_mode():
        model(x)
        start = time.perf_counter()
        for _ in range(repeats):
            model(x)
    return shape[0] * repeats / (time.perf_counter() - start)


def training_windows_per_second(
    model: torch.nn.Module, shape: tuple[int, ...], repeats: int
) -> float:
    """One AdamW step on a batch of random windows (forward, backward, update), as the training loop
    does."""
    x, y = torch.randn(*shape), torch.rand(shape[0])
    loss = bce_loss()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)
    model.train()

    def step() -> None:
        optimizer.zero_grad(set_to_none=True)
        loss(binary_logits(model(x)), y).backward()
        optimizer.step()

    step()
    start = time.perf_counter()
    for _ in range(repeats):
        step()
    return shape[0] * repeats / (time.perf_counter() - start)


def main(argv: list[str] | None = None) -> pd.DataFrame:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--smoke", action="store_true", help="batch 2, one repeat: a check, not a measurement"
    )
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    batch, repeats = (2, 1) if args.smoke else (args.batch, args.repeats)
    torch.manual_seed(0)
    teacher = Net1D(ecgfounder_config(1, 1))
    models = {
        "teacher (Net1D, full size)": (teacher, (batch, 1, resampled_length(256, 360, TEACHER_FS)))
    }
    models.update(
        {STUDENT_LABELS[n]: (build_student(n, 0), (batch, 1, 256)) for n in STUDENT_LABELS}
    )
    models[WANG] = (ResNet1D.wang(), (batch, 1, 256))
    rows = []
    for name, (model, shape) in models.items():
        params = (
            count_parameters(model) if name.startswith("teacher") else describe(model)["parameters"]
        )
        rows.append(
            {
                "model": name,
                "input": "x".join(map(str, shape[1:])),
                "parameters": params,
                "windows/s": windows_per_second(model, shape, repeats),
                "train windows/s": training_windows_per_second(model, shape, max(1, repeats // 2)),
            }
        )
    table = pd.DataFrame(rows)
    table["x teacher speed"] = table["windows/s"] / table["windows/s"].iloc[0]
    table["x teacher training speed"] = table["train windows/s"] / table["train windows/s"].iloc[0]
    table["x fewer parameters"] = table["parameters"].iloc[0] / table["parameters"]
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads, batch {batch}, {repeats} "
        "repeat(s)" + (" [SMOKE: not a measurement]" if args.smoke else "")
    )
    print(table.round(1).to_string(index=False))
    cnn = table.loc[table.model == STUDENT_LABELS["cnn1d"], "x teacher speed"].iloc[0]
    print(f"CNN-1D / teacher throughput: {cnn:.0f}x (goal: >= 50x)")
    ours, wang = (table.set_index("model").loc[m] for m in (STUDENT_LABELS["resnet1d"], WANG))
    print(
        f"our ResNet-1D / Wang's full-size ResNet: {ours['windows/s'] / wang['windows/s']:.1f}x "
        "scoring, "
        f"{ours['train windows/s'] / wang['train windows/s']:.1f}x training"
    )
    return table


if __name__ == "__main__":
    main()
