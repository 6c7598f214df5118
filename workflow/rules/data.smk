# Data: whether the sources of a study's missing data sets answer (checkpoint `sources`, asked in
# a job, never while the Snakefile is parsed), and one download job per data set that torchvision
# can fetch (qubocnn.study.DataPlan.downloads). Every features job of the data set waits for its
# download; `qubocnn download` stages the files inside the data root and renames them into place, so
# no job ever sees half a data set. Both run on the submitting node of a cluster, the one likely to
# have internet.


checkpoint sources:
    """Which of the study's data sets without files can be downloaded: those whose source answers."""
    localrule: True
    output:
        SOURCES_ANSWER,
    log:
        "logs/{study}/sources.log",
    params:
        datasets=lambda wildcards: ",".join(FILE_PLANS[wildcards.study].unprobed),
    conda:
        CONDA_ENV
    shell:
        "qubocnn sources --datasets {params.datasets} --out {output} "
        "> {log} 2>&1 || {{ tail -n 1 {log} >&2; exit 1; }}"


for _name in datasets_io.DOWNLOADABLE:

    rule:
        name:
            f"download_{_name}"
        localrule: True
        output:
            str(datasets_io.marker(_name, DATA_ROOT, EMNIST_SPLIT)),
        log:
            f"logs/data/{_name}.log",
        params:
            dataset=_name,
            root=lambda wildcards: DATA_ROOT,
            split=EMNIST_SPLIT,
        conda:
            CONDA_ENV
        shell:
            "qubocnn download --dataset {params.dataset} --data-root {params.root:q} --emnist-split {params.split} "
            "> {log} 2>&1 || {{ tail -n 1 {log} >&2; exit 1; }}"
