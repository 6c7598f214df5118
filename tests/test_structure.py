"""The package's shape: no import cycle (lazy imports inside functions included), and one source of
truth for option defaults (the config dataclasses), which the CLI and the workflow's config follow."""

import ast
import subprocess
import sys
from pathlib import Path

import yaml

from qubocnn.cli import DEFAULTS
from qubocnn.solvers import SolverConfig
from qubocnn.train import TrainConfig

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "qubocnn"


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def package_imports(path: Path) -> set[str]:
    """Every qubocnn module `path` imports, at any depth of its code."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.startswith("qubocnn"):
                # `from . import x` imports the submodule x (the package itself is already loaded)
                if node.module or not node.level:
                    found.add(target)
                found.update(f"{target}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.startswith("qubocnn"))
    return found


def test_no_import_cycle():
    modules = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph = {name: {m for m in package_imports(path) if m in modules and m != name} for name, path in modules.items()}
    # a package's __init__ may re-export its submodules; a submodule importing its own package would cycle
    state = {}

    def visit(node, stack):
        state[node] = "open"
        for target in graph[node]:
            if state.get(target) == "open":
                raise AssertionError("import cycle: " + " -> ".join(stack[stack.index(target):] + [target]))
            if target not in state:
                visit(target, stack + [target])
        state[node] = "done"

    for name in graph:
        if name not in state:
            visit(name, [name])


def test_the_command_line_starts_without_torch_or_scikit_learn():
    """Every workflow job is one `qubocnn` process: torch and scikit-learn load only in the commands
    that use them (features, baselines, low-bit), not in a QUBO training run's start-up."""
    code = ("import sys, qubocnn.cli, qubocnn.runspec, qubocnn.train; "
            "print(sorted({'torch', 'torchvision', 'sklearn'} & set(sys.modules)))")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert loaded.strip() == "[]"


def test_cli_defaults_are_the_config_dataclasses():
    train, solver = TrainConfig(), SolverConfig()
    defaults = DEFAULTS["train"]
    for field in ("bits", "mode", "iterations", "lam", "box_half_range", "trust_half_range", "trust_max_half_range",
                  "refinements", "accelerate", "accept", "tol", "jobs"):
        assert defaults[field] == getattr(train, field), field
    assert (defaults["solver"], defaults["reads"], defaults["sweeps"]) == (solver.name, solver.num_reads,
                                                                          solver.num_sweeps)


def test_workflow_config_agrees_with_the_package_defaults():
    """The full study runs the package's defaults: a change of default changes the study, visibly."""
    config = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    train, solver = TrainConfig(), SolverConfig()
    assert config["solver"] == solver.name and config["reads"] == solver.num_reads
    assert config["sweeps"] == solver.num_sweeps and config["iterations"] == train.iterations
    assert config["lam"] == train.lam and config["box_half_range"] == train.box_half_range
    assert config["trust_half_range"] == train.trust_half_range
    assert config["trust_max_half_range"] == train.trust_max_half_range
    assert config["refinements"] == TrainConfig(mode="trust").num_refinements
    schema = yaml.safe_load((ROOT / "workflow" / "schemas" / "config.schema.yaml").read_text())
    from qubocnn.solvers import SOLVERS
    assert set(schema["definitions"]["solver"]["enum"]) == set(SOLVERS)


def test_readme_tables_are_the_committed_tables(tmp_path):
    """The README's and docs/' result tables are copies of the generated files, never typed by hand."""
    from qubocnn.cli import FILES_WITH_TABLES
    from qubocnn.report.readme import BLOCK, block_source, sync_readme

    tables = ROOT / "results" / "full" / "tables"
    readme = (ROOT / "README.md").read_text()
    assert {"main_accuracy", "claims_summary"} <= {m["name"] for m in BLOCK.finditer(readme)}
    for name in FILES_WITH_TABLES:
        for match in BLOCK.finditer((ROOT / name).read_text()):
            assert match["body"] == block_source(match, tables, ROOT).read_text(), (name, match["name"])
    # and the sync rewrites a stale block
    stale = tmp_path / "README.md"
    stale.write_text("intro\n<!-- table:main_accuracy -->\n| old |\n<!-- end table:main_accuracy -->\nend\n")
    assert sync_readme(stale, tables) == ["main_accuracy"]
    assert (tables / "main_accuracy.md").read_text() in stale.read_text()
    assert "| old |" not in stale.read_text()
