"""The report's verdict rule, the paper's values and its layout check."""

import math
import subprocess
import sys
from pathlib import Path

import pytest

from qubocnn.report.claims import claim_monotone, claim_slowdown, claims_table
from qubocnn.report.latex_log import layout_problems
from qubocnn.report.runs import group_runs
from qubocnn.report.statistics import paired
from qubocnn.report.values import to_latex, values

ROOT = Path(__file__).resolve().parents[1]


def run(dataset, method, bits, seed, accuracy, classes=10, seconds=1.0, **timings):
    return {"dataset": dataset, "method": method, "bits": bits, "seed": seed, "preset": "default",
            "num_classes": classes, "num_features": 16, "test_accuracy": accuracy,
            "timings": {"total": seconds, **timings}}


def test_a_difference_counts_only_above_twice_its_standard_error_and_half_a_point():
    base = [run("d", "sgd", None, s, a) for s, a in enumerate((0.80, 0.82, 0.84))]
    steady = [run("d", "qubo-trust", 20, s, a + 0.03) for s, a in enumerate((0.80, 0.82, 0.84))]
    noisy = [run("d", "qubo-trust", 20, s, a) for s, a in enumerate((0.86, 0.80, 0.86))]
    small = [run("d", "qubo-trust", 20, s, a + 0.004) for s, a in enumerate((0.80, 0.82, 0.84))]
    assert paired(steady, base).sign == 1 and math.isclose(paired(steady, base).mean, 3.0)
    assert paired(noisy, base).sign == 0  # +2 points on average, but the seeds disagree: inside the noise
    assert paired(small, base).sign == 0  # 0.4 points on every seed: below the half point
    assert paired(steady[:1], base).sign == 0  # one seed: the uncertainty is unknown


def test_a_curve_at_chance_fails_at_every_k_and_never_rises():
    runs = [run("d", "qubo-box", k, s, a) for k, a in ((5, 0.100), (10, 0.100), (15, 0.100), (20, 0.108))
            for s in range(3)]
    outcome = claim_monotone(group_runs(runs), ["d"], "qubo-box")
    assert outcome.holds == [] and "fails at every K" in outcome.verdict
    rising = [run("e", "qubo-box", k, s, 0.5 + 0.1 * i + 0.01 * s) for i, k in enumerate((5, 10)) for s in range(3)]
    outcome = claim_monotone(group_runs(rising), ["e"], "qubo-box")
    assert outcome.holds == ["e"] and outcome.verdict.startswith("holds")


def test_runtime_claim_is_not_decided_without_one_sgd_fit_timed_apart():
    runs = [run("mnist", "qubo-trust", 20, s, 0.9, seconds=100.0) for s in range(3)]
    whole = runs + [run("mnist", "sgd", None, s, 0.9, seconds=10.0) for s in range(3)]
    assert claim_slowdown(group_runs(whole), ["mnist"], "qubo-trust").verdict.startswith("not decided")
    apart = runs + [run("mnist", "sgd", None, s, 0.9, seconds=10.0, search=9.5, fit=0.5) for s in range(3)]
    outcome = claim_slowdown(group_runs(apart), ["mnist"], "qubo-trust")
    assert "200x one fit" in outcome.measured and outcome.holds == ["mnist"]
    quick = runs + [run("mnist", "sgd", None, s, 0.9, seconds=10.0, search=5.0, fit=5.0) for s in range(3)]
    outcome = claim_slowdown(group_runs(quick), ["mnist"], "qubo-trust")
    assert outcome.holds == [] and outcome.verdict.startswith("does not hold: 20x one SGD fit (MNIST), below")


def test_claims_name_the_untested_data_sets_and_the_jpeg_copy():
    runs = [run("cifar10_jpeg", m, b, s, 0.4 + 0.001 * s) for m, b in (("qubo-trust", 20), ("sgd", None))
            for s in range(3)]
    text = claims_table(runs).to_markdown()
    assert "CIFAR-10 JPEG copy" in text and "EMNIST, KMNIST: not tested here (no data offline)" in text
    assert "2 standard errors" in text  # the rule is stated with the table


def test_values_file_defines_every_value_and_stops_on_an_unknown_key():
    runs = [run("mnist", m, b, s, 0.9 + 0.01 * s) for m, b in (("qubo-trust", 20), ("sgd", None)) for s in range(3)]
    found = values(runs)
    assert found["acc/mnist/default/qubo-trust/20"] == "91.0" and found["chance/mnist"] == "10.0"
    tex = to_latex(found)
    assert r"\csname qubocnn/acc/mnist/default/sgd/-\endcsname{91.0}" in tex and r"\errmessage" in tex


def test_layout_check_refuses_an_overfull_box_and_a_float_too_large():
    log = ("Overfull \\hbox (0.4pt too wide) in paragraph at lines 3--4\n"
           "Overfull \\hbox (12.5pt too wide) in alignment at lines 80--95\n"
           "LaTeX Warning: Float too large for page by 40.1pt on input line 120.\n")
    problems = layout_problems(log)
    assert len(problems) == 2 and "12.5pt" in problems[0] and "40.1pt" in problems[1]
    assert layout_problems("Underfull \\hbox (badness 10000) in paragraph\n") == []


@pytest.mark.parametrize("text, code", [("Overfull \\hbox (3.0pt too wide) in paragraph\n", 1), ("clean\n", 0)])
def test_layout_check_script_exit_status(tmp_path, text, code):
    log = tmp_path / "main.log"
    log.write_text(text)
    done = subprocess.run([sys.executable, str(ROOT / "src" / "qubocnn" / "report" / "latex_log.py"), str(log)],
                          capture_output=True, text=True)
    assert done.returncode == code, done.stderr


def test_collect_csv_reads_back_as_the_runs_it_was_written_from(tmp_path):
    from qubocnn.report.loading import load_run_summaries
    from qubocnn.report.runs import method_key, run_summary
    from qubocnn.report.tables import collect_table

    runs = [dict(run("mnist", "qubo-box", 10, 1, 0.5), solver="round", accept="always", qpu_noise=True,
                 train_accuracy=0.6, train_loss=1.0, history=[]),
            dict(run("mnist", "sgd", None, 1, 0.7, search=2.0, fit=0.25), train_accuracy=0.8, train_loss=0.5,
                 history=[])]
    path = tmp_path / "runs.csv"
    path.write_text(collect_table(runs).to_csv())
    back = load_run_summaries(path)
    assert [method_key(r) for r in back] == ["qubo-box-round-always-noise", "sgd"] == [run_summary(r)["method"]
                                                                                       for r in runs]
    assert back[1]["timings"]["fit"] == 0.25 and back[0]["bits"] == 10 and back[0]["num_classes"] == 10


def test_figure_pdfs_embed_no_type3_font(tmp_path):
    from qubocnn.report.figures import _pyplot, save_figure

    fig, ax = _pyplot().subplots()
    ax.set_ylabel("training objective L (cross-entropy + λ/2 |W|²)")
    pdf, = save_figure(fig, tmp_path, "axis", ["pdf"])
    assert b"/Type3" not in pdf.read_bytes()


def test_report_values_from_a_collect_csv_and_tables_refuse_one(tmp_path):
    from qubocnn.report.tables import collect_table

    runs = [dict(run("mnist", m, b, s, 0.9 + 0.01 * s), train_accuracy=0.9, train_loss=0.3, history=[])
            for m, b in (("qubo-trust", 20), ("sgd", None)) for s in range(3)]
    csv = tmp_path / "runs.csv"
    csv.write_text(collect_table(runs).to_csv())
    qubocnn = [sys.executable, "-m", "qubocnn.cli"]
    out = tmp_path / "values.tex"
    done = subprocess.run([*qubocnn, "report", "values", "--results", str(csv), "--out", str(out)],
                          capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert r"\csname qubocnn/acc/mnist/default/qubo-trust/20\endcsname{91.0}" in out.read_text()
    refused = subprocess.run([*qubocnn, "report", "tables", "--results", str(csv), "--out-dir", str(tmp_path)],
                             capture_output=True, text=True, cwd=ROOT)
    assert refused.returncode == 2 and "collect CSV" in refused.stderr
    # the claims tables need one row per run: from the CSV they equal those from the runs themselves
    from qubocnn.report.claims import claims_table

    done = subprocess.run([*qubocnn, "report", "tables", "--results", str(csv), "--names", "claims",
                           "--out-dir", str(tmp_path)], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "claims.md").read_text() == claims_table(runs).to_markdown()


def test_paper_rule_runs_the_layout_check_after_latexmk():
    from test_workflow import EVERY_DATASET, snakemake

    dry = snakemake("-n", "-p", "--forceall", "paper", *EVERY_DATASET)
    assert dry.returncode == 0, dry.stdout + dry.stderr
    command = (dry.stdout + dry.stderr).split("rule paper:", 1)[1]
    assert command.index("latexmk") < command.index("latex_log.py paper/main.log")


def test_sgd_times_its_learning_rate_search_and_its_one_fit_apart():
    import numpy as np

    from qubocnn.baselines import fit_baseline

    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(120, 5)), rng.integers(0, 3, 120)
    tuned = fit_baseline("sgd", x, y, x[:20], y[:20], 3, 1e-3, progress=False, learning_rates=(0.01, 0.1, 1.0),
                         epochs=2)
    timings = tuned["timings"]
    assert timings["search"] > 0 and timings["fit"] > 0
    assert timings["search"] + timings["fit"] <= timings["total"] + 1e-9
    single = fit_baseline("sgd", x, y, x[:20], y[:20], 3, 1e-3, progress=False, learning_rates=(0.1,), epochs=2)
    # one rate: nothing is searched (no validation fit), so all its SGD time is the one fit
    assert single["sgd"]["grid"] == [] and single["sgd"]["validation_fraction"] is None
    assert single["timings"]["fit"] > 0


def test_a_missing_or_foreign_csv_is_refused_in_one_line(tmp_path):
    from qubocnn.report.loading import load_run_summaries

    with pytest.raises(FileNotFoundError, match="qubocnn report collect"):
        load_run_summaries(tmp_path / "absent.csv")
    foreign = tmp_path / "other.csv"
    foreign.write_text("a,b\n1,2\n")
    with pytest.raises(ValueError, match="not a `qubocnn report collect` CSV"):
        load_run_summaries(foreign)


def test_the_text_values_give_the_ratio_to_one_sgd_fit_beside_the_whole_search():
    runs = [run("mnist", "qubo-trust", 20, s, 0.9, seconds=100.0) for s in range(3)]
    runs += [run("mnist", "sgd", None, s, 0.9, seconds=50.0, search=40.0, fit=10.0) for s in range(3)]
    found = values(runs)
    assert (found["slowdown/default/qubo-trust"], found["perfit/default/qubo-trust"],
            found["perfit/mnist/default/qubo-trust"]) == ("2x", "10x", "10x")


def test_a_range_of_ratios_reads_without_exponents_or_a_repeated_end():
    from qubocnn.report.claims import value_range
    assert (value_range([5.1, 101.4]), value_range([1.21, 1.24]), value_range([0.57, 12.3])) == \
        ("5.1-101x", "1.2x", "0.57-12x")
