"""`qubocnn report`: the command that writes the tables and figures of result files."""

from __future__ import annotations

import logging

from ..outputs import write_text
from .figures import FIGURES, write_figures
from .formatting import write_table
from .loading import RESULT_SCHEMA, find_hardware, load_hardware, load_results, load_run_summaries
from .lowbit import load_lowbit
from .readme import sync_readme
from .tables import TABLES, collect_table, make_tables
from .values import write_values

log = logging.getLogger("qubocnn")

SUMMARY_TABLES = ("claims", "claims_summary")  # tables a collect CSV's one row per run suffices for


def run(options: dict) -> None:
    """`qubocnn report ACTION`: collect, tables, figures, values or readme."""
    if options["action"] == "readme":
        files = [options["readme"]] if isinstance(options["readme"], str) else options["readme"]
        for path in files:
            names = sync_readme(path, options["tables_dir"])
            log.info("updated %s: %s", path, ", ".join(names) or "no table blocks")
        return
    if not options["results"]:
        raise ValueError("give --results: result JSON files or directories")
    summaries = [path for path in options["results"] if str(path).endswith(".csv")]
    names = options["names"].split(",") if options["names"] else None
    from_summary = options["action"] == "values" or (options["action"] == "tables" and names
                                                      and set(names) <= set(SUMMARY_TABLES))
    if summaries and not from_summary:
        raise ValueError(f"{summaries[0]} is a collect CSV: only `qubocnn report values` and the tables "
                         f"{', '.join(SUMMARY_TABLES)} (--names) read one; give run results")
    results = ([run for path in summaries for run in load_run_summaries(path)] if summaries else
               load_results(options["results"]))
    if not results:
        raise ValueError(f"no {RESULT_SCHEMA} files in {' '.join(options['results'])}")
    hardware = options["hardware"] or find_hardware(options["results"])
    hardware_rows = load_hardware(hardware) if hardware else None
    lowbit = load_lowbit(options["lowbit"]) if options.get("lowbit") else []
    if options["action"] == "collect":
        if not options.get("out"):
            raise ValueError("missing --out: where should `qubocnn report collect` write its CSV?")
        write_text(options["out"], collect_table(results).to_csv())
        log.info("wrote %s: %d runs", options["out"], len(results))
        return
    if options["action"] == "values":
        if not options.get("out"):
            raise ValueError("missing --out: where should `qubocnn report values` write its LaTeX values?")
        log.info("wrote %s from %d runs", write_values(results, hardware_rows, options["out"], lowbit), len(results))
        return
    if not options["out_dir"]:
        raise ValueError(f"missing --out-dir: where should `qubocnn report {options['action']}` write?")
    if options["action"] == "tables":
        unknown = sorted(set(names or ()) - set(TABLES))
        if unknown:
            raise ValueError(f"unknown table(s) {', '.join(unknown)}: choose from {', '.join(TABLES)}")
        written = [path for table in make_tables(results, hardware_rows, lowbit, names).values()
                   for path in write_table(table, options["out_dir"], options["latex_dir"])]
    else:
        unknown = sorted(set(names or ()) - set(FIGURES))
        if unknown:
            raise ValueError(f"unknown figure(s) {', '.join(unknown)}: choose from {', '.join(FIGURES)}")
        written = write_figures(results, hardware_rows, options["out_dir"], formats=options["formats"].split(","),
                                names=names)
    log.info("wrote %d files from %d runs%s: %s", len(written), len(results),
             f" and {hardware}" if hardware else " (no hardware file: no size table or figure)",
             " ".join(str(p) for p in written))
