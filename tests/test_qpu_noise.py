"""The QPU control-error model: dimod's own sampler and composite suites, the zero-noise
identity with its child, and the error statistics in the QPU's units."""

import unittest

import dimod
import dimod.testing
import numpy as np
import pytest
from dwave.samplers import SimulatedAnnealingSampler

from qubocnn.qpu_noise import ControlErrorComposite, hardware_scale, precision_report
from qubocnn.qubo import ClassQubo, box_encoding, to_bqm, trust_encoding


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


# ---------------------------------------------------------------------------------------------
# Precision report
# ---------------------------------------------------------------------------------------------

def test_precision_of_a_hand_made_problem():
    bqm = dimod.BinaryQuadraticModel({"a": 4.0, "b": 0.5, "c": 1e-12},
                                     {("a", "b"): 1.0, ("b", "c"): 0.25, ("a", "c"): 0.001}, 0.0, dimod.SPIN)
    report = precision_report(bqm, sigma_h=0.02, sigma_J=0.015)
    assert report["scale"] == 1.0  # h = 4 and J = 1 both sit on their range boundary already
    assert report["h_bits"] == pytest.approx(3.0)  # 4 / 0.5; 1e-12 is round-off
    assert report["J_bits"] == pytest.approx(np.log2(1000.0))
    assert report["h_below_sigma"] == pytest.approx(1 / 3) and report["J_below_sigma"] == pytest.approx(1 / 3)
    bqm.scale(10.0)  # the QPU scales it back: nothing changes but the factor
    scaled = precision_report(bqm, sigma_h=0.02, sigma_J=0.015)
    assert scaled["scale"] == pytest.approx(0.1)
    assert {k: scaled[k] for k in ("h_bits", "J_bits", "h_below_sigma", "J_below_sigma")} == pytest.approx(
        {k: report[k] for k in ("h_bits", "J_bits", "h_below_sigma", "J_below_sigma")})


@pytest.mark.parametrize("bits", [2, 3, 5, 8])
def test_fixed_point_couplers_span_2k_minus_4_bits_with_uncoupled_parameters(bits):
    """H = I: only the bits of one parameter couple, with delta^2 2^(k+m), k < m: from 2^1 to
    2^(2K-3), a range of 2K - 4 bits whatever delta and the gradient are."""
    problem = ClassQubo(np.eye(3), np.array([0.3, -0.2, 0.1]), np.zeros(3), box_encoding(3, bits, 2.0))
    assert precision_report(problem)["J_bits"] == pytest.approx(2 * bits - 4)


@pytest.mark.parametrize("bits, make", [(1, "box"), (3, "box"), (4, "trust"), (6, "trust")])
def test_structured_report_equals_the_dense_bqms(bits, make):
    rng = np.random.default_rng(bits)
    A = rng.normal(size=(40, 5))
    H = A.T @ A / 80 + 1e-3 * np.eye(5)
    g, anchor = rng.normal(size=5) * 0.1, rng.normal(size=5) * 0.3
    encoding = box_encoding(5, bits, 2.0) if make == "box" else trust_encoding(anchor, bits, 1.0)
    problem = ClassQubo(H, g, anchor, encoding)
    for sigmas in [dict(sigma_h=0.02, sigma_J=0.015), dict(sigma_h=0.2, sigma_J=0.1)]:
        assert precision_report(problem, **sigmas) == pytest.approx(precision_report(to_bqm(problem), **sigmas))


def test_precision_report_refuses_other_inputs():
    with pytest.raises(TypeError, match="dimod BQM or a qubocnn ClassQubo"):
        precision_report(np.eye(3))
    with pytest.raises(ValueError, match="sigma_J must be >= 0"):
        precision_report(dimod.BinaryQuadraticModel("SPIN"), sigma_J=-1)
