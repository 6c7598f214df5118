"""Remove a Snakemake lock left by a hard stop, so that `make run` resumes on its own.

Snakemake locks the working directory (.snakemake/locks) while it runs and removes the lock when it
ends, even on SIGTERM; after a hard kill (power loss, OOM killer, a pre-empted cluster job) the lock
stays and every later run refuses with "Directory cannot be locked" until `snakemake --unlock`.
This script unlocks only when no Snakemake process on this machine works in this directory;
otherwise it says in one line what to do. A hard stop can also leave outputs that a killed job had
begun (Snakemake then stops with IncompleteFilesException), so after removing a stale lock the
script prints `--rerun-incomplete` on stdout, for make to pass to Snakemake: those jobs run again. A Snakemake process on another host that shares the
directory cannot be seen from here: on a cluster, run it on the node that submits the jobs.

    flags=$(python workflow/scripts/unlock_stale.py SNAKEMAKE [DIRECTORY]) && SNAKEMAKE $flags ...
"""

import os
import subprocess
import sys
from pathlib import Path

RERUN_INCOMPLETE = "--rerun-incomplete"


def is_snakemake(argv: list[str]) -> bool:
    """`snakemake ...`, `python .../bin/snakemake ...` or `python -m snakemake ...` (not a shell
    whose command line merely mentions snakemake, such as make's `sh -c` for this very check)."""
    names = [os.path.basename(arg) for arg in argv[:2]]
    return "snakemake" in names or argv[1:3] == ["-m", "snakemake"]


def snakemake_processes(directory: Path) -> list[int]:
    """PIDs of Snakemake processes whose working directory is `directory`."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        try:
            argv = (proc / "cmdline").read_bytes().decode(errors="replace").split("\0")
            cwd = Path(os.readlink(proc / "cwd"))
        except OSError:  # gone meanwhile, or another user's process
            continue
        if cwd == directory and is_snakemake(argv):
            found.append(int(proc.name))
    return found


def main(snakemake: str, directory: str = ".") -> int:
    directory = Path(directory).resolve()
    locks = directory / ".snakemake" / "locks"
    if not locks.is_dir() or not any(locks.iterdir()):
        return 0
    if not Path("/proc/self/cwd").exists():
        print(f"Snakemake lock in {locks}: if no Snakemake process runs there, run `{snakemake} --unlock`, "
              "then run make again", file=sys.stderr)
        return 1
    running = snakemake_processes(directory)
    if running:
        print(f"Snakemake (pid {', '.join(map(str, running))}) is running in {directory}: wait for it to end "
              "(or stop it), then run make again", file=sys.stderr)
        return 1
    subprocess.run([snakemake, "--unlock"], cwd=directory, check=True, capture_output=True)
    print(f"removed the Snakemake lock a hard stop left in {directory} (no Snakemake process runs there); "
          "resuming, and rerunning the jobs it left incomplete", file=sys.stderr)
    print(RERUN_INCOMPLETE)
    return 0


if __name__ == "__main__":
    if not 2 <= len(sys.argv) <= 3:
        sys.exit("usage: unlock_stale.py SNAKEMAKE [DIRECTORY]")
    sys.exit(main(*sys.argv[1:]))
