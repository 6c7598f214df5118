"""Tables and figures of the replication, made from result files alone.

Inputs are the JSON files the CLI writes: run results (`qubocnn.result/1`, one per training run or
baseline, see qubocnn.results) and the D-Wave feasibility file (`qubocnn.hardware/1`, written by
`qubocnn hardware`). Nothing is recomputed except the hardware limits of the two D-Wave systems
(published qubit and coupler counts from qubocnn.hardware.SYSTEMS, and the largest clique that
embeds on each perfect-yield graph).

Tables (`write_tables`): CSV (machine readable, raw numbers), Markdown (README) and LaTeX (the
paper's `tabular`s, without float or caption). Figures (`write_figures`): PNG and PDF, drawn with
matplotlib's Agg backend; every figure function returns a matplotlib Figure, so a notebook can
show it inline.

| name | what |
|---|---|
| main_accuracy | dataset x {QUBO box, QUBO trust at the largest K, continuous MM, SGD, logreg, ridge}: test accuracy |
| precision | dataset x K x mode: test accuracy, train loss, median relative energy gap, acceptance rate |
| runtimes | dataset x K: QUBO training time (box, trust) against SGD's, and their ratio |
| qubo_sizes | feature set x K: variables and couplers of one class's QUBO, raw-count and clique checks |
| hardware_limits | D-Wave systems: qubits, couplers, largest embeddable clique |
"""

from __future__ import annotations

import csv
import io
import json
import logging
import math
import os
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .results import SCHEMA as RESULT_SCHEMA
from .results import read_result

log = logging.getLogger("qubocnn.report")

HARDWARE_SCHEMA = "qubocnn.hardware/1"
TABLES = ("main_accuracy", "precision", "annealing_gap", "runtimes", "qubo_sizes", "hardware_limits")
FIGURES = ("accuracy_vs_bits", "training_loss", "energy_gap", "runtime", "problem_size")
FORMATS = ("png", "pdf")
FIGURE_METADATA = {"pdf": {"CreationDate": None, "Creator": None, "Producer": None}, "png": {"Software": None}}

# The paper's order of the benchmarks; any other data set (an .npz) follows in order of appearance.
DATASET_ORDER = ("digits", "mnist", "fashion_mnist", "cifar10", "cifar10_jpeg", "emnist", "kmnist")
METHOD_LABELS = {
    "qubo-box": "QUBO box",
    "qubo-trust": "QUBO trust",
    "continuous-mm": "continuous MM",
    "sgd": "SGD",
    "logreg": "logistic regression",
    "ridge": "ridge",
}
QUBO_METHODS = ("qubo-box", "qubo-trust")
BASELINES = ("sgd", "logreg", "ridge")
STYLE = {  # colour, line style, marker: the same method looks the same in every figure
    "qubo-box": ("C0", "-", "o"),
    "qubo-trust": ("C1", "-", "s"),
    "continuous-mm": ("C2", "--", None),
    "sgd": ("C3", "--", None),
    "logreg": ("C4", ":", None),
    "ridge": ("C5", "-.", None),
}
TIMING_PARTS = ("curvature", "gradient", "build", "solve")
MISSING = "–"


# ---------------------------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------------------------

def _schema_of(path: Path) -> str | None:
    try:
        with open(path) as stream:
            return json.load(stream).get("schema")
    except (OSError, ValueError, AttributeError):
        return None


def load_results(paths: str | os.PathLike | Iterable[str | os.PathLike]) -> list[dict]:
    """Run results from files and directories (searched recursively for `*.json`; files of another
    schema, such as the hardware file, are skipped there). A file named explicitly must be a run
    result. Each record gets `path`."""
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    results = []
    for path in map(Path, paths):
        if path.is_dir():
            files = [f for f in sorted(path.rglob("*.json")) if _schema_of(f) == RESULT_SCHEMA]
        elif path.exists():
            files = [path]
        else:
            raise FileNotFoundError(f"no result file or directory {path}")
        for file in files:
            result = read_result(file)
            result["path"] = str(file)
            results.append(result)
    return results


def load_hardware(path: str | os.PathLike) -> list[dict]:
    """The rows of a `qubocnn hardware` file."""
    with open(path) as stream:
        data = json.load(stream)
    if not isinstance(data, dict) or data.get("schema") != HARDWARE_SCHEMA:
        raise ValueError(f"{path} is not a {HARDWARE_SCHEMA} file (write one with `qubocnn hardware`)")
    return data["rows"]


def find_hardware(paths: str | os.PathLike | Iterable[str | os.PathLike]) -> Path | None:
    """`hardware.json` in (or under) the given directories, if there is one."""
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    for path in map(Path, paths):
        if path.is_dir():
            for file in sorted(path.rglob("hardware.json")):
                if _schema_of(file) == HARDWARE_SCHEMA:
                    return file
    return None


# ---------------------------------------------------------------------------------------------
# Statistics over runs
# ---------------------------------------------------------------------------------------------

def dataset_key(run: dict) -> str:
    """Runs on another feature preset than the default (the hardware-sized `clique` preset) are
    their own row group: 'mnist:clique'."""
    preset = run.get("preset") or "default"
    return run["dataset"] if preset == "default" else f"{run['dataset']}:{preset}"


def dataset_order(results: Sequence[dict]) -> list[str]:
    seen = list(dict.fromkeys(dataset_key(r) for r in results))
    known = [k for d in DATASET_ORDER for k in seen if k.split(":")[0] == d]
    return known + [k for k in seen if k not in known]


def dataset_labels(results: Sequence[dict]) -> dict[str, str]:
    labels = {}
    for r in results:
        label = r.get("dataset_label") or r["dataset"]
        key = dataset_key(r)
        labels[key] = label if key == r["dataset"] else f"{label}, {r['preset']} preset (d={r['num_features']})"
    return labels


def group_runs(results: Sequence[dict]) -> dict[tuple, list[dict]]:
    """{(dataset, method, bits): runs}; bits is None for everything but the QUBO methods."""
    groups = defaultdict(list)
    for r in results:
        bits = r.get("bits") if r["method"] in QUBO_METHODS else None
        groups[(dataset_key(r), r["method"], bits)].append(r)
    for runs in groups.values():
        runs.sort(key=lambda r: r.get("seed", 0))
    return dict(groups)


def bits_values(results: Sequence[dict]) -> list[int]:
    return sorted({int(r["bits"]) for r in results if r["method"] in QUBO_METHODS})


def mean_std(values: Sequence[float]) -> tuple[float, float, int]:
    """Mean, sample standard deviation (0 for a single value) and count; NaNs for none."""
    values = [float(v) for v in values if v is not None and not math.isnan(float(v))]
    if not values:
        return math.nan, math.nan, 0
    std = float(np.std(values, ddof=1)) if len(values) > 1 else 0.0
    return float(np.mean(values)), std, len(values)


def qubo_records(run: dict) -> list[dict]:
    """The iteration records of a QUBO run that hold per-class annealing results."""
    return [h for h in run.get("history", []) if "energy" in h]


def median_gap(runs: Sequence[dict]) -> float:
    """Median of the per-class relative energy gap to the continuous optimum, over every
    iteration, class and seed."""
    gaps = [g for run in runs for h in qubo_records(run) for g in h.get("relative_gap", []) if g is not None]
    return float(np.median(gaps)) if gaps else math.nan


def gap_quartiles(runs: Sequence[dict]) -> tuple[float, float]:
    gaps = [g for run in runs for h in qubo_records(run) for g in h.get("relative_gap", []) if g is not None]
    return (float(np.percentile(gaps, 25)), float(np.percentile(gaps, 75))) if gaps else (math.nan, math.nan)


def acceptance_rate(runs: Sequence[dict]) -> float:
    """Fraction of annealed answers accepted (did not raise U_c), over iterations, classes, seeds."""
    flags = [bool(a) for run in runs for h in qubo_records(run) for a in h.get("accepted", [])]
    return float(np.mean(flags)) if flags else math.nan


def mean_timing(runs: Sequence[dict], part: str = "total") -> float:
    return mean_std([r.get("timings", {}).get(part) for r in runs])[0]


def run_summary(run: dict) -> dict:
    """One flat record per run (the `collect` CSV)."""
    timings = run.get("timings", {})
    qubo = run.get("qubo") or {}
    return {
        "dataset": run["dataset"],
        "dataset_label": run.get("dataset_label"),
        "method": run["method"],
        "mode": run.get("mode"),
        "bits": run.get("bits") if run["method"] in QUBO_METHODS else None,
        "solver": run.get("solver"),
        "seed": run.get("seed"),
        "preset": run.get("preset"),
        "num_features": run.get("num_features"),
        "num_classes": run.get("num_classes"),
        "num_train": run.get("num_train"),
        "num_test": run.get("num_test"),
        "variables": qubo.get("variables") if run["method"] in QUBO_METHODS else None,
        "couplers": qubo.get("couplers") if run["method"] in QUBO_METHODS else None,
        "iterations": max((h.get("iteration", 0) for h in run.get("history", [])), default=0),
        "test_accuracy": run["test_accuracy"],
        "train_accuracy": run["train_accuracy"],
        "train_loss": run["train_loss"],
        "median_relative_gap": median_gap([run]) if run["method"] in QUBO_METHODS else None,
        "acceptance_rate": acceptance_rate([run]) if run["method"] in QUBO_METHODS else None,
        **{f"time_{part}": timings.get(part) for part in (*TIMING_PARTS, "total")},
        "path": run.get("path"),
    }


# ---------------------------------------------------------------------------------------------
# Tables
# ---------------------------------------------------------------------------------------------

@dataclass
class Table:
    """A table twice: `columns`/`rows` formatted for people (Markdown, LaTeX) and
    `csv_columns`/`csv_rows` with raw numbers for machines."""

    name: str
    title: str
    columns: list[str]
    rows: list[list[str]]
    csv_columns: list[str]
    csv_rows: list[list]
    groups: list[int] = field(default_factory=list)  # row indices that start a new group (LaTeX \midrule)

    def to_csv(self) -> str:
        stream = io.StringIO()
        writer = csv.writer(stream, lineterminator="\n")
        writer.writerow(self.csv_columns)
        for row in self.csv_rows:
            writer.writerow(["" if v is None or (isinstance(v, float) and math.isnan(v)) else v for v in row])
        return stream.getvalue()

    def to_markdown(self) -> str:
        def cell(text):
            return str(text).replace("|", "\\|")

        lines = ["| " + " | ".join(map(cell, self.columns)) + " |",
                 "|" + "|".join("---" for _ in self.columns) + "|"]
        lines += ["| " + " | ".join(map(cell, row)) + " |" for row in self.rows]
        return "\n".join(lines) + "\n"

    def to_latex(self) -> str:
        text_columns = {i for i, _ in enumerate(self.columns)
                        if all(not _numeric_cell(row[i]) for row in self.rows)} or {0}
        align = "".join("l" if i in text_columns else "r" for i in range(len(self.columns)))
        lines = [f"% {self.title}",
                 "% generated by `qubocnn report tables` (qubocnn.report): do not edit by hand",
                 f"\\begin{{tabular}}{{{align}}}", "\\toprule",
                 " & ".join(latex_escape(c) for c in self.columns) + " \\\\", "\\midrule"]
        for i, row in enumerate(self.rows):
            if i in self.groups and i > 0:
                lines.append("\\midrule")
            lines.append(" & ".join(latex_escape(c) for c in row) + " \\\\")
        lines += ["\\bottomrule", "\\end{tabular}"]
        return "\n".join(lines) + "\n"


def _numeric_cell(text: str) -> bool:
    head = str(text).split(" ")[0].replace("%", "").replace(",", "")
    if head == MISSING:
        return True
    try:
        float(head)
        return True
    except ValueError:
        return False


def latex_escape(text) -> str:
    text = str(text)
    for char, replacement in (("\\", r"\textbackslash{}"), ("&", r"\&"), ("%", r"\%"), ("$", r"\$"),
                              ("#", r"\#"), ("_", r"\_"), ("{", r"\{"), ("}", r"\}"), ("~", r"\textasciitilde{}"),
                              ("^", r"\textasciicircum{}")):
        text = text.replace(char, replacement)
    return (text.replace("±", r"$\pm$").replace(MISSING, "--").replace("×", r"$\times$")
            .replace("≤", r"$\le$").replace("λ", r"$\lambda$"))


def fmt_pct(mean: float, std: float, n: int, digits: int = 2) -> str:
    if n == 0 or math.isnan(mean):
        return MISSING
    if n == 1:
        return f"{100 * mean:.{digits}f}"
    return f"{100 * mean:.{digits}f} ± {100 * std:.{digits}f}"


def fmt_num(value, spec: str = ".3g") -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return MISSING
    return format(value, spec)


def fmt_diff(mean: float, std: float, n: int) -> str:
    """A signed difference in points, ± std over seeds."""
    if n == 0 or math.isnan(mean):
        return MISSING
    return f"{mean:+.2f}" + (f" ± {std:.2f}" if n > 1 else "")


def fmt_gap(gap: float) -> str:
    """A relative gap in percent, three significant digits (gaps span 1e-5 .. 1e3 %)."""
    if gap is None or math.isnan(gap):
        return MISSING
    return f"{100 * gap:.3g}"


def main_accuracy_table(results: Sequence[dict]) -> Table:
    groups = group_runs(results)
    labels = dataset_labels(results)
    kmax = max(bits_values(results), default=None)
    columns = [("qubo-box", kmax), ("qubo-trust", kmax), ("continuous-mm", None),
               ("sgd", None), ("logreg", None), ("ridge", None)]
    names = {("qubo-box", kmax): f"QUBO box (K={kmax})", ("qubo-trust", kmax): f"QUBO trust (K={kmax})"}
    header = ["Dataset", "d"] + [names.get(c, METHOD_LABELS[c[0]]) for c in columns] + ["seeds"]
    csv_columns = ["dataset", "dataset_label", "num_features", "bits"]
    for method, _ in columns:
        key = method.replace("-", "_")
        csv_columns += [f"{key}_mean", f"{key}_std", f"{key}_n"]
    rows, csv_rows = [], []
    for dataset in dataset_order(results):
        cells, raw, seeds = [], [], set()
        for method, bits in columns:
            runs = groups.get((dataset, method, bits), [])
            seeds.update(r.get("seed") for r in runs)
            m, s, n = mean_std([r["test_accuracy"] for r in runs])
            cells.append(fmt_pct(m, s, n))
            raw += [m, s, n]
        d = sorted({r["num_features"] for r in results if dataset_key(r) == dataset})
        rows.append([labels[dataset], "/".join(map(str, d))] + cells + [str(len(seeds))])
        csv_rows.append([dataset, labels[dataset], "/".join(map(str, d)), kmax] + raw)
    return Table("main_accuracy", "Test accuracy (%) on the frozen-CNN features, mean ± std over seeds",
                 header, rows, csv_columns, csv_rows)


def qubo_run_groups(dataset: str, results: Sequence[dict], groups: dict[tuple, list[dict]]):
    """(bits, mode, runs) of every QUBO run group of one data set, in table order: K, then box before trust."""
    for bits in bits_values(results):
        for method in QUBO_METHODS:
            runs = groups.get((dataset, method, bits))
            if runs:
                yield bits, method.split("-", 1)[1], runs


def precision_table(results: Sequence[dict]) -> Table:
    groups = group_runs(results)
    labels = dataset_labels(results)
    header = ["Dataset", "K", "mode", "variables", "test accuracy (%)", "train loss", "median gap (%)",
              "accepted (%)", "seeds"]
    csv_columns = ["dataset", "dataset_label", "bits", "mode", "variables", "test_accuracy_mean",
                   "test_accuracy_std", "train_loss_mean", "train_loss_std", "median_relative_gap",
                   "acceptance_rate", "seeds"]
    rows, csv_rows, starts = [], [], []
    for dataset in dataset_order(results):
        starts.append(len(rows))
        for bits, mode, runs in qubo_run_groups(dataset, results, groups):
            acc = mean_std([r["test_accuracy"] for r in runs])
            loss = mean_std([r["train_loss"] for r in runs])
            gap, accepted = median_gap(runs), acceptance_rate(runs)
            variables = (runs[0].get("qubo") or {}).get("variables")
            rows.append([labels[dataset], str(bits), mode, fmt_num(variables, "d"), fmt_pct(*acc),
                         fmt_num(loss[0], ".4f"), fmt_gap(gap),
                         MISSING if math.isnan(accepted) else f"{100 * accepted:.0f}", str(acc[2])])
            csv_rows.append([dataset, labels[dataset], bits, mode, variables, acc[0], acc[1], loss[0], loss[1],
                             gap, accepted, acc[2]])
    return Table("precision", "Precision study: QUBO training per bit width K and encoding mode",
                 header, rows, csv_columns, csv_rows, groups=starts)


def paired_difference(runs: Sequence[dict], references: Sequence[dict]) -> tuple[float, float, int]:
    """Test-accuracy difference in points, run minus reference of the same seed (same features),
    mean ± std over the seeds both have."""
    reference = {r.get("seed"): r["test_accuracy"] for r in references}
    return mean_std([100 * (r["test_accuracy"] - reference[r.get("seed")]) for r in runs if r.get("seed") in reference])


def annealing_gap_table(results: Sequence[dict]) -> Table:
    """How close the annealed answers get to the continuous optimum of their surrogate, and what that
    buys against the classical heads trained on the same features (seed by seed)."""
    groups = group_runs(results)
    labels = dataset_labels(results)
    header = ["Dataset", "K", "mode", "median gap (%)", "gap quartiles (%)", "test accuracy (%)",
              "vs logistic regression (points)", "vs SGD (points)", "seeds"]
    csv_columns = ["dataset", "dataset_label", "bits", "mode", "median_relative_gap", "gap_q25", "gap_q75",
                   "test_accuracy_mean", "test_accuracy_std", "minus_logreg_mean", "minus_logreg_std",
                   "minus_sgd_mean", "minus_sgd_std", "seeds"]
    rows, csv_rows, starts = [], [], []
    for dataset in dataset_order(results):
        starts.append(len(rows))
        for bits, mode, runs in qubo_run_groups(dataset, results, groups):
            gap, (q25, q75) = median_gap(runs), gap_quartiles(runs)
            acc = mean_std([r["test_accuracy"] for r in runs])
            vs = {ref: paired_difference(runs, groups.get((dataset, ref, None), [])) for ref in ("logreg", "sgd")}
            rows.append([labels[dataset], str(bits), mode, fmt_gap(gap), f"{fmt_gap(q25)} – {fmt_gap(q75)}",
                         fmt_pct(*acc)] + [fmt_diff(*vs[ref]) for ref in ("logreg", "sgd")] + [str(acc[2])])
            csv_rows.append([dataset, labels[dataset], bits, mode, gap, q25, q75, acc[0], acc[1],
                             *vs["logreg"][:2], *vs["sgd"][:2], acc[2]])
    return Table("annealing_gap", "Annealing gap to the continuous optimum and accuracy against the classical heads",
                 header, rows, csv_columns, csv_rows, groups=starts)


def runtime_table(results: Sequence[dict]) -> Table:
    groups = group_runs(results)
    labels = dataset_labels(results)
    header = ["Dataset", "K", "box (s)", "trust (s)", "of which solve (%)", "SGD (s)", "box / SGD", "trust / SGD"]
    csv_columns = ["dataset", "dataset_label", "bits", "box_seconds", "trust_seconds", "solve_fraction",
                   "sgd_seconds", "box_over_sgd", "trust_over_sgd"]
    rows, csv_rows, starts = [], [], []
    for dataset in dataset_order(results):
        sgd = mean_timing(groups.get((dataset, "sgd", None), []))
        starts.append(len(rows))
        for bits in bits_values(results):
            box_runs = groups.get((dataset, "qubo-box", bits), [])
            trust_runs = groups.get((dataset, "qubo-trust", bits), [])
            if not box_runs and not trust_runs:
                continue
            box, trust = mean_timing(box_runs), mean_timing(trust_runs)
            both = box_runs + trust_runs
            total = sum(r["timings"].get("total", 0.0) for r in both)
            solve = sum(r["timings"].get("solve", 0.0) for r in both) / total if total > 0 else math.nan
            ratio_box = box / sgd if sgd and not math.isnan(sgd) else math.nan
            ratio_trust = trust / sgd if sgd and not math.isnan(sgd) else math.nan
            rows.append([labels[dataset], str(bits), fmt_num(box, ".3g"), fmt_num(trust, ".3g"),
                         fmt_num(100 * solve, ".0f"), fmt_num(sgd, ".3g"),
                         fmt_num(ratio_box, ".3g"), fmt_num(ratio_trust, ".3g")])
            csv_rows.append([dataset, labels[dataset], bits, box, trust, solve, sgd, ratio_box, ratio_trust])
    return Table("runtimes", "Training time: QUBO runs (mean over seeds) against SGD on the same features",
                 header, rows, csv_columns, csv_rows, groups=starts)


def hardware_limits() -> list[dict]:
    """Per D-Wave system: graph, published qubit and coupler counts, the largest clique busclique
    embeds on the perfect-yield graph and its chain length."""
    from .hardware import SYSTEMS, clique_embedding, max_clique_size

    limits = []
    for name, spec in SYSTEMS.items():
        clique = max_clique_size(name)
        limits.append(dict(system=name, graph=spec["graph"], qubits=spec["qubits"], couplers=spec["couplers"],
                           max_clique=clique, max_chain=clique_embedding(clique, name)["max_chain"]))
    return limits


def hardware_limits_table(limits: Sequence[dict] | None = None) -> Table:
    limits = hardware_limits() if limits is None else limits
    header = ["system", "graph", "qubits", "couplers", "largest clique", "chain length"]
    keys = ["system", "graph", "qubits", "couplers", "max_clique", "max_chain"]
    rows = [[str(limit[k]) for k in keys] for limit in limits]
    return Table("hardware_limits", "D-Wave Advantage systems: working qubits and couplers, largest dense "
                 "(clique) problem that minor-embeds on the perfect-yield graph",
                 header, rows, keys, [[limit[k] for k in keys] for limit in limits])


def feature_set_labels(hardware_rows: Sequence[dict]) -> dict[tuple[str, int], str]:
    """{(preset, d): label}: hardware rows of one preset and feature dimension (e.g. the clique
    preset, d = 16 on every image size) share one label, 'clique, 8 px / 28 px / 32 px RGB'."""
    images = defaultdict(list)
    for r in hardware_rows:
        preset, _, image = str(r["preset"]).partition(", ")
        key = (preset, int(r["num_features"]))
        if image and image not in images[key]:
            images[key].append(image)
    labels = {}
    for (preset, d), found in images.items():
        if len(found) == 1:
            labels[(preset, d)] = f"{preset}, {found[0]}"
        elif found:
            labels[(preset, d)] = f"{preset}, " + " / ".join(i.split(" (")[0] for i in found)
        else:
            labels[(preset, d)] = preset
    return labels


def _feature_key(row: dict) -> tuple[str, int]:
    return str(row["preset"]).partition(", ")[0], int(row["num_features"])


def qubo_size_table(hardware_rows: Sequence[dict]) -> Table:
    systems = list(dict.fromkeys(r["system"] for r in hardware_rows))
    short = {s: s.replace("_system", " ") for s in systems}
    header = ["feature set", "d", "K", "variables", "couplers"]
    for s in systems:
        header += [f"{short[s]}: counts fit", f"{short[s]}: clique embeds"]
    csv_columns = ["preset", "num_features", "bits", "variables", "couplers"]
    for s in systems:
        csv_columns += [f"{s}_raw_count_fits", f"{s}_embeddable", f"{s}_physical_qubits", f"{s}_max_chain"]
    names = feature_set_labels(hardware_rows)
    by_problem = defaultdict(dict)
    for r in hardware_rows:
        by_problem[(*_feature_key(r), r["bits"])].setdefault(r["system"], r)
    rows, csv_rows, starts, last = [], [], [], None
    for (preset, d, bits), per_system in by_problem.items():
        if (preset, d) != last:
            starts.append(len(rows))
            last = (preset, d)
        preset = names[(preset, d)]
        first = next(iter(per_system.values()))
        row = [preset, str(d), str(bits), str(first["variables"]), str(first["couplers"])]
        raw = [preset, d, bits, first["variables"], first["couplers"]]
        for s in systems:
            r = per_system.get(s)
            if r is None:
                row += [MISSING, MISSING]
                raw += [None] * 4
                continue
            row.append("yes" if r["raw_count_fits"] else "no")
            row.append(f"yes (chains ≤ {r['max_chain']})" if r["embeddable"] else "no")
            raw += [r["raw_count_fits"], r["embeddable"], r["physical_qubits"], r["max_chain"]]
        rows.append(row)
        csv_rows.append(raw)
    return Table("qubo_sizes", "Size of one class's dense QUBO against D-Wave Advantage hardware: the "
                 "paper's raw-count criterion and the clique minor-embedding it actually needs",
                 header, rows, csv_columns, csv_rows, groups=starts)


def collect_table(results: Sequence[dict]) -> Table:
    if not results:
        raise ValueError("no result files: nothing to collect")
    records = [run_summary(r) for r in results]
    order = {d: i for i, d in enumerate(dataset_order(results))}
    records.sort(key=lambda r: (order[dataset_key(r)], r["method"], r["bits"] or 0, r["seed"] or 0))
    columns = list(records[0])
    return Table("runs", "Every run, one row each", columns, [[str(r[c]) for c in columns] for r in records],
                 columns, [[r[c] for c in columns] for r in records])


def make_tables(results: Sequence[dict], hardware_rows: Sequence[dict] | None = None) -> dict[str, Table]:
    """Every table; `qubo_sizes` and `hardware_limits` only with a hardware file's rows."""
    if not results:
        raise ValueError("no result files: nothing to tabulate")
    tables = {"main_accuracy": main_accuracy_table(results), "precision": precision_table(results),
              "annealing_gap": annealing_gap_table(results), "runtimes": runtime_table(results)}
    if hardware_rows is not None:
        tables["qubo_sizes"] = qubo_size_table(hardware_rows)
        tables["hardware_limits"] = hardware_limits_table()
    return tables


def write_table(table: Table, out_dir: str | os.PathLike, latex_dir: str | os.PathLike | None = None) -> list[Path]:
    """NAME.csv and NAME.md into out_dir; NAME.tex into latex_dir (default: out_dir)."""
    out_dir = Path(out_dir)
    latex_dir = out_dir if latex_dir is None else Path(latex_dir)
    written = []
    for directory, suffix, text in ((out_dir, ".csv", table.to_csv()), (out_dir, ".md", table.to_markdown()),
                                    (latex_dir, ".tex", table.to_latex())):
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / f"{table.name}{suffix}"
        path.write_text(text)
        written.append(path)
    return written


def write_tables(results: Sequence[dict], hardware_rows: Sequence[dict] | None, out_dir, latex_dir=None) -> list[Path]:
    written = []
    for table in make_tables(results, hardware_rows).values():
        written += write_table(table, out_dir, latex_dir)
    return written


# ---------------------------------------------------------------------------------------------
# Figures
# ---------------------------------------------------------------------------------------------

def _pyplot():
    import matplotlib

    if matplotlib.get_backend().lower() not in ("agg", "pdf", "svg", "module://matplotlib_inline.backend_inline"):
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _panels(count: int, width: float = 3.4, height: float = 2.9, max_columns: int = 4, legend_slot: bool = False):
    """A grid of `count` panels; with legend_slot, one more slot (after the last panel) that
    `_figure_legend` fills with the legend. Returns fig, the panels' axes, the legend slot or None."""
    plt = _pyplot()
    slots = count + int(legend_slot)
    columns = max(1, min(slots, max_columns))
    lines = max(1, math.ceil(slots / columns))
    fig, axes = plt.subplots(lines, columns, figsize=(width * columns, height * lines), squeeze=False)
    flat = list(axes.flat)
    for ax in flat[count:]:
        ax.set_axis_off()
    return fig, flat[:count], (flat[count] if legend_slot else None)


def _figure_legend(fig, axes, slot=None) -> None:
    """One legend for all panels: in the legend slot, or below the panels."""
    handles, labels = {}, []
    for ax in axes:
        for handle, label in zip(*ax.get_legend_handles_labels()):
            if label not in handles:
                handles[label] = handle
                labels.append(label)
    known = list(METHOD_LABELS.values())
    rank = {label: next((i for i, name in enumerate(known) if label == name or label.startswith(name + " (")),
                        len(known)) for label in labels}
    labels.sort(key=lambda label: rank[label])  # stable: the methods in one order, anything else after
    if not labels:
        fig.tight_layout()
    elif slot is not None:
        slot.legend([handles[label] for label in labels], labels, loc="center", frameon=False, fontsize="small")
        fig.tight_layout()
    else:
        # a column is about a handle plus the longest label wide (small font: ~0.065 in per character)
        column_inches = 0.6 + 0.065 * max(len(label) for label in labels)
        columns = max(1, min(len(labels), int(fig.get_figwidth() / column_inches)))
        fig.legend([handles[label] for label in labels], labels, loc="lower center", ncol=columns,
                   frameon=False, fontsize="small")
        legend_inches = 0.25 * math.ceil(len(labels) / columns) + 0.2
        fig.set_figheight(fig.get_figheight() + legend_inches)
        fig.tight_layout(rect=(0, legend_inches / fig.get_figheight(), 1, 1))


def _style(method: str, **kwargs) -> dict:
    colour, line, marker = STYLE[method]
    return dict(color=colour, linestyle=line, marker=marker, label=METHOD_LABELS[method], **kwargs)


def figure_accuracy_vs_bits(results: Sequence[dict]):
    """Test accuracy against K, one panel per data set: box and trust (mean ± std over seeds), the
    continuous MM reference and the baselines as horizontal lines."""
    groups = group_runs(results)
    labels = dataset_labels(results)
    datasets = dataset_order(results)
    bits = bits_values(results)
    fig, axes, slot = _panels(len(datasets), legend_slot=True)
    for ax, dataset in zip(axes, datasets):
        for method in QUBO_METHODS:
            points = [(k, *mean_std([r["test_accuracy"] for r in groups.get((dataset, method, k), [])])) for k in bits]
            points = [p for p in points if p[3] > 0]
            if points:
                k, m, s, _ = zip(*points)
                ax.errorbar(k, 100 * np.array(m), yerr=100 * np.array(s), capsize=3, **_style(method))
        for method in ("continuous-mm", *BASELINES):
            m, s, n = mean_std([r["test_accuracy"] for r in groups.get((dataset, method, None), [])])
            if n:
                colour, line, _ = STYLE[method]
                ax.axhline(100 * m, color=colour, linestyle=line, label=METHOD_LABELS[method])
        ax.set_title(labels[dataset])
        ax.set_xlabel("bits per parameter K")
        ax.set_ylabel("test accuracy (%)")
        if bits:
            ax.set_xticks(bits)
        ax.grid(alpha=0.3)
    _figure_legend(fig, axes, slot)
    return fig


def _mean_curve(runs: Sequence[dict], key: str = "train_loss"):
    curves = defaultdict(list)
    for run in runs:
        for h in run.get("history", []):
            if h.get(key) is not None:
                curves[h["iteration"]].append(h[key])
    steps = sorted(curves)
    return np.array(steps), np.array([np.mean(curves[s]) for s in steps])


def figure_training_loss(results: Sequence[dict]):
    """Training cross-entropy per iteration at the largest K (box, trust), the continuous MM path,
    SGD per epoch, and the logistic-regression optimum; mean over seeds, log scale."""
    groups = group_runs(results)
    labels = dataset_labels(results)
    datasets = dataset_order(results)
    kmax = max(bits_values(results), default=None)
    fig, axes, slot = _panels(len(datasets), legend_slot=True)
    for ax, dataset in zip(axes, datasets):
        for method, bits in (("qubo-box", kmax), ("qubo-trust", kmax), ("continuous-mm", None), ("sgd", None)):
            runs = groups.get((dataset, method, bits), [])
            if runs:
                steps, loss = _mean_curve(runs)
                style = _style(method, markersize=3)
                if bits is not None:
                    style["label"] = f"{METHOD_LABELS[method]} (K={bits})"
                ax.plot(steps, loss, **style)
        logreg = groups.get((dataset, "logreg", None), [])
        if logreg:
            colour, line, _ = STYLE["logreg"]
            ax.axhline(mean_std([r["train_loss"] for r in logreg])[0], color=colour, linestyle=line,
                       label="logistic regression (optimum of L)")
        ax.set_yscale("log")
        ax.set_title(labels[dataset])
        ax.set_xlabel("iteration (SGD: epoch)")
        ax.set_ylabel("training cross-entropy")
        ax.grid(alpha=0.3, which="both")
    _figure_legend(fig, axes, slot)
    return fig


def figure_energy_gap(results: Sequence[dict]):
    """Median relative gap between the annealed QUBO energy and the continuous optimum of the same
    surrogate, against K; one line per data set (band: interquartile range), one panel per mode."""
    groups = group_runs(results)
    labels = dataset_labels(results)
    datasets = dataset_order(results)
    bits = bits_values(results)
    modes = [m for m in QUBO_METHODS if any(k[1] == m for k in groups)]
    fig, axes, _ = _panels(max(1, len(modes)), width=4.2, height=3.2)
    if len(axes) > 1:
        for ax in axes[1:]:
            ax.sharey(axes[0])
    floor = 1e-8
    for ax, method in zip(axes, modes):
        for i, dataset in enumerate(datasets):
            points = [(k, median_gap(groups[(dataset, method, k)]), *gap_quartiles(groups[(dataset, method, k)]))
                      for k in bits if groups.get((dataset, method, k))]
            points = [p for p in points if not math.isnan(p[1])]
            if not points:
                continue
            k, med, lo, hi = (np.array(v) for v in zip(*points))
            colour = f"C{i % 10}"
            ax.plot(k, np.maximum(med, floor), marker="o", color=colour, label=labels[dataset])
            ax.fill_between(k, np.maximum(lo, floor), np.maximum(hi, floor), color=colour, alpha=0.15)
        ax.set_yscale("log")
        ax.set_title(f"{METHOD_LABELS[method]} encoding")
        ax.set_xlabel("bits per parameter K")
        ax.set_ylabel("relative energy gap (median, IQR)")
        if bits:
            ax.set_xticks(bits)
        ax.grid(alpha=0.3, which="both")
    _figure_legend(fig, axes)
    return fig


def figure_runtime(results: Sequence[dict]):
    """Wall-clock time of a training run at the largest K split into its parts (curvature, gradient,
    QUBO build, annealing), and SGD's total on the same features; mean over seeds, log scale."""
    groups = group_runs(results)
    labels = dataset_labels(results)
    datasets = dataset_order(results)
    kmax = max(bits_values(results), default=None)
    modes = [m for m in QUBO_METHODS if any(groups.get((d, m, kmax)) for d in datasets)]
    fig, axes, _ = _panels(max(1, len(modes)), width=max(4.2, 1.1 * len(datasets) + 1.5), height=3.4,
                           max_columns=2 if len(datasets) <= 3 else 1)
    bars = [*TIMING_PARTS, "total", "sgd"]
    names = {"curvature": "curvature", "gradient": "gradient", "build": "QUBO build", "solve": "annealing",
             "total": "QUBO total", "sgd": "SGD total"}
    width = 0.8 / len(bars)
    x = np.arange(len(datasets))
    for ax in axes[1:]:
        ax.sharey(axes[0])
    for ax, method in zip(axes, modes):
        for j, bar in enumerate(bars):
            values = []
            for dataset in datasets:
                if bar == "sgd":
                    values.append(mean_timing(groups.get((dataset, "sgd", None), [])))
                else:
                    values.append(mean_timing(groups.get((dataset, method, kmax), []), bar))
            values = np.array(values, dtype=float)
            shown = np.where(np.isnan(values), 0.0, np.maximum(values, 1e-5))
            ax.bar(x + (j - (len(bars) - 1) / 2) * width, shown, width,
                   color="0.35" if bar == "sgd" else f"C{j}", label=names[bar])
        ax.set_yscale("log")
        ax.set_xticks(x)
        ax.set_xticklabels([labels[d] for d in datasets], rotation=20, ha="right")
        ax.set_ylabel("seconds per training run")
        ax.set_title(f"{METHOD_LABELS[method]}, K={kmax}")
        ax.grid(alpha=0.3, axis="y", which="both")
    _figure_legend(fig, axes)
    return fig


def figure_problem_size(hardware_rows: Sequence[dict], limits: Sequence[dict] | None = None):
    """Variables and couplers of one class's dense QUBO against K per feature dimension d, with the
    qubit and coupler counts of the D-Wave systems and the largest clique that embeds."""
    plt = _pyplot()
    limits = hardware_limits() if limits is None else limits
    fig, (ax_v, ax_c) = plt.subplots(1, 2, figsize=(11, 5.6))
    names = feature_set_labels(hardware_rows)
    problems = defaultdict(dict)
    for r in hardware_rows:
        problems[_feature_key(r)].setdefault(r["bits"], r)
    for i, (key, per_bits) in enumerate(sorted(problems.items(), key=lambda item: item[0][1])):
        bits = sorted(per_bits)
        label = f"d = {key[1]}: {names[key]}"
        ax_v.plot(bits, [per_bits[k]["variables"] for k in bits], marker="o", color=f"C{i}", label=label)
        ax_c.plot(bits, [per_bits[k]["couplers"] for k in bits], marker="o", color=f"C{i}", label=label)
    for j, limit in enumerate(limits):
        line = "--" if j == 0 else ":"
        short = limit["system"].replace("_system", " ")
        ax_v.axhline(limit["qubits"], color="k", linestyle=line, linewidth=1,
                     label=f"{short}: {limit['qubits']} qubits")
        ax_v.axhline(limit["max_clique"], color="r", linestyle=line, linewidth=1,
                     label=f"{short}: largest clique {limit['max_clique']}")
        ax_c.axhline(limit["couplers"], color="k", linestyle=line, linewidth=1,
                     label=f"{short}: {limit['couplers']} couplers")
    all_bits = sorted({r["bits"] for r in hardware_rows})
    for ax, what in ((ax_v, "binary variables (d+1)K"), (ax_c, "couplers n(n-1)/2")):
        ax.set_yscale("log")
        ax.set_xlabel("bits per parameter K")
        ax.set_ylabel(what)
        ax.set_xticks(all_bits)
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize="small", loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=2, frameon=False)
    ax_v.set_title("variables of one class's QUBO")
    ax_c.set_title("couplers of one class's QUBO")
    fig.tight_layout()
    return fig


def make_figure(name: str, results: Sequence[dict], hardware_rows: Sequence[dict] | None = None):
    if name == "problem_size":
        if hardware_rows is None:
            raise ValueError("the problem_size figure needs a hardware file (`qubocnn hardware`)")
        return figure_problem_size(hardware_rows)
    functions = {"accuracy_vs_bits": figure_accuracy_vs_bits, "training_loss": figure_training_loss,
                 "energy_gap": figure_energy_gap, "runtime": figure_runtime}
    if name not in functions:
        raise ValueError(f"unknown figure {name!r}: choose one of {', '.join(FIGURES)}")
    if not results:
        raise ValueError("no result files: nothing to plot")
    return functions[name](results)


def save_figure(fig, out_dir: str | os.PathLike, name: str, formats: Sequence[str] = FORMATS) -> list[Path]:
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for fmt in formats:
        path = out_dir / f"{name}.{fmt}"
        # no creation date and no matplotlib version: a figure is byte-identical when its numbers are
        metadata = FIGURE_METADATA.get(fmt)
        fig.savefig(path, dpi=150, metadata=metadata)
        written.append(path)
    return written


def write_figures(results: Sequence[dict], hardware_rows: Sequence[dict] | None, out_dir,
                  formats: Sequence[str] = FORMATS, names: Sequence[str] | None = None) -> list[Path]:
    """Every figure (problem_size only with hardware rows) as out_dir/NAME.FORMAT."""
    plt = _pyplot()
    if names is None:
        names = [n for n in FIGURES if n != "problem_size" or hardware_rows is not None]
    written = []
    for name in names:
        fig = make_figure(name, results, hardware_rows)
        written += save_figure(fig, out_dir, name, formats)
        plt.close(fig)
    return written
