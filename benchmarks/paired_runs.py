"""Two collect CSVs of the same study (`qubocnn report collect`, e.g. the committed
results/full/tables/runs.csv before and after a change of kernel or defaults), paired run by run:
per data set (and preset) and variant, the test accuracy after minus before (mean ± standard error over seeds, and the
largest change of one seed, in points). Times are not compared: runs recorded at different times
share their machine differently; speed is measured side by side by train_speed.py and gap_study.py.

Runs are paired by their path (data set, variant, mode, K and seed name one run), so only runs
present in both files count. No annealing is run: the rows are arithmetic on recorded runs.

    git show OLD:results/full/tables/runs.csv > /tmp/before.csv
    python benchmarks/paired_runs.py /tmp/before.csv results/full/tables/runs.csv --method qubo-trust --bits 20
"""

from __future__ import annotations

import argparse
import csv
from collections import defaultdict

import numpy as np

from qubocnn.report.statistics import difference


def read_runs(path: str, method: str, bits: str | None) -> dict[str, dict]:
    """The rows of a collect CSV with this method (and K, if given), by run path."""
    with open(path, newline="") as handle:
        return {row["path"]: row for row in csv.DictReader(handle)
                if row["method"] == method and (bits is None or row["bits"] == bits)}


def study_cell(path: str) -> tuple[str, str]:
    """The data set folder (DATASET or DATASET+PRESET) and comparison variant ("main" if none) that
    a run path names: runs/DATASET/RUN.json or runs/DATASET/VARIANT/RUN.json."""
    parts = path.split("/")
    return (parts[-2], "main") if parts[-3] == "runs" else (parts[-3], parts[-2])


def rows(before: dict[str, dict], after: dict[str, dict]) -> list[str]:
    groups = defaultdict(list)
    for path in sorted(before.keys() & after.keys()):
        groups[study_cell(path)].append((before[path], after[path]))
    lines = ["| data set | variant | runs | test acc. before (%) | after (%) | after − before (points) | largest |change| "
             "(points) |", "|---|---|---|---|---|---|---|"]
    for (label, name), pairs in sorted(groups.items()):
        old = np.array([100 * float(b["test_accuracy"]) for b, _ in pairs])
        new = np.array([100 * float(a["test_accuracy"]) for _, a in pairs])
        change = difference(list(new - old))
        lines.append(f"| {label} | {name} | {len(pairs)} | {old.mean():.2f} | {new.mean():.2f} "
                     f"| {change.mean:+.2f}{f' ± {change.se:.2f}' if change.n > 1 else ' (1 seed)'} "
                     f"| {np.abs(new - old).max():.2f} |")
    return lines


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before", help="collect CSV before the change")
    parser.add_argument("after", help="collect CSV after the change")
    parser.add_argument("--method", default="qubo-trust", help="the runs' method column (default qubo-trust)")
    parser.add_argument("--bits", default=None, help="only runs at this K (default: every K)")
    args = parser.parse_args(argv)
    before, after = (read_runs(path, args.method, args.bits) for path in (args.before, args.after))
    if not before.keys() & after.keys():
        raise SystemExit(f"paired_runs: no {args.method} run is in both files")
    print("\n".join(rows(before, after)))


if __name__ == "__main__":
    main()
