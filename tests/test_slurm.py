"""The SLURM profile (profiles/slurm) with snakemake-executor-plugin-slurm: a dry run of the smoke
study plans every job with the profile's SLURM resources. The real run on a one-node cluster is `make slurm-check`
(workflow/scripts/slurm_local_cluster.sh; root, a few minutes)."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "workflow" / "scripts" / "slurm_local_cluster.sh"


def test_profile_dry_run_plans_the_slurm_resources():
    pytest.importorskip("snakemake_executor_plugin_slurm")
    run = subprocess.run([sys.executable, "-m", "snakemake", "-n", "--forceall", "--profile", "profiles/slurm",
                          "smoke"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    blocks = {}
    for block in re.split(r"\n(?=rule \w+:)", run.stdout):
        head = re.match(r"rule (\w+):", block)
        if head:
            blocks.setdefault(head.group(1), []).append(block)
    assert {"features", "qubo", "continuous", "baseline", "tables_smoke", "figures_smoke"} <= set(blocks)
    for block in blocks["qubo"]:  # the profile's set-resources reach the SLURM requests
        assert "cpus_per_task=8" in block and "mem_mb=16000" in block
    for block in blocks["features"]:
        assert "mem_mb=16000" in block and "runtime=60" in block


def test_local_cluster_script_is_valid_bash_and_refuses_a_missing_environment(tmp_path):
    assert subprocess.run(["bash", "-n", str(SCRIPT)], capture_output=True).returncode == 0
    run = subprocess.run(["bash", str(SCRIPT), str(tmp_path / "no-python")], capture_output=True, text=True,
                         timeout=60)
    assert run.returncode == 2 and len(run.stderr.strip().splitlines()) == 1
    assert "run as root" in run.stderr or "run make install first" in run.stderr
