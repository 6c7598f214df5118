"""Reproduction check: a run's tables against the committed reference, row by row.

`make run` ends with `qubocnn reproduce --run results/run/tables --reference results/full/tables
--out results/run/reproduction.md`. Every CSV table the two directories share is matched on its key
columns (data set, preset, method, mode, the hardware study's setting, K, seed, D-Wave system:
those the table has; in a table of runs also the run file below its study's runs/ folder, which tells
apart runs of one method in different variant folders, e.g. qpu-model and qpu-model-noiseless); each row is "reproduced" (every compared number equal within a relative 1e-6, every text equal), "differs"
(the largest differences, in absolute and relative terms), "not run" (a reference row the run did
not make, e.g. a data set it left out) or "no reference" (a row only the run has). Timings and
paths depend on the machine and are not compared. A row that differs is printed as a warning.
"""

from __future__ import annotations

import csv
import json
import math
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

from . import outputs

RUN_FILE = "run file"  # a key derived from a table's path column
KEY_COLUMNS = ("dataset", "preset", "method", "mode", "setting", "bits", "seed", "system", RUN_FILE)
# wall-clock measurements and file locations: never the same on two machines
MACHINE_DEPENDENT = re.compile(r"^time_|_seconds$|_over_sgd$|^solve_fraction$|^path$")
RTOL = 1e-6
SHOWN_DIFFERENCES = 3  # per row in the report
SHOWN_WARNINGS = 20  # rows on the console


@dataclass
class Difference:
    column: str
    run: str
    reference: str

    @property
    def numbers(self) -> tuple[float, float] | None:
        try:
            return float(self.run), float(self.reference)
        except ValueError:
            return None

    @property
    def size(self) -> float:
        """Relative size, for ordering (text differences first)."""
        numbers = self.numbers
        if numbers is None:
            return math.inf
        run, ref = numbers
        return abs(run - ref) / max(abs(ref), 1e-300)

    def __str__(self) -> str:
        numbers = self.numbers
        if numbers is None:
            return f"{self.column} {self.run or 'empty'!r} vs {self.reference or 'empty'!r}"
        run, ref = numbers
        relative = f", {100 * (run - ref) / abs(ref):+.3g}%" if ref else ""
        return f"{self.column} {run:.6g} vs {ref:.6g} ({run - ref:+.3g}{relative})"


@dataclass
class RowCheck:
    key: dict[str, str]
    status: str  # reproduced, differs, not run, no reference
    differences: list[Difference] = field(default_factory=list)

    def describe(self) -> str:
        if self.status != "differs":
            return self.status
        shown = sorted(self.differences, key=lambda d: -d.size)[:SHOWN_DIFFERENCES]
        more = len(self.differences) - len(shown)
        return "differs: " + "; ".join(map(str, shown)) + (f"; {more} more column(s)" if more else "")


@dataclass
class TableCheck:
    name: str
    keys: list[str]
    rows: list[RowCheck]
    notes: list[str]

    def count(self, status: str) -> int:
        return sum(row.status == status for row in self.rows)


def read_table(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with open(path, newline="") as stream:
        reader = csv.DictReader(stream)
        return list(reader.fieldnames or []), list(reader)


def same_cell(run: str, reference: str) -> bool:
    if run == reference:
        return True
    try:
        a, b = float(run), float(reference)
    except ValueError:
        return False
    return (math.isnan(a) and math.isnan(b)) or math.isclose(a, b, rel_tol=RTOL, abs_tol=1e-12)


def run_file(path: str) -> str:
    """A run's file below its study's runs/ folder: the same for one run in any study directory."""
    parts = Path(path).parts
    return "/".join(parts[len(parts) - parts[::-1].index("runs"):]) if "runs" in parts else path


def compare_table(name: str, run_path: Path, reference_path: Path) -> TableCheck:
    run_columns, run_rows = read_table(run_path)
    ref_columns, ref_rows = read_table(reference_path)
    if "path" in run_columns and "path" in ref_columns:
        for row in run_rows + ref_rows:
            row[RUN_FILE] = run_file(row["path"])
        run_columns, ref_columns = run_columns + [RUN_FILE], ref_columns + [RUN_FILE]
    keys = [c for c in ref_columns if c in KEY_COLUMNS and c in run_columns]  # in the table's order
    common = [c for c in ref_columns if c in run_columns]
    compared = [c for c in common if c not in keys and not MACHINE_DEPENDENT.search(c)]
    notes = []
    skipped = [c for c in common if MACHINE_DEPENDENT.search(c)]
    if skipped:
        notes.append(f"not compared (machine-dependent): {', '.join(skipped)}")
    for label, only in (("run", set(run_columns) - set(ref_columns)), ("reference", set(ref_columns) - set(run_columns))):
        if only:
            notes.append(f"columns only in the {label} (table layout changed; not compared): "
                         f"{', '.join(sorted(only))}")
    if not keys:  # a summary over the other tables (the claims): its rows depend on which data sets ran
        return TableCheck(name, [], [], [f"not compared: no key column ({', '.join(KEY_COLUMNS)}); "
                                         "it summarises the other tables, which are compared row by row"])

    def index(rows, path):
        found = {}
        for row in rows:
            key = tuple(row[c] for c in keys)
            if key in found:
                raise ValueError(f"{path}: two rows with {', '.join(f'{c}={v}' for c, v in zip(keys, key))}")
            found[key] = row
        return found

    run_index, ref_index = index(run_rows, run_path), index(ref_rows, reference_path)
    checks = []
    for key, ref in ref_index.items():
        run = run_index.get(key)
        if run is None:
            checks.append(RowCheck(dict(zip(keys, key)), "not run"))
            continue
        differences = [Difference(c, run[c], ref[c]) for c in compared if not same_cell(run[c], ref[c])]
        checks.append(RowCheck(dict(zip(keys, key)), "differs" if differences else "reproduced", differences))
    checks += [RowCheck(dict(zip(keys, key)), "no reference") for key in run_index if key not in ref_index]
    if not compared:
        notes.append("nothing but timings to compare: rows only matched")
    return TableCheck(name, keys, checks, notes)


def compare_dirs(run_dir: str | Path, reference_dir: str | Path) -> list[TableCheck]:
    run_dir, reference_dir = Path(run_dir), Path(reference_dir)
    for label, directory in (("run", run_dir), ("reference", reference_dir)):
        if not directory.is_dir():
            raise ValueError(f"{label} tables directory {directory} not found")
    names = sorted(p.stem for p in reference_dir.glob("*.csv") if (run_dir / p.name).exists())
    if not names:
        raise ValueError(f"no CSV table is in both {run_dir} and {reference_dir}: nothing to compare")
    return [compare_table(name, run_dir / f"{name}.csv", reference_dir / f"{name}.csv") for name in names]


STATUSES = ("reproduced", "differs", "not run", "no reference")


def summary(checks: list[TableCheck]) -> str:
    counts = {s: sum(t.count(s) for t in checks) for s in STATUSES}
    return ", ".join(f"{counts[s]} {s}" for s in STATUSES)


def to_markdown(checks: list[TableCheck], run_dir, reference_dir) -> str:
    lines = [f"# Reproduction check: `{run_dir}` against `{reference_dir}`", "",
             f"Rows: {summary(checks)}. Numbers are equal when they agree within a relative {RTOL:g}; "
             "\"not run\": a reference row this run did not make (e.g. a data set it left out).", ""]
    for table in checks:
        counts = ", ".join(f"{table.count(s)} {s}" for s in STATUSES if table.count(s))
        lines += [f"## {table.name} ({counts})", ""]
        lines += [f"- {note}" for note in table.notes]
        if table.notes:
            lines.append("")
        if not table.keys:
            continue
        lines.append("| " + " | ".join(table.keys) + " | result |")
        lines.append("|" + "---|" * (len(table.keys) + 1))
        for row in table.rows:
            cells = [row.key[c] for c in table.keys] + [row.describe()]
            lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
        lines.append("")
    return "\n".join(lines)


def warnings(checks: list[TableCheck]) -> list[str]:
    return [f"{table.name}: {', '.join(f'{k}={v}' for k, v in row.key.items())}: {row.describe()}"
            for table in checks for row in table.rows if row.status == "differs"]


SUMMARY_SCHEMA = "qubocnn.reproduction/1"


def summary_record(checks: list[TableCheck], run_dir, reference_dir) -> dict:
    """The check's counts as JSON (what the workflow prints at the end of a run)."""
    return {"schema": SUMMARY_SCHEMA, "run": str(run_dir), "reference": str(reference_dir),
            "rows": {s: sum(t.count(s) for t in checks) for s in STATUSES}, "differs": warnings(checks)}


def run(options: dict) -> None:
    for option in ("run", "reference"):
        if not options[option]:
            raise ValueError(f"missing --{option}: which tables directory?")
    checks = compare_dirs(options["run"], options["reference"])
    markdown = to_markdown(checks, options["run"], options["reference"]).encode()
    record = json.dumps(summary_record(checks, options["run"], options["reference"]), indent=1).encode()
    # the summary last: the workflow reads it as the sign that the check ran
    out, _ = outputs.write_files([(options["out"], lambda stream: stream.write(markdown)),
                                  (options["summary"] or Path(options["out"]).with_suffix(".json"),
                                   lambda stream: stream.write(record))])
    found = warnings(checks)
    print(f"reproduction check ({out}): {summary(checks)}", file=sys.stderr)
    for line in found[:SHOWN_WARNINGS]:
        print(f"WARNING: not reproduced: {line}", file=sys.stderr)
    if len(found) > SHOWN_WARNINGS:
        print(f"WARNING: ... and {len(found) - SHOWN_WARNINGS} more rows that differ: see {out}", file=sys.stderr)
