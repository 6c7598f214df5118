# The replication workflow: every table and figure of the qubocnn replication from the benchmarks.
#
#   snakemake --cores all              # target `all`: the full study (config/config.yaml)
#   snakemake --cores 2 smoke          # digits only, a few minutes
#   snakemake --cores all paper        # paper/main.pdf (needs latexmk)
#
# Rules are thin: each calls the `qubocnn` command line (features, train, baseline, hardware, report).
# Layout, targets and cluster use: README.md, section "Replication workflow".

from snakemake.utils import min_version

min_version("8.0")


configfile: "config/config.yaml"


include: "workflow/rules/common.smk"
include: "workflow/rules/outputs.smk"
include: "workflow/rules/training.smk"
include: "workflow/rules/report.smk"


rule all:
    """The full study: every run, table and figure, and the executed notebook."""
    input:
        study_targets("full"),
    default_target: True


rule smoke:
    """The smoke study (config `smoke` section): digits only; tables, figures, executed notebook."""
    input:
        study_targets("smoke"),
