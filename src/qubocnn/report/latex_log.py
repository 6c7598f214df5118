"""The paper's layout check: LaTeX's log must report no line set wider than its column by more than
TOLERANCE_PT (Overfull \\hbox) and no float too large for its page. Run by the `paper` rule after
latexmk (`python3 src/qubocnn/report/latex_log.py paper/main.log`: standard library only, so it runs
wherever LaTeX does); exits 1 with one line per problem."""

from __future__ import annotations

import re
import sys
from pathlib import Path

TOLERANCE_PT = 1.0
OVERFULL = re.compile(r"^Overfull \\hbox \((?P<points>[0-9.]+)pt too wide\)(?P<where>.*)$", re.M)
FLOAT = re.compile(r"^(?:LaTeX|Package \w+) Warning: Float too large for page by (?P<points>[0-9.]+)pt(?P<where>.*)$",
                   re.M)


def layout_problems(log_text: str, tolerance_pt: float = TOLERANCE_PT) -> list[str]:
    """One line per overfull box over the tolerance and per float too large for its page."""
    problems = [f"overfull hbox, {m['points']}pt too wide{m['where']}" for m in OVERFULL.finditer(log_text)
                if float(m["points"]) > tolerance_pt]
    problems += [f"float too large for its page by {m['points']}pt{m['where']}" for m in FLOAT.finditer(log_text)]
    return problems


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: latex_log.py MAIN.log (the log LaTeX wrote)", file=sys.stderr)
        return 2
    path = Path(args[0])
    if not path.is_file():
        print(f"latex_log: no LaTeX log {path}: build the paper first", file=sys.stderr)
        return 2
    problems = layout_problems(path.read_text(errors="replace"))
    for problem in problems:
        print(f"{path}: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
