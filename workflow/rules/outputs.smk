# Reproducible outputs: where each study writes, and the fixed dates that keep its files byte-stable.

import subprocess


def paper_date(tex="paper/main.tex"):
    """SOURCE_DATE_EPOCH for pdfTeX: the time of the last commit of main.tex (its mtime outside a git
    checkout). With FORCE_SOURCE_DATE=1 it also sets \\today, so the PDF's dates, trailer ID and text
    are the same on every build: the PDF is byte-identical when its inputs are."""
    try:
        found = subprocess.run(["git", "log", "-1", "--format=%ct", "--", tex], capture_output=True, text=True,
                               timeout=30).stdout.strip()
    except OSError:
        found = ""
    return found or str(int(os.path.getmtime(tex)))


PAPER_ENV = f"SOURCE_DATE_EPOCH={paper_date()} FORCE_SOURCE_DATE=1"
