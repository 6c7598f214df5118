"""The replication's tables, made from run results (and the feasibility file) alone.

| name | what |
|---|---|
| main_accuracy | dataset x method (QUBO runs at the row's largest K): test accuracy |
| baselines | dataset: SGD's tuned learning rate, its training loss and accuracy beside logistic regression's |
| precision | dataset x K x QUBO variant: test accuracy, train loss, median relative energy gap, answers that lowered U_c |
| annealing_gap | dataset x K x variant: gap to the continuous optimum, solve time, accuracy against logreg and SGD |
| runtimes | dataset x K: QUBO training time (box, trust, trust with rounding) against SGD's, and ratios |
| claims | the paper's claims: what was measured and the verdict, per preset and reading of the loop (`claims`) |
| claims_summary | where each claim holds, in one cell per reading and preset (`values.claims_summary`) |
| qubo_sizes | feature set x K: variables and couplers of one class's QUBO, raw-count and clique checks |
| hardware_limits | D-Wave systems: qubits, couplers, largest embeddable clique |
| hardware_study | dataset (and preset) x K x mode x setting under the QPU noise model in blocks: accuracy, the same path without errors paired by seed, logreg, chain breaks and what chains change, QPU calls after packing, reads and QPU time |
| qpu_precision | dataset (and preset) x K x mode x setting: dynamic range and share of coefficients below the control errors of the problems sent, and the share of the h/J range packed problems get |
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence

from .claims import claims_table
from .values import claims_summary
from .formatting import MISSING, Table, fmt_diff, fmt_gap, fmt_num, fmt_pct
from .runs import (BASELINES, METHOD_LABELS, MODE_LABELS, bits_values, dataset_key, dataset_labels, dataset_order,
                   gap_quartiles, group_runs, mean_std, mean_timing, median_gap, acceptance_rate, noise_run_groups,
                   logical_partners, noiseless_partners, paired_difference, qubo_run_groups, run_summary)

MAIN_QUBO_COLUMNS = ("qubo-box", "qubo-box-always", "qubo-trust", "qubo-trust-round")
GAP_METHODS = ("qubo-box", "qubo-box-round", "qubo-trust", "qubo-trust-round")


def _features_column(results: Sequence[dict], dataset: str) -> str:
    return "/".join(map(str, sorted({r["num_features"] for r in results if dataset_key(r) == dataset})))


def main_accuracy_table(results: Sequence[dict]) -> Table:
    """Each row's QUBO columns at that row's own largest K (the presets run different K sets)."""
    groups = group_runs(results)
    labels = dataset_labels(results)
    columns = [*MAIN_QUBO_COLUMNS, "continuous-mm", *BASELINES]
    header = ["Dataset", "d", "K"] + [METHOD_LABELS[c] for c in columns] + ["seeds"]
    csv_columns = ["dataset", "dataset_label", "num_features", "bits"]
    for method in columns:
        key = method.replace("-", "_")
        csv_columns += [f"{key}_mean", f"{key}_std", f"{key}_n"]
    rows, csv_rows = [], []
    for dataset in dataset_order(results):
        kmax = max(bits_values(results, dataset), default=None)
        cells, raw, seeds = [], [], set()
        for method in columns:
            runs = groups.get((dataset, method, kmax if method.startswith("qubo-") else None), [])
            seeds.update(r.get("seed") for r in runs)
            m, s, n = mean_std([r["test_accuracy"] for r in runs])
            cells.append(fmt_pct(m, s, n))
            raw += [m, s, n]
        d = _features_column(results, dataset)
        rows.append([labels[dataset], d, fmt_num(kmax, "d")] + cells + [str(len(seeds))])
        csv_rows.append([dataset, labels[dataset], d, kmax] + raw)
    return Table("main_accuracy", "Test accuracy (%) on the frozen-CNN features, mean ± std over seeds; QUBO "
                 "runs at each row's largest K", header, rows, csv_columns, csv_rows)


def baselines_table(results: Sequence[dict]) -> Table:
    """Is SGD converged? Its tuned learning rate, training loss and accuracy beside logistic
    regression's (the minimiser of the same loss), paired seed by seed."""
    groups = group_runs(results)
    labels = dataset_labels(results)
    header = ["Dataset", "SGD learning rate (per seed)", "SGD train loss", "logreg train loss",
              "SGD test accuracy (%)", "logreg test accuracy (%)", "SGD − logreg (points)", "seeds"]
    csv_columns = ["dataset", "dataset_label", "sgd_learning_rates", "sgd_train_loss", "logreg_train_loss",
                   "sgd_test_accuracy_mean", "sgd_test_accuracy_std", "logreg_test_accuracy_mean",
                   "logreg_test_accuracy_std", "sgd_minus_logreg_mean", "sgd_minus_logreg_std", "seeds"]
    rows, csv_rows = [], []
    for dataset in dataset_order(results):
        sgd, logreg = groups.get((dataset, "sgd", None), []), groups.get((dataset, "logreg", None), [])
        if not sgd and not logreg:
            continue
        rates = "/".join(fmt_num((r.get("sgd") or {}).get("chosen", {}).get("lr"), "g") for r in sgd)
        losses = [mean_std([r["train_loss"] for r in runs])[0] for runs in (sgd, logreg)]
        accuracies = [mean_std([r["test_accuracy"] for r in runs]) for runs in (sgd, logreg)]
        difference = paired_difference(sgd, logreg)
        rows.append([labels[dataset], rates or MISSING, fmt_num(losses[0], ".4f"), fmt_num(losses[1], ".4f"),
                     fmt_pct(*accuracies[0]), fmt_pct(*accuracies[1]), fmt_diff(*difference), str(len(sgd))])
        csv_rows.append([dataset, labels[dataset], rates, *losses, *accuracies[0][:2], *accuracies[1][:2],
                         *difference[:2], len(sgd)])
    return Table("baselines", "SGD (learning rate tuned on a validation split) against logistic regression, the "
                 "minimiser of the same loss", header, rows, csv_columns, csv_rows)


def precision_table(results: Sequence[dict]) -> Table:
    groups = group_runs(results)
    labels = dataset_labels(results)
    header = ["Dataset", "K", "mode", "variables", "test accuracy (%)", "train loss", "median gap (%)",
              "lowered U (%)", "seeds"]
    csv_columns = ["dataset", "dataset_label", "bits", "mode", "variables", "test_accuracy_mean",
                   "test_accuracy_std", "train_loss_mean", "train_loss_std", "median_relative_gap",
                   "acceptance_rate", "seeds"]
    rows, csv_rows, starts = [], [], []
    for dataset in dataset_order(results):
        starts.append(len(rows))
        for bits, method, runs in qubo_run_groups(dataset, results, groups):
            acc = mean_std([r["test_accuracy"] for r in runs])
            loss = mean_std([r["train_loss"] for r in runs])
            gap, accepted = median_gap(runs), acceptance_rate(runs)
            variables = (runs[0].get("qubo") or {}).get("variables")
            rows.append([labels[dataset], str(bits), MODE_LABELS[method], fmt_num(variables, "d"), fmt_pct(*acc),
                         fmt_num(loss[0], ".4f"), fmt_gap(gap),
                         MISSING if math.isnan(accepted) else f"{100 * accepted:.0f}", str(acc[2])])
            csv_rows.append([dataset, labels[dataset], bits, MODE_LABELS[method], variables, acc[0], acc[1], loss[0],
                             loss[1], gap, accepted, acc[2]])
    return Table("precision", "Precision study: QUBO training per bit width K, encoding mode and solver",
                 header, rows, csv_columns, csv_rows, groups=starts, long=True, latex_align="p{2.8cm}rp{1.5cm}rp{1.4cm}rrrr")


def annealing_gap_table(results: Sequence[dict]) -> Table:
    """How close the solvers' answers get to the continuous optimum of their surrogate, at what cost,
    and what that buys against the classical heads trained on the same features (seed by seed)."""
    groups = group_runs(results)
    labels = dataset_labels(results)
    header = ["Dataset", "K", "mode", "median gap (%)", "gap quartiles (%)", "solve time (s)", "test accuracy (%)",
              "vs logistic regression (points)", "vs SGD (points)", "seeds"]
    csv_columns = ["dataset", "dataset_label", "bits", "mode", "median_relative_gap", "gap_q25", "gap_q75",
                   "solve_seconds", "test_accuracy_mean", "test_accuracy_std", "minus_logreg_mean", "minus_logreg_std",
                   "minus_sgd_mean", "minus_sgd_std", "seeds"]
    rows, csv_rows, starts = [], [], []
    for dataset in dataset_order(results):
        starts.append(len(rows))
        for bits, method, runs in qubo_run_groups(dataset, results, groups, GAP_METHODS):
            gap, (q25, q75) = median_gap(runs), gap_quartiles(runs)
            solve = mean_timing(runs, "solve")
            acc = mean_std([r["test_accuracy"] for r in runs])
            vs = {ref: paired_difference(runs, groups.get((dataset, ref, None), [])) for ref in ("logreg", "sgd")}
            rows.append([labels[dataset], str(bits), MODE_LABELS[method], fmt_gap(gap),
                         f"{fmt_gap(q25)} – {fmt_gap(q75)}", fmt_num(solve, ".3g"), fmt_pct(*acc)]
                        + [fmt_diff(*vs[ref]) for ref in ("logreg", "sgd")] + [str(acc[2])])
            csv_rows.append([dataset, labels[dataset], bits, MODE_LABELS[method], gap, q25, q75, solve, acc[0], acc[1],
                             *vs["logreg"][:2], *vs["sgd"][:2], acc[2]])
    return Table("annealing_gap", "Gap to the continuous optimum (annealing against rounding), solve time, and "
                 "accuracy against the classical heads", header, rows, csv_columns, csv_rows, groups=starts, long=True,
                 latex_align="p{2.6cm}rp{1.3cm}rp{1.5cm}rp{1.4cm}p{1.4cm}p{1.4cm}r")


def runtime_table(results: Sequence[dict]) -> Table:
    groups = group_runs(results)
    labels = dataset_labels(results)
    timed = ("qubo-box", "qubo-trust", "qubo-trust-round")
    header = ["Dataset", "K", "box (s)", "trust (s)", "trust, rounding (s)", "of which solve (%)", "SGD (s)",
              "box / SGD", "trust / SGD", "rounding / SGD"]
    csv_columns = ["dataset", "dataset_label", "bits", "box_seconds", "trust_seconds", "trust_round_seconds",
                   "solve_fraction", "sgd_seconds", "box_over_sgd", "trust_over_sgd", "trust_round_over_sgd"]
    rows, csv_rows, starts = [], [], []
    for dataset in dataset_order(results):
        sgd = mean_timing(groups.get((dataset, "sgd", None), []))
        starts.append(len(rows))
        for bits in bits_values(results, dataset):
            runs = {m: groups.get((dataset, m, bits), []) for m in timed}
            annealed = runs["qubo-box"] + runs["qubo-trust"]
            if not annealed:
                continue
            seconds = [mean_timing(runs[m]) for m in timed]
            total = sum(r["timings"].get("total", 0.0) for r in annealed)
            solve = sum(r["timings"].get("solve", 0.0) for r in annealed) / total if total > 0 else math.nan
            ratios = [s / sgd if sgd and not math.isnan(sgd) else math.nan for s in seconds]
            rows.append([labels[dataset], str(bits), *(fmt_num(s, ".3g") for s in seconds), fmt_num(100 * solve, ".0f"),
                         fmt_num(sgd, ".3g"), *(fmt_num(r, ".3g") for r in ratios)])
            csv_rows.append([dataset, labels[dataset], bits, *seconds, solve, sgd, *ratios])
    return Table("runtimes", "Training time: QUBO runs (mean over seeds; SGD includes its learning-rate search) "
                 "against SGD on the same features", header, rows, csv_columns, csv_rows, groups=starts)


def _mode(method: str) -> str:
    return method.removeprefix("qubo-").removesuffix("-noise")


def _setting_label(run: dict) -> str:
    """The sampler of a noise-model run, and its chains' strength when chains were modelled (UTC:
    uniform torque compensation, with its prefactor)."""
    solver = (run.get("config") or {}).get("solver") or {}
    if not solver.get("qpu_chains"):
        return str(run.get("solver"))
    if solver.get("chain_strength") is not None:
        return f"{run.get('solver')}, chains (strength {solver['chain_strength']:g})"
    return f"{run.get('solver')}, chains (UTC × {solver.get('chain_prefactor', 1.414):g})"


def hardware_study_table(results: Sequence[dict]) -> Table:
    """The hardware study: training under the QPU control-error model, beside the same runs (solver,
    blocks, packing, chains, seeds) with zero errors and logistic regression on the same seeds (a
    seed draws the features too, so only those compare); the noise's effect and the distance to
    logistic regression paired by seed; the
    QPU calls of a run after packing and their QPU access time by D-Wave's timing model at the
    run's reads; the chain-break fraction when chains were modelled."""
    groups = group_runs(results)
    labels = dataset_labels(results)
    header = ["Dataset", "K", "mode", "setting", "blocks × variables", "problems per call", "test accuracy (%)",
              "noiseless, same path (%)", "noise − noiseless (points)", "logistic regression (%)",
              "− logistic regression (points)", "chain breaks (%)", "chains − logical (points)", "QPU calls", "reads", "QPU time (s)", "seeds"]
    csv_columns = ["dataset", "dataset_label", "bits", "mode", "setting", "chains", "num_blocks",
                   "variables_per_call", "problems_per_call", "test_accuracy_mean", "test_accuracy_std",
                   "train_loss_mean", "noiseless_test_accuracy_mean", "noiseless_test_accuracy_std", "noiseless_seeds",
                   "noise_minus_noiseless_mean", "noise_minus_noiseless_std", "logreg_test_accuracy_mean",
                   "minus_logreg_mean", "minus_logreg_std", "chain_break_fraction", "chains_minus_logical_mean", "chains_minus_logical_std", "qpu_calls", "num_reads", "qpu_access_time_s", "seeds"]
    rows, csv_rows, starts, last = [], [], [], None
    for dataset, bits, method, runs in noise_run_groups(results):
        if dataset != last:
            starts.append(len(rows))
            last = dataset
        acc = mean_std([r["test_accuracy"] for r in runs])
        loss = mean_std([r["train_loss"] for r in runs])[0]
        seeds = {r.get("seed") for r in runs}
        partners = noiseless_partners(results, runs)
        noiseless, paired = mean_std([r["test_accuracy"] for r in partners]), paired_difference(runs, partners)
        logreg_runs = [r for r in groups.get((dataset, "logreg", None), []) if r.get("seed") in seeds]
        logreg, below_logreg = mean_std([r["test_accuracy"] for r in logreg_runs]), paired_difference(runs, logreg_runs)
        chains = bool(((runs[0].get("config") or {}).get("solver") or {}).get("qpu_chains"))
        sampler = _setting_label(runs[0])
        breaks = mean_std([(r.get("chains") or {}).get("mean_chain_break_fraction") for r in runs])[0]
        chains_effect = paired_difference(runs, logical_partners(results, runs)) if chains else (math.nan, math.nan, 0)
        blocks, budget = runs[0].get("blocks") or {}, runs[0]["qpu_budget"]
        per_call = budget.get("problems_per_call", 1)
        calls = mean_std([r["qpu_budget"]["qpu_calls"] for r in runs])[0]
        seconds = mean_std([r["qpu_budget"]["qpu_access_time_s"] for r in runs])[0]
        rows.append([labels[dataset], str(bits), _mode(method), sampler,
                     f"{blocks['num_blocks']} × {blocks['variables_per_call']}" if blocks else MISSING, str(per_call),
                     fmt_pct(*acc), fmt_pct(*noiseless), fmt_diff(*paired), fmt_pct(*logreg), fmt_diff(*below_logreg),
                     fmt_num(100 * breaks, ".2f") if chains else MISSING, fmt_diff(*chains_effect), fmt_num(calls, ".0f"),
                     str(budget["num_reads"]), fmt_num(seconds, ".3g"), str(acc[2])])
        csv_rows.append([dataset, labels[dataset], bits, _mode(method), sampler, chains,
                         blocks.get("num_blocks"), blocks.get("variables_per_call"), per_call, acc[0], acc[1], loss,
                         noiseless[0], noiseless[1], noiseless[2], paired[0], paired[1], logreg[0],
                         below_logreg[0], below_logreg[1], breaks if chains else None, chains_effect[0], chains_effect[1], calls, budget["num_reads"], seconds, acc[2]])
    return Table("hardware_study", "Training under the QPU control-error model: accuracy beside the same runs "
                 "(solver, blocks, packing, seeds) without the errors, the difference paired by seed, QPU calls "
                 "after packing and the QPU access time of one run at the reads stated (D-Wave's timing model)",
                 header, rows, csv_columns, csv_rows, groups=starts)


def qpu_precision_table(results: Sequence[dict]) -> Table:
    """What the QPU's range scaling and control errors leave of the problems a noise-model run sent
    (qpu_noise.precision_report, mean over its calls and seeds)."""
    labels = dataset_labels(results)
    keys = ("h_bits", "J_bits", "h_below_sigma", "J_below_sigma", "range_share_mean", "range_share_min")
    header = ["Dataset", "K", "mode", "setting", "h range (bits)", "J range (bits)", "fields below σ (%)",
              "couplers below σ (%)", "range share, mean (%)", "range share, min (%)", "seeds"]
    csv_columns = ["dataset", "dataset_label", "bits", "mode", "setting", *keys, "seeds"]
    rows, csv_rows, starts, last = [], [], [], None
    for dataset, bits, method, runs in noise_run_groups(results):
        if dataset != last:
            starts.append(len(rows))
            last = dataset
        reports = [r["qpu_noise"]["precision"] for r in runs if r["qpu_noise"].get("precision")]
        values = [mean_std([p.get(key) for p in reports])[0] for key in keys]  # range shares: packed runs only
        setting = _setting_label(runs[0])
        rows.append([labels[dataset], str(bits), _mode(method), setting, fmt_num(values[0], ".1f"),
                     fmt_num(values[1], ".1f"), *(fmt_num(100 * v, ".1f") for v in values[2:]), str(len(reports))])
        csv_rows.append([dataset, labels[dataset], bits, _mode(method), setting, *values, len(reports)])
    return Table("qpu_precision", "Precision left by the QPU: dynamic range of the scaled fields h and couplers J "
                 "of the problems sent, and their share below the control errors' sigma", header, rows, csv_columns,
                 csv_rows, groups=starts)


def hardware_limits() -> list[dict]:
    """Per D-Wave system: graph, published qubit and coupler counts, the largest clique busclique
    embeds on the perfect-yield graph and its chain length."""
    from ..embedding import SYSTEMS, clique_embedding, max_clique_size

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


def feature_key(row: dict) -> tuple[str, int]:
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
        by_problem[(*feature_key(r), r["bits"])].setdefault(r["system"], r)
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


# every table by name, built from the runs, the hardware file's rows (None without one) and the
# low-bit study's records (the claims tables' low-bit claim)
TABLE_BUILDERS = {
    "main_accuracy": lambda results, hardware, lowbit: main_accuracy_table(results),
    "baselines": lambda results, hardware, lowbit: baselines_table(results),
    "precision": lambda results, hardware, lowbit: precision_table(results),
    "annealing_gap": lambda results, hardware, lowbit: annealing_gap_table(results),
    "runtimes": lambda results, hardware, lowbit: runtime_table(results),
    "claims": claims_table,
    "claims_summary": claims_summary,
    "qubo_sizes": lambda results, hardware, lowbit: qubo_size_table(hardware),
    "hardware_limits": lambda results, hardware, lowbit: hardware_limits_table(),
    "hardware_study": lambda results, hardware, lowbit: hardware_study_table(results),
    "qpu_precision": lambda results, hardware, lowbit: qpu_precision_table(results),
}
TABLES = tuple(TABLE_BUILDERS)
HARDWARE_TABLES = ("qubo_sizes", "hardware_limits")  # made only with a hardware file


def make_tables(results: Sequence[dict], hardware_rows: Sequence[dict] | None = None,
                lowbit: Sequence[dict] = (), names: Sequence[str] | None = None) -> dict[str, Table]:
    """Every table (or those `names`); `qubo_sizes` and `hardware_limits` only with a hardware file's rows."""
    if not results:
        raise ValueError("no result files: nothing to tabulate")
    return {name: build(results, hardware_rows, lowbit) for name, build in TABLE_BUILDERS.items()
            if (hardware_rows is not None or name not in HARDWARE_TABLES) and (names is None or name in names)}
