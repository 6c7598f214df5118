# The replication workflow: every table and figure of the qubocnn replication from the benchmarks.
#
#   snakemake --cores all              # target `all`: the full study (config/config.yaml) in results/run/
#   snakemake --cores 2 smoke          # digits only, a few minutes, in results/smoke/
#   snakemake --cores all reference    # maintainers: the committed reference files from results/run/
#   snakemake --cores all paper        # paper/main.pdf (needs latexmk)
#
# Rules are thin: each calls the `qubocnn` command line (features, train, baseline, hardware, report).
# Layout, targets and cluster use: docs/workflow.md.

from snakemake.utils import min_version

min_version("8.0")


configfile: "config/config.yaml"


include: "workflow/rules/common.smk"
include: "workflow/rules/outputs.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/training.smk"
include: "workflow/rules/lowbit.smk"
include: "workflow/rules/report.smk"


rule all:
    """`make run`: the full study under results/run/ (every run, table and figure, the executed
    notebook), ending with the reproduction check against the committed reference."""
    input:
        view_targets("run"),
        "results/run/reproduction.md",
        lambda wildcards: studies.lowbit_outputs("run", STUDIES["run"], data_plan("run").datasets, FIGURE_FORMATS),
    default_target: True


rule smoke:
    """The smoke study (config/smoke.yaml): digits only; tables, figures, executed notebook."""
    input:
        view_targets("smoke"),


rule reference:
    """Maintainers: rewrite the committed reference (results/full/tables, results/full/notebooks,
    results/full/hardware.json, paper/tables, figures/) from the run study's runs; refuses a
    study that left out data sets."""
    input:
        view_targets("reference"),
        LOWBIT_REFERENCE["tables"] + LOWBIT_REFERENCE["figures"],


rule reference_smoke:
    """Maintainers: rewrite the committed smoke figures (figures/smoke/) from the smoke study's runs."""
    input:
        view_targets("reference_smoke"),


onsuccess:
    end_of_run(workflow.dag_settings.targets, finished=True)


onerror:
    end_of_run(workflow.dag_settings.targets, finished=False)
