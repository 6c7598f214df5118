import numpy as np
import pytest

from qubocnn.anneal import SolverConfig
from qubocnn.baselines import fit_baseline
from qubocnn.train import TrainConfig, next_half_ranges, train_qubo_head

FAST_SA = SolverConfig("sa", num_reads=2, num_sweeps=100)


def fit(features, **kwargs):
    config = TrainConfig(**{"iterations": 4, "solver": FAST_SA, **kwargs})
    f = features
    return train_qubo_head(f.x_train, f.y_train, f.x_test, f.y_test, f.num_classes, config, progress=False)


@pytest.mark.parametrize("mode,bits", [("box", 5), ("box", 10), ("trust", 5), ("trust", 10), ("continuous", 10)])
def test_training_loss_never_rises(digits_features, mode, bits):
    result = fit(digits_features, mode=mode, bits=bits)
    losses = [record["train_loss"] for record in result["history"]]
    assert len(losses) == 5
    assert all(b <= a + 1e-12 for a, b in zip(losses, losses[1:])), losses
    if mode != "box":  # trust and continuous always make progress from W = 0
        assert losses[-1] < 0.8 * losses[0]


def test_history_records_energies_gaps_and_acceptance(digits_features):
    result = fit(digits_features, mode="trust", bits=8)
    record = result["history"][1]
    C = digits_features.num_classes
    for key in ("energy", "continuous_optimum", "relative_gap", "accepted", "on_edge", "solve_seconds", "half_range"):
        assert len(record[key]) == C
    # the continuous optimum is a lower bound of every QUBO answer, and rejected answers are the ones above 0
    assert all(e >= o - 1e-12 for e, o in zip(record["energy"], record["continuous_optimum"]))
    assert all(g >= -1e-9 for g in record["relative_gap"])
    assert record["accepted"] == [e <= 0 for e in record["energy"]]


def test_parallel_jobs_give_the_same_head(digits_features):
    one = fit(digits_features, mode="trust", bits=6, iterations=2, jobs=1)
    two = fit(digits_features, mode="trust", bits=6, iterations=2, jobs=2)
    np.testing.assert_array_equal(one["W"], two["W"])


def test_continuous_mm_converges_to_logistic_regression(digits_features):
    """Both minimise the same L: the MM path approaches logreg's loss from above (slowly, since
    Boehning's bound is loose) and never goes below it."""
    f = digits_features
    logreg = fit_baseline("logreg", f.x_train, f.y_train, f.x_test, f.y_test, f.num_classes, 1e-3, progress=False)
    losses = np.array([r["train_loss"] for r in fit(f, mode="continuous", iterations=200, accelerate=False)["history"]])
    gaps = losses - logreg["train_loss"]
    assert np.all(gaps >= -1e-6)
    assert gaps[200] < 0.5 * gaps[100] and gaps[100] < 0.6 * gaps[50]
    assert gaps[200] < 0.015
    # MFISTA momentum (the default in continuous and trust mode) gets there in far fewer iterations
    fast = fit(f, mode="continuous", iterations=40)
    assert all(r["step_taken"] for r in fast["history"][1:])
    fast_gaps = np.array([r["train_loss"] for r in fast["history"]]) - logreg["train_loss"]
    assert np.all(fast_gaps >= -1e-6)
    assert fast_gaps[20] < 0.5 * gaps[20] and fast_gaps[40] < gaps[200]


def test_mode_defaults_keep_box_literal():
    box, trust = TrainConfig(mode="box"), TrainConfig(mode="trust")
    assert (box.accelerated, box.num_refinements) == (False, 0)
    assert trust.accelerated and trust.num_refinements == 6
    assert TrainConfig(mode="box", accelerate=True, refinements=2).num_refinements == 2


def test_without_momentum_every_candidate_is_taken(digits_features):
    """Plain MM: majorisation alone guarantees the loss does not rise, so no candidate is refused."""
    result = fit(digits_features, mode="trust", bits=6, iterations=3, accelerate=False, refinements=0)
    assert all(r["step_taken"] for r in result["history"][1:])


def test_trust_half_ranges_follow_each_class():
    half = np.array([1.0, 1.0, 1.0, 4.0])
    accepted = np.array([True, True, False, True])
    on_edge = np.array([True, False, True, True])
    np.testing.assert_array_equal(next_half_ranges(half, accepted, on_edge, 4.0), [2.0, 0.5, 0.5, 4.0])


def test_baselines_on_the_same_features(digits_features):
    f = digits_features
    results = {m: fit_baseline(m, f.x_train, f.y_train, f.x_test, f.y_test, f.num_classes, 1e-3, seed=0,
                               progress=False, **({"epochs": 5} if m == "sgd" else {})) for m in ("sgd", "logreg", "ridge")}
    assert results["logreg"]["train_loss"] <= results["sgd"]["train_loss"] + 1e-9
    for result in results.values():
        assert result["test_accuracy"] > 0.85
    again = fit_baseline("sgd", f.x_train, f.y_train, f.x_test, f.y_test, f.num_classes, 1e-3, seed=0,
                         progress=False, epochs=5)
    np.testing.assert_array_equal(again["W"], results["sgd"]["W"])


def test_bad_configuration_refused(digits_features):
    with pytest.raises(ValueError, match="unknown mode"):
        TrainConfig(mode="diagonal")
    with pytest.raises(ValueError, match="1..32"):
        TrainConfig(bits=0)
    f = digits_features
    x_bad = f.x_train.copy()
    x_bad[3, 2] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        train_qubo_head(x_bad, f.y_train, f.x_test, f.y_test, f.num_classes, TrainConfig(), progress=False)


def test_refinements_never_worsen_the_answer(digits_features):
    plain = fit(digits_features, mode="trust", bits=6, iterations=1, refinements=0)
    refined = fit(digits_features, mode="trust", bits=6, iterations=1, refinements=2)
    before, after = np.array(plain["history"][1]["energy"]), np.array(refined["history"][1]["energy"])
    assert np.all(after <= before + 1e-15) and np.any(after < before)
    assert refined["train_loss"] <= plain["history"][0]["train_loss"]
