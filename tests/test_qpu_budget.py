"""The QPU budget of a run: D-Wave's timing model and the count of QPU calls."""

import pytest

from qubocnn import qpu


def test_access_time_of_a_known_case():
    # 100 calls of 100 reads: 15 ms programming each, then 100 x (20 + 200 + 20) us of sampling
    total = qpu.qpu_access_time(100, 100, annealing_time_us=20.0, programming_time_us=15000.0,
                               readout_time_us=200.0, delay_us=20.0)
    assert total == pytest.approx(100 * (15000.0 + 100 * 240.0))  # 3.9 s


def test_calls_of_a_training_run():
    # digits: 10 classes, 30 iterations, trust mode with 6 refinements, 3 blocks per QUBO
    assert qpu.qpu_calls(10, 30, refinements=6, calls_per_qubo=3) == 10 * 30 * 7 * 3
    assert qpu.qpu_calls(10, 10) == 100


def test_estimate_agrees_with_dwave_cloud_clients_own_estimator():
    """Our copy of the Advantage 4.1 timing data and readout model gives the estimate that
    dwave-cloud-client's StructuredSolver.estimate_qpu_access_time gives from the same data."""
    mocks = pytest.importorskip("dwave.cloud.testing.mocks")
    from dwave.cloud.solver import StructuredSolver

    data = mocks.qpu_problem_timing_data("advantage")
    assert qpu.ADVANTAGE41_PROGRAMMING_US == data["typical_programming_time"] + data["default_programming_thermalization"]
    assert qpu.ADVANTAGE41_DELAY_US == data["qpu_delay_time_per_sample"]
    solver = type("TimingOnly", (), {"properties": {"problem_timing_data": data}})()
    for qubits, reads, anneal in [(17 * 180, 100, 20.0), (40, 10, 5.0), (5000, 1000, 200.0)]:
        theirs = StructuredSolver.estimate_qpu_access_time(solver, num_qubits=qubits, num_reads=reads,
                                                           annealing_time=anneal)
        assert qpu.qpu_access_time(1, reads, anneal, num_qubits=qubits) == pytest.approx(theirs, rel=1e-9)


def test_budget_record_of_the_clique_preset():
    budget = qpu.qpu_budget(num_calls=100, variables_per_call=17 * 10, num_reads=100)
    assert budget["physical_qubits"] >= 170 and budget["qpu_calls"] == 100
    assert budget["qpu_access_time_s"] == pytest.approx(100 * budget["per_call_us"] / 1e6)
    assert 15_000 < budget["per_call_us"] < 60_000  # programming ~15 ms + 100 reads of < 300 us


@pytest.mark.parametrize("call, match", [
    (lambda: qpu.qpu_access_time(1, 0, readout_time_us=1.0), "num_reads >= 1"),
    (lambda: qpu.qpu_access_time(1, 10), "give readout_time_us or num_qubits"),
    (lambda: qpu.qpu_access_time(1, 10, delay_us=-1.0, readout_time_us=1.0), "must be >= 0"),
    (lambda: qpu.qpu_calls(10, 0), "iterations"),
    (lambda: qpu.qpu_budget(1, 400), "does not embed"),
])
def test_bad_budget_input_is_refused(call, match):
    with pytest.raises(ValueError, match=match):
        call()
