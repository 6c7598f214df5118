"""The QPU control-error model: dimod's own sampler and composite suites, the zero-noise
identity with its child, and the error statistics in the QPU's units."""

import unittest

import dimod
import dimod.testing
import numpy as np
import pytest
from dwave.samplers import SimulatedAnnealingSampler

from qubocnn.qpu_noise import ControlErrorComposite, hardware_scale


class RecordingSampler(dimod.Sampler):
    """Returns one all-up sample and keeps the BQM it was asked to sample."""

    parameters: dict = {}
    properties: dict = {}

    def sample(self, bqm, **kwargs):
        self.received = bqm
        up = 1 if bqm.vartype is dimod.BINARY else +1
        return dimod.SampleSet.from_samples_bqm({v: up for v in bqm.variables}, bqm)


def random_bqm(n, vartype, seed):
    rng = np.random.default_rng(seed)
    linear = {i: rng.normal() for i in range(n)}
    quadratic = {(i, j): rng.normal() for i in range(n) for j in range(i + 1, n)}
    return dimod.BinaryQuadraticModel(linear, quadratic, rng.normal(), vartype)


def realised_minus_requested(bqm, composite, seed):
    """The errors the child saw, in the QPU's (scaled Ising) units."""
    sampleset = composite.sample(bqm, seed=seed)
    scale = sampleset.info["scale"]
    requested = bqm.change_vartype(dimod.SPIN, inplace=False)
    realised = composite.child.received.change_vartype(dimod.SPIN, inplace=False)
    h = np.array([realised.linear[v] - requested.linear[v] for v in bqm.variables]) * scale
    J = np.array([realised.quadratic[u, v] - bias for (u, v), bias in requested.quadratic.items()]) * scale
    return h, J


@dimod.testing.load_sampler_bqm_tests(lambda: ControlErrorComposite(dimod.ExactSolver()), max_num_variables=8)
class TestDimodSamplerSuite(unittest.TestCase):
    pass


def test_dimod_api():
    composite = ControlErrorComposite(SimulatedAnnealingSampler())
    dimod.testing.assert_sampler_api(composite)
    dimod.testing.assert_composite_api(composite)
    assert "seed" in composite.parameters and "num_sweeps" in composite.parameters


@pytest.mark.parametrize("vartype", [dimod.BINARY, dimod.SPIN])
def test_zero_noise_returns_exactly_the_childs_samples(vartype):
    bqm = random_bqm(12, vartype, seed=1)
    child = SimulatedAnnealingSampler()
    options = dict(num_reads=16, num_sweeps=50)
    noiseless = ControlErrorComposite(child, sigma_h=0.0, sigma_J=0.0).sample(bqm, seed=7, **options)
    direct = child.sample(bqm, seed=noiseless.info["child_seed"], **options)
    np.testing.assert_array_equal(noiseless.record.sample, direct.record.sample)
    np.testing.assert_array_equal(noiseless.record.num_occurrences, direct.record.num_occurrences)
    # energies are recomputed under the caller's BQM, the child's own sum may differ in the last bit
    np.testing.assert_allclose(noiseless.record.energy, direct.record.energy, rtol=1e-14)
    assert noiseless.variables == direct.variables


def test_energies_are_those_of_the_original_problem():
    bqm = random_bqm(10, dimod.BINARY, seed=2)
    sampleset = ControlErrorComposite(SimulatedAnnealingSampler(), sigma_h=0.3, sigma_J=0.3).sample(
        bqm, seed=0, num_reads=8, num_sweeps=20)
    np.testing.assert_allclose(sampleset.record.energy, bqm.energies(sampleset), rtol=1e-12, atol=1e-12)


def test_errors_have_the_requested_spread_in_qpu_units():
    composite = ControlErrorComposite(RecordingSampler(), sigma_h=0.02, sigma_J=0.015)
    bqm = random_bqm(80, dimod.BINARY, seed=3)  # 80 fields, 3160 couplers
    h, J = realised_minus_requested(bqm, composite, seed=11)
    assert abs(np.mean(J)) < 3 * 0.015 / np.sqrt(len(J))
    assert np.std(J) == pytest.approx(0.015, rel=0.05)
    assert np.std(h) == pytest.approx(0.02, rel=0.25)


def test_errors_scale_with_the_problem_like_the_qpus_auto_scale():
    """A problem and twice that problem are the same problem to a QPU: the errors in the
    caller's units double, so the realised problems are proportional."""
    composite = ControlErrorComposite(RecordingSampler())
    bqm = random_bqm(15, dimod.SPIN, seed=4)
    composite.sample(bqm, seed=5)
    once = composite.child.received
    twice_bqm = bqm.copy()
    twice_bqm.scale(2.0)
    composite.sample(twice_bqm, seed=5)
    twice = composite.child.received
    for v in bqm.variables:
        assert twice.linear[v] == pytest.approx(2 * once.linear[v], rel=1e-12)
    for (u, v), bias in once.quadratic.items():
        assert twice.quadratic[u, v] == pytest.approx(2 * bias, rel=1e-12)


def test_seed_reproduces_and_distinguishes_the_draws():
    composite = ControlErrorComposite(RecordingSampler())
    bqm = random_bqm(10, dimod.BINARY, seed=6)
    a = realised_minus_requested(bqm, composite, seed=1)
    b = realised_minus_requested(bqm, composite, seed=1)
    c = realised_minus_requested(bqm, composite, seed=2)
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.allclose(a[1], c[1])


def test_quantisation_puts_coefficients_on_the_grid():
    composite = ControlErrorComposite(RecordingSampler(), sigma_h=0.0, sigma_J=0.0, h_step=0.01, j_step=0.005)
    bqm = random_bqm(12, dimod.BINARY, seed=7)
    sampleset = composite.sample(bqm, seed=0)
    realised = composite.child.received.change_vartype(dimod.SPIN, inplace=False)
    realised.scale(sampleset.info["scale"])
    h = np.array(list(realised.linear.values()))
    J = np.array(list(realised.quadratic.values()))
    np.testing.assert_allclose(h / 0.01, np.rint(h / 0.01), atol=1e-6)
    np.testing.assert_allclose(J / 0.005, np.rint(J / 0.005), atol=1e-6)
    assert np.max(np.abs(J)) == pytest.approx(1.0) or np.max(np.abs(h)) == pytest.approx(4.0)


def test_scale_fills_the_tighter_range():
    bqm = dimod.BinaryQuadraticModel({"a": 8.0, "b": 0.0}, {("a", "b"): 0.5}, 0.0, dimod.SPIN)
    assert hardware_scale(bqm) == pytest.approx(0.5)  # h = 8 -> 4 binds before J = 0.5 -> 0.25
    bqm = dimod.BinaryQuadraticModel({"a": 1.0}, {("a", "b"): -4.0}, 0.0, dimod.SPIN)
    assert hardware_scale(bqm) == pytest.approx(0.25)  # J = -4 -> -1 binds


@pytest.mark.parametrize("kwargs, match", [
    (dict(sigma_h=-0.01), "sigma_h must be >= 0"),
    (dict(sigma_J=float("nan")), "sigma_J must be >= 0"),
    (dict(h_range=(1, 4)), "h_range must be a pair"),
    (dict(j_range=(-1,)), "j_range must be a pair"),
    (dict(j_step=0), "j_step must be a positive"),
])
def test_bad_model_parameters_are_refused(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ControlErrorComposite(dimod.ExactSolver(), **kwargs)
