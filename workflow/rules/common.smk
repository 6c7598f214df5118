# Configuration and studies shared by the rules. What a study runs (its data sets, run files and each
# run's options) is the package's (qubocnn.study): this file reads the configs and asks it.

import json
import os
import shutil
import sys
from pathlib import Path

import yaml
from snakemake.utils import validate

from qubocnn import download as datasets_io
from qubocnn import study as studies
from qubocnn.report import FIGURES as FIGURE_NAMES
from qubocnn.report import TABLES as TABLE_NAMES


validate(config, "../schemas/config.schema.yaml")

FIGURE_FORMATS = ("png", "pdf")
CONDA_ENV = "../envs/qubocnn.yaml"
# The smoke study's own configuration (a complete one, validated like config/config.yaml); the data
# settings are the main configuration's, so `--config data_root=...` serves both studies.
SMOKE_CONFIG = os.path.join(workflow.basedir, "config", "smoke.yaml")
SOURCES_ANSWER = "results/{study}/sources.json"  # checkpoint `sources` (data.smk)


def _tools_on_path():
    """The rules call `qubocnn` and `jupyter nbconvert`. When Snakemake runs from a virtual
    environment that is not activated (`.venv/bin/snakemake`), put that environment's bin/ on the
    PATH the jobs inherit."""
    bin_dir = str(Path(sys.executable).parent)
    if not shutil.which("qubocnn") and (Path(bin_dir) / "qubocnn").exists():
        os.environ.update(PATH=bin_dir + os.pathsep + os.environ.get("PATH", ""))


_tools_on_path()


def _study_config(name):
    if name == "run":
        return config
    with open(SMOKE_CONFIG) as stream:
        smoke = yaml.safe_load(stream)
    validate(smoke, "../schemas/config.schema.yaml")
    return {**smoke, **{key: config[key] for key in studies.DATA_SETTINGS if key in config}}


STUDIES = {name: _study_config(name) for name in studies.STUDY_NAMES}
DATA_ROOT = studies.study_root(config)
EMNIST_SPLIT = studies.emnist_split(config)
# What the files under the data root say, without the network. Data sets that have no files but
# can be downloaded (`unprobed`) wait on the study's `sources` job, which asks their sources (again
# when that list changes, or with --forcerun sources, as `make run` does).
FILE_PLANS = {name: studies.DataPlan.of(name, s) for name, s in STUDIES.items()}
_ANNOUNCED = set()


def data_plan(study, wait=True):
    """The study's DataPlan, settled by its `sources` answer (wait=False: the answer if there is one)."""
    plan, answer = FILE_PLANS[study], SOURCES_ANSWER.format(study=study)
    if plan.unprobed and (wait or os.path.exists(answer)):
        answer = checkpoints.sources.get(study=study).output[0] if wait else answer
        plan = plan.probed(json.loads(Path(answer).read_text())["unreachable"])
    for dataset, reason in plan.left_out.items():
        if (study, dataset) not in _ANNOUNCED:
            _ANNOUNCED.add((study, dataset))
            print(f"qubocnn workflow ({study} study): leaving out {dataset}: {reason}", file=sys.stderr)
    return plan


for _study in STUDIES:
    data_plan(_study, wait=False)


def run_files(study):
    """Every run result of a study (on the data sets it has)."""
    return studies.run_files(study, STUDIES[study], data_plan(study).datasets)


def data_files(wildcards):
    """Input of a features job: the data set's marker file when a download job makes it."""
    name, plan = wildcards.dataset, FILE_PLANS[wildcards.study]
    if name in plan.downloads + plan.unprobed and name in data_plan(wildcards.study).downloads:
        return [str(datasets_io.marker(name, DATA_ROOT, EMNIST_SPLIT))]
    return []


def study_of(wildcards):
    return STUDIES[wildcards.study]


def features_file(wildcards):
    return studies.features_file(wildcards.study, study_of(wildcards), wildcards.dataset, wildcards.seed)


wildcard_constraints:
    study="|".join(studies.STUDY_NAMES),
    dataset=r"[A-Za-z0-9_]+(\+[a-z]+)?",
    preset=r"[a-z]+",
    mode="box|trust",
    bits=r"\d+",
    seed=r"\d+",
    method="sgd|logreg|ridge",
    variant=r"([a-z-]+/)?",
