# Configuration, studies and paths shared by the rules.

import copy
import os
import shlex
import shutil
import sys
from pathlib import Path

from snakemake.utils import validate

from qubocnn.data import DATASETS as KNOWN_DATASETS
from qubocnn.report import FIGURES as FIGURE_NAMES
from qubocnn.report import TABLES as TABLE_NAMES


validate(config, "../../config/schema.yaml")

STUDY_NAMES = ("full", "smoke")
FIGURE_FORMATS = ("png", "pdf")
# Where each study's figures and LaTeX tables go (CSV and Markdown always go to results/STUDY/tables).
FIGURE_DIRS = {"full": "figures", "smoke": "figures/smoke"}
LATEX_DIRS = {"full": "paper/tables", "smoke": "results/smoke/tables"}
CONDA_ENV = "../../envs/qubocnn.yaml"


def _merge(base, override):
    merged = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def _tools_on_path():
    """The rules call `qubocnn` and `jupyter nbconvert`. When Snakemake runs from a virtual
    environment that is not activated (`.venv/bin/snakemake`), put that environment's bin/ on the
    PATH the jobs inherit."""
    bin_dir = str(Path(sys.executable).parent)
    if not shutil.which("qubocnn") and (Path(bin_dir) / "qubocnn").exists():
        os.environ.update(PATH=bin_dir + os.pathsep + os.environ.get("PATH", ""))


_tools_on_path()


def data_root():
    return config.get("data_root") or os.environ.get("QUBOCNN_DATA") or "data"


def data_present(name):
    """Whether a data set's files are under the data root (only used with missing_data: skip)."""
    root = Path(data_root())
    split = config.get("emnist_split", "balanced")
    if name == "digits" or config.get("download"):
        return True
    if name == "cifar10_jpeg":
        return (root / "cifar10_jpeg.npz").exists()
    if name == "cifar10":
        return (root / "cifar-10-batches-py" / "test_batch").exists()
    if name == "emnist":
        return (root / "EMNIST" / "raw" / f"emnist-{split}-test-images-idx3-ubyte").exists()
    folders = {"mnist": "MNIST", "fashion_mnist": "FashionMNIST", "kmnist": "KMNIST"}
    if name in folders:
        return (root / folders[name] / "raw" / "t10k-images-idx3-ubyte").exists()
    return (root / f"{name}.npz").exists()


def _study(name):
    full = {key: value for key, value in config.items() if key != "smoke"}
    study = full if name == "full" else _merge(full, config.get("smoke") or {})
    if study.get("missing_data", "fail") == "skip":
        missing = [d for d in study["datasets"] if not data_present(d)]
        if missing:
            print(f"qubocnn workflow ({name} study): skipping {', '.join(missing)}: no files under "
                  f"{data_root()} (missing_data: skip)", file=sys.stderr)
        study["datasets"] = [d for d in study["datasets"] if d not in missing]
        if not study["datasets"]:
            raise ValueError(f"{name} study: no data set has its files under {data_root()}")
    return study


STUDIES = {name: _study(name) for name in STUDY_NAMES}


wildcard_constraints:
    study="|".join(STUDY_NAMES),
    dataset=r"[A-Za-z0-9_]+(\+[a-z]+)?",
    preset=r"[a-z]+",
    mode="box|trust",
    bits=r"\d+",
    seed=r"\d+",
    method="sgd|logreg|ridge",
    variant="[a-z]+",


def split_dataset(dataset):
    """Run folders name a data set, or DATASET+PRESET for runs on another feature preset."""
    name, _, preset = dataset.partition("+")
    return name, preset or None


def source_args(wildcards):
    """Where `qubocnn features` reads a data set: a known name, or DATA_ROOT/NAME.npz."""
    study = STUDIES[wildcards.study]
    name = wildcards.dataset
    args = ["--dataset", name if name in KNOWN_DATASETS else f"{data_root()}/{name}.npz"]
    if config.get("data_root"):
        args += ["--data-root", config["data_root"]]
    if config.get("download"):
        args.append("--download")
    if name == "emnist":
        args += ["--emnist-split", config.get("emnist_split", "balanced")]
    for key in ("limit_train", "limit_test"):
        if study.get(key):
            args += [f"--{key.replace('_', '-')}", str(study[key])]
    return " ".join(shlex.quote(a) for a in args)


def train_args(wildcards):
    """Refinements apply to trust mode only: box mode stays the paper's literal method. A variant
    (config `variants`) changes the solver or the acceptance rule of the same runs."""
    s = STUDIES[wildcards.study]
    variant = s.get("variants", {}).get(getattr(wildcards, "variant", None), {})
    return run_args(s, wildcards.mode, variant.get("solver", s["solver"]), variant.get("accept", "improving"))


def hardware_study_args(wildcards):
    """The main runs' settings under the QPU control-error model, in clique-sized blocks; the model
    wraps a dimod sampler, so dwave-samplers' SA anneals."""
    return run_args(STUDIES[wildcards.study], wildcards.mode, "sa") + " --qpu-noise --block-size clique"


def run_args(s, mode, solver, accept="improving"):
    refinements = s.get("refinements", 0) if mode == "trust" else 0
    return (f"--solver {solver} --accept {accept} "
            f"--reads {s['reads']} --sweeps {s['sweeps']} --iterations {s['iterations']} "
            f"--lam {s['lam']} --box-half-range {s['box_half_range']} --trust-half-range {s['trust_half_range']} "
            f"--trust-max-half-range {s['trust_max_half_range']} --refinements {refinements}")


def continuous_args(wildcards):
    s = STUDIES[wildcards.study]
    return f"--iterations {s['iterations']} --lam {s['lam']}"


def baseline_args(wildcards):
    s = STUDIES[wildcards.study]
    sgd = s["sgd"]
    return (f"--lam {s['lam']} --epochs {sgd['epochs']} --lr {','.join(map(str, sgd['learning_rates']))} "
            f"--validation-fraction {sgd['validation_fraction']} --momentum {sgd['momentum']} "
            f"--batch-size {sgd['batch_size']}")


def hardware_args(wildcards):
    hw = STUDIES[wildcards.study]["hardware"]
    return f"--presets {','.join(hw['presets'])} --bits {','.join(map(str, hw['bits']))}"


def train_threads(wildcards):
    return STUDIES[wildcards.study]["jobs"]


def features_file(wildcards):
    name, preset = split_dataset(wildcards.dataset)
    preset = preset or STUDIES[wildcards.study]["preset"]
    return f"results/{wildcards.study}/features/{name}-{preset}-seed{wildcards.seed}.npz"


def run_files(study):
    """Every run result of a study."""
    s = STUDIES[study]
    groups = [(dataset, s["bits"]) for dataset in s["datasets"]]
    if s.get("small_preset"):
        small = s["small_preset"]
        groups += [(f"{dataset}+{small['preset']}", small["bits"]) for dataset in s["datasets"]]
    files = []
    for dataset, bits_list in groups:
        for seed in s["seeds"]:
            base = f"results/{study}/runs/{dataset}"
            files += [f"{base}/qubo-{mode}-K{bits}-seed{seed}.json" for mode in s["modes"] for bits in bits_list]
            files.append(f"{base}/continuous-seed{seed}.json")
            files += [f"{base}/{method}-seed{seed}.json" for method in s["baselines"]]
            for name, variant in s.get("variants", {}).items():
                if "+" in dataset or variant.get("datasets", "all") in ("all", ) or dataset in variant["datasets"]:
                    files += [f"{base}/{name}/qubo-{mode}-K{bits}-seed{seed}.json"
                              for mode in variant["modes"] for bits in bits_list]
    return files + hardware_study_files(study)


def hardware_study_files(study):
    """The hardware study's runs (config `hardware_study`): runs/DATASET[+PRESET]/qpu-model/."""
    hw = STUDIES[study].get("hardware_study")
    if not hw:
        return []
    files = []
    for dataset in hw["datasets"]:
        for preset in hw["presets"]:
            folder = dataset if preset == STUDIES[study]["preset"] else f"{dataset}+{preset}"
            files += [f"results/{study}/runs/{folder}/qpu-model/qubo-{mode}-K{bits}-seed{seed}.json"
                      for mode, bits_list in hw["bits"].items() for bits in bits_list for seed in hw["seeds"]]
    return files


def study_runs(wildcards):
    return run_files(wildcards.study)


def table_files(study):
    out = [f"results/{study}/tables/{name}.{ext}" for name in TABLE_NAMES for ext in ("csv", "md")]
    return out + [f"{LATEX_DIRS[study]}/{name}.tex" for name in TABLE_NAMES]


def figure_files(study):
    return [f"{FIGURE_DIRS[study]}/{name}.{ext}" for name in FIGURE_NAMES for ext in FIGURE_FORMATS]


def study_targets(study):
    return (table_files(study) + figure_files(study) + [f"results/{study}/tables/runs.csv",
                                                        f"results/{study}/notebooks/figures.ipynb"])


def train_runtime(wildcards):
    """Minutes a cluster job may take (SLURM `runtime`): grows with the data set and K."""
    large = split_dataset(wildcards.dataset)[0] != "digits"
    return (60 if large else 10) * max(1, int(wildcards.bits) // 5)


def qpu_args(wildcards):
    q = config["qpu"]
    refinements = config["refinements"] if q["mode"] == "trust" else 0
    options = [f"--mode {q['mode']}", f"--bits {q['bits']}", f"--block-size {q['block_size']}",
               f"--refinements {refinements}", f"--reads {q['reads']}", f"--iterations {q['iterations']}",
               f"--lam {config['lam']}", f"--solver-option annealing_time={q['annealing_time']}"]
    if q.get("chain_strength") is not None:
        options.append(f"--solver-option chain_strength={q['chain_strength']}")
    return " ".join(options)
