"""The replication workflow: Snakefile lint, config schema, the paper's provenance (every table and
figure it includes is a rule's output), and qubocnn.report / the notebook on small real results made
by the CLI (digits, 300 training images, two bit widths, one seed, plus the baselines)."""

import copy
import csv
import math
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from qubocnn import report
from qubocnn.cli import main
from qubocnn.results import read_result

ROOT = Path(__file__).resolve().parents[1]
SNAKEMAKE = [sys.executable, "-m", "snakemake"]
BITS = (5, 10)
BASELINES = ("sgd", "logreg", "ridge")


# Every configured data set in the DAG, whatever this machine has under its data root (the default,
# missing_data: skip, leaves out those with neither files nor a reachable source), and no download
# jobs (tests/test_download.py covers them).
EVERY_DATASET = ("--config", "missing_data=fail", "download=False")


def snakemake(*args, env=None, timeout=120):
    return subprocess.run([*SNAKEMAKE, *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout,
                          env=env)


# ---------------------------------------------------------------------------------------------
# The Snakefile and its configuration
# ---------------------------------------------------------------------------------------------

def test_lint_is_clean():
    run = snakemake("--lint")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "Lints for" not in run.stdout + run.stderr


def load_config():
    with open(ROOT / "config" / "config.yaml") as stream:
        return yaml.safe_load(stream)


def test_config_validates_against_schema():
    from snakemake.exceptions import WorkflowError
    from snakemake.utils import validate

    config = load_config()
    schema = str(ROOT / "workflow" / "schemas" / "config.schema.yaml")
    validate(copy.deepcopy(config), schema)
    assert set(config["datasets"]) == {"digits", "mnist", "fashion_mnist", "cifar10", "emnist", "kmnist",
                                       "cifar10_jpeg"}
    assert config["bits"] == [5, 10, 15, 20] and config["modes"] == ["box", "trust"]
    assert config["seeds"] == [0, 1, 2] and config["solver"] == "wsa"
    assert set(config["baselines"]) == set(BASELINES)
    smoke = yaml.safe_load((ROOT / "config" / "smoke.yaml").read_text())
    validate(copy.deepcopy(smoke), schema)
    assert smoke["datasets"] == ["digits"] and smoke["bits"] == [5, 10] and len(smoke["seeds"]) == 1
    for bad in ({"bits": [0]}, {"modes": ["round"]}, {"solver": "magic"}, {"unknown_key": 1}):
        with pytest.raises(WorkflowError):
            validate({**copy.deepcopy(smoke), **bad}, schema)


def dry_run_jobs(output: str) -> dict[str, list[tuple[list[str], list[str]]]]:
    """{rule: [(inputs, outputs), ...]} parsed from a dry run's job listing."""
    jobs: dict[str, list] = {}
    for block in re.split(r"\n(?=(?:local)?(?:rule|checkpoint) )", output):
        head = re.match(r"(?:local)?(?:rule|checkpoint) (\w+):", block)
        if not head:
            continue
        fields = {}
        for key in ("input", "output"):
            found = re.search(rf"^\s+{key}: (.*)$", block, re.M)
            fields[key] = [p.strip() for p in found.group(1).split(",")] if found else []
        jobs.setdefault(head.group(1), []).append((fields["input"], fields["output"]))
    return jobs


def paper_includes() -> list[str]:
    """Files \\input / \\includegraphics'd by paper/main.tex, as paths from the repository root."""
    tex = (ROOT / "paper" / "main.tex").read_text()
    macros = dict(re.findall(r"\\providecommand\{\\(\w+)\}\{([^}]*)\}", tex))
    body = "\n".join(line.split("%")[0] for line in tex.splitlines())  # drop comments
    found = re.findall(r"\\input\{([^}]*)\}", body)
    found += re.findall(r"\\includegraphics(?:\[[^\]]*\])?\{([^}]*)\}", body)
    paths = []
    for name in found:
        for macro, value in macros.items():
            name = name.replace(f"\\{macro}", value)
        paths.append(os.path.normpath(os.path.join("paper", name)))
    return paths


def test_paper_includes_only_rule_outputs():
    includes = paper_includes()
    assert len(includes) >= 10, includes  # five tables, five figures
    run = snakemake("-n", "--forceall", "paper", *EVERY_DATASET)
    assert run.returncode == 0, run.stdout + run.stderr
    jobs = dry_run_jobs(run.stdout + run.stderr)
    outputs = {path for rule_jobs in jobs.values() for _, out in rule_jobs for path in out}
    (paper_inputs, paper_outputs), = jobs["paper"]
    assert paper_outputs == ["paper/main.pdf"]
    for path in includes:
        assert path in outputs, f"paper/main.tex includes {path}, which no rule makes"
        assert path in paper_inputs, f"rule paper does not list {path} as an input"
    assert any(p.startswith("paper/tables/") for p in includes) and any(p.startswith("figures/") for p in includes)


def qubo_variants(jobs) -> dict[str, list]:
    """Rule qubo's jobs by their variant folder ("" for the main runs)."""
    found = {}
    for job in jobs["qubo"]:
        parts = job[1][0].split("/")  # results/STUDY/runs/DATASET[/VARIANT]/qubo-....json
        found.setdefault(parts[4] if len(parts) == 6 else "", []).append(job)
    return found


def test_targets_cover_every_dataset_and_the_smoke_study(tmp_path):
    full = dry_run_jobs(snakemake("-n", "--forceall", *EVERY_DATASET).stdout)
    config = load_config()
    # every data set on the default preset, and again on the hardware-sized one (small_preset)
    bits = len(config["bits"]) + len(config["small_preset"]["bits"])
    qubo_runs = len(config["datasets"]) * bits * len(config["modes"]) * len(config["seeds"])
    variants = qubo_variants(full)
    assert len(variants[""]) == qubo_runs
    assert len(full["baseline"]) == 2 * len(config["datasets"]) * len(config["seeds"]) * len(BASELINES)
    assert len(full["continuous"]) == 2 * len(config["datasets"]) * len(config["seeds"])
    assert any("+clique/" in out[0] for _, out in variants[""])
    # variants: rounding everywhere (box and trust); every answer taken in box mode on digits, and on
    # every data set at the paper's scale (the clique preset)
    small_bits = len(config["small_preset"]["bits"])
    rounding = len(config["datasets"]) * bits * 2 * len(config["seeds"])
    always = (len(config["bits"]) + len(config["datasets"]) * small_bits) * len(config["seeds"])
    assert len(variants["round"]) + len(variants["always"]) == rounding + always
    study = config["hardware_study"]
    per_dataset = len(study["presets"]) * len(study["seeds"]) * sum(len(bits) for bits in study["bits"].values())
    # the noisy runs and their noiseless partners (same path, zero errors) everywhere; chains where configured
    assert len(variants["qpu-model"]) == len(variants["qpu-model-noiseless"]) == len(study["datasets"]) * per_dataset
    assert len(variants["qpu-model-chains"]) == len(study["chains"]) * per_dataset
    assert set(variants) == {"", "round", "always", "qpu-model", "qpu-model-noiseless", "qpu-model-chains"}
    assert {"tables_run", "figures_run", "notebook_run", "collect_run", "feasibility", "reproduce"} <= set(full)
    smoke = dry_run_jobs(snakemake("-n", "--forceall", "smoke").stdout)
    assert len(qubo_variants(smoke)[""]) == 4 and {"tables_smoke", "figures_smoke", "notebook_smoke"} <= set(smoke)
    assert len(qubo_variants(smoke)["qpu-model"]) == len(qubo_variants(smoke)["qpu-model-noiseless"]) == 1
    assert all(out[0].startswith("results/smoke/") for _, out in smoke["figures_smoke"] + smoke["qubo"])
    # missing_data: skip leaves out the data sets without files (here: all but digits)
    env = dict(os.environ, QUBOCNN_DATA=str(tmp_path))
    skipped = snakemake("-n", "--forceall", "--config", "missing_data=skip", "download=False", env=env)
    assert skipped.returncode == 0, skipped.stderr
    jobs = dry_run_jobs(skipped.stdout)
    assert len(qubo_variants(jobs)[""]) == bits * len(config["modes"]) * len(config["seeds"])
    assert {out[0].split("/")[3] for _, out in jobs["qubo"]} == {"digits", "digits+clique"}
    # the hardware study leaves out the same data sets (MNIST is in its config)
    expected = {"digits" if preset == config["preset"] else f"digits+{preset}" for preset in study["presets"]}
    assert {out[0].split("/")[3] for _, out in qubo_variants(jobs)["qpu-model"]} == expected
    assert "leaving out kmnist: no files under" in skipped.stderr


# ---------------------------------------------------------------------------------------------
# Tables, figures and the notebook from real result files
# ---------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def results_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("results")
    features = out / "features.npz"
    quiet = ["--no-progress"]
    assert main(["features", "--dataset", "digits", "--limit-train", "300", "--out", str(features), *quiet]) == 0
    runs = out / "runs" / "digits"
    variants = {"": [], "round/": ["--solver", "round"], "always/": ["--accept", "always"]}
    for bits in BITS:
        for variant, options in variants.items():
            for mode in ("box", "trust") if variant != "always/" else ("box",):
                assert main(["train", "--features", str(features), "--bits", str(bits), "--mode", mode, "--solver",
                             "sa", "--reads", "2", "--sweeps", "50", "--iterations", "2", "--seed", "0", *options,
                             "--out", str(runs / f"{variant}qubo-{mode}-K{bits}-seed0.json"), *quiet]) == 0
    # the hardware study: under the QPU noise model in blocks, at a main run's K and at another; trust
    # packed and with its noiseless partner (the same path with zero errors), box alone
    hardware = {("box", max(BITS)): {"qpu-model": []},
                ("trust", 3): {"qpu-model": ["--pack", "0"], "qpu-model-noiseless": ["--pack", "0", "--sigma-h", "0",
                                                                                   "--sigma-j", "0"]}}
    for (mode, bits), folders in hardware.items():
        for folder, options in folders.items():
            assert main(["train", "--features", str(features), "--bits", str(bits), "--mode", mode, "--solver", "sa",
                         "--reads", "2", "--sweeps", "50", "--iterations", "2", "--seed", "0", "--qpu-noise",
                         "--block-size", "48" if mode == "trust" else "clique", *options,
                         "--out", str(runs / f"{folder}/qubo-{mode}-K{bits}-seed0.json"), *quiet]) == 0
    assert main(["train", "--features", str(features), "--mode", "continuous", "--iterations", "2",
                 "--out", str(runs / "continuous-seed0.json"), *quiet]) == 0
    for method in BASELINES:
        assert main(["baseline", "--features", str(features), "--method", method, "--epochs", "2",
                     "--out", str(runs / f"{method}-seed0.json"), *quiet]) == 0
    assert main(["hardware", "--bits", "5,10", "--out", str(out / "hardware.json")]) == 0
    return out


def read_csv(path):
    with open(path, newline="") as stream:
        return list(csv.DictReader(stream))


def test_report_tables(results_dir, tmp_path):
    assert main(["report", "tables", "--results", str(results_dir), "--out-dir", str(tmp_path / "tables"),
                 "--latex-dir", str(tmp_path / "tex")]) == 0
    for name in report.TABLES:
        for path in (tmp_path / "tables" / f"{name}.csv", tmp_path / "tables" / f"{name}.md",
                     tmp_path / "tex" / f"{name}.tex"):
            assert path.stat().st_size > 0, path

    main_rows = read_csv(tmp_path / "tables" / "main_accuracy.csv")
    assert [r["dataset"] for r in main_rows] == ["digits"] and main_rows[0]["bits"] == str(max(BITS))
    for key in ("qubo_box", "qubo_box_always", "qubo_trust", "qubo_trust_round", "continuous_mm", "sgd", "logreg",
                "ridge"):
        assert 0.0 <= float(main_rows[0][f"{key}_mean"]) <= 1.0 and main_rows[0][f"{key}_n"] == "1"
    markdown = (tmp_path / "tables" / "main_accuracy.md").read_text().splitlines()
    assert len(markdown) == 3 and "sklearn digits" in markdown[2] and "| K |" in markdown[0]

    precision = read_csv(tmp_path / "tables" / "precision.csv")
    modes = ("box", "box, every answer", "box, rounding", "trust", "trust, rounding")
    assert [(r["bits"], r["mode"]) for r in precision] == [(str(k), m) for k in BITS for m in modes]
    for row in precision:
        assert float(row["median_relative_gap"]) >= 0 and 0 <= float(row["acceptance_rate"]) <= 1
        assert int(row["variables"]) == (int(main_rows[0]["num_features"]) + 1) * int(row["bits"])
    # rounding the continuous minimiser then descending: within a small gap at K = 10 (never below it)
    rounded = [r for r in precision if r["mode"] == "trust, rounding" and r["bits"] == "10"]
    assert 0 <= float(rounded[0]["median_relative_gap"]) < 1e-2

    gaps = read_csv(tmp_path / "tables" / "annealing_gap.csv")
    precision = [r for r in precision if r["mode"] != "box, every answer"]
    assert [(r["bits"], r["mode"]) for r in gaps] == [(r["bits"], r["mode"]) for r in precision]
    assert all(float(r["solve_seconds"]) > 0 for r in gaps)
    for row, prec in zip(gaps, precision):
        assert float(row["median_relative_gap"]) == float(prec["median_relative_gap"])
        assert float(row["gap_q25"]) <= float(row["median_relative_gap"]) <= float(row["gap_q75"])
        # one seed: the difference is this run's accuracy minus the baseline's, in points
        for ref in ("logreg", "sgd"):
            expected = 100 * (float(prec["test_accuracy_mean"]) - float(main_rows[0][f"{ref}_mean"]))
            assert float(row[f"minus_{ref}_mean"]) == pytest.approx(expected)

    runtimes = read_csv(tmp_path / "tables" / "runtimes.csv")
    assert [r["bits"] for r in runtimes] == [str(k) for k in BITS]
    assert all(float(r["trust_over_sgd"]) > 0 for r in runtimes)

    sizes = read_csv(tmp_path / "tables" / "qubo_sizes.csv")
    assert {int(r["bits"]) for r in sizes} == set(BITS) and all(int(r["variables"]) > 0 for r in sizes)
    limits = read_csv(tmp_path / "tables" / "hardware_limits.csv")
    assert {r["system"] for r in limits} == {"Advantage_system4.1", "Advantage2_system1.x"}
    assert all(170 <= int(r["max_clique"]) <= 200 for r in limits)

    latex = (tmp_path / "tex" / "precision.tex").read_text()
    # a long table breaks across pages, its header repeated; no unescaped underscore in the body
    assert r"\begin{longtable}" in latex and r"\endhead" in latex and r"\bottomrule" in latex
    assert "_" not in latex.split("\\toprule")[1].replace(r"\_", "")

    assert main(["report", "collect", "--results", str(results_dir), "--out", str(tmp_path / "runs.csv")]) == 0
    assert len(read_csv(tmp_path / "runs.csv")) == 5 * len(BITS) + 3 + 1 + len(BASELINES)  # 3 hardware-study runs

    hardware_study = read_csv(tmp_path / "tables" / "hardware_study.csv")
    assert [(r["bits"], r["mode"]) for r in hardware_study] == [("3", "trust"), (str(max(BITS)), "box")]
    for row in hardware_study:
        blocks = int(row["num_blocks"])
        assert int(row["variables_per_call"]) * blocks >= (int(main_rows[0]["num_features"]) + 1) * int(row["bits"])
        refinements = 6 if row["mode"] == "trust" else 0  # one QPU call per block of every class QUBO, packed
        packed = math.ceil(10 / int(row["problems_per_call"]))
        assert float(row["qpu_calls"]) == packed * 2 * (1 + refinements) * blocks and float(row["qpu_access_time_s"]) > 0
        assert float(row["logreg_test_accuracy_mean"]) == float(main_rows[0]["logreg_mean"])
        assert int(row["num_reads"]) == 2
    assert int(hardware_study[0]["problems_per_call"]) == 10 and int(hardware_study[1]["problems_per_call"]) == 1
    # the noiseless reference is the same path with zero errors, never a main run; box has none here
    noisy, noiseless = (read_result(results_dir / "runs" / "digits" / folder / "qubo-trust-K3-seed0.json")
                        for folder in ("qpu-model", "qpu-model-noiseless"))
    assert float(hardware_study[0]["noiseless_test_accuracy_mean"]) == noiseless["test_accuracy"]
    assert float(hardware_study[0]["noise_minus_noiseless_mean"]) == pytest.approx(
        100 * (noisy["test_accuracy"] - noiseless["test_accuracy"]))
    assert hardware_study[1]["noiseless_test_accuracy_mean"] == ""
    precision = read_csv(tmp_path / "tables" / "qpu_precision.csv")
    assert [(r["bits"], r["mode"]) for r in precision] == [(r["bits"], r["mode"]) for r in hardware_study]
    assert all(0 <= float(r["J_below_sigma"]) <= 1 and float(r["J_bits"]) > 0 for r in precision)

    baselines = read_csv(tmp_path / "tables" / "baselines.csv")
    assert float(baselines[0]["sgd_learning_rates"]) in (0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0)
    assert float(baselines[0]["logreg_train_loss"]) <= float(baselines[0]["sgd_train_loss"])
    claims = read_csv(tmp_path / "tables" / "claims.csv")
    readings = {r["reading"] for r in claims}
    assert {"box, improving answers", "box, every answer", "trust (ours)"} <= readings
    assert all(r["verdict"] for r in claims)


def test_report_figures(results_dir, tmp_path):
    assert main(["report", "figures", "--results", str(results_dir / "runs"), "--hardware",
                 str(results_dir / "hardware.json"), "--out-dir", str(tmp_path)]) == 0
    for name in report.FIGURES:
        for fmt in ("png", "pdf"):
            assert (tmp_path / f"{name}.{fmt}").stat().st_size > 5000, (name, fmt)
    assert (tmp_path / "accuracy_vs_bits.png").read_bytes()[:4] == b"\x89PNG"
    assert (tmp_path / "runtime.pdf").read_bytes()[:4] == b"%PDF"


def test_report_refuses_missing_results(tmp_path, capsys):
    assert main(["report", "tables", "--results", str(tmp_path / "none"), "--out-dir", str(tmp_path)]) == 2
    assert "no result file or directory" in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    assert main(["report", "figures", "--results", str(tmp_path / "empty"), "--out-dir", str(tmp_path)]) == 2


def test_notebook_executes(results_dir, tmp_path):
    nbformat = pytest.importorskip("nbformat")
    from nbconvert.preprocessors import ExecutePreprocessor

    notebook = nbformat.read(ROOT / "notebooks" / "figures.ipynb", as_version=4)
    old = os.environ.get("QUBOCNN_RESULTS")
    os.environ["QUBOCNN_RESULTS"] = str(results_dir)
    try:
        ExecutePreprocessor(timeout=300, kernel_name="python3").preprocess(notebook, {"metadata": {"path": str(tmp_path)}})
    finally:
        if old is None:
            os.environ.pop("QUBOCNN_RESULTS")
        else:
            os.environ["QUBOCNN_RESULTS"] = old
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(images) == len(report.FIGURES)
    runs = len(list((results_dir / "runs").rglob("*.json")))
    assert f"{runs} runs" in "".join(o.get("text", "") for o in outputs if o.output_type == "stream")


def committed_files() -> set[str]:
    listed = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    return set(listed.splitlines())


def job_outputs(*targets) -> set[str]:
    run = snakemake("-n", "--forceall", *targets, *EVERY_DATASET)
    assert run.returncode == 0, run.stdout + run.stderr
    return {path for jobs in dry_run_jobs(run.stdout).values() for _, out in jobs for path in out if path}


def test_studies_never_write_committed_files():
    """`make run` and `make smoke` write only under results/STUDY/ (and logs): the committed
    reference stays as it is, whatever data sets the run had."""
    committed = committed_files()
    assert "results/full/tables/main_accuracy.csv" in committed and "figures/accuracy_vs_bits.png" in committed
    for target, study in (("all", "run"), ("smoke", "smoke")):
        outputs = job_outputs(target)
        assert outputs and not outputs & committed, sorted(outputs & committed)
        assert all(path.startswith(f"results/{study}/") for path in outputs), target


def test_reference_targets_make_exactly_the_committed_reference():
    """`reference` and `reference_smoke` rewrite the files the README and the paper link to, and
    nothing else outside results/STUDY/."""
    outputs = {p for p in job_outputs("reference", "reference_smoke") if not p.startswith(("results/run/",
                                                                                          "results/smoke/"))}
    assert outputs <= committed_files(), sorted(outputs - committed_files())
    readme_links = set(re.findall(r"\((figures/[^)]+\.png)\)", (ROOT / "README.md").read_text()))
    assert readme_links and readme_links <= outputs
    assert {"results/full/hardware.json", "results/full/notebooks/figures.ipynb", "results/full/tables/runs.csv",
            "paper/tables/precision.tex"} <= outputs


def test_reference_refuses_a_partial_study(tmp_path):
    env = dict(os.environ, QUBOCNN_DATA=str(tmp_path))
    run = snakemake("-n", "reference", "--config", "missing_data=skip", "download=False", env=env)
    assert run.returncode != 0 and "must not be replaced by a partial study" in run.stdout + run.stderr


def test_hardware_target_exists_and_is_not_part_of_all(tmp_path):
    """The refusal itself (no token: one line, no network) is tested in test_cli and test_hardware."""
    env = {k: v for k, v in os.environ.items() if k != "DWAVE_API_TOKEN"}
    env.update(HOME=str(tmp_path), DWAVE_CONFIG_FILE=str(tmp_path / "none.conf"))
    dry = snakemake("-n", "hardware", env=env)
    assert dry.returncode == 0 and "rule hardware" in dry.stdout
    full = dry_run_jobs(snakemake("-n", "--forceall", *EVERY_DATASET).stdout)
    assert "hardware" not in full  # not part of `all`


def test_rule_times_sums_each_rules_jobs_from_a_snakemake_log(tmp_path):
    """Per rule: the finished jobs' seconds from their start and end stamps; a job that never
    finished is not counted; a file that is not a Snakemake log is refused in one line."""
    log = tmp_path / "run.log"
    log.write_text("[Wed Dec  2 19:53:08 2026]\nrule qubo:\n    output: a.json\n    jobid: 4\n\n"
                   "[Wed Dec  2 19:53:09 2026]\nlocalrule features:\n    jobid: 5\n\n"
                   "[Wed Dec  2 19:53:38 2026]\nFinished jobid: 4 (Rule: qubo)\n"
                   "[Wed Dec  2 19:54:09 2026]\nFinished jobid: 5 (Rule: features)\n"
                   "[Wed Dec  2 19:54:10 2026]\nrule qubo:\n    jobid: 6\n\n")
    script = ROOT / "workflow" / "scripts" / "rule_times.py"
    out = subprocess.run([sys.executable, str(script), str(log)], capture_output=True, text=True, check=True).stdout
    assert "| features | 1 | 1.0 | 67 % | 60 | 60 |" in out and "| qubo | 1 | 0.5 | 33 % | 30 | 30 |" in out
    assert "2 jobs, 1.5 job minutes in 1.0 minutes of wall time." in out
    (tmp_path / "other.log").write_text("hello\n")
    refused = subprocess.run([sys.executable, str(script), str(tmp_path / "other.log")], capture_output=True, text=True)
    assert refused.returncode == 1 and refused.stderr.count("\n") == 1 and "no finished jobs" in refused.stderr
