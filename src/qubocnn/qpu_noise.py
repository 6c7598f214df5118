"""A model of a D-Wave QPU's integrated control errors (ICE), as a dimod composite sampler.

A QPU does not solve the Ising problem it is given. It scales the problem into its hardware
ranges of h and J and then realises every coefficient with an error:

    E_delta(s) = sum_i (h_i + dh_i) s_i + sum_{i<j} (J_ij + dJ_ij) s_i s_j

(D-Wave, "Errors and Error Correction", section ICE:
https://docs.dwavequantum.com/en/latest/quantum_research/errors.html , formerly
https://docs.dwavesys.com/docs/latest/c_qpu_ice.html). There dh and dJ are Gaussian; their
standard deviations, in the QPU's own h and J units, are plotted over the anneal fraction s for
D-Wave 2X systems: sigma(dh) from about 0.025 early in the anneal to 0.01 late, sigma(dJ) between
about 0.0095 and 0.0155. The DACs also quantise h and J (ICE3, a uniform error smaller than the
Gaussian part). `ControlErrorComposite` models exactly these two effects:

1. convert the BQM to Ising form and scale it, with one positive factor, into the ranges
   h_range and j_range, as `dimod.BinaryQuadraticModel.normalize` does for dwave-preprocessing's
   ScaleComposite inside DWaveCliqueSampler (and as a QPU's auto_scale does);
2. optionally round every scaled coefficient to a multiple of a quantisation step;
3. add independent Gaussian errors with standard deviations sigma_h and sigma_J, in the
   units of the scaled problem (the QPU's units), drawn from the `seed` sample parameter;
4. sample the perturbed problem with the child sampler, and return its samples with their
   energies under the caller's original BQM.

The errors are mapped back to the caller's units by the same scale factor, so the child samples
the perturbed problem in the caller's units and vartype: with zero sigmas and no quantisation it
receives the caller's BQM unchanged and returns exactly what it returns for that BQM.

What the model leaves out (each can matter on a real QPU): the spread of the h scale across
qubits (ICE5, about 1% per the same page), background susceptibility (ICE1: h leakage and
next-nearest-neighbour couplings), the time dependence of 1/f flux noise (ICE2: a fresh
draw per sample call, not per read, is all it offers), the h/J ratio's dependence on the anneal
(ICE4), the mean (systematic) part of the errors, everything about chains (their strength
competing for the J range, chain breaks, the extended J range), clipping to the ranges after the
errors, and the anneal's dynamics and effective temperature: the child is a classical sampler.
"""

from __future__ import annotations

import dimod
import numpy as np

from .schedules import COEFFICIENT_REL_TOL, bqm_beta_range

# Advantage systems' h_range and j_range solver properties; the error magnitudes of D-Wave's ICE
# page (see the module docstring). All four are constructor parameters.
DEFAULT_H_RANGE = (-4.0, 4.0)
DEFAULT_J_RANGE = (-1.0, 1.0)
DEFAULT_SIGMA_H = 0.02
DEFAULT_SIGMA_J = 0.015
SIGNIFICANT_REL_TOL = 1e-9
"""Coefficients smaller than this fraction of the largest of their kind are round-off (the bias
row of H holds means of standardised features, ~1e-17), not part of the problem's dynamic range."""

__all__ = ["ControlErrorComposite", "check_sigma", "hardware_scale", "precision_report"]


def _check_range(name: str, value) -> tuple[float, float]:
    try:
        low, high = (float(v) for v in value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a pair (low, high) with low < 0 < high, got {value!r}") from None
    if not low < 0.0 < high:
        raise ValueError(f"{name} must be a pair (low, high) with low < 0 < high, got {value!r}")
    return low, high


def check_sigma(name: str, value) -> float:
    value = float(value)
    if not value >= 0.0:  # also refuses NaN
        raise ValueError(f"{name} must be >= 0 (a standard deviation in the QPU's units), got {value}: "
                         f"pass 0 for no error")
    return value


def _check_step(name: str, value) -> float | None:
    if value is None:
        return None
    value = float(value)
    if not value > 0.0:
        raise ValueError(f"{name} must be a positive quantisation step or None for none, got {value}")
    return value


def _range_scale(h: np.ndarray, J: np.ndarray, h_range, j_range) -> float:
    """`BinaryQuadraticModel.normalize`'s factor, from coefficient arrays (normalize loops in
    Python): the tightest of the four range boundaries; 1.0 without biases."""
    bounds = [0.0]
    if h.size:
        bounds += [h.min() / h_range[0], h.max() / h_range[1]]
    if J.size:
        bounds += [J.min() / j_range[0], J.max() / j_range[1]]
    inverse_scale = max(bounds)
    return float(1.0 / inverse_scale) if inverse_scale > 0 else 1.0


def hardware_scale(bqm: dimod.BinaryQuadraticModel, h_range=DEFAULT_H_RANGE, j_range=DEFAULT_J_RANGE) -> float:
    """The positive factor that puts the Ising form of `bqm` into h_range and j_range with at
    least one coefficient on a range boundary (`BinaryQuadraticModel.normalize`'s factor;
    1.0 for a BQM without biases)."""
    h, (_, _, J), _ = bqm.change_vartype(dimod.SPIN, inplace=False).to_numpy_vectors()
    return _range_scale(np.asarray(h, float), np.asarray(J, float), _check_range("h_range", h_range),
                        _check_range("j_range", j_range))


class ControlErrorComposite(dimod.ComposedSampler):
    """Sample a BQM the way a QPU with integrated control errors would realise it.

    Args:
        child: the dimod sampler that solves the perturbed problem.
        sigma_h, sigma_J: standard deviations of the Gaussian errors on h and J, in the scaled
            (QPU) units; 0 for none.
        h_range, j_range: the hardware ranges the Ising problem is scaled into.
        h_step, j_step: quantisation steps of h and J in the scaled units; None for none.

    Sample parameters: `seed` (None, an int or a numpy Generator) draws the errors, and the child's
    own seed when the child takes one; every other parameter goes to the child. A child that takes
    a `beta_range` and was given none gets one sized on the perturbed problem (without errors, it
    gets the caller's problem and parameters as they are). The returned
    sample set's info holds `scale` (the factor applied to the Ising problem), the sigmas, steps
    and ranges, `child_seed`, and `precision`: the `precision_report` of the problem as requested.
    """

    def __init__(self, child: dimod.Sampler, sigma_h: float = DEFAULT_SIGMA_H, sigma_J: float = DEFAULT_SIGMA_J,
                 h_range=DEFAULT_H_RANGE, j_range=DEFAULT_J_RANGE, h_step: float | None = None,
                 j_step: float | None = None):
        self._children = [child]
        self.sigma_h = check_sigma("sigma_h", sigma_h)
        self.sigma_J = check_sigma("sigma_J", sigma_J)
        self.h_range = _check_range("h_range", h_range)
        self.j_range = _check_range("j_range", j_range)
        self.h_step = _check_step("h_step", h_step)
        self.j_step = _check_step("j_step", j_step)

    @property
    def children(self) -> list:
        return self._children

    @property
    def parameters(self) -> dict:
        return {**self.child.parameters, "seed": []}

    @property
    def properties(self) -> dict:
        return dict(child_properties=self.child.properties.copy(), **self._model())

    def _model(self) -> dict:
        return dict(sigma_h=self.sigma_h, sigma_J=self.sigma_J, h_range=self.h_range, j_range=self.j_range,
                    h_step=self.h_step, j_step=self.j_step)

    def _errors(self, scaled: np.ndarray, step: float | None, sigma: float, rng: np.random.Generator) -> np.ndarray:
        """Realised minus requested coefficients, in the scaled units."""
        error = np.zeros_like(scaled)
        if step is not None:
            error += np.rint(scaled / step) * step - scaled
        if sigma > 0.0:
            error += rng.normal(0.0, sigma, size=scaled.shape)
        return error

    def _beta_range(self, perturbed: dimod.BinaryQuadraticModel, h: np.ndarray, J: np.ndarray) -> tuple[float, float]:
        """The child's geometric schedule, sized on the problem it actually samples (a schedule
        from the noiseless problem would be sized by coefficients the errors have replaced): its
        cold end ignores coefficients below the errors' sigma in the scaled units, which the QPU
        cannot resolve."""
        sigmas = [sigma for sigma in (self.sigma_h, self.sigma_J) if sigma > 0.0]
        largest = max(np.abs(h).max(initial=0.0), np.abs(J).max(initial=0.0))
        resolution = min(sigmas) / largest if sigmas and largest > 0.0 else 0.0
        return bqm_beta_range(perturbed, max(COEFFICIENT_REL_TOL, resolution))

    @dimod.decorators.nonblocking_sample_method
    def sample(self, bqm: dimod.BinaryQuadraticModel, seed=None, **parameters):
        rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
        # The child's seed comes first, so it does not depend on how many errors are drawn; below
        # 2^31 because dwave-samplers' SimulatedAnnealingSampler refuses larger ones.
        child_seed = int(rng.integers(2**31)) if seed is not None and "seed" in self.child.parameters else None
        if child_seed is not None:
            parameters["seed"] = child_seed

        ising = bqm.change_vartype(dimod.SPIN, inplace=False)
        h, (rows, cols, J), offset, labels = ising.to_numpy_vectors(return_labels=True)
        scale = _range_scale(h, J, self.h_range, self.j_range)
        h, J = h * scale, J * scale
        dh = self._errors(h, self.h_step, self.sigma_h, rng)
        dJ = self._errors(J, self.j_step, self.sigma_J, rng)

        perturbed = bqm
        if np.any(dh) or np.any(dJ):
            # The perturbed problem, back in the caller's units and vartype: with no error the
            # child gets the caller's BQM itself, not a rescaled round trip of it.
            perturbed = dimod.BinaryQuadraticModel.from_numpy_vectors(
                (h + dh) / scale, (rows, cols, (J + dJ) / scale), offset, dimod.SPIN,
                variable_order=labels).change_vartype(bqm.vartype, inplace=False)
            if "beta_range" in self.child.parameters and "beta_range" not in parameters:
                parameters["beta_range"] = self._beta_range(perturbed, h + dh, J + dJ)
        response = self.child.sample(perturbed, **parameters)
        yield response  # dimod's non-blocking protocol: done() is the child's

        vectors = {name: response.record[name] for name in response.record.dtype.names
                   if name not in ("sample", "energy", "num_occurrences")}
        ones_h, ones_J = np.ones(h.shape, dtype=np.int64), np.ones(J.shape, dtype=np.int64)
        precision = _precision(h, ones_h, J, ones_J, self.h_range, self.j_range, self.sigma_h, self.sigma_J,
                               SIGNIFICANT_REL_TOL)
        yield dimod.SampleSet.from_samples_bqm(
            (response.record.sample, response.variables), bqm,
            num_occurrences=response.record.num_occurrences,
            info=dict(response.info, scale=scale, child_seed=child_seed, precision=precision, **self._model()),
            **vectors)


# ---------------------------------------------------------------------------------------------
# Precision: what survives the scaling and the errors
# ---------------------------------------------------------------------------------------------

def _precision(h_values, h_counts, J_values, J_counts, h_range, j_range, sigma_h, sigma_J, rel_tol) -> dict:
    """The report from the Ising coefficients, each value standing for `counts` coefficients."""
    h_range, j_range = _check_range("h_range", h_range), _check_range("j_range", j_range)
    sigma_h, sigma_J = check_sigma("sigma_h", sigma_h), check_sigma("sigma_J", sigma_J)
    h_values, J_values = h_values[h_counts > 0], J_values[J_counts > 0]
    h_counts, J_counts = h_counts[h_counts > 0], J_counts[J_counts > 0]
    scale = _range_scale(h_values, J_values, h_range, j_range)

    def bits_and_fraction(values, counts, sigma):
        if not values.size:
            return 0.0, 0.0
        magnitudes = np.abs(values) * scale
        below = float(counts[magnitudes < sigma].sum() / counts.sum())
        if magnitudes.max() == 0.0:
            return 0.0, below
        significant = magnitudes[magnitudes >= rel_tol * magnitudes.max()]
        return float(np.log2(magnitudes.max() / significant.min())), below

    h_bits, h_below = bits_and_fraction(h_values, h_counts, sigma_h)
    J_bits, J_below = bits_and_fraction(J_values, J_counts, sigma_J)
    return dict(scale=float(scale), h_bits=h_bits, J_bits=J_bits, h_below_sigma=h_below, J_below_sigma=J_below,
                sigma_h=sigma_h, sigma_J=sigma_J)


def _class_qubo_ising(problem):
    """The Ising coefficients of a ClassQubo's dense QUBO from its structure, O(d^2 K) memory:
    (h, ones, J values, multiplicities). With p_k = 2^k the binary couplings are
    delta^2 H_jl p_k p_m, so J = delta^2/4 H_jl 2^t for every pair of bits whose exponents sum
    to t: all K^2 pairs (k, m) of two parameters j < l, the pairs k < m within one parameter."""
    H, delta, K = problem.curvature, problem.delta, problem.bits
    p = 2.0 ** np.arange(K)
    linear = problem.gradient + H @ problem.shift
    # h_(j,k) = Q_(j,k),(j,k) / 2 + 1/4 sum of the couplings of bit (j,k)
    diagonal = 0.5 * delta**2 * np.outer(np.diag(H), p**2) + delta * np.outer(linear, p)
    coupling_sums = 0.25 * delta**2 * (np.outer(H.sum(axis=1) * p.sum(), p) - np.outer(np.diag(H), p**2))
    h = (0.5 * diagonal + coupling_sums).ravel()

    sums = np.arange(2 * K - 1)
    across = np.minimum(sums, 2 * K - 2 - sums) + 1  # pairs (k, m) with k + m = t
    within = np.maximum(0, (sums + 1) // 2 - np.maximum(0, sums - K + 1))  # pairs k < m with k + m = t
    off = H[np.triu_indices_from(H, 1)]
    J = 0.25 * delta**2 * np.concatenate([np.outer(off, 2.0**sums).ravel(), np.outer(np.diag(H), 2.0**sums).ravel()])
    counts = np.concatenate([np.tile(across, off.size), np.tile(within, len(H))])
    return h, np.ones_like(h, dtype=np.int64), J, counts


def precision_report(problem, sigma_h: float = DEFAULT_SIGMA_H, sigma_J: float = DEFAULT_SIGMA_J,
                     h_range=DEFAULT_H_RANGE, j_range=DEFAULT_J_RANGE, rel_tol: float = SIGNIFICANT_REL_TOL) -> dict:
    """How much of a problem a QPU can represent, after scaling its Ising form into the ranges:
    {scale, h_bits, J_bits, h_below_sigma, J_below_sigma, sigma_h, sigma_J}.

    h_bits and J_bits are the dynamic ranges log2(largest / smallest significant magnitude),
    coefficients below rel_tol of the largest being round-off; h_below_sigma and J_below_sigma
    are the fractions of fields and couplers whose scaled magnitude is below the error's sigma
    (lost in the control errors). `problem` is a dimod BQM or a qubocnn ClassQubo; the latter is
    read from its structure, without building the dense n x n QUBO."""
    from .qubo import ClassQubo

    if isinstance(problem, ClassQubo):
        h, h_counts, J, J_counts = _class_qubo_ising(problem)
    elif isinstance(problem, dimod.BinaryQuadraticModel):
        h, (_, _, J), _ = problem.change_vartype(dimod.SPIN, inplace=False).to_numpy_vectors()
        h_counts, J_counts = np.ones(h.shape, dtype=np.int64), np.ones(J.shape, dtype=np.int64)
    else:
        raise TypeError(f"precision_report takes a dimod BQM or a qubocnn ClassQubo, got {type(problem).__name__}")
    return _precision(np.asarray(h, float), h_counts, np.asarray(J, float), J_counts, h_range, j_range,
                      sigma_h, sigma_J, rel_tol)
