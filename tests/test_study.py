"""qubocnn.study, which the workflow asks: which data sets a study runs on (from the files alone,
then from its sources' answer), and the options of its runs, read back by the CLI's own parser."""

import shlex
from pathlib import Path

import pytest
import yaml

from qubocnn import download, study
from qubocnn.cli import parse_options
from qubocnn.runspec import RunSpec

ROOT = Path(__file__).resolve().parents[1]


def plan(root, **settings):
    config = {"datasets": ["digits", "mnist", "kmnist", "cifar10_jpeg"], "data_root": str(root), **settings}
    return study.DataPlan.of("run", config)


@pytest.fixture
def root(tmp_path):
    marker = download.marker("mnist", tmp_path)  # mnist installed; kmnist and cifar10_jpeg not
    marker.parent.mkdir(parents=True)
    marker.write_bytes(b"")
    return tmp_path


def test_files_alone_leave_the_downloadable_sets_to_their_sources(root):
    files = plan(root)
    assert files.datasets == ["digits", "mnist"] and files.unprobed == ("kmnist",) and not files.downloads
    assert list(files.left_out) == ["cifar10_jpeg"] and "cannot be downloaded" in files.left_out["cifar10_jpeg"]
    online = files.probed({})
    assert online.datasets == ["digits", "mnist", "kmnist"] and online.downloads == ("kmnist",)
    offline = files.probed({"kmnist": "codh.rois.ac.jp: Name or service not known; other"})
    assert offline.datasets == ["digits", "mnist"] and not offline.downloads and not offline.unprobed
    assert list(offline.left_out) == ["kmnist", "cifar10_jpeg"]  # in the study's order
    assert offline.left_out["kmnist"].endswith("cannot be reached (codh.rois.ac.jp: Name or service not known)")
    assert any(line.startswith("to add kmnist: ") for line in offline.summary())


def test_no_download_and_fail_need_no_source(root):
    kept = plan(root, download=False)
    assert not kept.unprobed and kept.datasets == ["digits", "mnist"]
    assert kept.left_out["kmnist"] == f"no files under {root} (download: false)"
    failing = plan(root, missing_data="fail")
    assert failing.datasets == ["digits", "mnist", "kmnist", "cifar10_jpeg"] and failing.downloads == ("kmnist",)
    with pytest.raises(ValueError, match="no data set has its files"):
        study.DataPlan.of("run", {"datasets": ["cifar10_jpeg"], "data_root": str(root)})


@pytest.mark.parametrize("variant", ["", "round", "always", study.HARDWARE_VARIANT])
@pytest.mark.parametrize("mode", ["box", "trust"])
@pytest.mark.parametrize("folder", ["digits", "mnist", "mnist+clique"])
def test_run_options_are_the_configs_settings_as_the_cli_reads_them(folder, mode, variant):
    """Box runs are the paper's literal loop (no refinements, their own sweeps) whatever the config says; trust runs
    take the config's; a variant changes its solver or acceptance rule, nothing else; the hardware
    study's runs take its own reads and its data set's refinements, in blocks, packed."""
    config = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    hardware = variant == study.HARDWARE_VARIANT
    hw = config["hardware_study"]
    hw_refinements = hw["refinements"][folder.partition("+")[0]]
    expected = dict(config, reads=hw["reads"], refinements=hw_refinements) if hardware else config
    options = study.train_options(config, folder, mode, variant)
    _, values = parse_options(["train", "--features", "f.npz", "--mode", mode, "--out", "r.json",
                               *shlex.split(options)])
    train = RunSpec.from_options(values).train
    assert train.num_refinements == (expected["refinements"] if mode == "trust" else 0)
    assert (train.iterations, train.lam, train.solver.num_reads) == (config["iterations"], config["lam"],
                                                                   expected["reads"])
    settings = config["variants"].get(variant, {})
    solver = "sa" if variant == study.HARDWARE_VARIANT else settings.get("solver", config["solver"])
    assert train.solver.name == solver and train.accept == settings.get("accept", "improving")
    assert train.solver.qpu_noise == hardware
    # box runs (the paper's reading) anneal with box_sweeps; the rounding solver takes the plain value
    annealed_box = mode == "box" and solver != "round"
    assert train.solver.num_sweeps == config["box_sweeps" if annealed_box else "sweeps"]
    if hardware:
        assert (train.solver.block_size, train.solver.pack) == (config["hardware_study"]["block_size"],
                                                                config["hardware_study"]["pack"])
