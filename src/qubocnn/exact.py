"""Certified solvers for one class QUBO: its optimum with a proof, or its best bound and gap.

A class QUBO is a convex quadratic over the integers of its grid (qubocnn.qubo):
    E(v) = g^T e + 1/2 e^T H e,  e = s + delta * v,  v_j in 0..2^K-1,
with H positive definite: a box-constrained integer least-squares (closest-vector) problem,
    E(v) = E_c + (v - c)^T A (v - c),  A = delta^2 H / 2,  c the continuous minimiser.
Two methods, both started from the rounding solver's answer (so neither returns anything worse):

- `enumeration` (default): Schnorr-Euchner depth-first enumeration. With A = R^T R (Cholesky, R upper
  triangular) the cost is a sum of squares whose term i depends on v_i..v_n-1 only; the integers are
  fixed from the last to the first, each level trying its values in order of their term's cost, and
  a branch is cut once its partial sum reaches the best energy found. Exhausting the tree proves
  the optimum. H is fixed and well conditioned, so at d = 16 this takes milliseconds; a node limit
  (deterministic, unlike a time limit) stops it, with the continuous minimum E_c as its bound.
- `scip`: SCIP (pyscipopt) on the convex mixed-integer quadratic programme (minimise t subject to
  t >= E(v)), within a time limit, with SCIP's dual bound. A maintained library's cross-check: it
  proves the same optima, at d = 16 and K = 2-3 in tens of seconds per QUBO (docs/low-bit.md).

The answer's info records the certificate: `optimum` (the energy of its answer, recomputed in
weight space), `bound` (a lower bound on the minimum), `gap` (optimum - bound, 0 when proved),
`status` ("optimal" when proved, else why it stopped), `proved` and `nodes` (enumeration).
"""

from __future__ import annotations

import time

import numpy as np
import scipy.linalg
from numba import njit

from .qubo import ClassQubo, integers_to_bits
from .solvers import RoundingSolver, Solver, best_answer

EXACT_MAX_VARIABLES = 300  # binary variables (d+1)K: refused above this, before any work
METHODS = ("enumeration", "scip")
DEFAULT_MAX_NODES = 20_000_000  # enumeration: seconds (numba)
DEFAULT_TIME_LIMIT = 60.0  # scip: seconds per QUBO
INSTALL = 'pip install "qubocnn[lowbit]" (or: pip install pyscipopt)'


def check_exact_size(num_variables: int, limit: int = EXACT_MAX_VARIABLES) -> None:
    """Refuse, before any work, a QUBO above the exact solver's size limit."""
    if num_variables > limit:
        raise ValueError(f"the exact solver takes QUBOs of at most {limit} binary variables, got {num_variables}: "
                         "use fewer features or bits, or a heuristic solver (round, wsa, sa, tabu)")


def _pyscipopt():
    try:
        import pyscipopt
    except ImportError:
        raise ValueError(f"the exact solver's scip method needs pyscipopt: {INSTALL}") from None
    return pyscipopt


def integer_form(problem: ClassQubo) -> tuple[np.ndarray, np.ndarray, float]:
    """(A, c, E_c) with E(v) = E_c + (v - c)^T A (v - c) for the grid integers v of `problem`."""
    H, g, s, delta = problem.curvature, problem.gradient, problem.shift, problem.delta
    A = 0.5 * delta**2 * H
    linear = delta * (g + H @ s)
    c = -np.linalg.solve(2.0 * A, linear)
    return A, c, float(g @ s + 0.5 * s @ H @ s - c @ A @ c)


def enumerate_box(A: np.ndarray, c: np.ndarray, top: int, start: np.ndarray, max_nodes: int):
    """Schnorr-Euchner enumeration of min (v - c)^T A (v - c) over integers v in 0..top, from the
    incumbent `start`. Returns (v, value, proved, nodes)."""
    R = np.ascontiguousarray(scipy.linalg.cholesky(A, lower=False))
    centre = np.ascontiguousarray(c, dtype=np.float64)
    start = np.asarray(start, dtype=np.int64)
    best = float((start - c) @ A @ (start - c))
    # the exponent is passed at run time so that the square is libm's pow, as in the pure-Python
    # form this replaces (LLVM would make a constant 2.0 a multiplication, which rounds differently
    # in about 1 case in 1,000)
    v, value, proved, nodes = _enumerate(R, centre, np.int64(top), start.copy(), best, np.int64(max_nodes), 2.0)
    return v, value, bool(proved), int(nodes)


@njit(cache=True)
def _level_order(R, centre, v, i, top, order, costs, two):
    """Level i's values sorted by their term's cost (ties by value), given v_i+1..v_n-1."""
    n = centre.shape[0]
    acc = 0.0
    for j in range(i + 1, n):
        acc += R[i, j] * (np.float64(v[j]) - centre[j])
    z = centre[i] - acc / R[i, i]
    for x in range(top + 1):
        costs[i, x] = (R[i, i] * (np.float64(x) - z)) ** two
    order[i, :] = np.argsort(costs[i, :], kind="mergesort")


@njit(cache=True)
def _enumerate(R, centre, top, best_v, best, max_nodes, two):
    n = centre.shape[0]
    v = np.zeros(n, np.int64)
    partial = np.zeros(n + 1)  # partial[i]: the cost of levels i..n-1 as fixed now
    order = np.zeros((n, top + 1), np.int64)
    costs = np.zeros((n, top + 1))
    position = np.zeros(n, np.int64)
    i, nodes = n - 1, 0
    _level_order(R, centre, v, i, top, order, costs, two)
    while i < n:
        nodes += 1
        if nodes > max_nodes:
            return best_v, best, False, nodes
        if position[i] == top + 1:
            i += 1  # level exhausted: back up
            continue
        x = order[i, position[i]]
        total = partial[i + 1] + costs[i, x]
        if total >= best:
            position[i] = top + 1  # sorted by cost: the level's other values cost more
            continue
        position[i] += 1
        v[i] = x
        if i == 0:
            best, best_v = total, v.copy()
        else:
            partial[i], i = total, i - 1
            _level_order(R, centre, v, i, top, order, costs, two)
            position[i] = 0
    return best_v, best, True, nodes


class ExactSolver(Solver):
    """The certified solver (`certified` in the low-bit study): solve(problem, seed) -> Answer with the
    certificate in its info. The seed is ignored: both methods are deterministic."""

    name = "certified"

    def __init__(self, method: str = "enumeration", max_nodes: int = DEFAULT_MAX_NODES,
                 time_limit: float = DEFAULT_TIME_LIMIT, max_variables: int = EXACT_MAX_VARIABLES):
        if method not in METHODS:
            raise ValueError(f"unknown exact method {method!r}: choose one of {', '.join(METHODS)}")
        if not time_limit > 0 or not max_nodes >= 1:
            raise ValueError(f"the exact solver needs time_limit > 0 and max_nodes >= 1, got {time_limit}, {max_nodes}")
        if method == "scip":
            _pyscipopt()
        self.method, self.max_nodes, self.time_limit = method, int(max_nodes), float(time_limit)
        self.max_variables = int(max_variables)
        self._rounding = RoundingSolver()

    def check_memory(self, num_variables, concurrent=1):
        check_exact_size(num_variables, self.max_variables)

    def solve(self, problem: ClassQubo, seed: int = 0, initial_bits=None):
        check_exact_size(problem.num_variables, self.max_variables)
        started = time.perf_counter()
        start = self._rounding.solve(problem, seed)
        A, c, continuous = integer_form(problem)
        top = 2**problem.bits - 1
        info = {}
        if self.method == "enumeration":
            integers, _, proved, info["nodes"] = enumerate_box(A, c, top, problem.encoding.integers(start.bits),
                                                               self.max_nodes)
            status, bound = ("optimal" if proved else "nodelimit"), continuous
        else:
            integers, bound, status = self._scip(A, c, continuous, top, problem.encoding.integers(start.bits))
            proved = status == "optimal"
        answer = best_answer(problem, np.vstack([start.bits, integers_to_bits(integers, problem.bits)]), started)
        # a proved optimum is its own bound (SCIP's dual bound is only within its tolerance of it)
        bound = answer.energy if proved else min(float(bound), answer.energy)
        answer.info.update(info, optimum=answer.energy, bound=bound, gap=answer.energy - bound, status=status,
                           proved=proved)
        return answer

    def _scip(self, A, c, continuous: float, top: int, start: np.ndarray) -> tuple[np.ndarray, float, str]:
        """SCIP's best integers, its dual bound on E and its status."""
        n = len(c)
        model = _pyscipopt().Model("class_qubo")
        model.hideOutput()
        for key, value in {"limits/time": self.time_limit, "limits/gap": 1e-9, "limits/absgap": 0.0,
                           "numerics/feastol": 1e-9, "randomization/randomseedshift": 0}.items():
            model.setParam(key, value)
        v = [model.addVar(f"v{j}", vtype="I", lb=0, ub=top) for j in range(n)]
        t = model.addVar("t", lb=None, ub=None)
        linear = -2.0 * A @ c  # (v - c)^T A (v - c) = v^T A v - 2 c^T A v + c^T A c
        expression = sum(linear[j] * v[j] + A[j, j] * v[j] * v[j] for j in range(n))
        expression += sum(2.0 * A[i, j] * v[i] * v[j] for i in range(n) for j in range(i + 1, n))
        model.addCons(expression <= t)
        model.setObjective(t, "minimize")
        incumbent = model.createSol()
        for j in range(n):
            model.setSolVal(incumbent, v[j], float(start[j]))
        model.setSolVal(incumbent, t, float(start @ A @ start + linear @ start))
        model.addSol(incumbent)
        model.optimize()
        best = model.getBestSol()
        integers = np.clip(np.rint([model.getSolVal(best, x) for x in v]), 0, top).astype(np.int64)
        return integers, continuous + float(c @ A @ c) + float(model.getDualbound()), str(model.getStatus())
