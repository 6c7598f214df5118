"""A training run as a library object: `RunSpec` says where the features come from (`SourceSpec`),
how the head is trained (`train.TrainConfig`) and by which solver (`solvers.SolverConfig`, its noise
model and blocks included); `run(spec) -> Result` runs it. The command line parses into a RunSpec,
the estimator trains through `fit_head`, and every replay rebuilds its run with
`RunSpec.from_result`.

A result file's `config` is its run's spec (`RunSpec.to_dict`, format SPEC_FORMAT). Result files
written before the spec existed recorded the command line's flat options; `from_dict` reads both.

    spec = RunSpec(SourceSpec(dataset="digits"), TrainConfig(bits=10, mode="trust"))
    run(spec).save("results/run/digits.json")   # and digits.head.npz beside it
"""

from __future__ import annotations

import dataclasses
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

from . import options
from .data import DATASETS, DEFAULT_EMNIST_SPLIT, EMNIST_SPLITS
from .options import option
from .solver_factory import make_solver
from .solvers import Solver, SolverConfig
from .train import TrainConfig, train_qubo_head

log = logging.getLogger("qubocnn")
SPEC_FORMAT = "qubocnn.runspec/1"
SECTIONS = ("source", "train", "solver")


@dataclass(frozen=True)
class SourceSpec:
    """Where a run's features come from: a cached feature file, or a data set to extract them from."""

    features: str | None = option(None, "feature file written by `qubocnn features`")
    dataset: str | None = option(None, f"{', '.join(DATASETS)} or a .npz")
    data_root: str | None = option(None, "data root (default: $QUBOCNN_DATA or data/)")
    download: bool = option(False, "let torchvision download missing files")
    preset: str = option("default", "frozen-CNN feature preset (a name in features.PRESETS)")
    feature_seed: int | None = option(None, "seed of the random filters (default: --seed)")
    limit_train: int | None = option(None, "keep the first N training examples")
    limit_test: int | None = option(None, "keep the first N test examples")
    emnist_split: str = option(DEFAULT_EMNIST_SPLIT, f"EMNIST split ({', '.join(EMNIST_SPLITS)})")

    def load(self, seed: int = 0, progress: bool = False):
        """The FeatureSet: the feature file, or the data set's features (filters seeded by
        feature_seed, else `seed`)."""
        from .data import load_dataset
        from .features import FeatureSet, make_feature_set

        if self.features:
            return FeatureSet.load(self.features)
        if not self.dataset:
            raise ValueError("give --features FILE or --dataset NAME")
        dataset = load_dataset(self.dataset, root=self.data_root, download=self.download,
                               emnist_split=self.emnist_split, limit_train=self.limit_train,
                               limit_test=self.limit_test)
        return make_feature_set(dataset, self.preset, seed if self.feature_seed is None else self.feature_seed,
                                progress=progress)


def _by_name(f: dataclasses.Field) -> str:
    return f.name


@dataclass(frozen=True)
class RunSpec:
    """One training run; `train.solver` is its SolverConfig."""

    source: SourceSpec = field(default_factory=SourceSpec)
    train: TrainConfig = field(default_factory=TrainConfig)

    @property
    def solver(self) -> SolverConfig:
        return self.train.solver

    def to_dict(self) -> dict:
        """JSON-able, versioned: what a result file records as its `config`."""
        train = {f.name: getattr(self.train, f.name) for f in options.option_fields(TrainConfig)}
        return {"format": SPEC_FORMAT, "source": dataclasses.asdict(self.source), "train": train,
                "solver": dataclasses.asdict(self.solver)}

    @classmethod
    def from_dict(cls, spec: dict, origin: str = "run spec") -> RunSpec:
        """The inverse of to_dict; also reads the flat options that results written before the
        spec recorded. Values are checked by their field's type; unknown keys are refused."""
        if "format" not in spec:
            return cls.from_options(spec, origin)
        if spec["format"] != SPEC_FORMAT:
            raise ValueError(f"{origin}: unknown run spec format {spec['format']!r} (this qubocnn reads {SPEC_FORMAT})")
        unknown = sorted(set(spec) - {"format", *SECTIONS})
        for section, kind in zip(SECTIONS, (SourceSpec, TrainConfig, SolverConfig)):
            known = {f.name for f in options.option_fields(kind)}
            unknown += [f"{section}.{key}" for key in sorted(set(spec.get(section, {})) - known)]
        if unknown:
            raise ValueError(f"{origin}: unknown run spec key(s) {', '.join(unknown)}")
        solver = options.instance(SolverConfig, spec.get("solver", {}), origin, key=_by_name)
        return cls(options.instance(SourceSpec, spec.get("source", {}), origin, key=_by_name),
                   options.instance(TrainConfig, spec.get("train", {}), origin, key=_by_name, solver=solver))

    @classmethod
    def from_options(cls, values: dict, origin: str = "option") -> RunSpec:
        """The spec of `qubocnn train`'s options (keyed like the options: reads, sweeps, sigma_j,
        ...); keys that are no field (out, progress) are ignored. A legacy `solver_options`
        mapping is merged under the --solver-option items."""
        values = dict(values)
        legacy = values.pop("solver_options", None) or {}
        items = values.get("solver_option") or {}
        if isinstance(items, list):
            items = options.key_values(items)
        values["solver_option"] = {**legacy, **items}
        solver = options.instance(SolverConfig, values, origin)
        return cls(options.instance(SourceSpec, values, origin),
                   options.instance(TrainConfig, values, origin, solver=solver))

    @classmethod
    def from_result(cls, path: str | os.PathLike) -> RunSpec:
        """The spec of a recorded QUBO or continuous training run (a `qubocnn.result` file)."""
        from .results import read_result

        result = read_result(path)
        if result["kind"] != "qubo":
            raise ValueError(f"{path} is a {result['kind']} result ({result['method']}), not a training run of "
                             "`qubocnn train`")
        return cls.from_dict(result["config"], origin=str(path))

    def replace(self, source: dict | None = None, train: dict | None = None, solver: dict | None = None) -> RunSpec:
        """A copy with some fields changed (by field name), e.g. the features moved elsewhere."""
        new_solver = dataclasses.replace(self.solver, **(solver or {}))
        return RunSpec(dataclasses.replace(self.source, **(source or {})),
                       dataclasses.replace(self.train, **(train or {}), solver=new_solver))


def targets_qpu(config: TrainConfig) -> bool:
    """Whether the run's calls stand for QPU calls (on a QPU, or under its noise model)."""
    return config.mode != "continuous" and (config.solver.name == "qpu" or config.solver.qpu_noise)


def make_run_solver(config: TrainConfig, sampler=None, sample_kwargs: dict | None = None) -> Solver:
    """The run's solver, made once: config.solver, or `sampler` (a dimod sampler with its
    sample_kwargs, or a Solver). Refuses unknown options, a missing QPU and blocks that do not embed,
    before any work."""
    if config.solver.block_size is not None:
        from .blocks import check_block_size
        from .embedding import DEFAULT_SYSTEM
        check_block_size(config.solver.block_size, config.bits, DEFAULT_SYSTEM)
    return make_solver(config.solver if sampler is None else sampler, sample_kwargs)


def qpu_plan(config: TrainConfig, num_features: int, num_classes: int):
    from .qpu import QPU_DEFAULTS, QpuPlan

    solver = config.solver
    return QpuPlan.of_training(num_features, num_classes, config.bits, config.iterations, config.num_refinements,
                               solver.num_reads, solver.options.get("annealing_time", QPU_DEFAULTS["annealing_time"]),
                               solver.block_size, solver.pack)


def qpu_records(solver: SolverConfig, run_solver: Solver, plan) -> dict:
    """What a QPU-targeted run records: the noise model, the blocks, the QPU budget of the calls it
    made (D-Wave's timing model at the run's reads) and, on a QPU, what the QPU reported."""
    from .qpu_noise import DEFAULT_H_RANGE, DEFAULT_J_RANGE

    records, calls = {}, run_solver.call_log
    if solver.qpu_noise:
        records["qpu_noise"] = dict(model="ControlErrorComposite", sigma_h=solver.sigma_h, sigma_J=solver.sigma_J,
                                    h_range=list(DEFAULT_H_RANGE), j_range=list(DEFAULT_J_RANGE),
                                    precision=calls.precision_summary())
    if solver.block_size is not None:
        records["blocks"] = plan.blocks_record()
    if solver.qpu_chains:
        summary = calls.summary()
        records["chains"] = dict(chain_strength=solver.chain_strength, mean_chain_strength=summary["mean_chain_strength"],
                                 mean_chain_break_fraction=summary["mean_chain_break_fraction"],
                                 max_chain_break_fraction=summary["max_chain_break_fraction"])
    records["qpu_budget"] = plan.budget(calls.calls)
    if solver.name == "qpu":
        records["qpu_reported"] = calls.summary()
    return records


def fit_head(config: TrainConfig, solver: Solver, x_train, y_train, num_classes: int, x_test=None, y_test=None,
             progress: bool = False) -> tuple[dict, dict]:
    """Train the head with the run's solver (made by make_run_solver); a QPU-targeted run plans and
    logs its QPU budget first. Returns train_qubo_head's fit and the QPU records (or {})."""
    plan = qpu_plan(config, x_train.shape[1], num_classes) if targets_qpu(config) else None
    if plan is not None:
        log.info("%s", plan.describe())
    fit = train_qubo_head(x_train, y_train, x_test, y_test, num_classes, config, sampler=solver, progress=progress)
    return fit, ({} if plan is None else qpu_records(config.solver, solver, plan))


@dataclass
class Result:
    """A trained run: its result record (results.SCHEMA) and its head."""

    record: dict
    head: object  # heads.Head

    def save(self, path: str | os.PathLike) -> Path:
        """Write RUN.head.npz and the result RUN.json naming it as one unit: the head first, the
        result last; a failure leaves both as they were."""
        from .heads import head_path
        from .results import write_result

        self.record["head"] = head_path(path).name
        return write_result(self.record, path, also={head_path(path): self.head.write})


def run(spec: RunSpec, progress: bool = False, features=None) -> Result:
    """Train the run `spec` describes (on `features`, a FeatureSet, if given instead of its source)."""
    from .heads import Head
    from .qubo import problem_size
    from .results import make_result, method_name

    config = spec.train
    solver = make_run_solver(config)
    features = spec.source.load(config.seed, progress) if features is None else features
    fit, qpu = fit_head(config, solver, features.x_train, features.y_train, features.num_classes, features.x_test,
                        features.y_test, progress)
    record = make_result("qubo", method_name(config.mode), features, fit, spec.to_dict(), seed=config.seed,
                         bits=config.bits, mode=config.mode,
                         solver=config.solver.name if config.mode != "continuous" else None,
                         accelerated=config.accelerated, refinements=config.num_refinements, accept=config.accept,
                         tol=config.tol, iterations_run=fit["iterations_run"],
                         qubo=problem_size(features.num_features, config.bits), **qpu)
    return Result(record, Head.of_run(fit["W"], features))
