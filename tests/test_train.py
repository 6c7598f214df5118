import dimod
import numpy as np
import pytest
from dwave.samplers import SimulatedAnnealingSampler

from qubocnn.solvers import SolverConfig
from qubocnn.baselines import fit_baseline
from qubocnn.train import MonotoneFista, TrainConfig, next_half_ranges, train_qubo_head

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


def test_parallel_jobs_work_after_an_in_process_wsa_run(digits_features):
    """numba's threads once broke a forked process pool; the classes now run in threads over the
    nogil kernel, in any process."""
    wsa = SolverConfig("wsa", num_reads=2, num_sweeps=30)
    one = fit(digits_features, mode="trust", bits=5, iterations=2, jobs=1, solver=wsa)
    two = fit(digits_features, mode="trust", bits=5, iterations=2, jobs=2, solver=wsa)
    np.testing.assert_array_equal(one["W"], two["W"])


def test_a_users_sampler_gets_its_reads_and_warm_starts_in_parallel_jobs(digits_features):
    f = digits_features
    tracked = dimod.TrackingComposite(SimulatedAnnealingSampler())
    config = TrainConfig(bits=3, iterations=2, refinements=0, warm_start=True, jobs=2)
    result = train_qubo_head(f.x_train, f.y_train, f.x_test, f.y_test, f.num_classes, config, sampler=tracked,
                             sample_kwargs=dict(num_reads=10, num_sweeps=200), progress=False)
    assert len(tracked.inputs) == f.num_classes * 2
    n = (f.num_features + 1) * 3
    assert all(call["num_reads"] == 10 and call["initial_states"].shape == (10, n) for call in tracked.inputs)
    assert all(len(sampleset) == 10 for sampleset in tracked.outputs)
    assert result["train_loss"] < result["history"][0]["train_loss"]


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


def textbook_mfista(f, grad, lipschitz, x0, iterations):
    """Beck & Teboulle (2009), monotone FISTA with constant step 1/L and no nonsmooth part."""
    x_prev = x = y = x0
    t, iterates = 1.0, []
    for _ in range(iterations):
        z = y - grad(y) / lipschitz
        t_next = (1 + np.sqrt(1 + 4 * t * t)) / 2
        x_prev, x = x, (z if f(z) <= f(x) else x)
        y = x + (t / t_next) * (z - x) + ((t - 1) / t_next) * (x - x_prev)
        t = t_next
        iterates.append(x)
    return iterates


def test_momentum_is_beck_and_teboulles_monotone_fista():
    rng = np.random.default_rng(0)
    A = rng.normal(size=(30, 8))
    Q = A.T @ A / 30 + 0.01 * np.eye(8)
    b = rng.normal(size=8)
    f = lambda x: 0.5 * x @ Q @ x - b @ x  # noqa: E731
    grad = lambda x: Q @ x - b  # noqa: E731
    lipschitz = np.linalg.eigvalsh(Q).max()
    expected = textbook_mfista(f, grad, lipschitz, np.zeros(8), 40)
    momentum = MonotoneFista(np.zeros(8), f(np.zeros(8)))
    for reference in expected:
        y = momentum.anchor
        z = y - grad(y) / lipschitz
        momentum.update(z, f(z))
        np.testing.assert_allclose(momentum.x, reference, rtol=0, atol=1e-12)


def test_accept_always_takes_every_answer_and_improving_never_raises_the_loss(digits_features):
    always = fit(digits_features, mode="box", bits=5, accept="always")
    assert all(all(r["accepted"]) and r["step_taken"] for r in always["history"][1:])
    improving = fit(digits_features, mode="box", bits=5)
    # box K=5 with plain SA: some answers raise U_c, and improving mode refuses exactly those
    assert all(r["accepted"] == [e <= 0 for e in r["energy"]] for r in improving["history"][1:])


def test_stopping_rule_ends_the_run_once_the_loss_stalls(digits_features):
    full = fit(digits_features, mode="continuous", iterations=40)
    stopped = fit(digits_features, mode="continuous", iterations=40, tol=5e-2)
    losses = [r["train_loss"] for r in full["history"]]
    ran = stopped["iterations_run"]
    assert 3 < ran < 40 and stopped["history"] == full["history"][:ran + 1]  # a prefix: same seeds, same path
    assert losses[ran - 3] - losses[ran] < 5e-2 * losses[ran]
    assert all(losses[t - 3] - losses[t] >= 5e-2 * losses[t] for t in range(3, ran))


@pytest.mark.parametrize("mode", ["trust", "continuous"])
def test_two_class_data_trains_as_well_as_logistic_regression(digits_features, mode):
    f = digits_features
    keep_train, keep_test = np.isin(f.y_train, (3, 8)), np.isin(f.y_test, (3, 8))
    x_train, y_train = f.x_train[keep_train], (f.y_train[keep_train] == 8).astype(np.int64)
    x_test, y_test = f.x_test[keep_test], (f.y_test[keep_test] == 8).astype(np.int64)
    reference = fit_baseline("logreg", x_train, y_train, x_test, y_test, 2, 1e-3, progress=False)
    assert reference["test_accuracy"] > 0.9
    for method in ("sgd", "ridge"):
        other = fit_baseline(method, x_train, y_train, x_test, y_test, 2, 1e-3, progress=False)
        assert other["test_accuracy"] >= reference["test_accuracy"] - 0.03, method
    config = TrainConfig(mode=mode, bits=8, iterations=15, solver=FAST_SA)
    qubo = train_qubo_head(x_train, y_train, x_test, y_test, 2, config, progress=False)
    assert qubo["test_accuracy"] >= reference["test_accuracy"] - 0.03


def test_logistic_regression_minimises_the_loss_for_two_and_more_classes(digits_features):
    from qubocnn import surrogate

    f = digits_features
    for classes in ((3, 8), (1, 4, 7)):
        keep = np.isin(f.y_train, classes)
        x, y = f.x_train[keep], np.searchsorted(classes, f.y_train[keep])
        W = fit_baseline("logreg", x, y, x, y, len(classes), 1e-2, progress=False)["W"]
        X = surrogate.add_bias(x)
        assert np.abs(surrogate.gradient(X, y, W, 1e-2)).max() < 1e-5  # stationary point of L


def test_sgd_records_its_tuned_learning_rate(digits_features):
    f = digits_features
    result = fit_baseline("sgd", f.x_train, f.y_train, f.x_test, f.y_test, f.num_classes, 1e-3, progress=False,
                          learning_rates=(1e-4, 0.1), epochs=5)
    grid = result["sgd"]["grid"]
    assert [row["lr"] for row in grid] == [1e-4, 0.1]
    best = max(grid, key=lambda row: row["validation_accuracy"])
    assert result["sgd"]["chosen"]["lr"] == best["lr"] == 0.1  # 1e-4 for 5 epochs barely moves from W = 0


def test_sgd_heads_side_by_side_are_the_runs_alone_bit_for_bit(digits_features):
    """The learning-rate search trains its heads together on shared minibatches; each must be the
    head a run at that rate alone gives, a diverging rate (100) included."""
    from qubocnn import surrogate
    from qubocnn.baselines import sgd_heads

    f = digits_features
    X = surrogate.add_bias(f.x_train)
    rates = [0.003, 0.3, 100.0]
    together = sgd_heads(X, f.y_train, f.num_classes, 1e-3, rates, epochs=3, seed=4)
    for lr, (W, losses) in zip(rates, together):
        ((W_alone, losses_alone),) = sgd_heads(X, f.y_train, f.num_classes, 1e-3, [lr], epochs=3, seed=4)
        np.testing.assert_array_equal(W, W_alone)
        np.testing.assert_array_equal(losses, losses_alone)
    assert np.isfinite(together[0][1][-1]) and together[0][1][-1] < together[0][1][0]
