"""Replaying a recorded training run: the QUBOs of any of its iterations, rebuilt from its result
file's run spec (`RunSpec.from_result`) with its seed and solver.

A run on a QPU is replayed with a classical solver unless the caller asks for the QPU: a replay
must never spend QPU time by surprise. The first iteration's QUBOs do not depend on the solver;
later ones do, and a replay that left the recorded path is refused (its continuous optimum differs
from the recorded one).
"""

from __future__ import annotations

import logging
import math
import os

import scipy.linalg

from .results import read_result
from .runspec import RunSpec, make_run_solver
from .train import qubos_of_iteration

log = logging.getLogger("qubocnn")
CLASSICAL_STAND_IN = "sa"  # the QPU's classical stand-in on replay: the same BQM, annealed in software


def replay_spec(path: str | os.PathLike, source: dict | None = None, on_qpu: bool = False) -> RunSpec:
    """The run spec of a recorded box or trust run, its source fields replaced by `source` (e.g.
    the features moved), a QPU replaced by CLASSICAL_STAND_IN unless `on_qpu`."""
    spec = RunSpec.from_result(path)
    if spec.train.mode not in ("box", "trust"):
        raise ValueError(f"{path} is a {spec.train.mode} run, not a QUBO run in box or trust mode: it has no "
                         "QUBOs to replay")
    spec = spec.replace(source=source)
    if spec.solver.name == "qpu" and not on_qpu:
        spec = spec.replace(solver=dict(name=CLASSICAL_STAND_IN, options={}))
        log.info("%s ran on a QPU: replaying it with the classical solver %s, no QPU call (ask for the QPU with "
                 "--replay-on-qpu); iterations after the first differ from the recorded run's", path,
                 CLASSICAL_STAND_IN)
    return spec


def replayed_qubo(path: str | os.PathLike, iteration: int, target_class: int, source: dict | None = None,
                  on_qpu: bool = False, progress: bool = False):
    """Class `target_class`'s QUBO at `iteration` of the recorded run, and its metadata; refused if
    the replay does not pass through the recorded run's iteration."""
    spec = replay_spec(path, source, on_qpu)
    config = spec.train
    solver = make_run_solver(config)
    features = spec.source.load(config.seed, progress)
    c = checked_class(target_class, features.num_classes)
    qubos = qubos_of_iteration(features.x_train, features.y_train, features.num_classes, config, iteration,
                               sampler=solver, progress=progress)
    problem = qubos.problems[c]
    history = read_result(path)["history"]
    if iteration < len(history):
        recorded = history[iteration]["continuous_optimum"][c]
        g, H = problem.gradient, problem.curvature
        replayed = -0.5 * g @ scipy.linalg.cho_solve(scipy.linalg.cho_factor(H), g)
        if not math.isclose(replayed, recorded, rel_tol=1e-9):
            raise ValueError(f"the replay differs from {path} at iteration {iteration} (class {c}'s continuous "
                             f"optimum {replayed:.12g}, recorded {recorded:.12g}): other features, another solver "
                             "or another qubocnn version")
    return problem, {"dataset": features.dataset, "class": c, "bits": config.bits, "mode": config.mode,
                     "iteration": iteration, "half_range": problem.encoding.half_range, "run": str(path)}


def checked_class(target_class: int, num_classes: int) -> int:
    if not 0 <= target_class < num_classes:
        raise ValueError(f"--class must be in 0..{num_classes - 1}, got {target_class}")
    return target_class
