"""The replication workflow's studies (config/config.yaml, config/smoke.yaml) as plain functions:
which data sets a study runs on (`DataPlan`), the result file of each of its runs, and the
`qubocnn` options of each run. The Snakefile's rules import these, so the workflow never restates
what the package knows (the data root, the trust-only refinements).

A data set that has no files under the data root but can be downloaded runs only if its source
answers; that is asked by the workflow's `sources` job (`qubocnn sources`), never while the
Snakefile is parsed: the DataPlan made from the files alone lists it as `unprobed`, and
`DataPlan.probed` settles it.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field

from .data import DATASETS, DEFAULT_EMNIST_SPLIT, data_root
from .download import DOWNLOADABLE, present
from .modes import refinements_for

STUDY_NAMES = ("run", "smoke")
HARDWARE_VARIANT = "qpu-model"  # the hardware study's runs: runs/DATASET/qpu-model/
# ... and beside them, the same runs with zero errors (the clean noiseless reference) and with chains
HARDWARE_VARIANTS = {HARDWARE_VARIANT: "", "qpu-model-noiseless": " --sigma-h 0 --sigma-j 0",
                     "qpu-model-chains": " --qpu-chains"}
# the data settings: config/config.yaml's (or the command line's), for every study
DATA_SETTINGS = ("data_root", "download", "missing_data", "emnist_split")


def study_root(config: dict) -> str:
    """The data root of a workflow config: its `data_root`, else $QUBOCNN_DATA, else data/."""
    return str(data_root(config.get("data_root") or None))


def emnist_split(config: dict) -> str:
    return config.get("emnist_split", DEFAULT_EMNIST_SPLIT)


def missing_reason(name: str, root: str, unreachable: str | None = None) -> str:
    """Why a data set without files under root is left out (`unreachable`: why its source did not answer)."""
    if unreachable:
        return f"no files under {root}, and its source cannot be reached ({unreachable.split(';')[0]})"
    if name in DOWNLOADABLE:
        return f"no files under {root} (download: false)"
    if name == "cifar10_jpeg":
        return f"no {root}/cifar10_jpeg.npz (a local JPEG copy of CIFAR-10: it cannot be downloaded)"
    return f"no {root}/{name}.npz"


@dataclass(frozen=True)
class DataPlan:
    """A study's data sets: those that run (`datasets`), those a download job fetches first
    (`downloads`), those left out and why (`left_out`, missing_data: skip), and the downloadable
    ones whose source is not asked yet (`unprobed`: they run if it answers)."""

    study: str
    root: str
    requested: tuple[str, ...]
    downloads: tuple[str, ...] = ()
    left_out: dict[str, str] = field(default_factory=dict)
    unprobed: tuple[str, ...] = ()

    @property
    def datasets(self) -> list[str]:
        return [d for d in self.requested if d not in self.left_out and d not in self.unprobed]

    @classmethod
    def of(cls, study: str, config: dict) -> DataPlan:
        """From the files under the data root alone (no network): with `missing_data: skip`, a
        data set without files is left out unless it can be downloaded (`download: true`), in
        which case its source is to be probed; with `fail` it stays, downloaded first if it can be."""
        root, split = study_root(config), emnist_split(config)
        missing = [d for d in config["datasets"] if not present(d, root, split)]
        fetchable = tuple(d for d in missing if d in DOWNLOADABLE) if config.get("download", True) else ()
        if config.get("missing_data", "skip") != "skip":
            return cls(study, root, tuple(config["datasets"]), downloads=fetchable)
        left_out = {d: missing_reason(d, root) for d in missing if d not in fetchable}
        return cls(study, root, tuple(config["datasets"]), left_out=left_out, unprobed=fetchable).checked()

    def probed(self, unreachable: dict[str, str]) -> DataPlan:
        """The plan once the sources of `unprobed` were asked (`unreachable`: data set -> why its
        source did not answer, as `qubocnn sources` writes it): the others are downloaded."""
        offline = {d: missing_reason(d, self.root, unreachable[d]) for d in self.unprobed if d in unreachable}
        left_out = {d: self.left_out.get(d) or offline[d] for d in self.requested if d in self.left_out or d in offline}
        downloads = self.downloads + tuple(d for d in self.unprobed if d not in offline)
        return DataPlan(self.study, self.root, self.requested, downloads, left_out).checked()

    def checked(self) -> DataPlan:
        if not self.datasets and not self.unprobed:
            raise ValueError(f"{self.study} study: no data set has its files under {self.root} or can be downloaded")
        return self

    def summary(self, download: bool = True) -> list[str]:
        """Lines for the end of a run: what ran, what was left out and how to get the rest."""
        lines = [f"{self.study} study ran on: {', '.join(self.datasets)}"]
        lines += [f"left out {d}: {reason}" for d, reason in self.left_out.items()]
        if self.unprobed:
            lines.append(f"not run: {', '.join(self.unprobed)} (no files; the `sources` job did not ask their sources)")
        fetchable = [d for d in self.left_out if d in DOWNLOADABLE]
        if fetchable:
            fetch = ("run `make run` again on a machine with internet (it asks their sources again, as "
                     "`snakemake --forcerun sources` does; one download job each)" if download else
                     "drop `download=False`, on a machine with internet")
            lines.append(f"to add {', '.join(fetchable)}: {fetch}, or copy their files under {self.root} in "
                         f"torchvision's layout")
        others = [d for d in self.left_out if d not in DOWNLOADABLE]
        if others:
            lines.append(f"to add {', '.join(others)}: put {', '.join(f'{d}.npz' for d in others)} under {self.root} "
                         f"(keys x_train, y_train, x_test, y_test)")
        return lines


def split_dataset(folder: str) -> tuple[str, str | None]:
    """Run folders name a data set, or DATASET+PRESET for runs on another feature preset."""
    name, _, preset = folder.partition("+")
    return name, preset or None


def features_file(study_name: str, study: dict, folder: str, seed) -> str:
    name, preset = split_dataset(folder)
    return f"results/{study_name}/features/{name}-{preset or study['preset']}-seed{seed}.npz"


def source_options(study: dict, name: str) -> str:
    """Where `qubocnn features` reads a data set: a known name, or DATA_ROOT/NAME.npz."""
    options = ["--dataset", name if name in DATASETS else f"{study_root(study)}/{name}.npz"]
    if study.get("data_root"):
        options += ["--data-root", study["data_root"]]
    if name == "emnist":
        options += ["--emnist-split", emnist_split(study)]
    for key in ("limit_train", "limit_test"):
        if study.get(key):
            options += [f"--{key.replace('_', '-')}", str(study[key])]
    return " ".join(shlex.quote(o) for o in options)


def train_options(study: dict, folder: str, mode: str, variant: str) -> str:
    """A QUBO run's options. A variant folder (config `variants`) changes the solver or the
    acceptance rule of the same runs; the hardware study's (HARDWARE_VARIANTS) train the main runs'
    settings at the hardware study's reads and refinements (one count, or one per data set) under the
    QPU control-error model, in blocks, the classes packed several per call (the model wraps a dimod
    sampler, so dwave-samplers' SA anneals)."""
    if variant in HARDWARE_VARIANTS:
        hw = study["hardware_study"]
        refinements = hw["refinements"]
        if isinstance(refinements, dict):
            refinements = refinements[split_dataset(folder)[0]]
        return (_run_options(dict(study, reads=hw["reads"], refinements=refinements), mode, "sa")
                + f" --qpu-noise --block-size {hw['block_size']} --pack {hw['pack']}" + HARDWARE_VARIANTS[variant])
    settings = study.get("variants", {}).get(variant, {})
    return _run_options(study, mode, settings.get("solver", study["solver"]), settings.get("accept", "improving"))


def _run_options(s: dict, mode: str, solver: str, accept: str = "improving") -> str:
    # box runs anneal with box_sweeps where it is set (the rounding solver takes no sweeps)
    sweeps = s.get("box_sweeps", s["sweeps"]) if mode == "box" and solver != "round" else s["sweeps"]
    return (f"--solver {solver} --accept {accept} "
            f"--reads {s['reads']} --sweeps {sweeps} --iterations {s['iterations']} "
            f"--lam {s['lam']} --box-half-range {s['box_half_range']} --trust-half-range {s['trust_half_range']} "
            f"--trust-max-half-range {s['trust_max_half_range']} "
            f"--refinements {refinements_for(mode, s.get('refinements', 0))}")


def continuous_options(s: dict) -> str:
    return f"--iterations {s['iterations']} --lam {s['lam']}"


def baseline_options(s: dict) -> str:
    sgd = s["sgd"]
    return (f"--lam {s['lam']} --epochs {sgd['epochs']} --lr {','.join(map(str, sgd['learning_rates']))} "
            f"--validation-fraction {sgd['validation_fraction']} --momentum {sgd['momentum']} "
            f"--batch-size {sgd['batch_size']}")


def hardware_options(s: dict) -> str:
    hw = s["hardware"]
    return f"--presets {','.join(hw['presets'])} --bits {','.join(map(str, hw['bits']))}"


def qpu_options(config: dict) -> str:
    """Target `hardware`: the hardware-ready configuration (config `qpu`) on a D-Wave QPU."""
    q = config["qpu"]
    options = [f"--mode {q['mode']}", f"--bits {q['bits']}", f"--block-size {q['block_size']}",
               f"--pack {q.get('pack', 1)}",
               f"--refinements {refinements_for(q['mode'], q.get('refinements', config['refinements']))}",
               f"--reads {q['reads']}",
               f"--iterations {q['iterations']}", f"--lam {config['lam']}",
               f"--solver-option annealing_time={q['annealing_time']}"]
    if q.get("chain_strength") is not None:
        options.append(f"--solver-option chain_strength={q['chain_strength']}")
    return " ".join(options)


def train_runtime(folder: str, bits) -> int:
    """Minutes a cluster job may take (SLURM `runtime`): grows with the data set and K."""
    large = split_dataset(folder)[0] != "digits"
    return (60 if large else 10) * max(1, int(bits) // 5)


def run_files(study_name: str, s: dict, datasets: list[str]) -> list[str]:
    """Every run result of a study on `datasets` (its DataPlan's)."""
    groups = [(dataset, s["bits"]) for dataset in datasets]
    if s.get("small_preset"):
        groups += [(f"{dataset}+{s['small_preset']['preset']}", s["small_preset"]["bits"]) for dataset in datasets]
    files = []
    for dataset, bits_list in groups:
        for seed in s["seeds"]:
            base = f"results/{study_name}/runs/{dataset}"
            files += [f"{base}/qubo-{mode}-K{bits}-seed{seed}.json" for mode in s["modes"] for bits in bits_list]
            files.append(f"{base}/continuous-seed{seed}.json")
            files += [f"{base}/{method}-seed{seed}.json" for method in s["baselines"]]
            for name, variant in s.get("variants", {}).items():
                if "+" in dataset or variant.get("datasets", "all") == "all" or dataset in variant["datasets"]:
                    files += [f"{base}/{name}/qubo-{mode}-K{bits}-seed{seed}.json"
                              for mode in variant["modes"] for bits in bits_list]
    return files + _hardware_study_files(study_name, s, datasets)


def _hardware_study_files(study_name: str, s: dict, datasets: list[str]) -> list[str]:
    """The hardware study's runs (config `hardware_study`): runs/DATASET[+PRESET]/VARIANT/ for each of
    HARDWARE_VARIANTS (the chains variant on the data sets `chains` names),
    for those of its data sets the study has (one left out for lack of data is left out here too)."""
    hw = s.get("hardware_study")
    if not hw:
        return []
    files = []
    for dataset in (d for d in hw["datasets"] if d in datasets):
        for preset in hw["presets"]:
            folder = dataset if preset == s["preset"] else f"{dataset}+{preset}"
            variants = [v for v in HARDWARE_VARIANTS if v != "qpu-model-chains" or dataset in hw["chains"]]
            files += [f"results/{study_name}/runs/{folder}/{variant}/qubo-{mode}-K{bits}-seed{seed}.json"
                      for variant in variants for mode, bits_list in hw["bits"].items() for bits in bits_list
                      for seed in hw["seeds"]]
    return files


def lowbit_files(study_name: str, s: dict, datasets: list[str]) -> list[str]:
    """The low-bit study's result files (config `low_bit`), for those of its data sets the study has."""
    low = s.get("low_bit")
    if not low:
        return []
    return [f"results/{study_name}/lowbit/{dataset}-{preset}/{grid}-K{bits}-seed{seed}.json"
            for preset, part in low["presets"].items() for dataset in part["datasets"] if dataset in datasets
            for grid in low["grids"] for bits in low["bits"] for seed in low["seeds"]]


LOWBIT_TABLES = ("low_bit", "low_bit_claim")  # `qubocnn lowbit-report` writes these (qubocnn.report.lowbit)


def lowbit_outputs(study_name: str, s: dict, datasets: list[str], figure_formats) -> list[str]:
    """What target `all` asks of the low-bit study: its table, claim and figure (none without runs)."""
    if not lowbit_files(study_name, s, datasets):
        return []
    return [f"results/{study_name}/lowbit/tables/{name}.md" for name in LOWBIT_TABLES] + [
        f"results/{study_name}/lowbit/figures/low_bit.{fmt}" for fmt in figure_formats]


def lowbit_options(s: dict, preset: str) -> str:
    """A low-bit job's options; a preset's own node limit for the certified solver where it sets one."""
    low = s["low_bit"]
    max_nodes = low["presets"][preset].get("max_nodes")
    return (f"--reads {low['reads']} --sweeps {low['sweeps']} --tabu-timeout {low['tabu_timeout']} "
            f"--sqa-sweeps {low['sqa_sweeps']}" + (f" --max-nodes {max_nodes}" if max_nodes else ""))
