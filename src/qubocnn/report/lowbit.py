"""The low-bit study's table, claim and figure, from `qubocnn.lowbit/1` files alone (qubocnn.lowbit).

Table `low_bit`: one row per data set, grid, K and head (logistic regression, its round-to-nearest
quantisation `ptq`, and every solver's head): test accuracy (mean ± std over seeds), the gap to the
certified optimum (where it is not proved, to the best energy known: `reference_gaps`) over every
class QUBO of every seed (median and quartiles of the relative gap, in
percent of the optimum's own quantisation error; share solved to optimality), the median time per
QUBO, and whether every optimum was proved.

Claim "annealing finds better low-bit heads than rounding", per data set, grid, K and annealer:
the test-accuracy difference annealer minus round, paired by seed (and certified minus round: the
most that finding the optimum adds). Rule: the claims table's (report.statistics.RULE): it holds
where the paired difference counts and is positive, fails (rounding is better) where it counts and
is negative, else undecided. The row names the data sets it covers.
"""

from __future__ import annotations

import math
from collections import defaultdict
from pathlib import Path

import numpy as np

from ..lowbit import LOWBIT_SCHEMA, SOLVED_TOLERANCE, SOLVER_NAMES
from ..results import read_json
from .formatting import MISSING, Table, fmt_pct
from .loading import schema_files
from .lowbit_claims import CLAIM, claim_cases, record_groups, record_label

HEADS = ("logreg", "ptq", *SOLVER_NAMES)


def load_lowbit(paths) -> list[dict]:
    """The `qubocnn.lowbit/1` files among `paths` (files, or folders searched recursively; other
    files there are skipped with a warning). A file named explicitly must be one."""
    records = []
    for file in schema_files(paths, LOWBIT_SCHEMA, "low-bit result"):
        record = read_json(file)
        if not isinstance(record, dict) or record.get("schema") != LOWBIT_SCHEMA:
            raise ValueError(f"{file} is not a {LOWBIT_SCHEMA} file (write one with `qubocnn lowbit`)")
        records.append(record)
    return records


def _head(record, name):
    return record["baselines"].get(name) or record["heads"].get(name)


def reference_gaps(record, name) -> list[dict]:
    """Solver `name`'s gap rows against the best energy known for each class QUBO: the certified
    optimum where it is proved (the stored rows), else the lowest of the enumeration's best point and
    every solver's answer, so that a solver below an unproved incumbent shows gap 0, not a negative
    one. The relative gap keeps its scale, the reference's own distance to the continuous minimum
    E_c (E* - E_c = gap / relative_gap on any stored row with a gap)."""
    rows = []
    for c, row in enumerate(record["gaps"].get(name, [])):
        certificate = record["certificates"][c]
        if certificate["proved"]:
            rows.append(row)
            continue
        optimum = certificate["optimum"]
        answers = [record["gaps"][solver][c] for solver in record["gaps"]]
        best = min(optimum, *(a["energy"] for a in answers))
        spread = next((a["gap"] / a["relative_gap"] for a in answers if a["gap"] and a["relative_gap"]), math.nan)
        gap = row["energy"] - best
        rows.append(dict(row, gap=gap, relative_gap=gap / max(spread - (optimum - best), 1e-300) if gap else 0.0,
                         solved=bool(gap <= SOLVED_TOLERANCE * (1 + abs(best)))))
    return rows


def low_bit_table(records) -> Table:
    columns = ["data set", "grid", "K", "head", "test acc. (%)", "gap median (%)", "gap quartiles (%)",
               "solved", "ms / QUBO", "seeds"]
    csv_columns = ["dataset", "preset", "num_features", "grid", "bits", "head", "test_accuracy_mean",
                   "test_accuracy_std", "relative_gap_median", "relative_gap_q1", "relative_gap_q3",
                   "solved_share", "seconds_per_qubo_median", "all_proved", "seeds", "scale_multiples"]
    rows, csv_rows, starts = [], [], []
    for (dataset, preset, grid, bits), runs in record_groups(records).items():
        starts.append(len(rows))
        proved = all(r["all_proved"] for r in runs)
        for name in HEADS:
            heads = [_head(r, name) for r in runs if _head(r, name)]
            if not heads:
                continue
            accuracy = [h["test_accuracy"] for h in heads]
            mean, std = float(np.mean(accuracy)), float(np.std(accuracy, ddof=1)) if len(accuracy) > 1 else 0.0
            gaps = [g for r in runs for g in reference_gaps(r, name)]
            q1, median, q3 = (np.percentile([g["relative_gap"] for g in gaps], [25, 50, 75]) if gaps
                              else (math.nan,) * 3)
            solved = float(np.mean([g["solved"] for g in gaps])) if gaps else math.nan
            seconds = float(np.median([g["seconds"] for g in gaps])) if gaps else math.nan
            label = name if name != "certified" else "certified" + ("" if proved else " (not all proved)")
            rows.append([record_label(runs[0]), grid, str(bits), label, fmt_pct(mean, std, len(heads)),
                         _pct(median), f"{_pct(q1)} – {_pct(q3)}" if gaps else MISSING,
                         f"{100 * solved:.0f} %" if gaps else MISSING,
                         f"{1000 * seconds:.2g}" if gaps else MISSING, str(len(heads))])
            csv_rows.append([dataset, preset, runs[0]["num_features"], grid, bits, name, mean, std, median, q1, q3,
                             solved, seconds, proved, len(heads), " ".join(str(r["scale"]["chosen"]) for r in runs)])
    return Table("low_bit", "Low-bit heads: test accuracy and gap to the certified optimum per solver",
                 columns, rows, csv_columns, csv_rows, groups=starts, long=True)


def _pct(value: float) -> str:
    return MISSING if math.isnan(value) else f"{100 * value:.3g}"


def low_bit_claim_table(records) -> Table:
    """One row per data set, grid, K and annealer, and a summary row per annealer over all of them."""
    columns = ["claim", "data set", "grid", "K", "annealer", "annealer − round (points)", "seeds", "verdict"]
    csv_columns = ["claim", "dataset", "preset", "grid", "bits", "annealer", "difference_mean",
                   "difference_standard_error", "seeds", "verdict"]
    rows, csv_rows = [], []
    tally = defaultdict(lambda: defaultdict(list))
    for case in claim_cases(records):
        d = case.difference
        tally[case.annealer][case.verdict].append(f"{case.dataset} {case.grid} K={case.bits}")
        rows.append([CLAIM, case.label, case.grid, str(case.bits), case.annealer,
                     f"{d.mean:+.2f} ± {d.se:.2f}" if d.n > 1 else f"{d.mean:+.2f}", str(d.n), case.verdict])
        csv_rows.append([CLAIM, case.dataset, case.preset, case.grid, case.bits, case.annealer, d.mean, d.se, d.n,
                         case.verdict])
    summary = []
    for annealer, verdicts in tally.items():
        total = sum(len(v) for v in verdicts.values())
        counts = ", ".join(f"{verdict} {len(cases)}" for verdict, cases in sorted(verdicts.items()))
        summary.append([CLAIM, "all", "all", "1-3", annealer, MISSING, MISSING, f"of {total} cases: {counts}"])
    return Table("low_bit_claim", f"Claim: {CLAIM} (paired by seed)", columns, summary + rows, csv_columns,
                 csv_rows, groups=[len(summary)], long=True)


def low_bit_figure(records):
    """Per data set (rows): median relative gap to the optimum and test accuracy per solver, against K."""
    from .figures import _pyplot

    plt = _pyplot()
    groups = record_groups(records)
    panels = sorted({(d, p, g) for d, p, g, _ in groups})
    fig, axes = plt.subplots(len(panels), 2, figsize=(8.5, 2.6 * len(panels)), squeeze=False)
    colours = dict(zip(HEADS, plt.get_cmap("tab10").colors))  # the same head in the same colour in every panel
    for row, (dataset, preset, grid) in enumerate(panels):
        keys = sorted(k for k in groups if k[:3] == (dataset, preset, grid))
        bits = [k[3] for k in keys]
        for name in HEADS:
            accuracy = [np.mean([100 * _head(r, name)["test_accuracy"] for r in groups[k] if _head(r, name)]
                                or [math.nan]) for k in keys]
            style = dict(marker="o", linestyle="--" if name in ("logreg", "ptq") else "-", label=name,
                         color=colours[name])
            axes[row, 1].plot(bits, accuracy, **style)
            if name in SOLVER_NAMES and name != "certified":
                gaps = [np.median([g["relative_gap"] for r in groups[k] for g in reference_gaps(r, name)] or
                                  [math.nan]) for k in keys]
                axes[row, 0].plot(bits, [100 * g + 1e-3 for g in gaps], **style)
        label = record_label(groups[keys[0]][0])
        axes[row, 0].set(yscale="log", xlabel="K", ylabel="median gap (%) + 0.001",
                         title=f"{label}, {grid}")
        axes[row, 1].set(xlabel="K", ylabel="test accuracy (%)", title=f"{label}, {grid}")
        for ax in axes[row]:
            ax.set_xticks(bits)
            ax.title.set_fontsize(8)
    handles, labels = axes[0, 1].get_legend_handles_labels()
    fig.legend(handles, labels, loc="upper center", ncol=5, fontsize=8, bbox_to_anchor=(0.5, 1.0))
    fig.tight_layout(rect=(0, 0, 1, 0.97 - 0.1 / len(panels)))
    return fig


def write_low_bit(records, tables_dir, figures_dir, formats=("png", "pdf")) -> list[Path]:
    """Tables low_bit and low_bit_claim (CSV, Markdown, LaTeX) and figure low_bit."""
    from .figures import _pyplot, save_figure
    from .formatting import write_table

    if not records:
        raise ValueError(f"no {LOWBIT_SCHEMA} files: run `qubocnn lowbit` first")
    written = [p for table in (low_bit_table(records), low_bit_claim_table(records))
               for p in write_table(table, tables_dir)]
    fig = low_bit_figure(records)
    written += save_figure(fig, figures_dir, "low_bit", formats)
    _pyplot().close(fig)
    return written
