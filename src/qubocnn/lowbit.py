"""Low-bit heads (K = 1-3 on a fixed grid): does annealing find better quantised heads than rounding?

The QUBO: quantise a trained head. For class c with logistic-regression weights w*_c, the class
QUBO (qubo.ClassQubo, anchor 0, gradient -H w*_c) has the energy
    E(w) = 1/2 (w - w*_c)^T H (w - w*_c) - 1/2 w*_c^T H w*_c,   H = X^T X / (2N) + lam I,
the (ridge-regularised) error of the class's logits X w against X w*_c over the training set:
the second-order post-training quantisation objective, a closest-vector problem on the grid.
(The training loop's own first QUBO, the Boehning surrogate at W = 0, is no use here: on a grid
this coarse its optimum is a far worse head than rounding's, docs/low-bit.md.)

One experiment (`run_lowbit`) is one data set, seed, grid (qubo.GRIDS) and K:
1. Scale. Each class's half-range is R_c = m * s_c, s_c the RMS of class c's logistic-regression
   weights. The multiple m is chosen from `scale_multiples` on a seeded, stratified validation split
   of the training set, by the validation accuracy (ties: loss) of the quantisation baseline (2.):
   a choice no solver makes, so every solver gets the same R, which the result records.
2. Baselines: logistic regression (float, baselines.logreg_head) and its round-to-nearest
   post-training quantisation onto the same grid (`ptq`), the standard quantisation baseline.
3. Heads: each solver answers every class QUBO (round: the nearest grid point of w*, then steepest
   descent; wsa; sa; tabu; sqa, path-integral simulated quantum annealing; qpu-model, sa under the
   QPU control-error model; certified, qubocnn.exact: the exact head). For each: the head's test
   accuracy, and per QUBO its gap E - E* to the certified optimum E*, its time and whether it
   reached E*. The relative gap divides by E* - E_c, the optimum's own quantisation error (E_c the
   continuous minimum): 0.1 is 10 % more logit error than the best head on the grid.
The annealers' settings (reads, sweeps, tabu's timeout, SQA's sweeps) are sized so that they take
about the same wall time per QUBO; each answer's measured time is recorded. The result file's
schema is `qubocnn.lowbit/1` (docs/low-bit.md).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import numpy as np
from tqdm.auto import tqdm

from . import surrogate
from .baselines import logreg_head
from .exact import DEFAULT_MAX_NODES, ExactSolver, integer_form
from .options import option
from .qubo import GRIDS, ClassQubo, box_encoding, check_bits
from .solver_factory import make_solver
from .solvers import Solver, SolverConfig
from .train import solve_seed

log = logging.getLogger("qubocnn.lowbit")
LOWBIT_SCHEMA = "qubocnn.lowbit/1"
SOLVER_NAMES = ("round", "wsa", "sa", "tabu", "sqa", "qpu-model", "certified")
ANNEALERS = ("wsa", "sa", "tabu", "sqa", "qpu-model")
SOLVED_TOLERANCE = 1e-9  # an answer within this (relative to 1 + |E*|) of the optimum counts as solved


def _numbers(text: str, what: str) -> list[float]:
    try:
        values = [float(x) for x in str(text).split(",")]
    except ValueError:
        raise ValueError(f"{what} takes comma-separated numbers, got {text!r}") from None
    if not values or min(values) <= 0:
        raise ValueError(f"{what} must be positive numbers, got {text!r}")
    return values


@dataclass(frozen=True)
class LowBitConfig:
    """One low-bit experiment: the grid, and what it compares."""

    bits: int = option(1, "K, bits per parameter (the study: 1, 2, 3)")
    grid: str = option("symmetric", f"{' or '.join(GRIDS)} (symmetric: K = 1 is {{-R, +R}}; offset: {{-R, 0}})")
    seed: int = option(0, "seed of the validation split and the solvers")
    lam: float = option(surrogate.DEFAULT_LAM, "L2 weight lambda of logistic regression and the QUBO's H")
    solvers: str = option(",".join(SOLVER_NAMES), f"comma-separated solvers to compare ({', '.join(SOLVER_NAMES)})")
    scale_multiples: str = option("0.5,1,1.5,2,3", "multiples m of each class's scale s_c (the RMS of its "
                                                   "logistic-regression weights) tried as R_c = m s_c")
    validation_fraction: float = option(0.2, "share of the training set on which the scale is chosen")
    tabu_timeout: float = option(2.5, "tabu: milliseconds per read")
    sqa_sweeps: int = option(100, "sqa: sweeps per read (a path-integral sweep costs more: same wall time)")
    max_nodes: int = option(DEFAULT_MAX_NODES, "certified: enumeration nodes per QUBO before it gives up")

    def __post_init__(self):
        unknown = sorted(set(self.solver_names) - set(SOLVER_NAMES))
        if unknown or "certified" not in self.solver_names:
            raise ValueError(f"solvers take names from {', '.join(SOLVER_NAMES)}, certified among them "
                             f"(it gives the optima), got {self.solvers!r}")
        check_bits(self.bits)
        surrogate.check_lam(self.lam)
        if self.grid not in GRIDS:
            raise ValueError(f"unknown grid {self.grid!r}: choose one of {', '.join(GRIDS)}")
        _numbers(self.scale_multiples, "scale_multiples")
        if not 0 < self.validation_fraction < 1 or self.sqa_sweeps < 1 or self.seed < 0:
            raise ValueError("validation_fraction must be in (0, 1), sqa_sweeps >= 1 and seed >= 0")
        if not self.tabu_timeout > 0 or self.max_nodes < 1:
            raise ValueError("tabu_timeout must be > 0 milliseconds and max_nodes >= 1")

    @property
    def solver_names(self) -> list[str]:
        return [name.strip() for name in self.solvers.split(",") if name.strip()]


def make_solvers(config: LowBitConfig, annealing: SolverConfig) -> dict[str, Solver]:
    """Each compared solver, made once; `annealing` carries the annealers' reads and sweeps."""
    reads, sweeps = annealing.num_reads, annealing.num_sweeps
    configs = {"round": SolverConfig("round"), "wsa": SolverConfig("wsa", reads, sweeps),
               "sa": SolverConfig("sa", reads, sweeps),
               "tabu": SolverConfig("tabu", reads, options={"timeout": config.tabu_timeout}),
               "sqa": SolverConfig("sqa", reads, config.sqa_sweeps),
               "qpu-model": SolverConfig("sa", reads, sweeps, qpu_noise=True)}
    return {name: ExactSolver(max_nodes=config.max_nodes) if name == "certified" else make_solver(configs[name])
            for name in config.solver_names}


def encodings(num_params: int, bits: int, grid: str, half_ranges) -> list:
    return [box_encoding(num_params, bits, r, grid) for r in half_ranges]


def quantise(W: np.ndarray, grids: list) -> np.ndarray:
    """Round-to-nearest post-training quantisation: each column to the nearest point of its grid."""
    return np.column_stack([enc.decode(enc.encode(W[:, c])) for c, enc in enumerate(grids)])


def class_scales(W: np.ndarray) -> np.ndarray:
    """s_c: the RMS of class c's weights (bias included)."""
    return np.sqrt(np.mean(W * W, axis=0))


def choose_scale(X, y, num_classes: int, config: LowBitConfig) -> dict:
    """The multiple m with the best validation accuracy (ties: loss) of the quantised logistic
    regression fitted on the rest of the training set; the grid of every candidate."""
    from sklearn.model_selection import train_test_split

    fit, val = train_test_split(np.arange(len(X)), test_size=config.validation_fraction, random_state=config.seed,
                                stratify=y)
    W, _ = logreg_head(X[fit], y[fit], num_classes, config.lam)
    rows = []
    for m in _numbers(config.scale_multiples, "scale_multiples"):
        head = quantise(W, encodings(len(W), config.bits, config.grid, m * class_scales(W)))
        rows.append({"multiple": m, "validation_accuracy": surrogate.accuracy(X[val], y[val], head),
                     "validation_loss": surrogate.cross_entropy(X[val], y[val], head, config.lam)})
    best = max(rows, key=lambda row: (row["validation_accuracy"], -row["validation_loss"]))
    return {"chosen": best["multiple"], "candidates": rows, "validation_fraction": config.validation_fraction}


def _head_record(X, y, X_test, y_test, W, lam, **extra) -> dict:
    return {"test_accuracy": surrogate.accuracy(X_test, y_test, W), "train_accuracy": surrogate.accuracy(X, y, W),
            "train_loss": surrogate.cross_entropy(X, y, W, lam), **extra}


def quantisation_qubos(X, W: np.ndarray, lam: float, grids: list) -> list[ClassQubo]:
    """Class c's QUBO: 1/2 (w - w_c)^T H (w - w_c) + const over its grid (module docstring)."""
    H = surrogate.boehning_curvature(X, lam)
    return [ClassQubo(H, -H @ W[:, c], np.zeros(len(H)), enc) for c, enc in enumerate(grids)]


def run_lowbit(features, config: LowBitConfig, annealing: SolverConfig,
               progress: bool = False) -> dict:
    """One low-bit experiment (module docstring) on a FeatureSet: the `qubocnn.lowbit/1` record."""
    surrogate.check_features(features.x_train, features.x_test)
    X, y = surrogate.add_bias(features.x_train), features.y_train
    X_test, y_test, C = surrogate.add_bias(features.x_test), features.y_test, features.num_classes
    solvers = make_solvers(config, annealing)
    solvers["certified"].check_memory(X.shape[1] * config.bits)  # above its size limit: refused before any work
    started = time.perf_counter()
    scale = choose_scale(X, y, C, config)
    W_float, _ = logreg_head(X, y, C, config.lam)
    half_ranges = scale["chosen"] * class_scales(W_float)
    scale["half_ranges"] = half_ranges.tolist()
    grids = encodings(X.shape[1], config.bits, config.grid, half_ranges)
    baselines = {"logreg": _head_record(X, y, X_test, y_test, W_float, config.lam),
                 "ptq": _head_record(X, y, X_test, y_test, quantise(W_float, grids), config.lam)}
    problems = quantisation_qubos(X, W_float, config.lam, grids)
    optimal = [solvers["certified"].solve(p, 0) for p in problems]
    certificates = [{"target_class": c, "seconds": a.seconds, **a.info} for c, a in enumerate(optimal)]
    floors = [integer_form(p)[2] for p in problems]  # each QUBO's continuous minimum, the gaps' zero
    heads, gaps = {}, {}
    for name, solver in tqdm(solvers.items(), desc=f"low-bit K={config.bits} {config.grid}", disable=not progress):
        answers = optimal if name == "certified" else [solver.solve(p, solve_seed(config.seed, 1, c))
                                                       for c, p in enumerate(problems)]
        heads[name] = _head_record(X, y, X_test, y_test, np.column_stack([a.weights for a in answers]), config.lam,
                                   seconds_per_qubo=float(np.median([a.seconds for a in answers])))
        gaps[name] = [dict(target_class=c, **_gap_row(a, best.energy, floor))
                      for c, (a, best, floor) in enumerate(zip(answers, optimal, floors))]
    proved = all(cert["proved"] for cert in certificates)
    log.info("low-bit %s K=%d %s seed %d: %.1f s; certified optima %s", features.dataset, config.bits, config.grid,
             config.seed, time.perf_counter() - started, "all proved" if proved else "NOT all proved")
    return {"schema": LOWBIT_SCHEMA, "dataset": features.dataset, "dataset_label": features.label,
            "preset": features.preset, "num_features": features.num_features, "num_classes": C,
            "num_train": len(y), "num_test": len(y_test), "seed": config.seed, "grid": config.grid, "bits": config.bits,
            "variables": X.shape[1] * config.bits, "lam": config.lam, "scale": scale, "baselines": baselines,
            "heads": heads, "gaps": gaps, "certificates": certificates, "all_proved": proved,
            "settings": _settings(config, annealing), "seconds": time.perf_counter() - started}


def _gap_row(answer, optimum: float, continuous: float) -> dict:
    gap = answer.energy - optimum
    return {"energy": answer.energy, "gap": gap, "relative_gap": gap / max(optimum - continuous, 1e-300),
            "seconds": answer.seconds, "solved": bool(gap <= SOLVED_TOLERANCE * (1 + abs(optimum)))}


def _settings(config: LowBitConfig, annealing: SolverConfig) -> dict:
    return {"reads": annealing.num_reads, "sweeps": annealing.num_sweeps, "tabu_timeout_ms": config.tabu_timeout,
            "sqa_sweeps": config.sqa_sweeps, "max_nodes": config.max_nodes, "sigma_h": annealing.sigma_h,
            "sigma_J": annealing.sigma_J}
