"""Reading PTB-XL records: where wfdb spends a read, and what the process's store saves.

    python benchmarks/records.py           # 500 records of the data folder, 3 rounds
    python benchmarks/records.py --smoke   # 20 records, 1 round: the script runs

Notebook 01 loads the same 500 records under four views and filters, each load reading every
record (``ecgkd.data.ptbxl.read_leads``). wfdb parses a record's header on every read, and the
header is most of a 100 Hz record's read: the table gives the header's share of ``rdrecord``, and
``read_leads`` on a record the process already read (from its store, ``cache.Kept``) against a
first read. Data: ``ECGKD_DATA``, else the repository's sample.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd
import wfdb

from ecgkd import config
from ecgkd.data import ptbxl


def seconds(read, paths: list) -> float:
    start = time.perf_counter()
    for path in paths:
        read(path)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> pd.DataFrame:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="a check, not a measurement")
    parser.add_argument("--records", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    count, rounds = (20, 1) if args.smoke else (args.records, args.rounds)
    folder = config.load().data_root / ptbxl.DATABASE
    table, _ = ptbxl.label_table(folder, max_records=count)
    paths = [ptbxl._student_path(folder, row) for _, row in table.iterrows()]
    leads = (ptbxl.STUDENT_LEAD,)
    ways = {
        "wfdb.rdheader": lambda p: wfdb.rdheader(str(p)),
        "wfdb.rdrecord": lambda p: wfdb.rdrecord(str(p)),
        "read_leads, first read": lambda p: ptbxl.read_leads(p, leads, None),
        "read_leads, read before": lambda p: ptbxl.read_leads(p, leads, None),
    }
    times: dict[str, list[float]] = {name: [] for name in ways}
    for _ in range(rounds):
        for name, read in ways.items():
            if name == "read_leads, first read":
                ptbxl._RECORDS.clear()
            times[name].append(seconds(read, paths) / len(paths))
    ms = {name: 1000 * float(np.median(t)) for name, t in times.items()}
    rows = [
        {"read": name, "ms per record": value, "share of rdrecord": value / ms["wfdb.rdrecord"]}
        for name, value in ms.items()
    ]
    frame = pd.DataFrame(rows)
    first, again = ms["read_leads, first read"], ms["read_leads, read before"]
    print(
        f"PTB-XL records ({len(paths)} from {folder}), median of {rounds} rounds"
        + (" [SMOKE: not a measurement]" if args.smoke else "")
    )
    print(frame.round(3).to_string(index=False))
    print(f"a record read before is {first / again:.0f}x faster than a first read")
    return frame


if __name__ == "__main__":
    main()
