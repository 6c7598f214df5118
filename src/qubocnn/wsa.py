"""`wsa`: a structure-aware (weight-space) simulated annealer for the per-class QUBOs.

Each per-class QUBO is E(b) = g^T e + 1/2 e^T H e with e = s + delta * v and
v_j = sum_k 2^k b_(j*K+k) (`qubocnn.qubo.ClassQubo`). Flipping bit (j, k) changes v_j by +2^k (the
bit was 0) or -2^k (it was 1), i.e. e_j by de = delta * dv, and

    dE = de * (g_j + (H e)_j) + 1/2 de^2 H_jj.

So the annealer keeps, per read, the integers v (int64, one per parameter) and the field
f = g + H e: a proposal costs O(1). While the K bits of parameter j are proposed only f_j is read,
so an accepted flip updates f_j alone (f_j += de H_jj) and the rest of the field receives the summed
change of e_j once, when parameter j is done (f += (sum de) H[j, :]: O(d) once per parameter and
sweep, not once per accepted flip). f_j itself gets exactly the additions a whole-row update would
give it; the other fields differ by round-off only (one product of the summed change instead of a
sum of products), which moves a decision only if it lies within round-off of its threshold. The
Metropolis test is decided by Taylor bounds on exp(-beta dE) where they settle it, and by exp
otherwise: the same decisions. tests/wsa_reference.py keeps the previous kernel (whole-field update
after every accepted flip, plain exp) and tests/test_wsa.py checks bit-identical final integers on
several sizes (docs/annealer-speed.md says where round-off breaks it). The
n x n QUBO matrix (n = (d+1)K) never exists; memory is O(d^2 + reads x n).

With ``moves="flip"`` (the default) this is exactly the Metropolis single-bit-flip chain of
dwave-samplers' SimulatedAnnealingSampler over the same QUBO: sequential sweeps over the variables
in index order 0..n-1 (index j*K + k), one geometric beta schedule of ``num_sweeps`` values from
``beta_range[0]`` (hot) to ``beta_range[1]`` (cold), accept if dE <= 0 or u < exp(-beta dE), and
(as dwave-samplers does) skip a proposal outright when beta dE >= 44.36 (exp underflows the
64-bit resolution of the random numbers). Only the random numbers differ.

Reads run in parallel over numba's threads (``prange``); each read draws from its own
xorshift64* generator seeded by splitmix64 from (seed, read index), so the samples are identical
whatever the thread count or scheduling. The kernel releases the GIL, so classes can also be
annealed concurrently from Python threads.

The first call in a fresh environment compiles the kernel (numba, a few seconds);
``cache=True`` keeps the machine code on disk (``__pycache__`` or NUMBA_CACHE_DIR), so later
processes load it in well under a second.
"""

from __future__ import annotations

import time
from numbers import Integral

import dimod
import numpy as np
from numba import njit, prange

from .qubo import ClassQubo, integers_to_bits
from .schedules import beta_range as default_beta_range

MOVES = ("flip", "integer")

# log(2^64): beyond this beta * dE the acceptance probability is below the RNG's resolution.
_SKIP_THRESHOLD = 44.36142
# Recompute the field f = g + H e from the integers every this many sweeps, so the round-off of the
# incremental updates cannot build up over long schedules (O(d^2 / 128) per sweep: negligible).
_REFRESH_SWEEPS = 128

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_STAR = np.uint64(0x2545F4914F6CDD1D)
_U30 = np.uint64(30)
_U27 = np.uint64(27)
_U31 = np.uint64(31)
_U12 = np.uint64(12)
_U25 = np.uint64(25)
_U11 = np.uint64(11)
_U63 = np.uint64(63)
_INV53 = 1.0 / 9007199254740992.0  # 2^-53


@njit(cache=True, inline="always")
def _splitmix64(x):
    """splitmix64's output function of x + golden (used only to seed the per-read generators)."""
    z = x + _GOLDEN
    z = (z ^ (z >> _U30)) * _MIX1
    z = (z ^ (z >> _U27)) * _MIX2
    return z ^ (z >> _U31)


@njit(cache=True, inline="always")
def _xorshift64star(x):
    """One step of xorshift64*: (new state, 64-bit output)."""
    x ^= x >> _U12
    x ^= x << _U25
    x ^= x >> _U27
    return x, x * _STAR


@njit(cache=True, inline="always")
def _uniform(x):
    """(new state, a double uniform in [0, 1) from the top 53 bits)."""
    x, r = _xorshift64star(x)
    return x, np.float64(r >> _U11) * _INV53


@njit(cache=True)
def _refresh_field(H, g, s, delta, v, f):
    m = v.shape[0]
    e = np.empty(m)
    for i in range(m):
        e[i] = s[i] + delta * np.float64(v[i])
    for i in range(m):
        acc = g[i]
        for l in range(m):
            acc += H[i, l] * e[l]
        f[i] = acc


@njit(cache=True, inline="always")
def _start_read(H, g, s, delta, initial_v, r, seed_mix, K):
    """Read r's generator state, start integers (row r of initial_v; -1 entries: K random bits) and
    their field g + H e."""
    state = _splitmix64(seed_mix ^ _splitmix64(np.uint64(r)))
    if state == 0:
        state = _GOLDEN
    m = initial_v.shape[1]
    random_shift = np.uint64(64 - K)
    v = np.empty(m, dtype=np.int64)
    for j in range(m):
        if initial_v[r, j] >= 0:
            v[j] = initial_v[r, j]
        else:
            state, x = _xorshift64star(state)
            v[j] = np.int64(x >> random_shift)  # K uniform random bits
    f = np.empty(m)
    _refresh_field(H, g, s, delta, v, f)
    return state, v, f


@njit(cache=True, inline="always")
def _sweep_temperature(H, g, s, delta, v, f, betas, t):
    """Sweep t's beta and skip threshold, refreshing the field first when one is due."""
    if t > 0 and t % _REFRESH_SWEEPS == 0:
        _refresh_field(H, g, s, delta, v, f)
    beta = betas[t]
    return beta, _SKIP_THRESHOLD / beta


@njit(cache=True, inline="always")
def _metropolis(state, vj, fj, k, half_hjj, delta, beta, threshold, vmax, integer_moves):
    """Propose a change of parameter j's integer vj (field fj) by bit k; returns (state, dv), dv = 0
    when the proposal is rejected (or, for integer moves, leaves 0..vmax)."""
    p = np.int64(1) << k
    if integer_moves:
        state, x = _xorshift64star(state)
        dv = p if (x >> _U63) == 1 else -p
        new_v = vj + dv
        if new_v < 0 or new_v > vmax:
            return state, np.int64(0)
    else:
        dv = -p if (vj >> k) & 1 else p
    de = delta * np.float64(dv)
    dE = de * (fj + half_hjj * de)
    if dE >= threshold:
        return state, np.int64(0)
    if dE > 0.0:
        state, u = _uniform(state)
        # Accept iff exp(-x) > u. Taylor bounds 1 - x + x^2/2 - x^3/6 <= exp(-x) <= 1 / (1 + x +
        # x^2/2 + x^3/6) (x >= 0) decide most proposals without exp; the margins exceed their
        # round-off and exp's 1-ulp error, so every decision is the one exp itself would give.
        x = beta * dE
        x2 = x * x
        cubic = x2 * x * (1.0 / 6.0)
        if 1.0 - x + 0.5 * x2 - cubic <= u + 1e-14:
            if u * (1.0 + x + 0.5 * x2 + cubic) > 1.0 + 1e-13:
                return state, np.int64(0)
            if np.exp(-x) <= u:
                return state, np.int64(0)
    return state, dv


@njit(cache=True, parallel=True, nogil=True)
def _anneal_kernel(H, g, s, delta, K, betas, initial_v, seed, integer_moves):
    """Anneal len(initial_v) reads (rows of initial_v: start integers, or -1 for a random start).

    H (m, m) float64 C-contiguous symmetric, g and s (m,) float64, betas (num_sweeps,) float64,
    initial_v (reads, m) int64, seed uint64. Returns the final integers v, shape (reads, m)."""
    num_reads, m = initial_v.shape
    out = np.empty((num_reads, m), dtype=np.int64)
    vmax = (np.int64(1) << K) - 1
    diag = np.empty(m)
    for i in range(m):
        diag[i] = H[i, i]
    seed_mix = _splitmix64(seed)
    for r in prange(num_reads):
        state, v, f = _start_read(H, g, s, delta, initial_v, r, seed_mix, K)
        for t in range(betas.shape[0]):
            beta, threshold = _sweep_temperature(H, g, s, delta, v, f, betas, t)
            for j in range(m):
                # While parameter j's K bits are proposed only its own field f_j is read, so f_j gets
                # every accepted change at once (the same additions as a whole-row update) and the
                # other fields get the summed change of e_j when j is done: one O(d) row update per
                # parameter and sweep instead of one per accepted flip.
                hjj = diag[j]
                half_hjj = 0.5 * hjj
                fj = f[j]
                vj = v[j]
                dv_sum = np.int64(0)
                for k in range(K):
                    state, dv = _metropolis(state, vj, fj, k, half_hjj, delta, beta, threshold, vmax,
                                            integer_moves)
                    if dv != 0:
                        vj += dv
                        fj += delta * np.float64(dv) * hjj
                        dv_sum += dv
                v[j] = vj
                if dv_sum != 0:
                    de_sum = delta * np.float64(dv_sum)
                    for i in range(m):
                        f[i] += de_sum * H[j, i]
                f[j] = fj
        for j in range(m):
            out[r, j] = v[j]
    return out


def _check_positive_int(name, value):
    if isinstance(value, bool) or not isinstance(value, Integral) or value < 1:
        raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
    return int(value)


class WeightSpaceAnnealer:
    """Simulated annealing of a `ClassQubo` in weight space (see the module docstring).

    Not a general dimod sampler: it needs the structured problem (H, g, shift, delta, K), never the
    dense BQM. `parameters` and `properties` follow dimod's conventions."""

    def __init__(self):
        self.parameters = {
            "num_reads": [],
            "num_sweeps": [],
            "seed": [],
            "beta_range": [],
            "initial_bits": [],
            "moves": ["move_options"],
        }
        self.properties = {
            "move_options": MOVES,
            "beta_schedule_type": "geometric",
            "variable_order": "sequential 0..n-1, bit k of parameter j at index j*K + k",
        }

    def sample_problem(self, problem: ClassQubo, **kwargs) -> dimod.SampleSet:
        """Anneal `num_reads` independent reads of `num_sweeps` sweeps each (the arguments of `anneal`).

        Returns:
            dimod.SampleSet over variables 0..n-1 (BINARY) whose energies are recomputed exactly
            in weight space from the final integers (`problem.integer_energies`), equal to the dense
            QUBO's (`to_bqm(problem).energies`) up to round-off. info holds "beta_range",
            "moves", "seed", "num_sweeps" and "timing" (seconds of the whole call).
        """
        start = time.perf_counter()
        v, info = self.anneal(problem, **kwargs)
        bits = integers_to_bits(v, problem.bits)
        energies = problem.integer_energies(v)
        info["timing"] = time.perf_counter() - start
        # the labels 0..n-1 are in order already; dimod's label sort took 11% of a digits training
        return dimod.SampleSet.from_samples((bits, range(bits.shape[1])), "BINARY", energy=energies, info=info,
                                            sort_labels=False)

    def anneal(self, problem: ClassQubo, *, num_reads: int = 10, num_sweeps: int = 1000,
               seed: int | None = None, beta_range: tuple[float, float] | None = None,
               initial_bits: np.ndarray | None = None, moves: str = "flip") -> tuple[np.ndarray, dict]:
        """The final grid integers v of `num_reads` reads, shape (num_reads, d+1), without building a
        SampleSet (what training needs: `solvers.WeightSpaceSolver` decodes only the best read).

        Args:
            problem: the class QUBO (its curvature must be symmetric).
            num_reads, num_sweeps: integers >= 1.
            seed: any integer (reduced mod 2^64); None draws one (recorded in info["seed"]).
            beta_range: (hot, cold) end points of the geometric schedule; defaults to
                `qubocnn.schedules.beta_range(problem)` (dwave-samplers' rule, vectorised).
            initial_bits: None (every read starts from uniformly random bits) or one binary vector
                of length n used as the start of every read ("reverse annealing"-style start from
                the current weights); a (num_reads, n) array gives each read its own start.
            moves: "flip" (default): single-bit flips, the Metropolis chain of dwave-samplers'
                SimulatedAnnealingSampler, which a quantum annealer's QUBO also describes.
                "integer": a NON-QUANTUM classical move set: in each sweep, for every parameter j
                and every k, propose v_j -> v_j +- 2^k (sign at random; rejected if it leaves
                0..2^K-1), accepted by the same Metropolis rule with dE = de f_j + de^2 H_jj / 2.
                One such move flips several bits at once (carries), which is what lets it cross
                the carry boundaries (0111.. vs 1000..) that trap single flips; no quantum
                annealer can make such moves. Same energies, different chain.

        Returns:
            (v, info): v int64 (num_reads, d+1), bit k of v_j is variable j*K + k; info holds
            "beta_range", "moves", "seed" and "num_sweeps".
        """
        if not isinstance(problem, ClassQubo):
            raise ValueError(f"problem must be a qubocnn.qubo.ClassQubo, got {type(problem).__name__}")
        if moves not in MOVES:
            raise ValueError(f"unknown moves {moves!r}: choose one of {', '.join(MOVES)}")
        num_reads = _check_positive_int("num_reads", num_reads)
        num_sweeps = _check_positive_int("num_sweeps", num_sweeps)
        K = problem.bits
        H = np.ascontiguousarray(problem.curvature, dtype=np.float64)
        m = H.shape[0]
        n = m * K
        g = np.ascontiguousarray(problem.gradient, dtype=np.float64)
        s = np.ascontiguousarray(problem.shift, dtype=np.float64)
        if H.shape != (m, m) or g.shape != (m,) or s.shape != (m,):
            raise ValueError(f"inconsistent problem shapes: curvature {H.shape}, gradient {g.shape}, shift {s.shape}")
        delta = float(problem.delta)
        if not np.isfinite(delta) or delta <= 0:
            raise ValueError(f"grid step delta must be positive and finite, got {delta}")

        if beta_range is None:
            beta_range = default_beta_range(problem)
        try:
            hot, cold = (float(b) for b in beta_range)
        except (TypeError, ValueError):
            raise ValueError(f"beta_range must be two numbers (hot, cold), got {beta_range!r}") from None
        if not (np.isfinite(hot) and np.isfinite(cold) and hot > 0 and cold > 0):
            raise ValueError(f"beta_range must be two positive finite numbers, got {beta_range!r}")
        betas = np.geomspace(hot, cold, num=num_sweeps) if num_sweeps > 1 else np.array([cold])

        if initial_bits is None:
            initial_v = np.full((num_reads, m), -1, dtype=np.int64)
        else:
            b = np.asarray(initial_bits)
            if b.ndim == 1:
                b = b[None, :]
            if b.ndim != 2 or b.shape[1] != n or b.shape[0] not in (1, num_reads):
                raise ValueError(f"initial_bits must have length n={n} (or shape ({num_reads}, {n})), "
                                 f"got shape {np.shape(initial_bits)}")
            if not np.all((b == 0) | (b == 1)):
                raise ValueError("initial_bits must be binary (0/1)")
            v0 = b.astype(np.int64).reshape(b.shape[0], m, K) @ (np.int64(1) << np.arange(K, dtype=np.int64))
            initial_v = np.ascontiguousarray(np.broadcast_to(v0, (num_reads, m)))

        if seed is None:
            seed = int(np.random.SeedSequence().generate_state(1, np.uint64)[0])
        if isinstance(seed, bool) or not isinstance(seed, Integral):
            raise ValueError(f"seed must be an integer or None, got {seed!r}")
        seed = int(seed) % 2**64

        v = _anneal_kernel(H, g, s, delta, np.int64(K), betas, initial_v, np.uint64(seed), moves == "integer")
        return v, {"beta_range": (hot, cold), "moves": moves, "seed": seed, "num_sweeps": num_sweeps}
