# Downloads: one job per data set that torchvision can fetch and that has no files under the data
# root (common.smk: DOWNLOADS). Every features job of the data set waits for it; `qubocnn download`
# stages the files inside the data root and renames them into place, so no job ever sees half a
# data set. Run on the submitting node of a cluster, which is the one likely to have internet.

for _name in datasets_io.DOWNLOADABLE:

    rule:
        name:
            f"download_{_name}"
        localrule: True
        output:
            str(datasets_io.marker(_name, data_root(), emnist_split())),
        log:
            f"logs/data/{_name}.log",
        params:
            dataset=_name,
            root=lambda wildcards: data_root(),
            split=emnist_split(),
        conda:
            CONDA_ENV
        shell:
            "qubocnn download --dataset {params.dataset} --data-root {params.root:q} --emnist-split {params.split} "
            "> {log} 2>&1 || {{ tail -n 1 {log} >&2; exit 1; }}"
