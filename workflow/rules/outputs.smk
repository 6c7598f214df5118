# Reproducible outputs: where each study writes, and the fixed dates that keep its files byte-stable.

import json
import shlex
import subprocess

from snakemake.exceptions import WorkflowError


def paper_date(tex=os.path.join(workflow.basedir, "paper", "main.tex")):
    """SOURCE_DATE_EPOCH for pdfTeX: the author date of the last commit of main.tex (a rebase keeps
    it; outside a git checkout, the file's mtime). With FORCE_SOURCE_DATE=1 it also sets \\today, so
    the PDF's dates and text are the same on every build, and main.tex drops the trailer ID: the PDF
    is byte-identical when its inputs are."""
    try:
        found = subprocess.run(["git", "log", "-1", "--format=%at", "--", tex], capture_output=True, text=True,
                               timeout=30, cwd=os.path.dirname(tex)).stdout.strip()
    except OSError:
        found = ""
    return found or str(int(os.path.getmtime(tex)))


PAPER_ENV = f"SOURCE_DATE_EPOCH={paper_date()} FORCE_SOURCE_DATE=1"


# Output sets ("views") of the studies' runs. A study's own outputs stay under results/STUDY/, so
# `make run` never touches a committed file; the committed reference (results/full/tables,
# results/full/notebooks, results/full/hardware.json, paper/tables (with values.tex), figures/, figures/smoke: the
# README and the paper link to them) is written only by targets `reference` and `reference_smoke`,
# from the runs of the `run` and `smoke` studies.
VIEWS = {
    "run": dict(study="run", tables="results/run/tables", latex="results/run/tables",
                figures="results/run/figures", notebook="results/run/notebooks"),
    "smoke": dict(study="smoke", tables="results/smoke/tables", latex="results/smoke/tables",
                  figures="results/smoke/figures", notebook="results/smoke/notebooks"),
    "reference": dict(study="run", tables="results/full/tables", latex="paper/tables", figures="figures",
                      notebook="results/full/notebooks", hardware="results/full/hardware.json"),
    "reference_smoke": dict(study="smoke", figures="figures/smoke"),
}
REFERENCE_TABLES = VIEWS["reference"]["tables"]


def table_files(view):
    v = VIEWS[view]
    out = [f"{v['tables']}/{name}.{ext}" for name in TABLE_NAMES for ext in ("csv", "md")]
    return out + [f"{v['latex']}/{name}.tex" for name in TABLE_NAMES]


def figure_files(view):
    return [f"{VIEWS[view]['figures']}/{name}.{ext}" for name in FIGURE_NAMES for ext in FIGURE_FORMATS]


def view_targets(view):
    v = VIEWS[view]
    targets = figure_files(view)
    if "tables" in v:
        targets += table_files(view) + [f"{v['tables']}/runs.csv", f"{v['latex']}/values.tex",
                                        f"{v['notebook']}/figures.ipynb"]
    if "hardware" in v:
        targets.append(v["hardware"])
    return targets


def view_runs(view):
    """Input function: the runs a view is made from. The reference is never made from a study that
    left out data sets (a partial study must not replace the full one)."""

    def runs(wildcards):
        study = VIEWS[view]["study"]
        left_out = data_plan(study).left_out
        if view.startswith("reference") and left_out:
            raise WorkflowError(
                f"target {view}: the {study} study left out {', '.join(left_out)} (no data), and the "
                f"reference must not be replaced by a partial study; get their data, or name the data sets "
                f"of the reference explicitly, e.g. --config 'datasets=[digits,mnist]'")
        return run_files(study)

    return runs


def view_lowbit(view):
    """Input function: the low-bit study's result files of a view's study (none where it has none)."""
    study = VIEWS[view]["study"]
    return lambda wildcards: studies.lowbit_files(study, STUDIES[study], data_plan(study).datasets)


def lowbit_option(wildcards, input):
    return f"--lowbit {' '.join(input.lowbit)}" if input.lowbit else ""


def view_hardware(view):
    return f"results/{VIEWS[view]['study']}/hardware.json"


def latex_options(input, output):
    """latexmk options for a paper rule: none for paper/main.pdf; for a study's copy, its output
    directory and the tables and figures directories, relative to paper/ (latexmk -cd)."""
    if output[0] == "paper/main.pdf":
        return ""
    relative = lambda path: os.path.relpath(os.path.dirname(path), "paper")
    pretex = rf"\def\tablesdir{{{relative(input.tables[0])}}}\def\figuresdir{{{relative(input.figures[0])}}}"
    return f"-outdir={relative(output[0])} -usepretex={shlex.quote(pretex)}"


def reproduction_summary(path="results/run/reproduction.json"):
    """The reproduction check's counts (the JSON summary `qubocnn reproduce` writes), or why there is none."""
    found = Path(path)
    if not found.exists():
        return "no reproduction check: the run's tables were not made (see the errors above)"
    rows = json.loads(found.read_text())["rows"]
    verdict = (f"WARNING: {rows['differs']} rows differ from the reference" if rows["differs"] else
               "nothing differs from the reference")
    counts = ", ".join(f"{count} {status}" for status, count in rows.items())
    return f"reproduction check ({found.with_suffix('.md')}): {counts}; {verdict}"


def end_of_run(targets, finished):
    """Printed when Snakemake ends (onsuccess / onerror in the Snakefile): for each study it was
    asked for, what ran, what was left out, how to get the rest, and the reproduction check."""
    requested = set(targets) or {"all"}
    studies = [study for study, names in (("run", {"all", "reference", "paper", "paper_run"}),
                                          ("smoke", {"smoke", "reference_smoke", "paper_smoke"}))
               if requested & names or any(str(t).startswith(f"results/{study}/") for t in requested)]
    lines = []
    for study in studies:
        lines += data_plan(study, wait=False).summary(config.get("download", True))
        if "all" in requested and study == "run":
            lines.append(reproduction_summary() if finished else
                         "no reproduction check: the run did not finish (`make run` again resumes)")
        lines.append(f"outputs: results/{study}/ (tables, figures, notebooks)")
    for line in lines:
        print(f"qubocnn: {line}", file=sys.stderr)
