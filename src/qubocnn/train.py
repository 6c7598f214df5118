"""The majorise-minimise loop that trains the head one QUBO per class per iteration (docs/method.md, "Loop").

At iteration t: P, G from W_t; for every class c build the QUBO of U_c on the K-bit grid of the
mode, solve it (classes in parallel threads), decode, and accept the answer only if U_c does not rise
(U_c(w_c,t) = 0, so: energy <= 0). Since U majorises L and touches it at W_t,
L(W_t+1) <= U(W_t+1) <= U(W_t) = L(W_t): the training loss never rises.

Modes: `box` (grid centred at 0 with a fixed half-range: the paper's literal reading), `trust` (grid
centred at the anchor with an adaptive half-range per class: halve it when the class's answer lies
strictly inside the grid, double it up to a cap when it touches the edge; plus `refinements`, see
`solve_class`) and `continuous` (the exact minimiser of U, no QUBO: the classical reference path
the QUBO answers are measured against).

Acceleration (on by default for trust and continuous, off for box): Boehning's curvature is loose
near the optimum, so plain majorise-minimise needs hundreds of iterations to reach the logistic-
regression optimum. With `accelerate`, the surrogate is built at the extrapolated point y_k of Beck
and Teboulle's monotone FISTA (MFISTA, SIAM J. Imaging Sci. 2009; `MonotoneFista`) instead of at W_k:
the candidate Z_k minimises the surrogate at y_k, and W_k = Z_k only if L(Z_k) <= L(W_k-1), else W_k-1
is kept (the momentum still uses Z_k). The curvature H stays the same at every iteration, the QUBOs
only move their anchor, and the training loss still never rises. Without acceleration, y_k = W_k-1.

Acceptance (`accept`): `improving` (default) takes a class's answer only if it does not raise U_c and
the new head only if L does not rise. `always` takes every decoded answer as the new head, as a
literal reading of the paper's loop would; then the loss may rise.

Stopping (`tol`): the loop ends early once the training loss fell by less than `tol` (relative) over
the last STOP_WINDOW iterations; tol = 0 runs every iteration. The result records where it stopped.
"""

from __future__ import annotations

import logging
import math
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
from tqdm.auto import tqdm

from . import surrogate
from .qubo import DEFAULT_BOX_HALF_RANGE, ClassQubo, box_encoding, check_bits, trust_encoding
from .solvers import Answer, Solver, SolverConfig, make_solver

log = logging.getLogger("qubocnn.train")
MODES = ("box", "trust", "continuous")
ACCEPT_RULES = ("improving", "always")
DEFAULT_TRUST_REFINEMENTS = 6
STOP_WINDOW = 3


@dataclass(frozen=True)
class TrainConfig:
    bits: int = 10
    mode: str = "trust"
    iterations: int = 30
    lam: float = surrogate.DEFAULT_LAM
    box_half_range: float = DEFAULT_BOX_HALF_RANGE
    trust_half_range: float = 1.0
    trust_max_half_range: float = 4.0
    warm_start: bool = False
    # None: the defaults that close the annealing gap in trust mode (6 refinements, MFISTA momentum)
    # and the paper's literal loop in box mode (neither)
    refinements: int | None = None
    accelerate: bool | None = None
    accept: str = "improving"
    tol: float = 0.0
    seed: int = 0
    jobs: int = 1
    solver: SolverConfig = field(default_factory=SolverConfig)

    def __post_init__(self):
        check_bits(self.bits)
        if self.mode not in MODES:
            raise ValueError(f"unknown mode {self.mode!r}: choose one of {', '.join(MODES)}")
        if self.accept not in ACCEPT_RULES:
            raise ValueError(f"unknown acceptance rule {self.accept!r}: choose one of {', '.join(ACCEPT_RULES)}")
        if self.iterations < 1 or self.jobs < 1 or (self.refinements is not None and self.refinements < 0):
            raise ValueError("iterations and jobs must be >= 1, refinements >= 0")
        if self.lam <= 0:
            raise ValueError(f"lam must be > 0 (the curvature must be positive definite), got {self.lam}")
        if not self.tol >= 0:
            raise ValueError(f"tol must be >= 0 (0: run every iteration), got {self.tol}")

    @property
    def accelerated(self) -> bool:
        return self.mode != "box" if self.accelerate is None else bool(self.accelerate)

    @property
    def num_refinements(self) -> int:
        if self.refinements is None:
            return DEFAULT_TRUST_REFINEMENTS if self.mode == "trust" else 0
        return int(self.refinements)


class MonotoneFista:
    """The iterate and extrapolation bookkeeping of Beck and Teboulle's monotone FISTA (MFISTA).

    With y_1 = x_0 and t_1 = 1, iteration k takes the candidate z_k (the minimiser of the surrogate
    built at y_k) and sets
        x_k = z_k if F(z_k) <= F(x_k-1) else x_k-1,   t_k+1 = (1 + sqrt(1 + 4 t_k^2)) / 2,
        y_k+1 = x_k + (t_k / t_k+1) (z_k - x_k) + ((t_k - 1) / t_k+1) (x_k - x_k-1).
    Without acceleration y_k+1 = x_k (plain majorise-minimise). `always` takes every candidate."""

    def __init__(self, x0: np.ndarray, value0: float, accelerate: bool = True, always: bool = False):
        self.x, self.value, self.anchor = x0, value0, x0
        self.accelerate, self.always, self.t = accelerate, always, 1.0

    def update(self, z: np.ndarray, z_value: float) -> bool:
        """Take the candidate z (objective z_value); returns whether it became the iterate."""
        x_prev = self.x
        taken = self.always or z_value <= self.value
        if taken:
            self.x, self.value = z, z_value
        t_next = (1.0 + math.sqrt(1.0 + 4.0 * self.t * self.t)) / 2.0
        if self.accelerate:
            self.anchor = self.x + (self.t / t_next) * (z - self.x) + ((self.t - 1.0) / t_next) * (self.x - x_prev)
        else:
            self.anchor = self.x
        self.t = t_next
        return taken


def solve_seed(seed: int, iteration: int, cls: int, round_: int = 0) -> int:
    """An independent seed per (run, iteration, class, round): results do not depend on the job schedule."""
    return int(np.random.SeedSequence([seed, iteration, cls, round_]).generate_state(1)[0])


def solve_class(problem: ClassQubo, solver: Solver, seeds, warm_start: bool = False) -> Answer:
    """Solve one class's QUBO, then len(seeds) - 1 more QUBOs of the same U_c on grids re-centred at
    the best answer so far, each with half the previous half-range (zooming in). The solver only
    ever sees QUBOs; every grid contains the best answer so far, so its energy never rises. The
    answer's on_edge is that of the first grid (it sizes the next iteration's half-range)."""
    first = answer = solver.solve(problem, seeds[0], problem.encoding.encode(problem.anchor) if warm_start else None)
    seconds, samples = answer.seconds, answer.num_samples
    half_range = problem.encoding.half_range
    for seed in seeds[1:]:
        half_range /= 2
        zoomed = ClassQubo(problem.curvature, problem.gradient, problem.anchor,
                           trust_encoding(answer.weights, problem.bits, half_range))
        candidate = solver.solve(zoomed, seed, zoomed.encoding.encode(answer.weights) if warm_start else None)
        seconds, samples = seconds + candidate.seconds, samples + candidate.num_samples
        if candidate.energy <= answer.energy:
            answer = candidate
    return Answer(answer.weights, answer.energy, seconds, samples, first.on_edge, answer.info)


def next_half_ranges(half_ranges: np.ndarray, accepted: np.ndarray, on_edge: np.ndarray,
                     max_half_range: float) -> np.ndarray:
    """Per-class trust half-ranges of the next iteration: double a class's half-range (up to the cap)
    when its accepted answer touched the edge of its grid, halve it otherwise. Annealing errors
    scale with the grid's extent, so each class's grid should just fit the step it has to find; one
    shared half-range would be sized by the class with the largest step."""
    return np.minimum(np.where(accepted & on_edge, 2 * half_ranges, half_ranges / 2), max_half_range)


def _class_problem(config: TrainConfig, H, g, w_t, half_range) -> ClassQubo:
    if config.mode == "box":
        encoding = box_encoding(len(w_t), config.bits, config.box_half_range)
    else:
        encoding = trust_encoding(w_t, config.bits, half_range)
    return ClassQubo(H, g, w_t, encoding)


def converged(losses, tol: float) -> bool:
    """Whether the loss fell by less than tol (relative) over the last STOP_WINDOW iterations."""
    if tol <= 0 or len(losses) <= STOP_WINDOW:
        return False
    return losses[-STOP_WINDOW - 1] - losses[-1] < tol * abs(losses[-1])


def train_qubo_head(x_train, y_train, x_test, y_test, num_classes: int, config: TrainConfig,
                    sampler=None, sample_kwargs: dict | None = None, progress: bool = True) -> dict:
    """Train the head (bias included) by per-class QUBOs. `sampler` (a dimod sampler, with its
    `sample_kwargs`, or a `solvers.Solver`) replaces config.solver. Returns W, the history and the
    final numbers."""
    surrogate.check_features(x_train, x_test)
    X, X_test = surrogate.add_bias(x_train), surrogate.add_bias(x_test)
    C, lam = num_classes, config.lam
    solver = None if config.mode == "continuous" else make_solver(config.solver if sampler is None else sampler,
                                                                  sample_kwargs)
    W = np.zeros((X.shape[1], C))
    started = time.perf_counter()
    H = surrogate.boehning_curvature(X, lam)
    factor = surrogate.curvature_factor(H)
    timings = {"curvature": time.perf_counter() - started, "gradient": 0.0, "build": 0.0, "solve": 0.0}
    half_ranges = np.full(C, config.trust_half_range)
    loss = surrogate.cross_entropy(X, y_train, W, lam)
    history = [{"iteration": 0, "train_loss": loss, "train_accuracy": surrogate.accuracy(X, y_train, W),
                "test_accuracy": surrogate.accuracy(X_test, y_test, W)}]
    momentum = MonotoneFista(W, loss, config.accelerated, always=config.accept == "always")
    pool = ThreadPoolExecutor(config.jobs) if config.jobs > 1 and solver is not None else None
    try:
        for it in tqdm(range(1, config.iterations + 1), desc=f"{config.mode} K={config.bits}", disable=not progress):
            tick = time.perf_counter()
            anchor = momentum.anchor
            G = surrogate.gradient(X, y_train, anchor, lam)
            best_steps = surrogate.continuous_step(G, factor)
            optimum = 0.5 * np.sum(G * best_steps, axis=0)  # U_c - L(anchor) at e* = -H^-1 g_c is g_c^T e* / 2
            timings["gradient"] += time.perf_counter() - tick
            record = {"iteration": it, "continuous_optimum": optimum.tolist()}
            if solver is None:
                Z = anchor + best_steps
            else:
                tick = time.perf_counter()
                problems = [_class_problem(config, H, G[:, c], anchor[:, c], half_ranges[c]) for c in range(C)]
                seeds = [[solve_seed(config.seed, it, c, r) for r in range(1 + config.num_refinements)] for c in range(C)]
                timings["build"] += time.perf_counter() - tick
                tick = time.perf_counter()
                jobs = [(p, solver, seeds[c], config.warm_start) for c, p in enumerate(problems)]
                answers = list(pool.map(lambda job: solve_class(*job), jobs)) if pool else [solve_class(*j) for j in jobs]
                timings["solve"] += time.perf_counter() - tick
                energies = np.array([a.energy for a in answers])
                accepted = np.ones(C, bool) if config.accept == "always" else energies <= 0.0
                on_edge = np.array([a.on_edge for a in answers])
                Z = anchor.copy()
                for c in np.flatnonzero(accepted):
                    Z[:, c] = answers[c].weights
                record.update({
                    "half_range": [p.encoding.half_range for p in problems],
                    "energy": energies.tolist(),
                    "relative_gap": ((energies - optimum) / np.abs(optimum)).tolist(),
                    "accepted": accepted.tolist(),
                    "on_edge": on_edge.tolist(),
                    "solve_seconds": [a.seconds for a in answers],
                })
                if any(a.info for a in answers):
                    record["solver_info"] = [a.info for a in answers]
                if config.mode == "trust":
                    half_ranges = next_half_ranges(half_ranges, accepted, on_edge, config.trust_max_half_range)
            step_taken = momentum.update(Z, surrogate.cross_entropy(X, y_train, Z, lam))
            W, loss = momentum.x, momentum.value
            record.update({"step_taken": bool(step_taken), "train_loss": loss,
                           "train_accuracy": surrogate.accuracy(X, y_train, W),
                           "test_accuracy": surrogate.accuracy(X_test, y_test, W)})
            history.append(record)
            if converged([r["train_loss"] for r in history], config.tol):
                break
    finally:
        if pool:
            pool.shutdown()
    timings["total"] = time.perf_counter() - started
    log.info("trained %s K=%d in %.1f s, %d iterations (%s)", config.mode, config.bits, timings["total"],
             len(history) - 1, ", ".join(f"{k} {v:.1f} s" for k, v in timings.items() if k != "total"))
    return {"W": W, "history": history, "timings": timings, "train_loss": loss,
            "iterations_run": len(history) - 1,
            "train_accuracy": history[-1]["train_accuracy"], "test_accuracy": history[-1]["test_accuracy"]}
