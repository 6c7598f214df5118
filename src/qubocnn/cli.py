"""Command line: `qubocnn features | train | predict | baseline | export-qubo | hardware | ...`.

Every option can also come from a YAML file (`--config FILE`, keys named like the options with
underscores); options given on the command line win over the file, the file over the defaults.
The options of a run are the fields of its dataclasses (`runspec.SourceSpec`, `train.TrainConfig`,
`solvers.SolverConfig`: name, type, default and help, see qubocnn.options); a YAML value is checked
by the same types. `train` parses into a `runspec.RunSpec` and calls `runspec.run`.
"""

from __future__ import annotations

import argparse
import logging
import sys

import yaml

from . import __version__, options
from .commands import COMMANDS
from .lowbit import LowBitConfig
from .runspec import SourceSpec
from .solvers import SolverConfig
from .train import TrainConfig

# the files whose table blocks `qubocnn report readme` fills (qubocnn.report.readme)
FILES_WITH_TABLES = ("README.md", "docs/findings.md", "docs/hardware-reference.md", "docs/hardware.md", "docs/annealer.md",
                     "docs/annealer-speed.md", "docs/workflow.md")

log = logging.getLogger("qubocnn")

PREDICT_SOURCE = ("features", "dataset", "data_root", "download", "emnist_split", "limit_test")
# The dataclass fields each command takes as options: (class, the fields taken, None: all).
FIELDS = {
    "features": ((SourceSpec, None), (TrainConfig, ("seed",))),
    "train": ((SourceSpec, None), (TrainConfig, None), (SolverConfig, None)),
    "baseline": ((SourceSpec, None), (TrainConfig, ("seed", "lam"))),
    "export-qubo": ((SourceSpec, None), (TrainConfig, ("seed", "lam"))),
    "predict": ((SourceSpec, PREDICT_SOURCE),),
    "download": ((SourceSpec, ("dataset", "data_root", "emnist_split")),),
    "lowbit": ((SourceSpec, None), (LowBitConfig, None), (SolverConfig, ("num_reads", "num_sweeps", "sigma_h", "sigma_J"))),
}
OUT = ("out", None, "the file to write", {})
# Each command's other options: (name, default, help, argparse keywords); help never states a default.
OWN = {
    "features": [OUT],
    "train": [OUT],
    "predict": [("head", None, "head file that `qubocnn train --out RUN.json` wrote (RUN.head.npz)", {}), OUT],
    "baseline": [("method", "sgd", "sgd, logreg or ridge", {}),
                 ("epochs", None, "sgd: epochs (default: baselines.sgd_heads')", {"type": int}),
                 ("lr", None, "sgd: comma-separated learning rates, chosen on a validation split (one value: no "
                              "tuning; default: baselines.SGD_LEARNING_RATES)", {}),
                 ("momentum", None, "sgd: momentum (default: baselines.sgd_heads')", {"type": float}),
                 ("batch_size", None, "sgd: minibatch size (default: baselines.sgd_heads')", {"type": int}),
                 ("validation_fraction", None, "sgd: share of the training set used to choose the learning rate "
                                               "(default: baselines.SGD_VALIDATION_FRACTION)", {"type": float}),
                 OUT],
    "export-qubo": [("bits", TrainConfig.bits, "K, bits per parameter", {"type": int}),
                    ("mode", "box", "box or trust (both centred at W = 0 on the first iteration)", {}),
                    ("half_range", TrainConfig.box_half_range, "half-range of the grid", {"type": float}),
                    ("target_class", 0, "class whose QUBO to write", {"type": int, "flag": "--class"}),
                    ("run", None, "result JSON of a `qubocnn train` run in box or trust mode: replay it with its "
                                  "run spec and seed (its grid, not --bits, --mode, --half-range)", {}),
                    ("iteration", 1, "with --run: the iteration whose QUBO to write", {"type": int}),
                    ("replay_on_qpu", False, "with --run of a QPU run: replay on the QPU (default: a classical "
                                             "solver, no QPU call)", {"action": "store_true"}),
                    ("out", None, ".coo, .json (dimod) or .npz (dense upper-triangular Q)", {})],
    "hardware": [("presets", "default,clique", "comma-separated feature presets", {}),
                 ("bits", "5,10,15,20", "comma-separated K values", {}), OUT],
    "report": [("action", None, "collect: one CSV row per run; tables: CSV, Markdown, LaTeX; figures: PNG, PDF; "
                                "values: the paper's numbers (values.tex) and the claims summary, from run "
                                "results or a collect CSV; readme: copy the Markdown tables of --tables-dir "
                                "into the table blocks of README.md and docs/",
                {"positional": True, "choices": ("collect", "tables", "figures", "values", "readme")}),
               ("tables_dir", "results/full/tables", "readme: the Markdown tables", {}),
               ("readme", list(FILES_WITH_TABLES), "readme: the files to update", {"nargs": "+"}),
               ("results", None, "result JSON files or directories (searched recursively)", {"nargs": "+"}),
               ("hardware", None, "`qubocnn hardware` JSON (default: a hardware.json under --results)", {}),
               ("lowbit", None, "tables, values: `qubocnn lowbit` JSON files or folders; their claim joins the "
                                "claims tables", {"nargs": "+"}),
               ("out_dir", None, "tables: CSV and Markdown go here; figures: PNG and PDF go here", {}),
               ("latex_dir", None, "tables: LaTeX goes here (default: --out-dir)", {}),
               ("formats", "png,pdf", "figures: comma-separated file formats", {}),
               ("names", None, "comma-separated subset of the tables or figures (default: all)", {}),
               ("out", None, "collect: the CSV to write; values: the LaTeX values file", {})],
    "reproduce": [("run", None, "the run's tables (CSV), e.g. results/run/tables", {}),
                  ("reference", None, "the reference tables (CSV), e.g. results/full/tables", {}),
                  ("out", None, "Markdown report to write", {}),
                  ("summary", None, "JSON summary to write (default: --out with .json)", {})],
    "download": [],
    "sources": [("datasets", None, "comma-separated data sets whose download sources to ask", {}), OUT],
    "lowbit": [OUT],
    "lowbit-report": [("results", None, "lowbit JSON files or folders (searched recursively)", {"nargs": "+"}),
                      ("out_dir", None, "tables low_bit and low_bit_claim go here", {}),
                      ("figures_dir", None, "figure low_bit goes here", {}),
                      ("formats", "png,pdf", "comma-separated figure formats", {})],
}
HELP = {"features": "extract and cache frozen-CNN features", "train": "train the head by per-class QUBOs",
        "predict": "apply a saved head (RUN.head.npz) to a feature file or a data set's test images",
        "baseline": "train a reference head (sgd, logreg, ridge)",
        "export-qubo": "write one class's QUBO (the first iteration's, or any iteration of a run) for other solvers",
        "hardware": "D-Wave feasibility table (raw counts and clique embeddings)",
        "report": "tables and figures from result files (qubocnn.report)",
        "reproduce": "compare a run's tables with the committed reference tables, row by row",
        "download": "download a torchvision data set into the data root, atomically",
        "sources": "which download sources answer (JSON: data set -> why not), for the workflow's data plan",
        "lowbit": "low-bit heads (K = 1-3): every solver against the certified optimum (qubocnn.lowbit)",
        "lowbit-report": "table and figure of the low-bit study"}
PROGRESS = ("features", "train", "predict", "baseline", "export-qubo", "lowbit")


def _defaults(command: str) -> dict:
    values = {}
    for cls, only in FIELDS.get(command, ()):
        values.update({options.dest(f): options.default_of(f) for f in options.option_fields(cls, only)})
    values.update({name: default for name, default, _, _ in OWN[command]})
    return dict(values, config=None, **({"progress": True} if command in PROGRESS else {}))


DEFAULTS = {command: _defaults(command) for command in HELP}


def _add_command(commands, command: str) -> None:
    parser = commands.add_parser(command, help=HELP[command], description=HELP[command],
                                 argument_default=argparse.SUPPRESS)
    for cls, only in FIELDS.get(command, ()):
        options.add_options(parser, cls, only)
    for name, default, text, keywords in OWN[command]:
        keywords = dict(keywords)
        text += f" (default {default})" if default not in (None, False) else ""
        if keywords.pop("positional", False):
            parser.add_argument(name, help=text, **keywords)
        else:
            flag = keywords.pop("flag", "--" + name.replace("_", "-"))
            parser.add_argument(flag, dest=name, help=text, **keywords)
    if command in PROGRESS:
        parser.add_argument("--no-progress", dest="progress", action="store_false", help="no progress bars")
    parser.add_argument("--config", help="YAML file of option values")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="qubocnn", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"qubocnn {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    for command in HELP:
        _add_command(commands, command)
    return parser


def parse_options(argv=None) -> tuple[str, dict]:
    """Merge defaults < YAML config < command-line options."""
    args = vars(build_parser().parse_args(argv))
    command = args.pop("command")
    values = dict(DEFAULTS[command])
    if args.get("config"):
        values.update(options.read_config(args["config"], command, DEFAULTS[command], FIELDS.get(command, ())))
    values.update(args)
    if "out" in values and not values["out"] and command != "report":
        raise ValueError(f"missing --out: where should `qubocnn {command}` write its result?")
    return command, values


def main(argv=None) -> int:
    from .outputs import check_command_outputs
    from .qpu import HardwareError

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s", datefmt="%H:%M:%S")
    try:
        command, values = parse_options(argv)
        check_command_outputs(command, values)  # before any work: no output over an input, none unwritable
        COMMANDS[command](values)
    # anticipated: bad input (ValueError, DataError), files and the network (OSError: requests' and
    # dwave-cloud-client's errors are OSErrors), a missing QPU, a YAML file that does not parse
    except (ValueError, OSError, HardwareError, yaml.YAMLError) as error:
        print(f"qubocnn: error: {one_line(error)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("qubocnn: interrupted (earlier outputs are intact)", file=sys.stderr)
        return 130
    return 0


def one_line(error: BaseException) -> str:
    """An error's message on one line (YAML's and some network errors span several)."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return "; ".join(lines) or type(error).__name__


if __name__ == "__main__":
    sys.exit(main())
