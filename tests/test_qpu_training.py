"""Training for a QPU: clique-sized blocks, the control-error model as a solver, and the real
QPU path end to end through the command line on dwave-system's MockDWaveSampler."""

import math

import dimod
import numpy as np
import pytest
from dwave.samplers import SimulatedAnnealingSampler

from qubocnn import embedding, qpu, solvers
from qubocnn.cli import main
from qubocnn.qpu_noise import DEFAULT_SIGMA_J, ControlErrorComposite, hardware_scale
from qubocnn.qubo import to_bqm
from qubocnn.results import read_result
from qubocnn.train import TrainConfig, train_qubo_head

testing = pytest.importorskip("dwave.system.testing")


def fit(features, solver, **kwargs):
    config = TrainConfig(**{"iterations": 3, "solver": solver, **kwargs})
    f = features
    return train_qubo_head(f.x_train, f.y_train, f.x_test, f.y_test, f.num_classes, config, progress=False)


def without_timings(history):
    return [{k: v for k, v in record.items() if k != "solve_seconds"} for record in history]


@pytest.mark.parametrize("mode,noise", [("trust", False), ("box", True)])
def test_training_in_blocks_never_raises_the_loss(digits_features, mode, noise):
    solver = solvers.SolverConfig("sa", num_reads=2, num_sweeps=100, block_size=60, qpu_noise=noise)
    result = fit(digits_features, solver, mode=mode, bits=3, refinements=1)
    losses = [record["train_loss"] for record in result["history"]]
    assert all(b <= a + 1e-12 for a, b in zip(losses, losses[1:])), losses
    if mode == "trust":  # box mode's 3-bit grid (steps of 0.5) may hold no improving step at all
        assert losses[-1] < losses[0]
    blocks = math.ceil((digits_features.num_features + 1) / 20)  # 20 parameters of 3 bits per block of 60
    assert blocks > 1
    for record in result["history"][1:]:
        assert all(info["blocks"] == blocks for info in record["solver_info"])
        accepted = np.array(record["accepted"])
        assert np.all(np.array(record["energy"])[accepted] <= 0.0)


def test_noise_model_with_zero_sigma_trains_exactly_as_its_child(digits_features):
    # steepest descent from the current weights (warm start) is deterministic, whatever the seed
    runs = [fit(digits_features, solvers.SolverConfig("steepest", num_reads=1, qpu_noise=noisy, sigma_h=0.0,
                                                      sigma_J=0.0), mode="trust", bits=4, warm_start=True)
            for noisy in (False, True)]
    assert without_timings(runs[0]["history"]) == without_timings(runs[1]["history"])
    np.testing.assert_array_equal(runs[0]["W"], runs[1]["W"])


def test_noisy_child_anneals_no_colder_than_the_noise_resolves():
    """At K = 10 most couplers lie below the control errors; the child's schedule must not be sized
    by them (the noiseless problem's schedule would spend its sweeps frozen)."""
    problem = embedding.representative_qubo(8, 10)
    tracked = dimod.TrackingComposite(SimulatedAnnealingSampler())
    solver = solvers.DimodSolver(ControlErrorComposite(tracked), dict(num_reads=1, num_sweeps=10))
    solver.solve(problem, seed=0)
    hot, cold = tracked.input["beta_range"]
    resolution = DEFAULT_SIGMA_J / hardware_scale(to_bqm(problem))  # the J noise, in the caller's units
    assert hot < cold <= math.log(100) / resolution * (1 + 1e-9)
    assert cold < solvers.beta_range(problem)[1] / 100


def advantage_mock(**config):
    return testing.MockDWaveSampler(topology_type="pegasus", topology_shape=[16], parameter_warnings=False)


def test_train_on_a_mock_qpu_end_to_end(tmp_path, monkeypatch):
    """`qubocnn train --solver qpu`, as the `hardware` rule runs it, with MockDWaveSampler inside
    DWaveCliqueSampler: one sampler per run, every call logged, the budget in the result."""
    made = []

    def mock_qpu_sampler():
        made.append(1)
        return qpu_sampler(qpu_factory=advantage_mock)

    qpu_sampler = qpu.qpu_sampler
    monkeypatch.setattr(qpu, "qpu_sampler", mock_qpu_sampler)
    monkeypatch.setenv("DWAVE_API_TOKEN", "offline-test")  # the credential gate passes; nothing connects
    out = tmp_path / "qpu.json"
    # clique preset: d = 16, 17 parameters of 3 bits in blocks of at most 30 variables -> 2 blocks
    assert main(["train", "--dataset", "digits", "--preset", "clique", "--bits", "3", "--mode", "box",
                 "--solver", "qpu", "--reads", "10", "--iterations", "1", "--block-size", "30", "--no-progress",
                 "--out", str(out)]) == 0
    result = read_result(out)
    calls = result["num_classes"] * 2
    assert made == [1]
    assert result["blocks"] == dict(block_size=30, num_blocks=2, variables_per_call=30)
    assert result["qpu_budget"]["qpu_calls"] == calls and result["qpu_budget"]["num_reads"] == 10
    reported = result["qpu_reported"]
    assert reported["qpu_calls"] == calls and len(set(reported["problem_ids"])) == calls
    assert reported["qpu_access_time_s"] > 0 and 0.0 <= reported["max_chain_break_fraction"] <= 1.0
    infos = [block for info in result["history"][1]["solver_info"] for block in info["block_info"]]
    assert len(infos) == calls and all("timing" in info for info in infos)


def test_noise_model_runs_record_model_blocks_and_budget(tmp_path, caplog):
    caplog.set_level("INFO", logger="qubocnn")
    out = tmp_path / "noise.json"
    assert main(["train", "--dataset", "digits", "--bits", "2", "--mode", "trust", "--refinements", "1",
                 "--solver", "sa", "--reads", "2", "--sweeps", "50", "--iterations", "2", "--qpu-noise",
                 "--sigma-j", "0.02", "--block-size", "clique", "--no-progress", "--out", str(out)]) == 0
    result = read_result(out)
    assert result["qpu_noise"]["sigma_J"] == 0.02 and result["qpu_noise"]["sigma_h"] > 0
    clique = embedding.max_clique_size(embedding.DEFAULT_SYSTEM)
    assert result["blocks"]["block_size"] == clique and result["blocks"]["num_blocks"] == 1  # 130 variables fit
    budget = result["qpu_budget"]
    assert budget["qpu_calls"] == qpu.qpu_calls(result["num_classes"], 2, refinements=1)
    assert budget["qpu_access_time_s"] == pytest.approx(
        qpu.qpu_access_time(budget["qpu_calls"], 2, num_qubits=budget["physical_qubits"]) / 1e6)
    # the estimate logged before training is what the run then spent
    messages = [record.getMessage() for record in caplog.records]
    estimate = next(i for i, m in enumerate(messages) if m.startswith("QPU budget:"))
    assert estimate < next(i for i, m in enumerate(messages) if m.startswith("trained"))
    assert f"QPU budget: {budget['qpu_calls']} calls" in messages[estimate]
    assert f"about {budget['qpu_access_time_s']:.1f} s" in messages[estimate]
