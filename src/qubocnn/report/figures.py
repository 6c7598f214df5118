"""The replication's figures, made from run results (and the feasibility file) alone: PNG and PDF
through matplotlib's Agg backend. Every figure function returns a matplotlib Figure, so a notebook
can show it inline.

| name | what |
|---|---|
| accuracy_vs_bits | test accuracy against K per data set: every QUBO variant, the continuous path, the baselines |
| training_loss | the training objective L (cross-entropy with the lam term) per iteration at the largest K, SGD per epoch, the optimum of L |
| energy_gap | median relative gap to the continuous optimum against K: annealing and rounding, box and trust |
| runtime | a training run's time split into its parts, against SGD |
| problem_size | variables and couplers of one class's QUBO against the D-Wave systems' counts |
| hardware_study | test accuracy against K under the QPU noise model in clique-sized blocks, box and trust, the noiseless runs as reference |
"""

from __future__ import annotations

import math
import os
import textwrap
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .. import outputs
from .runs import (BASELINES, METHOD_LABELS, NOISE_METHODS, QUBO_METHODS, TIMING_PARTS, bits_values, dataset_labels,
                   dataset_order, gap_quartiles, group_runs, mean_std, mean_timing, median_gap, noise_run_groups,
                   noiseless_partners)
from .tables import feature_key, feature_set_labels, hardware_limits

FIGURES = ("accuracy_vs_bits", "training_loss", "energy_gap", "runtime", "problem_size", "hardware_study")
FORMATS = ("png", "pdf")
FIGURE_METADATA = {"pdf": {"CreationDate": None, "Creator": None, "Producer": None}, "png": {"Software": None}}
STYLE = {  # colour, line style, marker: the same method looks the same in every figure
    "qubo-box": ("C0", "-", "o"),
    "qubo-box-always": ("C6", "-", "v"),
    "qubo-box-round": ("C0", ":", "x"),
    "qubo-trust": ("C1", "-", "s"),
    "qubo-trust-round": ("C1", ":", "+"),
    "qubo-box-noise": ("C0", "-", "D"),
    "qubo-trust-noise": ("C1", "-", "^"),
    "continuous-mm": ("C2", "--", None),
    "sgd": ("C3", "--", None),
    "logreg": ("C4", ":", None),
    "ridge": ("C5", "-.", None),
}
# PDF text as embedded TrueType (Type 42), not Type 3 bitmaps: the paper's fonts are all outline fonts
FONT_EMBEDDING = {"pdf.fonttype": 42, "ps.fonttype": 42}
TITLE_WIDTH = 30  # characters per line of a panel title (long data set labels wrap instead of clipping)


def _pyplot():
    import matplotlib

    if matplotlib.get_backend().lower() not in ("agg", "pdf", "svg", "module://matplotlib_inline.backend_inline"):
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _panels(count: int, width: float = 3.4, height: float = 2.9, max_columns: int = 4, legend_slot: bool = False):
    """A grid of `count` panels; with legend_slot, the legend takes the first free slot after the last
    panel when the last row has one (else `_figure_legend` puts it below the panels, so no row is
    left empty). Returns fig, the panels' axes, the legend slot or None."""
    plt = _pyplot()
    columns = max(1, min(count, max_columns))
    legend_slot = legend_slot and count % columns != 0
    slots = count + int(legend_slot)
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


def _title(ax, text: str) -> None:
    ax.set_title(textwrap.fill(text, TITLE_WIDTH), fontsize="medium")


def _style(method: str, **kwargs) -> dict:
    colour, line, marker = STYLE[method]
    return dict(color=colour, linestyle=line, marker=marker, label=METHOD_LABELS[method], **kwargs)


def figure_accuracy_vs_bits(results: Sequence[dict]):
    """Test accuracy against K, one panel per data set: every QUBO variant (mean ± std over seeds),
    the continuous MM reference and the baselines as horizontal lines."""
    groups = group_runs(results)
    labels = dataset_labels(results)
    datasets = dataset_order(results)
    fig, axes, slot = _panels(len(datasets), legend_slot=True)
    for ax, dataset in zip(axes, datasets):
        bits = bits_values(results, dataset)
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
                # above the QUBO curves and wider: trust lies on logistic regression's line
                ax.axhline(100 * m, color=colour, linestyle=line, linewidth=2.0, zorder=4, label=METHOD_LABELS[method])
        _title(ax, labels[dataset])
        ax.set_xlabel("bits per parameter K")
        ax.set_ylabel("test accuracy (%)")
        if bits:
            ax.set_xticks(bits)
        ax.grid(alpha=0.3)
    _figure_legend(fig, axes, slot)
    return fig


def figure_hardware_study(results: Sequence[dict]):
    """Test accuracy against K under the QPU noise model (the logical model, chains left to the
    table), box and trust, one panel per data set of the hardware study; the same runs without
    the errors (dashed, faint) and logistic regression, on the same seeds, as references."""
    groups = group_runs(results)
    labels = dataset_labels(results)
    logical = [(d, k, m, runs) for d, k, m, runs in noise_run_groups(results)
               if not ((runs[0].get("config") or {}).get("solver") or {}).get("qpu_chains")]
    datasets = list(dict.fromkeys(d for d, *_ in logical))
    fig, axes, slot = _panels(max(1, len(datasets)), legend_slot=True)
    for ax, dataset in zip(axes, datasets):
        mine = [(k, m, runs) for d, k, m, runs in logical if d == dataset]
        seeds = {r.get("seed") for _, _, runs in mine for r in runs}
        for method in NOISE_METHODS:
            noiseless = method.removesuffix("-noise")
            reference = dict(_style(noiseless), linestyle="--", alpha=0.45,
                             label=f"{METHOD_LABELS[noiseless]}, no errors (same path)")
            for style, pick in ((_style(method), lambda runs: runs),
                                (reference, lambda runs: noiseless_partners(results, runs))):
                points = [(k, *mean_std([r["test_accuracy"] for r in pick(runs)])) for k, m, runs in mine if m == method]
                points = [p for p in points if p[3] > 0]
                if points:
                    k, m, s, _ = zip(*points)
                    ax.errorbar(k, 100 * np.array(m), yerr=100 * np.array(s), capsize=3, **style)
        m, _, n = mean_std([r["test_accuracy"] for r in groups.get((dataset, "logreg", None), [])
                            if r.get("seed") in seeds])
        if n:
            colour, line, _ = STYLE["logreg"]
            ax.axhline(100 * m, color=colour, linestyle=line, label=METHOD_LABELS["logreg"])
        _title(ax, labels[dataset])
        ax.set_xscale("log", base=2)  # K from 2 to 20: the few-bit end is where the noise model decides
        ticks = sorted({k for k, _, _ in mine})
        ax.set_xticks(ticks)
        ax.set_xticklabels([str(k) for k in ticks])
        ax.minorticks_off()
        ax.set_xlabel("bits per parameter K")
        ax.set_ylabel("test accuracy (%)")
        ax.grid(alpha=0.3)
    if not datasets:
        axes[0].text(0.5, 0.5, "no runs under the QPU noise model", ha="center", va="center",
                     transform=axes[0].transAxes)
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
    """The training objective L (cross-entropy plus the lam/2 |W|^2 term: what the surrogate
    majorises) per iteration at the largest K (box, trust), the continuous MM path, SGD per epoch,
    and the logistic-regression optimum of L; mean over seeds, log scale."""
    groups = group_runs(results)
    labels = dataset_labels(results)
    datasets = dataset_order(results)
    fig, axes, slot = _panels(len(datasets), legend_slot=True)
    for ax, dataset in zip(axes, datasets):
        kmax = max(bits_values(results, dataset), default=None)
        for method, bits in (("qubo-box", kmax), ("qubo-box-always", kmax), ("qubo-trust", kmax),
                             ("continuous-mm", None), ("sgd", None)):
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
        _title(ax, labels[dataset])
        ax.set_xlabel("iteration (SGD: epoch)")
        ax.set_ylabel("training objective L (cross-entropy + λ/2 |W|²)")
        ax.grid(alpha=0.3, which="both")
    _figure_legend(fig, axes, slot)
    return fig


def figure_energy_gap(results: Sequence[dict]):
    """Median relative gap between the solver's QUBO energy and the continuous optimum of the same
    surrogate, against K; one colour per data set (band: interquartile range), one panel per mode;
    solid: annealing, dotted: rounding (no annealing)."""
    groups = group_runs(results)
    labels = dataset_labels(results)
    datasets = dataset_order(results)
    bits = bits_values(results)
    modes = [m for m in ("qubo-box", "qubo-trust") if any(k[1] == m for k in groups)]
    fig, axes, _ = _panels(max(1, len(modes)), width=4.6, height=3.6)
    for ax in axes[1:]:
        ax.sharey(axes[0])
    floor = 1e-8
    for ax, mode in zip(axes, modes):
        for i, dataset in enumerate(datasets):
            for method, line in ((mode, "-"), (f"{mode}-round", ":")):
                points = [(k, median_gap(groups[(dataset, method, k)]), *gap_quartiles(groups[(dataset, method, k)]))
                          for k in bits if groups.get((dataset, method, k))]
                points = [p for p in points if not math.isnan(p[1])]
                if not points:
                    continue
                k, med, lo, hi = (np.array(v) for v in zip(*points))
                colour = f"C{i % 10}"
                ax.plot(k, np.maximum(med, floor), marker="o", markersize=3, color=colour, linestyle=line,
                        label=labels[dataset] if line == "-" else None)
                if line == "-":
                    ax.fill_between(k, np.maximum(lo, floor), np.maximum(hi, floor), color=colour, alpha=0.12)
        ax.plot([], [], color="0.4", linestyle=":", label="rounding (no annealing)")
        ax.set_yscale("log")
        _title(ax, f"{METHOD_LABELS[mode]} encoding")
        ax.set_xlabel("bits per parameter K")
        ax.set_ylabel(f"relative energy gap (median, IQR; floor {floor:g})")
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
    modes = [m for m in ("qubo-box", "qubo-trust") if any(groups.get((d, m, kmax)) for d in datasets)]
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
        problems[feature_key(r)].setdefault(r["bits"], r)
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
                 "energy_gap": figure_energy_gap, "runtime": figure_runtime, "hardware_study": figure_hardware_study}
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
        with _pyplot().rc_context(FONT_EMBEDDING):
            outputs.write_file(path, lambda stream: fig.savefig(stream, format=fmt, dpi=150, metadata=metadata))
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
