# Features, QUBO training runs, the continuous reference, baselines, hardware feasibility.
# Every rule calls the `qubocnn` command line; its stdout and stderr go to logs/. The compute rules
# cap their BLAS/OpenMP threads at the rule's threads, so runs sharing a machine keep their timings.
# The options of each run are qubocnn.study's (from the study's config).


rule features:
    """Frozen-CNN features of one data set, preset and seed (cached; shared by every run)."""
    input:
        data_files,
    output:
        "results/{study}/features/{dataset}-{preset}-seed{seed}.npz",
    log:
        "logs/{study}/features/{dataset}-{preset}-seed{seed}.log",
    params:
        source=lambda wildcards: studies.source_options(study_of(wildcards), wildcards.dataset),
    resources:
        mem_mb=16000,
        runtime=30,
    conda:
        CONDA_ENV
    shell:
        "OMP_NUM_THREADS={threads} MKL_NUM_THREADS={threads} NUMBA_NUM_THREADS={threads} "
        "qubocnn features {params.source} --preset {wildcards.preset} --seed {wildcards.seed} "
        "--no-progress --out {output} "
        "> {log} 2>&1 || {{ tail -n 1 {log} >&2; exit 1; }}"


rule qubo:
    """One QUBO training run: data set x bit width K x encoding mode x seed. The variant folder is
    empty for the main runs; a comparison run (config `variants`) changes the solver or the
    acceptance rule, and `qpu-model/` (config `hardware_study`) trains under the QPU control-error
    model, every class QUBO solved in clique-sized blocks, and records the QPU budget."""
    input:
        features_file,
    output:
        "results/{study}/runs/{dataset}/{variant}qubo-{mode}-K{bits}-seed{seed}.json",
    log:
        "logs/{study}/runs/{dataset}/{variant}qubo-{mode}-K{bits}-seed{seed}.log",
    params:
        options=lambda wildcards: studies.train_options(study_of(wildcards), wildcards.dataset, wildcards.mode,
                                                        wildcards.variant.rstrip("/")),
    threads: lambda wildcards: study_of(wildcards)["jobs"]
    resources:
        mem_mb=8000,
        runtime=lambda wildcards: studies.train_runtime(wildcards.dataset, wildcards.bits),
    conda:
        CONDA_ENV
    shell:
        "OMP_NUM_THREADS={threads} MKL_NUM_THREADS={threads} NUMBA_NUM_THREADS={threads} "
        "qubocnn train --features {input} --bits {wildcards.bits} --mode {wildcards.mode} "
        "--seed {wildcards.seed} {params.options} --jobs {threads} --no-progress --out {output} "
        "> {log} 2>&1 || {{ tail -n 1 {log} >&2; exit 1; }}"


rule continuous:
    """The exact majorise-minimise reference path (no QUBO) with the same surrogate and iterations."""
    input:
        features_file,
    output:
        "results/{study}/runs/{dataset}/continuous-seed{seed}.json",
    log:
        "logs/{study}/runs/{dataset}/continuous-seed{seed}.log",
    params:
        options=lambda wildcards: studies.continuous_options(study_of(wildcards)),
    resources:
        mem_mb=8000,
        runtime=30,
    conda:
        CONDA_ENV
    shell:
        "OMP_NUM_THREADS={threads} MKL_NUM_THREADS={threads} NUMBA_NUM_THREADS={threads} "
        "qubocnn train --features {input} --mode continuous --seed {wildcards.seed} {params.options} "
        "--no-progress --out {output} "
        "> {log} 2>&1 || {{ tail -n 1 {log} >&2; exit 1; }}"


rule baseline:
    """A reference head on the same features: SGD (torch), logistic regression or ridge."""
    input:
        features_file,
    output:
        "results/{study}/runs/{dataset}/{method}-seed{seed}.json",
    log:
        "logs/{study}/runs/{dataset}/{method}-seed{seed}.log",
    params:
        options=lambda wildcards: studies.baseline_options(study_of(wildcards)),
    resources:
        mem_mb=8000,
        runtime=60,
    conda:
        CONDA_ENV
    shell:
        "OMP_NUM_THREADS={threads} MKL_NUM_THREADS={threads} NUMBA_NUM_THREADS={threads} "
        "qubocnn baseline --features {input} --method {wildcards.method} --seed {wildcards.seed} "
        "{params.options} --no-progress --out {output} "
        "> {log} 2>&1 || {{ tail -n 1 {log} >&2; exit 1; }}"


rule feasibility:
    """D-Wave feasibility: QUBO sizes, the paper's raw-count check, clique embeddings."""
    output:
        "results/{study}/hardware.json",
    log:
        "logs/{study}/hardware.log",
    params:
        options=lambda wildcards: studies.hardware_options(study_of(wildcards)),
    conda:
        CONDA_ENV
    shell:
        "qubocnn hardware {params.options} --out {output} "
        "> {log} 2>&1 || {{ tail -n 1 {log} >&2; exit 1; }}"


rule hardware:
    """The hardware study's hardware-ready configuration (config `qpu`) trained on a D-Wave QPU (not
    part of `all`; needs a D-Wave token). Its estimated QPU time is printed before the first call;
    without a token, `qubocnn train --solver qpu` refuses at once with a one-line message."""
    input:
        f"results/run/features/{config['qpu']['dataset']}-{config['qpu']['preset']}-seed0.npz",
    output:
        (f"results/qpu/runs/{config['qpu']['dataset']}-{config['qpu']['preset']}/"
         f"qubo-{config['qpu']['mode']}-K{config['qpu']['bits']}-seed0.json"),
    log:
        f"logs/qpu/{config['qpu']['dataset']}-{config['qpu']['preset']}.log",
    params:
        options=studies.qpu_options(config),
    conda:
        CONDA_ENV
    shell:
        "qubocnn train --features {input} --solver qpu {params.options} --seed 0 --no-progress "
        "--out {output} 2>&1 | tee {log}"
