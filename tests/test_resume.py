"""Resuming after a hard stop: `make run` removes a stale Snakemake lock by itself, but never the
lock of a Snakemake process that is still running in the directory, and reruns the jobs the stop
left incomplete."""

import contextlib
import os
import shlex
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# the snakemake command `make run` passes: the one of this Python's environment
SNAKEMAKE_COMMAND = shutil.which("snakemake", path=str(Path(sys.executable).parent)) or shutil.which("snakemake")
UNLOCK = [sys.executable, str(ROOT / "workflow" / "scripts" / "unlock_stale.py"), str(SNAKEMAKE_COMMAND)]
SNAKEFILE = """
rule all:
    output: "out.txt"
    params: seconds=config.get("seconds", 0)
    shell: "sleep {params.seconds}; echo done > {output}"
"""


def snakemake(directory, *args, **kwargs):
    return subprocess.run([sys.executable, "-m", "snakemake", "--cores", "1", *args], cwd=directory,
                          capture_output=True, text=True, timeout=120, **kwargs)


def stale_lock(directory: Path) -> Path:
    """What a SIGKILLed Snakemake leaves: the lock of the outputs it was making."""
    locks = directory / ".snakemake" / "locks"
    locks.mkdir(parents=True)
    (locks / "0.output.lock").write_text("out.txt\n")
    (locks / "0.input.lock").write_text("")
    return locks


def test_stale_lock_is_removed_and_the_run_proceeds(tmp_path):
    (tmp_path / "Snakefile").write_text(SNAKEFILE)
    locks = stale_lock(tmp_path)
    refused = snakemake(tmp_path)
    assert refused.returncode != 0 and "cannot be locked" in refused.stderr
    unlock = subprocess.run(UNLOCK, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert unlock.returncode == 0 and "removed the Snakemake lock" in unlock.stderr
    assert not locks.exists() or not any(locks.iterdir())
    assert snakemake(tmp_path).returncode == 0 and (tmp_path / "out.txt").read_text() == "done\n"
    # nothing locked: the check is silent
    again = subprocess.run(UNLOCK, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert again.returncode == 0 and again.stderr == ""


def test_lock_of_a_running_snakemake_is_kept(tmp_path):
    (tmp_path / "Snakefile").write_text(SNAKEFILE)
    running = subprocess.Popen([sys.executable, "-m", "snakemake", "--cores", "1", "--config", "seconds=60"],
                               cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               start_new_session=True)
    try:
        locks = tmp_path / ".snakemake" / "locks"
        deadline = time.monotonic() + 60
        while not (locks.is_dir() and any(locks.iterdir())):
            assert time.monotonic() < deadline and running.poll() is None, "snakemake did not lock"
            time.sleep(0.2)
        check = subprocess.run(UNLOCK, cwd=tmp_path, capture_output=True, text=True, timeout=120)
        assert check.returncode == 1 and f"(pid {running.pid})" in check.stderr
        assert len(check.stderr.strip().splitlines()) == 1 and any(locks.iterdir())
    finally:
        os.killpg(running.pid, signal.SIGTERM)  # its own session: snakemake and its `sleep` job
        running.wait(timeout=60)


def test_make_run_and_smoke_check_the_lock_first():
    for target in ("run", "smoke"):
        plan = subprocess.run(["make", "-n", target], cwd=ROOT, capture_output=True, text=True, timeout=60).stdout
        # the check's output (--rerun-incomplete after a stale lock) goes to the snakemake command after it
        line = next(line for line in plan.splitlines() if "unlock_stale.py" in line)
        assert line.startswith("flags=$(") and ") && " in line, plan
        assert "snakemake --cores" in line.split(") && ", 1)[1] and line.endswith(" $flags"), plan


# A job that has begun its output when it is killed: Snakemake marks such outputs incomplete.
SLOW_SNAKEFILE = """
rule all:
    output: "out.txt"
    params: seconds=config.get("seconds", 0)
    shell: "echo partial > {output}; sleep {params.seconds}; echo done > {output}"
"""


@pytest.mark.parametrize("killed", ["workflow", "main process"])
def test_a_run_killed_mid_job_resumes_with_the_make_recipe(tmp_path, killed):
    """SIGKILL while the job has written part of its output (the whole process group, or only the
    main Snakemake process while its job runs on and finishes); the recipe of `make run` resumes."""
    (tmp_path / "Snakefile").write_text(SLOW_SNAKEFILE)
    seconds = 60 if killed == "workflow" else 3
    command = [sys.executable, "-m", "snakemake", "--cores", "1", "--config", f"seconds={seconds}"]
    running = subprocess.Popen(command, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               start_new_session=True)
    output = tmp_path / "out.txt"
    try:
        deadline = time.monotonic() + 90
        while not output.exists():
            assert time.monotonic() < deadline and running.poll() is None, "the job did not start"
            time.sleep(0.1)
        if killed == "workflow":
            os.killpg(running.pid, signal.SIGKILL)
        else:
            os.kill(running.pid, signal.SIGKILL)
        running.wait(timeout=60)
        if killed == "main process":  # the orphaned job ends on its own
            while output.read_text() != "done\n":
                assert time.monotonic() < deadline, "the orphaned job did not finish"
                time.sleep(0.2)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(running.pid, signal.SIGKILL)
    recipe = f"flags=$({shlex.join(UNLOCK)}) && {shlex.join(command[:-1])} seconds=0 $flags"
    resumed = subprocess.run(["bash", "-c", recipe], cwd=tmp_path, capture_output=True, text=True, timeout=180)
    assert resumed.returncode == 0, resumed.stderr
    assert output.read_text() == "done\n"
