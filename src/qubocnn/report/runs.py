"""Grouping runs and the statistics over seeds that every table and figure shares.

Runs are grouped by their method key (`results.method_key`).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence

import numpy as np

from ..data import DATASETS as DATASET_ORDER  # the paper's order; any other data set follows
from ..results import method_key  # noqa: F401 (the tables' and figures' grouping key)

METHOD_LABELS = {
    "qubo-box": "QUBO box",
    "qubo-box-always": "QUBO box, every answer taken",
    "qubo-box-round": "box grid, rounding (no annealing)",
    "qubo-trust": "QUBO trust",
    "qubo-trust-round": "trust grid, rounding (no annealing)",
    "qubo-box-noise": "QUBO box, QPU noise model",
    "qubo-trust-noise": "QUBO trust, QPU noise model",
    "continuous-mm": "continuous MM",
    "sgd": "SGD",
    "logreg": "logistic regression",
    "ridge": "ridge",
}
# short names of the QUBO variants in the tables' "mode" column
MODE_LABELS = {"qubo-box": "box", "qubo-box-always": "box, every answer", "qubo-box-round": "box, rounding",
               "qubo-trust": "trust", "qubo-trust-round": "trust, rounding"}
QUBO_METHODS = tuple(MODE_LABELS)
NOISE_METHODS = ("qubo-box-noise", "qubo-trust-noise")
ANNEALED_METHODS = ("qubo-box", "qubo-box-always", "qubo-trust")
BASELINES = ("sgd", "logreg", "ridge")
TIMING_PARTS = ("curvature", "gradient", "build", "solve")
BASELINE_TIMING_PARTS = ("search", "fit")  # SGD: its learning-rate search and the one fit at the chosen rate


def is_qubo(run: dict) -> bool:
    return run["method"].startswith("qubo-")


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
    """{(dataset, method key, bits): runs sorted by seed}; bits is None except for QUBO runs."""
    groups = defaultdict(list)
    for r in results:
        groups[(dataset_key(r), method_key(r), r.get("bits") if is_qubo(r) else None)].append(r)
    for runs in groups.values():
        runs.sort(key=lambda r: r.get("seed", 0))
    return dict(groups)


def bits_values(results: Sequence[dict], dataset: str | None = None, noise: bool = False) -> list[int]:
    """The K values of the QUBO runs (of one data set's row group, if given): of the noiseless runs,
    or with `noise` of the runs under the QPU noise model (the hardware study has its own K set)."""
    return sorted({int(r["bits"]) for r in results if is_qubo(r) and bool(r.get("qpu_noise")) == noise
                   and (dataset is None or dataset_key(r) == dataset)})


def qubo_run_groups(dataset: str, results: Sequence[dict], groups: dict[tuple, list[dict]],
                    methods: Sequence[str] = QUBO_METHODS):
    """(bits, method, runs) of every QUBO run group of one data set, in table order: K, then method."""
    for bits in bits_values(results, dataset):
        for method in methods:
            runs = groups.get((dataset, method, bits))
            if runs:
                yield bits, method, runs


def has_control_errors(run: dict) -> bool:
    """A run under the QPU noise model with errors; with both sigmas 0 it is the same path (range
    scaling, blocks, packing, sampler) without them: the noiseless reference of the hardware study."""
    noise = run.get("qpu_noise") or {}
    return bool(noise) and (noise.get("sigma_h", 0) > 0 or noise.get("sigma_J", 0) > 0)


def setting_key(run: dict, **solver_fields) -> str:
    """The run's spec without its seed, feature source and the errors' sigmas: two runs with one
    key differ in nothing but the noise and the seed. A solver field the run predates counts as
    its default; `solver_fields` replace the run's (None: the default)."""
    import dataclasses

    from ..solvers import SolverConfig

    config = run.get("config") or {}
    # fields added after a run was made have their defaults in it
    defaults = dataclasses.asdict(SolverConfig())
    solver = {**defaults, **(config.get("solver") or {}),
              **{k: defaults[k] if v is None else v for k, v in solver_fields.items()}}
    solver = {k: v for k, v in solver.items() if k not in ("sigma_h", "sigma_J")}
    train = {k: v for k, v in (config.get("train") or {}).items() if k != "seed"}
    return repr((sorted(solver.items()), sorted(train.items())))


def noise_run_groups(results: Sequence[dict]):
    """(dataset, bits, method, runs) of every run group under the QPU noise model with errors, one
    per setting (setting_key), in table order."""
    groups = group_runs(results)
    for dataset in dataset_order(results):
        for bits in bits_values(results, dataset, noise=True):
            for method in NOISE_METHODS:
                noisy = [r for r in groups.get((dataset, method, bits), []) if has_control_errors(r)]
                for key in dict.fromkeys(setting_key(r) for r in noisy):
                    yield dataset, bits, method, [r for r in noisy if setting_key(r) == key]


def logical_partners(results: Sequence[dict], runs: Sequence[dict]) -> list[dict]:
    """The runs under the same errors, setting and seeds as `runs` (a group with chains modelled)
    on the logical problem: what modelling chains changes."""
    key = setting_key(runs[0], qpu_chains=False, chain_strength=None, chain_prefactor=None)
    seeds = {r.get("seed") for r in runs}
    return sorted((r for r in results if has_control_errors(r) and setting_key(r) == key
                   and dataset_key(r) == dataset_key(runs[0]) and r.get("seed") in seeds), key=lambda r: r.get("seed"))


def noiseless_partners(results: Sequence[dict], runs: Sequence[dict]) -> list[dict]:
    """The runs of the same setting and seeds as `runs` (a noise_run_groups group) with zero errors."""
    key, seeds = setting_key(runs[0]), {r.get("seed") for r in runs}
    return sorted((r for r in results if r.get("qpu_noise") and not has_control_errors(r) and setting_key(r) == key
                   and dataset_key(r) == dataset_key(runs[0]) and r.get("seed") in seeds), key=lambda r: r.get("seed"))


def mean_std(values: Sequence[float]) -> tuple[float, float, int]:
    """Mean, sample standard deviation (0 for a single value) and count; NaNs for none."""
    values = [float(v) for v in values if v is not None and not math.isnan(float(v))]
    if not values:
        return math.nan, math.nan, 0
    std = float(np.std(values, ddof=1)) if len(values) > 1 else 0.0
    return float(np.mean(values)), std, len(values)


def qubo_records(run: dict) -> list[dict]:
    """The iteration records of a QUBO run that hold per-class solver results."""
    return [h for h in run.get("history", []) if "energy" in h]


def _gaps(runs: Sequence[dict]) -> list[float]:
    return [g for run in runs for h in qubo_records(run) for g in h.get("relative_gap", []) if g is not None]


def median_gap(runs: Sequence[dict]) -> float:
    """Median of the per-class relative energy gap to the continuous optimum, over every
    iteration, class and seed."""
    gaps = _gaps(runs)
    return float(np.median(gaps)) if gaps else math.nan


def gap_quartiles(runs: Sequence[dict]) -> tuple[float, float]:
    gaps = _gaps(runs)
    return (float(np.percentile(gaps, 25)), float(np.percentile(gaps, 75))) if gaps else (math.nan, math.nan)


def acceptance_rate(runs: Sequence[dict]) -> float:
    """Fraction of the solvers' answers that did not raise U_c, over iterations, classes and seeds
    (with `accept: always` every answer is taken; this still counts the ones that lowered U_c)."""
    flags = [e <= 0.0 for run in runs for h in qubo_records(run) for e in h.get("energy", [])]
    return float(np.mean(flags)) if flags else math.nan


def mean_timing(runs: Sequence[dict], part: str = "total") -> float:
    return mean_std([r.get("timings", {}).get(part) for r in runs])[0]


def paired_difference(runs: Sequence[dict], references: Sequence[dict], key: str = "test_accuracy",
                      scale: float = 100.0) -> tuple[float, float, int]:
    """Difference run minus reference of the same seed (same features), in points by default, mean
    ± std over the seeds both have."""
    reference = {r.get("seed"): r[key] for r in references}
    return mean_std([scale * (r[key] - reference[r.get("seed")]) for r in runs if r.get("seed") in reference])


def run_summary(run: dict) -> dict:
    """One flat record per run (the `collect` CSV)."""
    timings = run.get("timings", {})
    qubo = run.get("qubo") or {}
    quboish = is_qubo(run)
    return {
        "dataset": run["dataset"],
        "dataset_label": run.get("dataset_label"),
        "method": method_key(run),
        "mode": run.get("mode"),
        "bits": run.get("bits") if quboish else None,
        "solver": run.get("solver"),
        "accept": run.get("accept") if quboish else None,
        "seed": run.get("seed"),
        "preset": run.get("preset"),
        "num_features": run.get("num_features"),
        "num_classes": run.get("num_classes"),
        "num_train": run.get("num_train"),
        "num_test": run.get("num_test"),
        "variables": qubo.get("variables") if quboish else None,
        "couplers": qubo.get("couplers") if quboish else None,
        "iterations": max((h.get("iteration", 0) for h in run.get("history", [])), default=0),
        "test_accuracy": run["test_accuracy"],
        "train_accuracy": run["train_accuracy"],
        "train_loss": run["train_loss"],
        "median_relative_gap": median_gap([run]) if quboish else None,
        "acceptance_rate": acceptance_rate([run]) if quboish else None,
        "sgd_lr": (run.get("sgd") or {}).get("chosen", {}).get("lr"),
        **{f"time_{part}": timings.get(part) for part in (*TIMING_PARTS, "total", *BASELINE_TIMING_PARTS)},
        "path": run.get("path"),
    }
