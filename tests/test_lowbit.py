"""The low-bit experiment (qubocnn.lowbit), its command line and its table, claim and figure."""

import json

import numpy as np
import pytest

from qubocnn import lowbit, surrogate
from qubocnn.cli import main
from qubocnn.features import FeatureSet
from qubocnn.report import lowbit as report
from qubocnn.report import lowbit_claims
from qubocnn.solvers import SolverConfig


@pytest.fixture(scope="module")
def tiny_features():
    """Three classes, 5 features: 6 parameters per class, at most 18 variables at K = 3."""
    rng = np.random.default_rng(0)
    centres = rng.normal(scale=1.5, size=(3, 5))
    y = rng.integers(0, 3, size=400)
    x = centres[y] + rng.normal(size=(400, 5))
    x = (x - x[:300].mean(0)) / x[:300].std(0)
    return FeatureSet(x[:300], y[:300], x[300:], y[300:], 3, "tiny", "tiny blobs", "clique", 0, np.arange(5))


@pytest.fixture(scope="module")
def record(tiny_features):
    config = lowbit.LowBitConfig(bits=2, grid="symmetric", seed=0, scale_multiples="0.5,1,2")
    return lowbit.run_lowbit(tiny_features, config, SolverConfig(num_reads=4, num_sweeps=100))


def test_the_quantisation_qubo_is_the_logit_error_of_the_head(tiny_features):
    X = surrogate.add_bias(tiny_features.x_train)
    W = np.random.default_rng(1).normal(size=(6, 3))
    grids = lowbit.encodings(6, 3, "symmetric", [1.0, 2.0, 0.5])
    H = surrogate.boehning_curvature(X, 1e-3)
    for c, problem in enumerate(lowbit.quantisation_qubos(X, W, 1e-3, grids)):
        b = np.random.default_rng(c).integers(0, 2, size=(5, problem.num_variables))
        w = problem.encoding.decode(b)
        error = np.sum((X @ (w - W[:, c]).T) ** 2, axis=0) / (4 * len(X)) + 0.5e-3 * np.sum((w - W[:, c]) ** 2, 1)
        np.testing.assert_allclose(problem.energies(b), error - 0.5 * W[:, c] @ H @ W[:, c], rtol=1e-10)


def test_record_certifies_every_optimum_and_no_solver_beats_it(record):
    assert record["all_proved"] and all(c["status"] == "optimal" for c in record["certificates"])
    assert set(record["heads"]) == set(lowbit.SOLVER_NAMES)
    for name, rows in record["gaps"].items():
        assert len(rows) == 3
        assert all(row["gap"] >= -1e-12 for row in rows), name
    assert all(row["solved"] and row["gap"] == 0 for row in record["gaps"]["certified"])
    # the scale is chosen once, from the candidates, and recorded per class
    assert record["scale"]["chosen"] in (0.5, 1.0, 2.0) and len(record["scale"]["half_ranges"]) == 3
    assert set(record["baselines"]) == {"logreg", "ptq"}


def test_ptq_is_the_nearest_grid_point(tiny_features):
    grids = lowbit.encodings(6, 1, "symmetric", [1.0, 2.0, 3.0])
    W = np.random.default_rng(2).normal(size=(6, 3))
    np.testing.assert_allclose(lowbit.quantise(W, grids), np.sign(W) * [1.0, 2.0, 3.0])


def test_seeded_runs_are_identical(tiny_features, record):
    again = lowbit.run_lowbit(tiny_features, lowbit.LowBitConfig(bits=2, grid="symmetric", seed=0,
                                                                 scale_multiples="0.5,1,2"),
                              SolverConfig(num_reads=4, num_sweeps=100))
    for name in lowbit.SOLVER_NAMES:
        assert again["heads"][name]["test_accuracy"] == record["heads"][name]["test_accuracy"]
        assert [g["energy"] for g in again["gaps"][name]] == [g["energy"] for g in record["gaps"][name]]


@pytest.mark.parametrize("kwargs, message", [
    (dict(grid="skewed"), "unknown grid"), (dict(bits=0), "1..32"), (dict(solvers="round,wsa"), "certified"),
    (dict(scale_multiples="1,-2"), "positive"), (dict(solvers="round,magic,certified"), "names from"),
])
def test_bad_settings_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        lowbit.LowBitConfig(**kwargs)


def test_cli_refuses_a_qubo_above_the_exact_limit_before_any_work(tmp_path, capsys):
    out = tmp_path / "r.json"
    assert main(["lowbit", "--dataset", "digits", "--preset", "default", "--bits", "6", "--no-progress",
                 "--out", str(out)]) == 2
    assert "at most 300 binary variables" in capsys.readouterr().err and not out.exists()


def test_table_claim_and_figure_from_the_files(tmp_path, record):
    for seed, shift in enumerate((0.01, 0.02, 0.03)):
        copy = json.loads(json.dumps(record))
        copy["seed"] = seed
        copy["heads"]["wsa"]["test_accuracy"] = copy["heads"]["round"]["test_accuracy"] + shift
        (tmp_path / f"r{seed}.json").write_text(json.dumps(copy))
    records = report.load_lowbit(tmp_path)
    table = report.low_bit_table(records)
    heads = [row[5] for row in table.csv_rows]
    assert heads == ["logreg", "ptq", *lowbit.SOLVER_NAMES]
    claim = report.low_bit_claim_table(records)
    wsa = [row for row in claim.csv_rows if row[5] == "wsa"][0]
    assert wsa[6] == pytest.approx(2.0) and wsa[9] == "holds"
    written = report.write_low_bit(records, tmp_path / "tables", tmp_path / "figures", ("png",))
    assert {p.name for p in written} >= {"low_bit.md", "low_bit.csv", "low_bit_claim.md", "low_bit.png"}


def test_the_low_bit_claim_joins_the_claims_tables_per_data_set(record):
    """An annealer that beats rounding on every seed of one data set and loses on every seed of
    another holds on the first only; the claims summary (README, paper) carries the same row."""
    from qubocnn.report.claims import LOW_BIT, claims_table
    from qubocnn.report.values import claims_summary

    records = []
    for dataset, shift in (("better", 0.02), ("worse", -0.02)):
        for seed in range(3):
            copy = json.loads(json.dumps(record))
            copy.update(dataset=dataset, seed=seed)
            copy["heads"]["wsa"]["test_accuracy"] = copy["heads"]["round"]["test_accuracy"] + shift + 0.001 * seed
            records.append(copy)
    rows = [row for row in claims_table([], None, records).csv_rows if row[0] == LOW_BIT]
    wsa = next(row for row in rows if row[1] == "wsa − round")
    column = 5 if record["preset"] == "clique" else 3
    assert wsa[column].startswith("holds on better; not on worse (rounding better)")
    assert "not run at this preset" in wsa[4 if column == 3 else 2]
    summary = claims_summary([], None, records)
    assert any("1 of 2: better" in cell for row in summary.rows for cell in row)


def test_gaps_where_the_optimum_is_not_proved_are_to_the_best_energy_known(record):
    """A proved optimum's rows stay as stored; an unproved incumbent that a solver undercuts gives
    that solver gap 0 (solved) and every other solver a gap of at least 0, on the same scale."""
    copy = json.loads(json.dumps(record))
    assert all(report.reference_gaps(copy, name) == copy["gaps"][name] for name in copy["gaps"])
    certificate, rows = copy["certificates"][0], {name: copy["gaps"][name][0] for name in copy["gaps"]}
    spread = 1.0  # E* - E_c of the made-up incumbent
    certificate.update(proved=False, optimum=rows["round"]["energy"] + 0.5)
    for row in rows.values():  # the stored rows as the experiment writes them against that incumbent
        row.update(gap=row["energy"] - certificate["optimum"], relative_gap=(row["energy"] - certificate["optimum"]) / spread)
    best = min(row["energy"] for row in rows.values())
    for name in copy["gaps"]:
        gap = report.reference_gaps(copy, name)[0]
        assert gap["relative_gap"] >= 0
        assert gap["relative_gap"] == pytest.approx((rows[name]["energy"] - best) / (spread - (certificate["optimum"] - best)))
        assert gap["solved"] == (rows[name]["energy"] == best)


def test_paired_rule():
    assert lowbit_claims.paired_verdict([1.0, 1.2, 0.9]) == "holds"
    assert lowbit_claims.paired_verdict([-1.0, -1.2, -0.9]) == "fails (rounding better)"
    assert lowbit_claims.paired_verdict([1.0, -0.5, 2.0]) == "undecided"
    assert lowbit_claims.paired_verdict([0.0, 0.0, 0.0]) == "undecided"
    assert lowbit_claims.paired_verdict([3.0]) == "undecided (one seed)"
