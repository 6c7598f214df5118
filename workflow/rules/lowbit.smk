# The low-bit study (config `low_bit`, docs/low-bit.md): K = 1-3 heads on fixed grids, every solver
# against the certified optimum; one `qubocnn lowbit` job per data set, grid, K and seed, then the
# table low_bit, the claim low_bit_claim and the figure low_bit under results/STUDY/lowbit/.


rule lowbit:
    """One low-bit experiment: a data set's features, grid, K and seed (qubocnn.lowbit)."""
    input:
        lambda wildcards: studies.features_file(wildcards.study, study_of(wildcards),
                                                f"{wildcards.dataset}+{wildcards.preset}", wildcards.seed),
    output:
        "results/{study}/lowbit/{dataset}-{preset}/{grid}-K{bits}-seed{seed}.json",
    log:
        "logs/{study}/lowbit/{dataset}-{preset}/{grid}-K{bits}-seed{seed}.log",
    wildcard_constraints:
        grid="offset|symmetric",
        bits=r"\d+",
    params:
        options=lambda wildcards: studies.lowbit_options(study_of(wildcards), wildcards.preset),
    resources:
        runtime=30,
    conda:
        CONDA_ENV
    shell:
        "OMP_NUM_THREADS={threads} MKL_NUM_THREADS={threads} NUMBA_NUM_THREADS={threads} "
        "qubocnn lowbit --features {input} --bits {wildcards.bits} --grid {wildcards.grid} "
        "--seed {wildcards.seed} {params.options} --no-progress --out {output} "
        "> {log} 2>&1 || {{ tail -n 1 {log} >&2; exit 1; }}"


rule lowbit_report:
    """The low-bit table, claim and figure from the study's low-bit result files alone."""
    input:
        lambda wildcards: studies.lowbit_files(wildcards.study, study_of(wildcards),
                                              data_plan(wildcards.study).datasets),
    output:
        tables=[f"results/{{study}}/lowbit/tables/{name}.{suffix}" for name in studies.LOWBIT_TABLES
                for suffix in ("md", "csv")],
        figures=[f"results/{{study}}/lowbit/figures/low_bit.{fmt}" for fmt in FIGURE_FORMATS],
    log:
        "logs/{study}/lowbit/report.log",
    conda:
        CONDA_ENV
    shell:
        "qubocnn lowbit-report --results {input} --out-dir results/{wildcards.study}/lowbit/tables "
        "--figures-dir results/{wildcards.study}/lowbit/figures > {log} 2>&1 || {{ tail -n 1 {log} >&2; exit 1; }}"


LOWBIT_REFERENCE = dict(tables=[f"results/full/lowbit/tables/{name}.{suffix}" for name in studies.LOWBIT_TABLES
                                for suffix in ("md", "csv")],
                        figures=[f"figures/low_bit.{fmt}" for fmt in FIGURE_FORMATS])


rule lowbit_reference:
    """Maintainers: the committed low-bit reference (results/full/lowbit/tables, figures/low_bit)
    from the run study's low-bit results (part of target `reference`)."""
    input:
        lambda wildcards: studies.lowbit_files("run", STUDIES["run"], data_plan("run").datasets),
    output:
        **LOWBIT_REFERENCE,
    log:
        "logs/run/lowbit/reference.log",
    conda:
        CONDA_ENV
    shell:
        "qubocnn lowbit-report --results {input} --out-dir results/full/lowbit/tables --figures-dir figures "
        "> {log} 2>&1 || {{ tail -n 1 {log} >&2; exit 1; }}"
