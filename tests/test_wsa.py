"""The weight-space annealer: exact energies, ground states, determinism, same chain as dwave-samplers."""

import dimod
import numba
import numpy as np
import pytest
from scipy.stats import ks_2samp

from qubocnn.schedules import beta_range
from qubocnn.qubo import ClassQubo, box_encoding, to_bqm, trust_encoding
from qubocnn.surrogate import add_bias, boehning_curvature, gradient
from qubocnn.qubo import integers_to_bits
from qubocnn.wsa import WeightSpaceAnnealer, _anneal_kernel

from wsa_reference import reference_kernel


def make_problem(num_features, bits, mode="box", seed=0, cls=0, lam=1e-3):
    rng = np.random.default_rng(seed)
    X = add_bias(rng.standard_normal((200, num_features)))
    labels = rng.integers(0, 3, len(X))
    W = 0.1 * rng.standard_normal((num_features + 1, 3)) if mode == "trust" else np.zeros((num_features + 1, 3))
    H = boehning_curvature(X, lam)
    G = gradient(X, labels, W, lam)
    if mode == "box":
        encoding = box_encoding(num_features + 1, bits, 2.0)
    else:
        encoding = trust_encoding(W[:, cls], bits, 0.5)
    return ClassQubo(H, G[:, cls], W[:, cls], encoding)


def sample(problem, **kwargs):
    kwargs.setdefault("num_reads", 8)
    kwargs.setdefault("num_sweeps", 200)
    kwargs.setdefault("seed", 1)
    return WeightSpaceAnnealer().sample_problem(problem, **kwargs)


def samples_of(sampleset):
    order = np.argsort(np.asarray(list(sampleset.variables)))
    return sampleset.record.sample[:, order]


@pytest.mark.parametrize("mode", ["box", "trust"])
@pytest.mark.parametrize("bits", [1, 4, 10])
@pytest.mark.parametrize("moves", ["flip", "integer"])
def test_energies_match_dense_qubo(mode, bits, moves):
    problem = make_problem(6, bits, mode)
    ss = sample(problem, moves=moves)
    n = problem.num_variables
    assert list(ss.variables) == list(range(n))
    assert ss.record.sample.shape == (8, n)
    assert set(np.unique(ss.record.sample)) <= {0, 1}
    bqm = to_bqm(problem)
    dense = bqm.energies((ss.record.sample, range(n)))
    # the energy scale of the problem: random states (K=1 box answers can all be exactly zero)
    scale = np.abs(bqm.energies((np.random.default_rng(0).integers(0, 2, (20, n)), range(n)))).max()
    np.testing.assert_allclose(ss.record.energy, dense, rtol=1e-9, atol=1e-12 * scale)
    assert ss.info["moves"] == moves
    assert ss.info["beta_range"] == beta_range(problem)
    assert ss.info["timing"] > 0


def test_integers_to_bits_layout():
    bits = integers_to_bits(np.array([[5, 0, 15]]), 4)
    np.testing.assert_array_equal(bits, [[1, 0, 1, 0, 0, 0, 0, 0, 1, 1, 1, 1]])


@pytest.mark.parametrize("moves", ["flip", "integer"])
@pytest.mark.parametrize("mode", ["box", "trust"])
def test_reaches_exact_ground_state(moves, mode):
    problem = make_problem(2, 4, mode, seed=3)  # d+1 = 3, K = 4: n = 12
    ground = dimod.ExactSolver().sample(to_bqm(problem)).first.energy
    ss = sample(problem, num_reads=20, num_sweeps=500, seed=7, moves=moves)
    assert ss.first.energy == pytest.approx(ground, rel=1e-9, abs=1e-12)


def test_same_seed_same_samples_and_different_seed_differs():
    problem = make_problem(9, 8, "box")
    a = samples_of(sample(problem, seed=11))
    b = samples_of(sample(problem, seed=11))
    c = samples_of(sample(problem, seed=12))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


@pytest.mark.parametrize("moves", ["flip", "integer"])
def test_independent_of_thread_count(moves):
    if numba.config.NUMBA_NUM_THREADS < 2:
        pytest.skip("numba has a single thread here")
    problem = make_problem(9, 8, "trust")
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = samples_of(sample(problem, num_reads=7, seed=5, moves=moves))
        numba.set_num_threads(2)
        two = samples_of(sample(problem, num_reads=7, seed=5, moves=moves))
    finally:
        numba.set_num_threads(before)
    np.testing.assert_array_equal(one, two)


@pytest.mark.parametrize("moves", ["flip", "integer"])
@pytest.mark.parametrize("size, bits, mode", [(50, 20, "trust"), (194, 20, "trust"), (257, 12, "box")])
def test_deferred_field_updates_give_the_reference_integers(size, bits, mode, moves):
    """The kernel defers the O(d) field update to once per parameter and decides most Metropolis
    tests without exp; the kernel that updates the field after every accepted flip and calls exp
    must give the same final integers, bit for bit (250 sweeps cross a field refresh at 128)."""
    problem = make_problem(size - 1, bits, mode, seed=size)
    hot, cold = beta_range(problem)
    rng = np.random.default_rng(size)
    initial_v = np.full((4, size), -1, dtype=np.int64)
    initial_v[1] = rng.integers(0, 2**bits, size)  # one read from given integers, three from random bits
    args = (np.ascontiguousarray(problem.curvature), problem.gradient, problem.shift, float(problem.delta),
            np.int64(bits), np.geomspace(hot, cold, 250), initial_v, np.uint64(2**63 + size), moves == "integer")
    ours, reference = _anneal_kernel(*args), reference_kernel(*args)
    assert ours.shape == (4, size) and ours.min() >= 0 and ours.max() < 2**bits
    np.testing.assert_array_equal(ours, reference)
    assert not np.array_equal(ours[0], ours[2])  # reads are independent


@pytest.mark.parametrize("mode", ["box", "trust"])
def test_same_chain_as_dwave_samplers(mode):
    """Same QUBO, same schedule, same Metropolis single-flip chain: only the random numbers differ,
    so the final-energy distributions must agree (fixed seeds: deterministic, not flaky)."""
    from dwave.samplers import SimulatedAnnealingSampler

    problem = make_problem(9, 8, mode)  # d+1 = 10, K = 8: n = 80
    br = beta_range(problem)
    reads, sweeps = 300, 200
    ours = sample(problem, num_reads=reads, num_sweeps=sweeps, seed=3, beta_range=br).record.energy
    theirs = SimulatedAnnealingSampler().sample(
        to_bqm(problem), num_reads=reads, num_sweeps=sweeps, seed=3, beta_range=br,
        beta_schedule_type="geometric").record.energy
    g, H = problem.gradient, problem.curvature
    e_star = -0.5 * g @ np.linalg.solve(H, g)  # continuous optimum of the surrogate (a lower bound)
    assert ours.min() >= e_star - 1e-12 and theirs.min() >= e_star - 1e-12
    # median over 30 runs of 10 reads of the best energy: not worse by more than 5% of |E*|
    best_ours = np.median(ours.reshape(30, 10).min(axis=1))
    best_theirs = np.median(theirs.reshape(30, 10).min(axis=1))
    assert best_ours <= best_theirs + 0.05 * abs(e_star)
    # and the whole distribution of final energies is indistinguishable
    assert ks_2samp(ours, theirs).pvalue > 1e-3


@pytest.mark.parametrize("moves", ["flip", "integer"])
def test_cold_start_from_initial_bits_never_goes_up(moves):
    problem = make_problem(9, 10, "trust")
    rng = np.random.default_rng(0)
    start = rng.integers(0, 2, problem.num_variables).astype(np.int8)
    start_energy = problem.energies(start[None])[0]
    ss = sample(problem, num_reads=5, num_sweeps=2, beta_range=(1e9, 1e9), initial_bits=start, moves=moves)
    assert np.all(ss.record.energy <= start_energy + 1e-12 * abs(start_energy))
    assert ss.first.energy < start_energy  # a random start is never a local minimum here


def test_cold_sweep_from_a_local_minimum_stays_there():
    """An infinitely cold sweep from a previous run's answer never goes above it."""
    problem = make_problem(4, 6, "box")
    best = samples_of(sample(problem, num_reads=10, num_sweeps=500))[0]
    ss = sample(problem, num_reads=3, num_sweeps=1, beta_range=(1e12, 1e12), initial_bits=best)
    assert np.all(ss.record.energy <= problem.energies(best[None])[0] + 1e-15)


@pytest.mark.parametrize("kwargs", [
    dict(moves="swap"),
    dict(num_reads=0),
    dict(num_sweeps=0),
    dict(num_reads=2.5),
    dict(initial_bits=np.zeros(5, dtype=np.int8)),
    dict(initial_bits=np.full(30, 2, dtype=np.int8)),
    dict(initial_bits=np.zeros((3, 30), dtype=np.int8)),  # neither one row nor num_reads rows
    dict(beta_range=(0.0, 1.0)),
    dict(beta_range=(1.0,)),
    dict(seed=1.5),
])
def test_bad_input_raises(kwargs):
    problem = make_problem(4, 6, "box")  # n = 30
    with pytest.raises(ValueError):
        sample(problem, **kwargs)


def test_per_read_initial_bits_and_random_seed():
    problem = make_problem(4, 6, "box")
    starts = np.random.default_rng(1).integers(0, 2, (8, problem.num_variables))
    ss = sample(problem, num_sweeps=1, beta_range=(1e12, 1e12), initial_bits=starts)
    assert np.all(ss.record.energy <= problem.energies(starts) + 1e-15)
    unseeded = sample(problem, seed=None)
    assert 0 <= unseeded.info["seed"] < 2**64
    again = sample(problem, seed=unseeded.info["seed"])
    np.testing.assert_array_equal(samples_of(unseeded), samples_of(again))


def test_refuses_non_problem():
    with pytest.raises(ValueError):
        WeightSpaceAnnealer().sample_problem(np.eye(3))


def test_parameters_and_properties():
    sampler = WeightSpaceAnnealer()
    assert {"num_reads", "num_sweeps", "seed", "beta_range", "initial_bits", "moves"} <= set(sampler.parameters)
    assert sampler.properties["move_options"] == ("flip", "integer")
