# Configuration, studies and paths shared by the rules.

import copy
import os
import shlex
import shutil
import sys
from pathlib import Path

import yaml
from snakemake.utils import validate

from qubocnn import download as datasets_io
from qubocnn.data import DATASETS as KNOWN_DATASETS
from qubocnn.data import DEFAULT_EMNIST_SPLIT
from qubocnn.data import data_root as package_data_root
from qubocnn.report import FIGURES as FIGURE_NAMES
from qubocnn.report import TABLES as TABLE_NAMES


validate(config, "../schemas/config.schema.yaml")

# `run`: the full study (config/config.yaml), `make run`; `smoke`: the quick check (config/smoke.yaml).
STUDY_NAMES = ("run", "smoke")
FIGURE_FORMATS = ("png", "pdf")
CONDA_ENV = "../envs/qubocnn.yaml"
# The smoke study's own configuration (a complete one, validated like config/config.yaml); the data
# settings are the main configuration's, so `--config data_root=...` serves both studies.
SMOKE_CONFIG = os.path.join(workflow.basedir, "config", "smoke.yaml")
DATA_SETTINGS = ("data_root", "download", "missing_data", "emnist_split")
HARDWARE_VARIANT = "qpu-model"  # the hardware study's runs: runs/DATASET/qpu-model/


def _tools_on_path():
    """The rules call `qubocnn` and `jupyter nbconvert`. When Snakemake runs from a virtual
    environment that is not activated (`.venv/bin/snakemake`), put that environment's bin/ on the
    PATH the jobs inherit."""
    bin_dir = str(Path(sys.executable).parent)
    if not shutil.which("qubocnn") and (Path(bin_dir) / "qubocnn").exists():
        os.environ.update(PATH=bin_dir + os.pathsep + os.environ.get("PATH", ""))


_tools_on_path()


def data_root():
    """The package's data root (qubocnn.data.data_root): config `data_root`, else $QUBOCNN_DATA, else data/."""
    return str(package_data_root(config.get("data_root") or None))


def emnist_split():
    return config.get("emnist_split", DEFAULT_EMNIST_SPLIT)


def data_present(name):
    """Whether a data set's files are under the data root (digits ships with scikit-learn)."""
    return datasets_io.present(name, data_root(), emnist_split())


_UNREACHABLE = {}  # data set -> why its source did not answer (probed once per Snakemake start)


def _unreachable(names):
    todo = [n for n in names if n not in _UNREACHABLE]
    if todo:
        _UNREACHABLE.update({n: None for n in todo})
        _UNREACHABLE.update(datasets_io.unreachable(todo))
    return {n: _UNREACHABLE[n] for n in names if _UNREACHABLE[n]}


def _missing_reason(name, offline):
    root = data_root()
    if name in offline:
        return f"no files under {root}, and its source cannot be reached ({offline[name].split(';')[0]})"
    if name in datasets_io.DOWNLOADABLE:
        return f"no files under {root} (download: false)"
    if name == "cifar10_jpeg":
        return f"no {root}/cifar10_jpeg.npz (a local JPEG copy of CIFAR-10: it cannot be downloaded)"
    return f"no {root}/{name}.npz"


def _smoke_config():
    with open(SMOKE_CONFIG) as stream:
        smoke = yaml.safe_load(stream)
    validate(smoke, "../schemas/config.schema.yaml")
    return {**smoke, **{key: config[key] for key in DATA_SETTINGS if key in config}}


def _study(name):
    """A study's settings. Data sets without files under the data root are downloaded (one job each,
    `download: true`) when their source answers; the others are left out with a warning
    (`missing_data: skip`) or kept, so that their jobs fail (`fail`)."""
    study = copy.deepcopy(config) if name == "run" else _smoke_config()
    missing = [d for d in study["datasets"] if not data_present(d)]
    fetchable = [d for d in missing if d in datasets_io.DOWNLOADABLE] if config.get("download", True) else []
    skip = study.get("missing_data", "skip") == "skip"
    offline = _unreachable(fetchable) if skip else {}
    DOWNLOADS.update(d for d in fetchable if d not in offline)
    if skip:
        LEFT_OUT[name].update({d: _missing_reason(d, offline) for d in missing if d not in DOWNLOADS})
        for dataset, reason in LEFT_OUT[name].items():
            print(f"qubocnn workflow ({name} study): leaving out {dataset}: {reason}", file=sys.stderr)
        study["datasets"] = [d for d in study["datasets"] if d not in LEFT_OUT[name]]
        if not study["datasets"]:
            raise ValueError(f"{name} study: no data set has its files under {data_root()} or can be downloaded")
    return study


DOWNLOADS = set()  # data sets a `download_NAME` job fetches in this run
LEFT_OUT = {name: {} for name in STUDY_NAMES}  # study -> {data set: why it was left out}
STUDIES = {name: _study(name) for name in STUDY_NAMES}


def data_files(wildcards):
    """Input of a features job: the data set's marker file when a download job makes it."""
    name = split_dataset(wildcards.dataset)[0]
    return [str(datasets_io.marker(name, data_root(), emnist_split()))] if name in DOWNLOADS else []


def data_summary(study):
    """Lines for the end of a run: what ran, what was left out and how to get the rest."""
    lines = [f"{study} study ran on: {', '.join(STUDIES[study]['datasets'])}"]
    left_out = LEFT_OUT[study]
    if left_out:
        lines += [f"left out {d}: {reason}" for d, reason in left_out.items()]
        fetchable = [d for d in left_out if d in datasets_io.DOWNLOADABLE]
        if fetchable:
            fetch = ("run `make run` again on a machine with internet (one download job each)" if
                     config.get("download", True) else "drop `download=False`, on a machine with internet")
            lines.append(f"to add {', '.join(fetchable)}: {fetch}, or copy their files under {data_root()} in "
                         f"torchvision's layout")
        others = [d for d in left_out if d not in datasets_io.DOWNLOADABLE]
        if others:
            lines.append(f"to add {', '.join(others)}: put {', '.join(f'{d}.npz' for d in others)} under {data_root()} "
                         f"(keys x_train, y_train, x_test, y_test)")
    return lines


wildcard_constraints:
    study="|".join(STUDY_NAMES),
    dataset=r"[A-Za-z0-9_]+(\+[a-z]+)?",
    preset=r"[a-z]+",
    mode="box|trust",
    bits=r"\d+",
    seed=r"\d+",
    method="sgd|logreg|ridge",
    variant=r"([a-z-]+/)?",


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
    if name == "emnist":
        args += ["--emnist-split", emnist_split()]
    for key in ("limit_train", "limit_test"):
        if study.get(key):
            args += [f"--{key.replace('_', '-')}", str(study[key])]
    return " ".join(shlex.quote(a) for a in args)


def train_args(wildcards):
    """Refinements apply to trust mode only: box mode stays the paper's literal method. A variant
    folder (config `variants`) changes the solver or the acceptance rule of the same runs; the
    hardware study's (HARDWARE_VARIANT) trains the main runs' settings under the QPU control-error
    model in clique-sized blocks (the model wraps a dimod sampler, so dwave-samplers' SA anneals)."""
    s, variant = STUDIES[wildcards.study], wildcards.variant.rstrip("/")
    if variant == HARDWARE_VARIANT:
        return run_args(s, wildcards.mode, "sa") + " --qpu-noise --block-size clique"
    settings = s.get("variants", {}).get(variant, {})
    return run_args(s, wildcards.mode, settings.get("solver", s["solver"]), settings.get("accept", "improving"))


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
    """The hardware study's runs (config `hardware_study`): runs/DATASET[+PRESET]/HARDWARE_VARIANT/, for the
    data sets the study has (a data set left out for lack of data is left out here too)."""
    hw = STUDIES[study].get("hardware_study")
    if not hw:
        return []
    files = []
    for dataset in (d for d in hw["datasets"] if d in STUDIES[study]["datasets"]):
        for preset in hw["presets"]:
            folder = dataset if preset == STUDIES[study]["preset"] else f"{dataset}+{preset}"
            files += [f"results/{study}/runs/{folder}/{HARDWARE_VARIANT}/qubo-{mode}-K{bits}-seed{seed}.json"
                      for mode, bits_list in hw["bits"].items() for bits in bits_list for seed in hw["seeds"]]
    return files


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


# The low-bit study (workflow/rules/lowbit.smk, config `low_bit`)

def lowbit_files(study):
    """The study's low-bit result files, the data sets it runs (and has) only."""
    low = STUDIES[study].get("low_bit")
    if not low:
        return []
    datasets = [d for d in low["datasets"] if d in STUDIES[study]["datasets"]]
    return expand("results/{study}/lowbit/{dataset}-{preset}/{grid}-K{bits}-seed{seed}.json", study=study,
                  dataset=datasets, preset=low["preset"], grid=low["grids"], bits=low["bits"], seed=low["seeds"])


def lowbit_outputs(study):
    """What target `all` asks for: the table, the claim and the figure (none without config `low_bit`)."""
    if not lowbit_files(study):
        return []
    return [f"results/{study}/lowbit/tables/{name}.md" for name in ("low_bit", "low_bit_claim")] + [
        f"results/{study}/lowbit/figures/low_bit.{fmt}" for fmt in FIGURE_FORMATS]


def lowbit_args(wildcards):
    low = STUDIES[wildcards.study]["low_bit"]
    return (f"--reads {low['reads']} --sweeps {low['sweeps']} --tabu-timeout {low['tabu_timeout']} "
            f"--sqa-sweeps {low['sqa_sweeps']}")
