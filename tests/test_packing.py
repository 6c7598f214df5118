"""Parallel annealing (qubocnn.packing): several class QUBOs per QPU call, on disjoint cliques of
MockDWaveSampler's Advantage graph, and the chained model in software. No test touches the network."""

import math

import dimod
import numpy as np
import pytest

from qubocnn import embedding, qpu
from qubocnn.cli import main
from qubocnn.packing import ParallelEmbeddingComposite, disjoint_union
from qubocnn.qpu_noise import ControlErrorComposite
from qubocnn.qubo import ClassQubo, trust_encoding
from qubocnn.results import read_result
from qubocnn.solver_factory import PackedSolver, make_solver
from qubocnn.solvers import DimodSolver, SolverConfig

testing = pytest.importorskip("dwave.system.testing")


def toy_problem(num_params, bits, seed):
    rng = np.random.default_rng(seed)
    A = rng.normal(size=(6 * num_params, num_params))
    H = A.T @ A / (12 * num_params) + 1e-3 * np.eye(num_params)
    g, anchor = 0.3 * rng.normal(size=num_params), 0.5 * rng.normal(size=num_params)
    return ClassQubo(H, g, anchor, trust_encoding(anchor, bits, 1.0))


def advantage_mock(**config):
    # seeded SA as the mock's stand-in (its default, steepest descent from random states, is unseeded
    # and on a chained problem stops short of the ground state now and then)
    from dwave.samplers import SimulatedAnnealingSampler
    return testing.MockDWaveSampler(topology_type="pegasus", topology_shape=[16], parameter_warnings=False,
                                    substitute_sampler=SimulatedAnnealingSampler(),
                                    substitute_kwargs=dict(seed=5, num_sweeps=2000))


@pytest.fixture(scope="module")
def mock():
    return advantage_mock()


def ground_energy(problem):
    return DimodSolver(dimod.ExactSolver()).solve(problem, 0).energy


@pytest.mark.parametrize("num_problems, pack", [(5, 2), (7, 3), (4, 4)])
def test_problems_go_in_ceil_c_over_p_calls_each_answer_as_if_alone(mock, num_problems, pack):
    problems = [toy_problem(3, 2, seed) for seed in range(num_problems)]  # 6 variables: exact ground states
    solver = PackedSolver(ParallelEmbeddingComposite(mock), dict(num_reads=20), pack=pack)
    answers = solver.solve_many(problems, list(range(num_problems)))
    assert solver.call_log.calls == math.ceil(num_problems / pack)
    assert len(set(solver.call_log.problem_ids)) == solver.call_log.calls
    # the mock (seeded SA, 20 reads) reaches the packed problem's ground state; unembedded, each is its own ground state
    for problem, answer in zip(problems, answers):
        assert answer.energy == pytest.approx(ground_energy(problem), abs=1e-9)
        assert answer.energy == pytest.approx(float(problem.energies(answer.bits)), abs=1e-12)
    alone = PackedSolver(ParallelEmbeddingComposite(mock), dict(num_reads=20), pack=1).solve_many(problems, [0] * num_problems)
    np.testing.assert_allclose([a.energy for a in answers], [a.energy for a in alone], atol=1e-9)


def test_one_scaling_per_call_is_reported_per_problem(mock):
    big, small = toy_problem(3, 2, 0), toy_problem(3, 2, 1)
    small = ClassQubo(small.curvature * 0.1, small.gradient * 0.1, small.anchor, small.encoding)
    solver = PackedSolver(ParallelEmbeddingComposite(mock), dict(num_reads=5), pack=2)
    solver.solve_many([big, small], [0, 1])
    shares = solver.call_log.range_shares
    assert len(shares) == 2 and max(shares) == pytest.approx(1.0) and min(shares) < 0.5


def test_a_packing_that_does_not_fit_is_refused_before_any_call(mock):
    fits = len(embedding.disjoint_clique_embeddings(150, 4))
    assert fits >= 1
    solver = PackedSolver(ParallelEmbeddingComposite(mock), dict(num_reads=5), pack=fits + 1)
    problem = toy_problem(75, 2, 0)  # 150 variables
    with pytest.raises(ValueError, match="do not fit on disjoint cliques"):
        solver.solve_many([problem] * (fits + 1), [0] * (fits + 1))
    assert solver.call_log.calls == 0
    with pytest.raises(ValueError, match="do not fit on disjoint cliques"):
        qpu.QpuPlan.of_training(74, 10, 2, 1, 0, 100, pack=fits + 1)


@pytest.mark.parametrize("strength", [0.0, -1.0, float("nan")])
def test_a_non_positive_chain_strength_is_refused(strength):
    with pytest.raises(ValueError, match="chain strength must be positive"):
        SolverConfig(name="sa", qpu_chains=True, chain_strength=strength)
    with pytest.raises(ValueError, match="chain prefactor must be positive"):
        SolverConfig(name="sa", qpu_chains=True, chain_prefactor=strength)


def test_chain_strength_follows_the_prefactor_or_the_value_given():
    problems = [toy_problem(4, 2, seed) for seed in range(2)]
    strengths = {}
    for label, options in (("default", {}), ("double", dict(chain_prefactor=2 * 1.414)),
                           ("fixed", dict(chain_strength=0.7))):
        solver = make_solver(SolverConfig(name="sa", num_reads=2, num_sweeps=20, qpu_chains=True, pack=0, **options))
        solver.solve_many(problems, [0, 1])
        strengths[label] = np.array(solver.call_log.chain_strengths)
    np.testing.assert_allclose(strengths["double"], 2 * strengths["default"])
    np.testing.assert_allclose(strengths["fixed"], 0.7)


def test_plan_counts_packed_calls_and_their_qubits():
    plan = qpu.QpuPlan.of_training(16, 10, 2, 30, 6, 100, block_size=180, pack=0)  # digits default, trust K=2
    fits = len(embedding.disjoint_clique_embeddings(34, 10))
    assert plan.problems_per_call == min(10, fits)
    assert plan.num_calls == math.ceil(10 / plan.problems_per_call) * 30 * 7
    alone = qpu.QpuPlan.of_training(16, 10, 2, 30, 6, 100, block_size=180)
    assert alone.num_calls == 2100
    # fewer calls; more qubits read per call, so each call costs more, but far less than p calls
    assert plan.budget()["physical_qubits"] > alone.budget()["physical_qubits"]
    per_call, per_call_alone = plan.budget()["per_call_us"], alone.budget()["per_call_us"]
    assert per_call_alone < per_call < plan.problems_per_call * per_call_alone


def test_chained_model_unembeds_by_majority_vote_and_records_breaks():
    from dwave.samplers import SimulatedAnnealingSampler

    problems = [toy_problem(4, 2, seed) for seed in range(3)]
    config = SolverConfig(name="sa", num_reads=20, num_sweeps=500, qpu_noise=True, qpu_chains=True, pack=0)
    solver = make_solver(config)
    assert isinstance(solver.composite.child, ControlErrorComposite)
    assert isinstance(solver.composite.child.child, SimulatedAnnealingSampler)
    answers = solver.solve_many(problems, [0, 1, 2])
    assert solver.call_log.calls == 1
    fraction = solver.call_log.summary()["mean_chain_break_fraction"]
    assert 0.0 <= fraction <= 1.0
    for problem, answer in zip(problems, answers):
        assert answer.energy == pytest.approx(float(problem.energies(answer.bits)), abs=1e-12)
        assert "chain_break_fraction" in answer.info


def test_packed_training_runs_end_to_end_on_a_mock_qpu(tmp_path, monkeypatch):
    """`qubocnn train --solver qpu --pack 0`: all classes of a round in one call per block."""
    qpu_sampler = qpu.qpu_sampler
    monkeypatch.setattr(qpu, "qpu_sampler", lambda: qpu_sampler(qpu_factory=advantage_mock))
    monkeypatch.setenv("DWAVE_API_TOKEN", "offline-test")  # the credential gate passes; nothing connects
    out = tmp_path / "qpu.json"
    assert main(["train", "--dataset", "digits", "--preset", "clique", "--bits", "2", "--mode", "trust",
                 "--refinements", "1", "--solver", "qpu", "--reads", "10", "--iterations", "2", "--block-size",
                 "clique", "--pack", "0", "--no-progress", "--out", str(out)]) == 0
    result = read_result(out)
    calls = 2 * 2  # 10 classes of 34 variables fit in one call; 2 iterations x (1 + 1 refinement)
    assert result["qpu_budget"]["qpu_calls"] == calls and result["qpu_budget"]["problems_per_call"] == 10
    reported = result["qpu_reported"]
    assert reported["qpu_calls"] == calls and len(set(reported["problem_ids"])) == calls
    losses = [record["train_loss"] for record in result["history"]]
    assert np.all(np.diff(losses) <= 1e-12)  # the loss never rises, packed or not


def test_bad_packing_options_exit_2_with_one_line(capsys):
    assert main(["train", "--dataset", "digits", "--solver", "wsa", "--pack", "2", "--no-progress",
                 "--out", "/tmp/never.json"]) == 2
    assert "--pack" in capsys.readouterr().err


def test_disjoint_cliques_are_kept_on_disk_and_a_bad_cache_file_is_found_again(tmp_path, monkeypatch):
    monkeypatch.setenv("QUBOCNN_CACHE", str(tmp_path))
    embedding._disjoint_cliques.cache_clear()
    found = embedding.disjoint_clique_embeddings(34, 3)
    (stored,) = (tmp_path / "disjoint_cliques").iterdir()
    embedding._disjoint_cliques.cache_clear()
    assert embedding.disjoint_clique_embeddings(34, 3) == found  # read back from the file
    # a file that does not hold disjoint chains (a truncated write, an edit) is not trusted
    chains = [[[0]] * 34] * 3
    for text in ("{not json", "[]", str(chains).replace("'", '"')):
        stored.write_text(text)
        embedding._disjoint_cliques.cache_clear()
        assert embedding.disjoint_clique_embeddings(34, 3) == found
    embedding._disjoint_cliques.cache_clear()
    qubits = [q for emb in found for chain in emb.values() for q in chain]
    assert len(found) == 3 and len(set(qubits)) == len(qubits)


def test_a_disjoint_union_is_the_models_added_one_by_one_and_overlaps_are_refused():
    rng = np.random.default_rng(3)
    parts = [dimod.BQM(rng.normal(size=(5, 5)), "BINARY", offset=rng.normal()) for _ in range(3)]
    parts = [p.relabel_variables({v: (i, v) for v in p.variables}, inplace=False) for i, p in enumerate(parts)]
    parts.append(dimod.BQM({("s", 0): 0.5}, {(("s", 0), ("s", 1)): -1.0}, 0.25, "SPIN"))
    added = dimod.BQM("BINARY")
    for part in parts:
        added.update(part)
    union = disjoint_union(parts, dimod.BINARY)
    assert list(union.variables) == list(added.variables) and union == added
    assert union.offset == added.offset
    with pytest.raises(ValueError, match="disjoint"):
        disjoint_union(parts[:2] + parts[:1], dimod.BINARY)
