"""Where a Snakemake run's time went, per rule, read from its log (.snakemake/log/*.snakemake.log).

    python workflow/scripts/rule_times.py .snakemake/log/LATEST.snakemake.log [--out FILE.md]

Snakemake stamps each job's start ("[date]" then "rule NAME:" ... "jobid: N") and its end ("[date]"
then "Finished jobid: N (Rule: NAME)"). The table gives, per rule, the jobs that finished, their
summed and median wall seconds, and the rule's share of all job seconds; below it the run's wall
time from the first start to the last end. With --cores 2 the job seconds are about twice the wall
time when both cores stay busy. The log's clock has a resolution of one second.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
from datetime import datetime
from pathlib import Path

from qubocnn.outputs import write_text

STAMP = re.compile(r"^\[(\w{3} \w{3} +\d+ \d\d:\d\d:\d\d \d{4})\]$")
START = re.compile(r"^(?:local)?(?:rule|checkpoint) (\w+):$")
JOBID = re.compile(r"^\s+jobid: (\d+)$")
FINISHED = re.compile(r"^Finished jobid: (\d+) \(Rule: (\w+)\)$")


def job_times(lines) -> list[tuple[str, float, datetime, datetime]]:
    """(rule, seconds, start, end) of every job that finished."""
    stamp, opening, started, finished = None, None, {}, []
    for line in lines:
        line = line.rstrip("\n")
        if match := STAMP.match(line):
            stamp = datetime.strptime(" ".join(match.group(1).split()), "%a %b %d %H:%M:%S %Y")
        elif match := START.match(line):
            opening = (match.group(1), stamp)
        elif (match := JOBID.match(line)) and opening:
            started[match.group(1)] = opening
            opening = None
        elif (match := FINISHED.match(line)) and match.group(1) in started:
            rule, begin = started.pop(match.group(1))
            finished.append((rule, (stamp - begin).total_seconds(), begin, stamp))
    return finished


def table(jobs) -> str:
    if not jobs:
        raise ValueError("no finished jobs in this log: is it a Snakemake log?")
    by_rule: dict[str, list[float]] = {}
    for rule, seconds, _, _ in jobs:
        by_rule.setdefault(rule, []).append(seconds)
    total = sum(seconds for _, seconds, _, _ in jobs)
    wall = (max(end for *_, end in jobs) - min(start for *_, start, _ in jobs)).total_seconds()
    lines = ["| rule | jobs | job minutes | share | median s | max s |", "|---|---|---|---|---|---|"]
    for rule, times in sorted(by_rule.items(), key=lambda item: -sum(item[1])):
        lines.append(f"| {rule} | {len(times)} | {sum(times) / 60:.1f} | {100 * sum(times) / total:.0f} % "
                     f"| {statistics.median(times):.0f} | {max(times):.0f} |")
    lines += ["", f"{len(jobs)} jobs, {total / 60:.1f} job minutes in {wall / 60:.1f} minutes of wall time."]
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("log", type=Path)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    try:
        text = table(job_times(args.log.read_text().splitlines()))
    except (OSError, ValueError) as error:
        print(f"rule_times: {error}", file=sys.stderr)
        return 1
    if args.out:
        write_text(args.out, text)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
