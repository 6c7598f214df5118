# Aggregation, tables, figures, the executed notebook, the reproduction check and the paper: all
# from result files alone. One set of rules per output set (VIEWS in outputs.smk): `run` and
# `smoke` write under results/STUDY/; `reference` and `reference_smoke` write the committed files.

LATEX_MISSING = (
    "paper: latexmk not found. Install LaTeX, e.g. on Debian/Ubuntu: apt-get install latexmk "
    "texlive-latex-recommended texlive-latex-extra; then run `snakemake --cores 1 paper` again "
    "(or build paper/main.tex with your own LaTeX)."
)


# Only used with --software-deployment-method apptainer; otherwise latexmk comes from the system.
LATEX_CONTAINER = "docker://texlive/texlive:latest"


# Everything here runs on the submitting node of a cluster (`localrule: True`): small, quick jobs.
localrules:
    feasibility,


for _view, _dirs in VIEWS.items():
    _log = f"logs/{_dirs['study']}/{_view}"

    if "tables" in _dirs:

        rule:
            name:
                f"collect_{_view}"
            input:
                runs=view_runs(_view),
            localrule: True
            output:
                f"{_dirs['tables']}/runs.csv",
            log:
                f"{_log}-collect.log",
            conda:
                CONDA_ENV
            shell:
                "qubocnn report collect --results {input.runs} --out {output} "
                "> {log} 2>&1 || {{ tail -n 1 {log} >&2; exit 1; }}"

        rule:
            name:
                f"tables_{_view}"
            input:
                runs=view_runs(_view),
                hardware=view_hardware(_view),
                lowbit=view_lowbit(_view),
            localrule: True
            output:
                table_files(_view),
            log:
                f"{_log}-tables.log",
            params:
                out_dir=lambda wildcards, output: os.path.dirname(output[0]),
                latex_dir=lambda wildcards, output: os.path.dirname(output[-1]),
                lowbit=lowbit_option,
            conda:
                CONDA_ENV
            shell:
                "qubocnn report tables --results {input.runs} --hardware {input.hardware} {params.lowbit} "
                "--out-dir {params.out_dir} --latex-dir {params.latex_dir} "
                "> {log} 2>&1 || {{ tail -n 1 {log} >&2; exit 1; }}"

        rule:
            name:
                f"values_{_view}"
            input:
                runs=f"{_dirs['tables']}/runs.csv",
                hardware=view_hardware(_view),
                lowbit=view_lowbit(_view),
            localrule: True
            output:
                f"{_dirs['latex']}/values.tex",
            log:
                f"{_log}-values.log",
            params:
                lowbit=lowbit_option,
            conda:
                CONDA_ENV
            shell:
                "qubocnn report values --results {input.runs} --hardware {input.hardware} {params.lowbit} "
                "--out {output} "
                "> {log} 2>&1 || {{ tail -n 1 {log} >&2; exit 1; }}"

        rule:
            name:
                f"notebook_{_view}"
            input:
                notebook="notebooks/figures.ipynb",
                runs=view_runs(_view),
                hardware=view_hardware(_view),
            localrule: True
            output:
                f"{_dirs['notebook']}/figures.ipynb",
            log:
                f"{_log}-notebook.log",
            params:
                # notebooks/figures.ipynb reads the study's runs from QUBOCNN_RESULTS
                results=lambda wildcards, input: os.path.dirname(input.hardware),
                out_dir=lambda wildcards, output: os.path.dirname(output[0]),
            conda:
                CONDA_ENV
            shell:
                "QUBOCNN_RESULTS={params.results} jupyter nbconvert --to notebook --execute "
                "--ExecutePreprocessor.timeout=1200 {input.notebook} --output-dir {params.out_dir} "
                "--output figures.ipynb "
                "> {log} 2>&1 || {{ tail -n 1 {log} >&2; exit 1; }}"

    rule:
        name:
            f"figures_{_view}"
        input:
            runs=view_runs(_view),
            hardware=view_hardware(_view),
        localrule: True
        output:
            figure_files(_view),
        log:
            f"{_log}-figures.log",
        params:
            out_dir=lambda wildcards, output: os.path.dirname(output[0]),
            formats=",".join(FIGURE_FORMATS),
        conda:
            CONDA_ENV
        shell:
            "qubocnn report figures --results {input.runs} --hardware {input.hardware} "
            "--out-dir {params.out_dir} --formats {params.formats} "
            "> {log} 2>&1 || {{ tail -n 1 {log} >&2; exit 1; }}"


rule copy_hardware_reference:
    """The committed feasibility rows: the run study's, copied."""
    input:
        view_hardware("reference"),
    localrule: True
    output:
        VIEWS["reference"]["hardware"],
    log:
        "logs/run/reference-hardware.log",
    conda:
        CONDA_ENV
    shell:
        "cp {input} {output} 2> {log}"


rule reproduce:
    """The reproduction check of `make run`: the run's tables against the committed reference, row by
    row (results/run/reproduction.md, its counts in reproduction.json; differing rows are printed as warnings). The reference is a
    parameter, not an input, so that no rule is ever asked to remake it."""
    input:
        [path for path in view_targets("run") if path.endswith(".csv")],
    localrule: True
    output:
        report="results/run/reproduction.md",
        summary="results/run/reproduction.json",
    log:
        "logs/run/reproduce.log",
    params:
        run=lambda wildcards, input: os.path.dirname(input[0]),
        reference=REFERENCE_TABLES,
    conda:
        CONDA_ENV
    shell:
        "qubocnn reproduce --run {params.run} --reference {params.reference} --out {output.report} "
        "--summary {output.summary} 2>&1 | tee {log}"


# The report on each view's LaTeX tables, values and PDF figures; main.tex reads \tablesdir and
# \figuresdir (paths relative to paper/), which latexmk's -usepretex sets for the study views. The
# layout check (qubocnn.report.latex_log, standard library only) then refuses the PDF on an overfull
# line over 1 pt or a float too large for its page, read from LaTeX's log beside the PDF.
LAYOUT_CHECK = os.path.join(workflow.basedir, "src", "qubocnn", "report", "latex_log.py")

for _name, _view in (("paper", "reference"), ("paper_run", "run"), ("paper_smoke", "smoke")):

    rule:
        name:
            _name
        input:
            tex="paper/main.tex",
            tables=[path for path in table_files(_view) if path.endswith(".tex")],
            values=f"{VIEWS[_view]['latex']}/values.tex",
            figures=[path for path in figure_files(_view) if path.endswith(".pdf")],
            # the low-bit figure, which main.tex shows where the view has it
            lowbit=[path for path in LOWBIT_REFERENCE["figures"] if path.endswith(".pdf")] if _view == "reference" else [],
        localrule: True
        output:
            "paper/main.pdf" if _view == "reference" else f"results/{_view}/paper/main.pdf",
        log:
            f"logs/{VIEWS[_view]['study']}/{_name}.log",
        container:
            LATEX_CONTAINER
        params:
            missing=LATEX_MISSING,
            env=PAPER_ENV,
            options=lambda wildcards, input, output: latex_options(input, output),
            check=LAYOUT_CHECK,
            latex_log=lambda wildcards, output: os.path.join(os.path.dirname(output[0]), "main.log"),
        shell:
            "if ! command -v latexmk > /dev/null 2>&1; then echo {params.missing:q} | tee {log} >&2; exit 1; fi; "
            "{params.env} latexmk -cd -pdf -interaction=nonstopmode -halt-on-error {params.options} {input.tex} "
            "> {log} 2>&1 || {{ tail -n 1 {log} >&2; exit 1; }}; "
            "python3 {params.check} {params.latex_log} 2>> {log} || {{ tail -n 3 {log} >&2; exit 1; }}"
