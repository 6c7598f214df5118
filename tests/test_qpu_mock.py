"""The real QPU code path without hardware: dwave-system's MockDWaveSampler stands in for the
DWaveSampler inside DWaveCliqueSampler, so embedding, range scaling, chains and unembedding
all run as in the `hardware` rule. No test touches the network."""

import json

import numpy as np
import pytest

from qubocnn import embedding, qpu
from qubocnn.blocks import solve_in_blocks, solver_solve_fn
from qubocnn.solvers import DimodSolver
from qubocnn.qubo import to_bqm

testing = pytest.importorskip("dwave.system.testing")


def advantage_mock(**config):
    """A mock of the perfect-yield Advantage graph (Pegasus P16) that embedding.SYSTEMS describes."""
    return testing.MockDWaveSampler(topology_type="pegasus", topology_shape=[16], parameter_warnings=False)


@pytest.fixture(scope="module")
def mock_qpu():
    """Made once, as a training run makes its sampler once."""
    return qpu.qpu_sampler(qpu_factory=advantage_mock)


@pytest.mark.parametrize("bits", [2, 3, 5])
def test_clique_path_runs_end_to_end_on_a_mock_advantage(no_credentials, mock_qpu, bits):
    problem = embedding.representative_qubo(16, bits)  # the clique preset's d = 16 on digits-like data
    bqm = to_bqm(problem)
    sampleset = mock_qpu.sample(bqm, **qpu.QPU_DEFAULTS)
    log = qpu.QpuCallLog()
    record = log.add(sampleset)

    # answers over the logical variables, with the logical QUBO's energy = the class surrogate
    assert set(sampleset.variables) == set(range(problem.num_variables))
    bits_read = sampleset.record.sample[:, np.argsort(list(sampleset.variables))]
    np.testing.assert_allclose(sampleset.record.energy, problem.energies(bits_read), rtol=1e-9, atol=1e-12)
    # what a run records of each call
    assert record["problem_id"] and record["qpu_access_time_us"] > 0
    assert 0.0 <= record["chain_break_fraction"] <= 1.0
    summary = log.summary()
    json.dumps(summary)
    assert summary["qpu_calls"] == 1 and summary["problem_ids"] == [record["problem_id"]]


def test_mock_advantage_has_the_clique_size_the_embedding_code_measures(mock_qpu):
    """DWaveCliqueSampler's own largest clique on the mock equals embedding.max_clique_size, so
    blocks sized by the latter embed on the former."""
    assert mock_qpu.largest_clique_size == embedding.max_clique_size(embedding.DEFAULT_SYSTEM)


def test_blocks_run_through_the_mock_qpu_and_never_raise_the_surrogate(no_credentials, mock_qpu):
    problem = embedding.representative_qubo(16, 5)  # 85 variables, in blocks of at most 40
    log = qpu.QpuCallLog()
    solution = solve_in_blocks(problem, solver_solve_fn(DimodSolver(mock_qpu, dict(qpu.QPU_DEFAULTS), call_log=log)), block_size=40)
    assert solution.calls == log.calls == 3  # 17 parameters of 5 bits, 8 per block
    assert len(set(log.summary()["problem_ids"])) == 3
    assert np.all(np.diff(solution.history) <= 0)


def test_default_route_builds_the_clique_sampler_around_dwave_sampler(no_credentials, monkeypatch):
    """Without a factory qpu_sampler needs a token and builds DWaveCliqueSampler, whose
    DWaveSampler is replaced here the way dwave-system's own tests do."""
    from dwave.system.samplers import clique

    with pytest.raises(qpu.HardwareError, match="DWAVE_API_TOKEN"):
        qpu.qpu_sampler()
    monkeypatch.setenv("DWAVE_API_TOKEN", "DEV-not-a-real-token")
    monkeypatch.setattr(clique, "DWaveSampler", advantage_mock)
    sampler = qpu.qpu_sampler()
    assert isinstance(sampler, clique.DWaveCliqueSampler)
    sampleset = sampler.sample(to_bqm(embedding.representative_qubo(16, 2)), **qpu.QPU_DEFAULTS)
    assert qpu.QpuCallLog().add(sampleset)["problem_id"]
