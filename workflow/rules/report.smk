# Aggregation, tables, figures, the executed notebook and the paper: all from result files alone.

LATEX_MISSING = (
    "paper: latexmk not found. Install LaTeX, e.g. on Debian/Ubuntu: apt-get install latexmk "
    "texlive-latex-recommended texlive-latex-extra; then run `snakemake --cores 1 paper` again "
    "(or build paper/main.tex with your own LaTeX)."
)


# Only used with --software-deployment-method apptainer; otherwise latexmk comes from the system.
LATEX_CONTAINER = "docker://texlive/texlive:latest"


localrules:
    feasibility,
    collect,
    notebook,
    paper,
    paper_smoke,
    tables_full,
    tables_smoke,
    figures_full,
    figures_smoke,


rule collect:
    """Aggregation: one CSV row per run of a study (accuracies, loss, gap, acceptance, timings)."""
    input:
        runs=study_runs,
    output:
        "results/{study}/tables/runs.csv",
    log:
        "logs/{study}/collect.log",
    conda:
        CONDA_ENV
    shell:
        "qubocnn report collect --results {input.runs} --out {output} "
        "> {log} 2>&1 || {{ tail -n 1 {log} >&2; exit 1; }}"


# One tables rule and one figures rule per study: the full study writes its LaTeX tables to
# paper/tables/ and its figures to figures/, the smoke study to results/smoke/tables/ and figures/smoke/.
for _study in STUDY_NAMES:

    rule:
        name:
            f"tables_{_study}"
        input:
            runs=run_files(_study),
            hardware=f"results/{_study}/hardware.json",
        output:
            table_files(_study),
        log:
            f"logs/{_study}/tables.log",
        params:
            out_dir=lambda wildcards, output: os.path.dirname(output[0]),
            latex_dir=lambda wildcards, output: os.path.dirname(output[-1]),
        conda:
            CONDA_ENV
        shell:
            "qubocnn report tables --results {input.runs} --hardware {input.hardware} "
            "--out-dir {params.out_dir} --latex-dir {params.latex_dir} "
            "> {log} 2>&1 || {{ tail -n 1 {log} >&2; exit 1; }}"

    rule:
        name:
            f"figures_{_study}"
        input:
            runs=run_files(_study),
            hardware=f"results/{_study}/hardware.json",
        output:
            figure_files(_study),
        log:
            f"logs/{_study}/figures.log",
        params:
            out_dir=lambda wildcards, output: os.path.dirname(output[0]),
            formats=",".join(FIGURE_FORMATS),
        conda:
            CONDA_ENV
        shell:
            "qubocnn report figures --results {input.runs} --hardware {input.hardware} "
            "--out-dir {params.out_dir} --formats {params.formats} "
            "> {log} 2>&1 || {{ tail -n 1 {log} >&2; exit 1; }}"


rule notebook:
    """notebooks/figures.ipynb executed on a study's results (QUBOCNN_RESULTS=results/STUDY)."""
    input:
        notebook="notebooks/figures.ipynb",
        runs=study_runs,
        hardware="results/{study}/hardware.json",
    output:
        "results/{study}/notebooks/figures.ipynb",
    log:
        "logs/{study}/notebook.log",
    params:
        results=lambda wildcards, input: os.path.dirname(input.hardware),
        out_dir=lambda wildcards, output: os.path.dirname(output[0]),
    conda:
        CONDA_ENV
    shell:
        "QUBOCNN_RESULTS={params.results} jupyter nbconvert --to notebook --execute "
        "--ExecutePreprocessor.timeout=1200 {input.notebook} --output-dir {params.out_dir} "
        "--output figures.ipynb "
        "> {log} 2>&1 || {{ tail -n 1 {log} >&2; exit 1; }}"


rule paper:
    """paper/main.pdf: the replication report on the full study's tables and figures (latexmk)."""
    input:
        tex="paper/main.tex",
        tables=[f"{LATEX_DIRS['full']}/{name}.tex" for name in TABLE_NAMES],
        figures=[f"{FIGURE_DIRS['full']}/{name}.pdf" for name in FIGURE_NAMES],
    output:
        "paper/main.pdf",
    log:
        "logs/full/paper.log",
    container:
        LATEX_CONTAINER
    params:
        missing=LATEX_MISSING,
        env=PAPER_ENV,
    shell:
        "if ! command -v latexmk > /dev/null 2>&1; then echo {params.missing:q} | tee {log} >&2; exit 1; fi; "
        "{params.env} latexmk -cd -pdf -interaction=nonstopmode -halt-on-error {input.tex} "
        "> {log} 2>&1 || {{ tail -n 1 {log} >&2; exit 1; }}"


rule paper_smoke:
    """The same report on the smoke study (results/smoke/paper/main.pdf): checks that LaTeX builds."""
    input:
        tex="paper/main.tex",
        tables=[f"{LATEX_DIRS['smoke']}/{name}.tex" for name in TABLE_NAMES],
        figures=[f"{FIGURE_DIRS['smoke']}/{name}.pdf" for name in FIGURE_NAMES],
    output:
        "results/smoke/paper/main.pdf",
    log:
        "logs/smoke/paper.log",
    container:
        LATEX_CONTAINER
    params:
        missing=LATEX_MISSING,
        env=PAPER_ENV,
        # main.tex reads \tablesdir and \figuresdir (paths relative to paper/)
        pretex=r"\def\tablesdir{../results/smoke/tables}\def\figuresdir{../figures/smoke}",
        out_dir="../results/smoke/paper",
    shell:
        "if ! command -v latexmk > /dev/null 2>&1; then echo {params.missing:q} | tee {log} >&2; exit 1; fi; "
        "{params.env} latexmk -cd -pdf -interaction=nonstopmode -halt-on-error -outdir={params.out_dir} "
        "-usepretex={params.pretex:q} {input.tex} "
        "> {log} 2>&1 || {{ tail -n 1 {log} >&2; exit 1; }}"
