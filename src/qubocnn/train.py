"""The majorise-minimise loop that trains the head one QUBO per class per iteration (docs/method.md, "Loop").

At iteration t: P, G from W_t; for every class c build the QUBO of U_c on the K-bit grid of the
mode, solve it (classes in parallel threads; or hand it out, `QuboTraining`), decode, and accept the answer only if U_c does not rise
(U_c(w_c,t) = 0, so: energy <= 0). Since U majorises L and touches it at W_t,
L(W_t+1) <= U(W_t+1) <= U(W_t) = L(W_t): the training loss never rises.

Modes: `box` (grid centred at 0 with a fixed half-range: the paper's literal reading), `trust` (grid
centred at the anchor with an adaptive half-range per class: halve it when the class's answer lies
strictly inside the grid, double it up to a cap when it touches the edge; plus `refinements`, see
`QuboRound`) and `continuous` (the exact minimiser of U, no QUBO: the classical reference path
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
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import dimod
import numpy as np
from tqdm.auto import tqdm

from . import surrogate
from .modes import DEFAULT_TRUST_REFINEMENTS, MODES, refinements_for
from .options import option
from .qubo import (DEFAULT_BOX_HALF_RANGE, ClassQubo, Encoding, box_encoding, check_bits, check_half_range,
                   class_qubos, first_class_qubos, to_bqm, trust_encoding)
from .solver_factory import make_solver
from .solvers import Answer, Solver, SolverConfig, answer_from_samples

log = logging.getLogger("qubocnn.train")
ACCEPT_RULES = ("improving", "always")
STOP_WINDOW = 3


@dataclass(frozen=True)
class TrainConfig:
    bits: int = option(10, "K, bits per parameter (1..32)")
    mode: str = option("trust", "box (the paper's fixed grid), trust (re-centred, adaptive) or continuous")
    iterations: int = option(30, "majorise-minimise iterations")
    lam: float = option(surrogate.DEFAULT_LAM, "L2 weight lambda")
    box_half_range: float = option(DEFAULT_BOX_HALF_RANGE, "box mode: weights in [-R, R)")
    trust_half_range: float = option(1.0, "trust mode: initial half-range")
    trust_max_half_range: float = option(4.0, "trust mode: cap of the half-range")
    warm_start: bool = option(False, "start every read from the current weights")
    # None: the defaults that close the annealing gap in trust mode (refinements, MFISTA momentum)
    # and the paper's literal loop in box mode (neither)
    refinements: int | None = option(None, "extra QUBOs per class and iteration, re-centred at the best answer "
                                           f"with half the range (default: {DEFAULT_TRUST_REFINEMENTS} in trust "
                                           "mode, 0 in box mode)")
    accelerate: bool | None = option(None, "MFISTA momentum: build each iteration's QUBOs at an extrapolated point "
                                           "(default: on for trust and continuous, off for box)")
    accept: str = option("improving", f"{' or '.join(ACCEPT_RULES)}: take a class's answer only if it lowers its "
                                      "surrogate, or every answer (a literal reading of the paper's loop)")
    tol: float = option(0.0, "stop once the training loss fell by less than this (relative) over the last "
                             f"{STOP_WINDOW} iterations (0: run every iteration)")
    seed: int = option(0, "random seed")
    jobs: int = option(1, "threads solving the per-class QUBOs")
    solver: SolverConfig = field(default_factory=SolverConfig)

    def __post_init__(self):
        check_bits(self.bits)
        if self.mode not in MODES:
            raise ValueError(f"unknown mode {self.mode!r}: choose one of {', '.join(MODES)}")
        if self.accept not in ACCEPT_RULES:
            raise ValueError(f"unknown acceptance rule {self.accept!r}: choose one of {', '.join(ACCEPT_RULES)}")
        if self.iterations < 1 or self.jobs < 1 or (self.refinements is not None and self.refinements < 0):
            raise ValueError("iterations and jobs must be >= 1, refinements >= 0")
        surrogate.check_lam(self.lam)
        for name in ("box_half_range", "trust_half_range", "trust_max_half_range"):
            check_half_range(getattr(self, name), name)
        if self.seed < 0:
            raise ValueError(f"seed must be >= 0 (numpy takes no negative seed), got {self.seed}")
        if not self.tol >= 0:
            raise ValueError(f"tol must be >= 0 (0: run every iteration), got {self.tol}")

    @property
    def accelerated(self) -> bool:
        return self.mode != "box" if self.accelerate is None else bool(self.accelerate)

    @property
    def num_refinements(self) -> int:
        return refinements_for(self.mode) if self.refinements is None else int(self.refinements)


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


def next_half_ranges(half_ranges: np.ndarray, accepted: np.ndarray, on_edge: np.ndarray,
                     max_half_range: float) -> np.ndarray:
    """Per-class trust half-ranges of the next iteration: double a class's half-range (up to the cap)
    when its accepted answer touched the edge of its grid, halve it otherwise. Annealing errors
    scale with the grid's extent, so each class's grid should just fit the step it has to find; one
    shared half-range would be sized by the class with the largest step."""
    return np.minimum(np.where(accepted & on_edge, 2 * half_ranges, half_ranges / 2), max_half_range)


def class_encoding(config: TrainConfig, w_t: np.ndarray, half_range: float | None = None) -> Encoding:
    """The grid of a class QUBO of the run `config` describes: box mode's fixed grid, or trust mode's
    grid centred at the anchor w_t with `half_range` (default: the initial trust half-range)."""
    if config.mode == "box":
        return box_encoding(len(w_t), config.bits, config.box_half_range)
    return trust_encoding(w_t, config.bits, config.trust_half_range if half_range is None else half_range)


def first_class_qubo(x_train, y_train, num_classes: int, c: int, config: TrainConfig) -> ClassQubo:
    """Class c's QUBO of the first iteration (W = 0) of the run `config` describes."""
    X = surrogate.add_bias(x_train)
    return first_class_qubos(X, y_train, num_classes, config.lam, lambda _, w: class_encoding(config, w), [c])[0]


def converged(losses, tol: float) -> bool:
    """Whether the loss fell by less than tol (relative) over the last STOP_WINDOW iterations."""
    if tol <= 0 or len(losses) <= STOP_WINDOW:
        return False
    return losses[-STOP_WINDOW - 1] - losses[-1] < tol * abs(losses[-1])


@dataclass
class QuboRound:
    """One round of per-class QUBOs of iteration t, one QUBO per class: round 0 holds the
    iteration's QUBOs, rounds 1..refinements re-solve the same U_c on grids re-centred at the class's
    best answer so far with half the previous half-range (zooming in; every grid contains that answer,
    so the energy never rises). Answer it with `answer` (samples from any solver, e.g. a QPU queue) or
    `solve` (a `solvers.Solver`) before the training asks for the next round."""

    iteration: int
    round: int
    problems: list[ClassQubo]
    seeds: list[int]  # what the package's own solvers are seeded with (solve_seed)
    initial_bits: list[np.ndarray] | None  # warm_start: each class's current point on its grid
    issued: float = field(default_factory=time.perf_counter)
    answers: list[Answer] | None = None

    def bqms(self) -> list[dimod.BinaryQuadraticModel]:
        """The QUBOs as dimod BQMs over variables 0..n-1 (bit k of parameter j at index j*K + k)."""
        return [to_bqm(problem) for problem in self.problems]

    def answer(self, samples) -> list[Answer]:
        """Take one answer per class (a SampleSet or bits, `solvers.answer_from_samples`); returns
        the answers as the training reads them, energies recomputed in weight space."""
        if len(samples) != len(self.problems):
            raise ValueError(f"give one answer per class: {len(self.problems)} expected, got {len(samples)}")
        self.answers = [answer_from_samples(p, s, self.issued) for p, s in zip(self.problems, samples)]
        return self.answers

    def solve(self, solver: Solver, pool: ThreadPoolExecutor | None = None) -> list[Answer]:
        """Answer every class with `solver`, the classes in `pool`'s threads if one is given."""
        self.answers = solver.solve_many(self.problems, self.seeds, self.initial_bits, pool)
        return self.answers


class QuboTraining:
    """The training loop with its QUBOs handed out: iterating yields every `QuboRound` of every
    iteration, and each must be answered before the next is yielded. Once the iteration ends,
    `result` holds what `train_qubo_head` returns. Without a test set the history has no test accuracy.

        training = QuboTraining(x_train, y_train, num_classes, config)
        for qubos in training:
            qubos.answer([sampler.sample(bqm, num_reads=10) for bqm in qubos.bqms()])
        W = training.result["W"]

    The continuous mode yields nothing."""

    def __init__(self, x_train, y_train, num_classes: int, config: TrainConfig, x_test=None, y_test=None,
                 progress: bool = False):
        if (x_test is None) != (y_test is None):
            raise ValueError("give both x_test and y_test, or neither")
        surrogate.check_features(x_train, *(() if x_test is None else (x_test,)))
        self.X, self.y = surrogate.add_bias(x_train), y_train
        self.X_test = None if x_test is None else surrogate.add_bias(x_test)
        self.y_test, self.num_classes, self.config, self.progress = y_test, num_classes, config, progress
        self.result: dict | None = None
        self._started = False

    def __iter__(self) -> Iterator[QuboRound]:
        if self._started:
            raise ValueError("a QuboTraining runs once: make a new one to train again")
        self._started = True
        return self._iterations()

    def _scores(self, W: np.ndarray) -> dict:
        scores = {"train_accuracy": surrogate.accuracy(self.X, self.y, W)}
        if self.X_test is not None:
            scores["test_accuracy"] = surrogate.accuracy(self.X_test, self.y_test, W)
        return scores

    def _iterations(self) -> Iterator[QuboRound]:
        config, X, y_train, C, lam = self.config, self.X, self.y, self.num_classes, self.config.lam
        W = np.zeros((X.shape[1], C))
        started = time.perf_counter()
        H = surrogate.boehning_curvature(X, lam)
        factor = surrogate.curvature_factor(H)
        timings = {"curvature": time.perf_counter() - started, "gradient": 0.0, "build": 0.0, "solve": 0.0}
        half_ranges = np.full(C, config.trust_half_range)
        loss = surrogate.cross_entropy(X, y_train, W, lam)
        history = [{"iteration": 0, "train_loss": loss, **self._scores(W)}]
        momentum = MonotoneFista(W, loss, config.accelerated, always=config.accept == "always")
        for it in tqdm(range(1, config.iterations + 1), desc=f"{config.mode} K={config.bits}",
                       disable=not self.progress):
            tick = time.perf_counter()
            anchor = momentum.anchor
            G = surrogate.gradient(X, y_train, anchor, lam)
            best_steps = surrogate.continuous_step(G, factor)
            optimum = 0.5 * np.sum(G * best_steps, axis=0)  # U_c - L(anchor) at e* = -H^-1 g_c is g_c^T e* / 2
            timings["gradient"] += time.perf_counter() - tick
            record = {"iteration": it, "continuous_optimum": optimum.tolist()}
            if config.mode == "continuous":
                Z = anchor + best_steps
            else:
                tick = time.perf_counter()
                problems = class_qubos(H, G, anchor, lambda c, w: class_encoding(config, w, half_ranges[c]))
                timings["build"] += time.perf_counter() - tick
                answers = yield from self._rounds(it, problems, timings)
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
            record.update({"step_taken": bool(step_taken), "train_loss": loss, **self._scores(W)})
            history.append(record)
            if converged([r["train_loss"] for r in history], config.tol):
                break
        timings["total"] = time.perf_counter() - started
        log.info("trained %s K=%d in %.1f s, %d iterations (%s)", config.mode, config.bits, timings["total"],
                 len(history) - 1, ", ".join(f"{k} {v:.1f} s" for k, v in timings.items() if k != "total"))
        self.result = {"W": W, "history": history, "timings": timings, "train_loss": loss,
                       "iterations_run": len(history) - 1, "train_accuracy": history[-1]["train_accuracy"],
                       "test_accuracy": history[-1].get("test_accuracy")}

    def _rounds(self, iteration: int, problems: list[ClassQubo], timings: dict):
        """Yield the rounds of one iteration; return each class's answer: the lowest energy over its
        rounds (a later round's answer wins a tie), with the first round's on_edge (it sizes the next
        half-range) and the seconds and samples of all rounds."""
        config, C = self.config, len(problems)
        current, points = problems, [p.anchor for p in problems]
        seconds, samples = np.zeros(C), np.zeros(C, int)
        for r in range(1 + config.num_refinements):
            if r:
                current = [ClassQubo(p.curvature, p.gradient, p.anchor,
                                     trust_encoding(a.weights, p.bits, p.encoding.half_range / 2))
                           for p, a in zip(current, best)]
                points = [a.weights for a in best]
            starts = [q.encoding.encode(w) for q, w in zip(current, points)] if config.warm_start else None
            qubos = QuboRound(iteration, r, current, [solve_seed(config.seed, iteration, c, r) for c in range(C)],
                              starts)
            tick = time.perf_counter()
            yield qubos
            timings["solve"] += time.perf_counter() - tick
            if qubos.answers is None:
                raise ValueError(f"round {r} of iteration {iteration} was not answered: call its answer(...) or "
                                 "solve(...) before asking for the next")
            seconds += [a.seconds for a in qubos.answers]
            samples += [a.num_samples for a in qubos.answers]
            first = qubos.answers if r == 0 else first
            best = qubos.answers if r == 0 else [a if a.energy <= b.energy else b
                                                 for a, b in zip(qubos.answers, best)]
        return [Answer(b.weights, b.energy, float(t), int(n), f.on_edge, b.info, b.bits)
                for b, t, n, f in zip(best, seconds, samples, first)]


def train_qubo_head(x_train, y_train, x_test, y_test, num_classes: int, config: TrainConfig,
                    sampler=None, sample_kwargs: dict | None = None, progress: bool = True) -> dict:
    """Train the head (bias included) by per-class QUBOs. `sampler` (a dimod sampler, with its
    `sample_kwargs`, or a `solvers.Solver`) replaces config.solver; it is made once per run and,
    with config.jobs > 1, solves the classes in threads. x_test and y_test may be None. Returns W,
    the history and the final numbers."""
    solver = None if config.mode == "continuous" else make_solver(config.solver if sampler is None else sampler,
                                                                  sample_kwargs)
    if solver is not None:  # a dense solver's n x n matrices must fit, one per class solved at once
        solver.check_memory((x_train.shape[1] + 1) * config.bits, min(config.jobs, num_classes))
    training = QuboTraining(x_train, y_train, num_classes, config, x_test, y_test, progress)
    pool = ThreadPoolExecutor(config.jobs) if config.jobs > 1 and solver is not None else None
    try:
        for qubos in training:
            qubos.solve(solver, pool)
    finally:
        if pool:
            pool.shutdown()
    return training.result


def qubos_of_iteration(x_train, y_train, num_classes: int, config: TrainConfig, iteration: int, sampler=None,
                       sample_kwargs: dict | None = None, progress: bool = False) -> QuboRound:
    """The first round of QUBOs of iteration `iteration` (one per class) of the run that `config`
    describes, replayed with its seed and its solver (or `sampler`, as in train_qubo_head)."""
    if config.mode == "continuous":
        raise ValueError("the continuous mode has no QUBOs: choose box or trust")
    if not 1 <= iteration <= config.iterations:
        raise ValueError(f"iteration must be in 1..{config.iterations} (the run's iterations), got {iteration}")
    solver = make_solver(config.solver if sampler is None else sampler, sample_kwargs)
    training = QuboTraining(x_train, y_train, num_classes, config, progress=progress)
    for qubos in training:
        if qubos.iteration == iteration:
            return qubos
        qubos.solve(solver)
    raise ValueError(f"the run stopped after iteration {training.result['iterations_run']} (tol {config.tol}): "
                     f"it has no iteration {iteration}")
