"""The numbers of the paper's text and the claims summary, written by a rule (showyourwork style):
no number in paper/ or in the README's prose is typed by hand.

`values.tex` defines one value per key, read in paper/main.tex as \\val{KEY}; an unknown key stops
LaTeX with an error, so a renamed value cannot leave a stale number. Keys:
- `acc/DATASET/PRESET/METHOD/K` (K `-` for baselines): mean test accuracy over seeds, points;
  `accpm/...`: mean ± sample standard deviation;
- `diff/DATASET/PRESET/METHOD/K`: K's accuracy minus SGD's, paired by seed, ± standard error;
- `claim/N/METHOD/PRESET`: the summary cell of claim N (1-based; the low-bit claim last, its METHOD the
  annealer) in the reading of that method key;
- `slowdown/PRESET/METHOD`: the range over data sets of the training time at K = 20 over SGD's
  whole time (its learning-rate search included); `perfit/PRESET/METHOD` and
  `perfit/DATASET/PRESET/METHOD`: the same over one SGD fit at its chosen learning rate
  (`timings.fit`, where the runs record it); `d/DATASET/PRESET`: the feature dimensions;
- `runs`, `datasets`, `seeds`, `rule`, `chance/DATASET`, `classes|train|test/DATASET` (sizes),
  `bits/DATASET/PRESET[/METHOD]` (the K values run), `hw/d=D/variables|couplers` (one class at K = 15).
`claims_summary` (a table of `qubocnn report tables`: the README's and the paper's) is the claims
table in one cell per claim, reading and preset: on how many data sets the claim holds.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from pathlib import Path

from .. import outputs
from ..lowbit import ANNEALERS
from .claims import (CLAIMS, FIFTEEN_BITS, LOW_BIT, READINGS, Outcome, evaluate, low_bit_reading, presets, short,
                     value_range)
from .formatting import MISSING, Table, latex_escape
from .runs import bits_values, dataset_key, dataset_order, group_runs, mean_std, mean_timing
from .statistics import RULE, paired

CLAIM_NAMES = {"accuracy rises monotonically with K": "accuracy rises with K",
               "5 bits fails on every data set": "5 bits fails",
               "10 bits is the practical minimum": "10 bits is the minimum",
               CLAIMS[3][0]: "20 bits matches SGD",
               CLAIMS[4][0]: "100-400x slower than SGD",
               FIFTEEN_BITS: "15 bits fit an Advantage",
               LOW_BIT: "annealing beats rounding at K = 1-3 (not the paper's)"}
CLAIM_ORDER = [c for c, *_ in CLAIMS] + [FIFTEEN_BITS, LOW_BIT]


PRESET_KEYS = {"default": "default", "d=16": "clique"}  # the claims' preset columns as the runs name them


def summary_cell(outcome: Outcome) -> str:
    """A claims-table verdict in a few words: where the claim holds."""
    if outcome.verdict.startswith("not decided"):
        return "not decided"
    if not outcome.holds and not outcome.fails:
        return outcome.verdict  # the hardware claim: its two checks, already short
    total = len(outcome.holds) + len(outcome.fails)
    if not outcome.holds:
        return f"no (0 of {total})" if total > 1 else f"no ({short(outcome.fails[0])} only)"
    if not outcome.fails:
        return f"yes ({total} of {total})" if total > 1 else f"yes ({short(outcome.holds[0])} only)"
    return f"{len(outcome.holds)} of {total}: {', '.join(short(d) for d in outcome.holds)}"


def claims_summary(results: Sequence[dict], hardware_rows: Sequence[dict] | None = None,
                   lowbit: Sequence[dict] = ()) -> Table:
    header = ["claim", "reading", "default preset", "paper scale (d=16)"]
    rows, starts, previous = [], [], None
    for claim, reading, outcomes in evaluate(results, hardware_rows, lowbit):
        if claim != previous:
            starts.append(len(rows))
            previous = claim
        rows.append([CLAIM_NAMES[claim] if starts[-1] == len(rows) else "", reading,
                     *(summary_cell(o) for o in outcomes.values())])
    return Table("claims_summary", "Where the paper's claims hold: data sets by the rules of qubocnn.report.claims",
                 header, rows, header, rows, groups=starts,
                 note=f"Rule: {RULE}. Full verdicts, with the measured numbers: docs/findings.md.",
                 latex_align="".join(r">{\raggedright\arraybackslash}p{%s}" % w for w in ("3.0cm", "3.3cm", "4.1cm", "4.1cm")))


def _key(*parts) -> str:
    return "/".join("-" if p is None else str(p) for p in parts)


def values(results: Sequence[dict], hardware_rows: Sequence[dict] | None = None,
           lowbit: Sequence[dict] = ()) -> dict[str, str]:
    """{key: LaTeX text} of every value the paper may quote."""
    groups = group_runs(results)
    found = {"runs": str(len(results)), "rule": latex_escape(RULE),
             "datasets": str(len({r["dataset"] for r in results})),
             "seeds": str(len({r.get("seed") for r in results}))}
    for dataset in dataset_order(results):
        name, _, preset = dataset.partition(":")
        preset = preset or "default"
        sgd = groups.get((dataset, "sgd", None), [])
        for (d, method, bits), runs in groups.items():
            if d != dataset:
                continue
            mean, std, n = mean_std([r["test_accuracy"] for r in runs])
            if n == 0 or math.isnan(mean):
                continue
            found[_key("acc", name, preset, method, bits)] = f"{100 * mean:.1f}"
            found[_key("accpm", name, preset, method, bits)] = (f"${100 * mean:.1f} \\pm {100 * std:.1f}$" if n > 1
                                                                else f"{100 * mean:.1f}")
            if sgd and method != "sgd":
                diff = paired(runs, sgd)
                if diff.n:
                    found[_key("diff", name, preset, method, bits)] = latex_escape(str(diff))
        of_dataset = [r for r in results if r["dataset"] == name]
        found[_key("chance", name)] = f"{100 / min(r['num_classes'] for r in of_dataset):.1f}"
        for what in ("num_classes", "num_train", "num_test"):
            sizes = sorted({r[what] for r in of_dataset if r.get(what) is not None})
            if sizes:
                found[_key(what.removeprefix("num_"), name)] = "/".join(map(str, sizes))
        found[_key("bits", name, preset)] = ", ".join(str(k) for k in bits_values(results, dataset))
        for noisy in ("qubo-box-noise", "qubo-trust-noise"):
            bits = sorted({k for (d, m, k) in groups if d == dataset and m == noisy})
            if bits:
                found[_key("bits", name, preset, noisy)] = ", ".join(map(str, bits))
                found[_key("seeds", name, preset, noisy)] = str(len(groups[(dataset, noisy, bits[0])]))
    reading_keys = {label: method for method, label in READINGS} | {
        low_bit_reading(annealer): annealer for annealer in (*ANNEALERS, "certified")}
    for claim, reading, outcomes in evaluate(results, hardware_rows, lowbit):
        number = CLAIM_ORDER.index(claim) + 1
        for preset, outcome in outcomes.items():
            found[_key("claim", number, reading_keys.get(reading, reading), PRESET_KEYS[preset])] = \
                latex_escape(summary_cell(outcome))
    for preset, datasets in presets(results).items():
        for method, _ in READINGS:  # training time at K = 20 over SGD's: its whole time, and one fit
            timed = {d: (mean_timing(groups[(d, method, 20)]), groups[(d, "sgd", None)]) for d in datasets
                     if groups.get((d, method, 20)) and groups.get((d, "sgd", None))}
            ratios = [own / mean_timing(sgd) for own, sgd in timed.values()]
            if ratios:
                found[_key("slowdown", PRESET_KEYS[preset], method)] = latex_escape(value_range(ratios))
            # one SGD fit at its chosen rate (timings.fit, where recorded) is the claim's measure
            fits = {d: (own, mean_timing(sgd, "fit")) for d, (own, sgd) in timed.items()}
            per_fit = {d: own / fit for d, (own, fit) in fits.items() if fit > 0}
            if per_fit:
                found[_key("perfit", PRESET_KEYS[preset], method)] = latex_escape(value_range(list(per_fit.values())))
                for dataset, ratio in per_fit.items():
                    found[_key("perfit", dataset.split(":")[0], PRESET_KEYS[preset], method)] = f"{ratio:.3g}x"
        for dataset in datasets:
            dims = sorted({r["num_features"] for r in results if dataset_key(r) == dataset})
            found[_key("d", dataset.split(":")[0], PRESET_KEYS[preset])] = "/".join(map(str, dims))
    for row in hardware_rows or []:
        if row["bits"] == 15:
            found[_key("hw", f"d={row['num_features']}", "variables")] = str(row["variables"])
            found[_key("hw", f"d={row['num_features']}", "couplers")] = str(row["couplers"])
    return found


def to_latex(found: dict[str, str]) -> str:
    lines = ["% generated by `qubocnn report values` (qubocnn.report.values): do not edit by hand",
             r"\providecommand{\val}[1]{\ifcsname qubocnn/#1\endcsname\csname qubocnn/#1\endcsname"
             r"\else\errmessage{no value #1: run `qubocnn report values`}\fi}",
             # a table cell that may be empty (a method not run on that data set): a dash
             r"\providecommand{\valor}[1]{\ifcsname qubocnn/#1\endcsname\csname qubocnn/#1\endcsname\else--\fi}"]
    lines += [rf"\expandafter\def\csname qubocnn/{key}\endcsname{{{text}}}" for key, text in sorted(found.items())]
    return "\n".join(lines) + "\n"


def write_values(results: Sequence[dict], hardware_rows, out: str | os.PathLike, lowbit: Sequence[dict] = ()) -> Path:
    """values.tex: every value the paper quotes."""
    outputs.write_text(out, to_latex(values(results, hardware_rows, lowbit)))
    return Path(out)
