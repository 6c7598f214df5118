"""Tables and figures of the replication, made from result files alone.

Inputs are the JSON files the CLI writes: run results (`qubocnn.result/1`, one per training run or
baseline, see qubocnn.results) and the D-Wave feasibility file (`qubocnn.hardware/1`). Nothing is
recomputed except the hardware limits of the two D-Wave systems.

Modules: `loading` (read result files and the collect CSV), `runs` (group runs, statistics over
seeds), `statistics` (differences paired by seed and the rule that decides when one counts),
`formatting` (one table in CSV, Markdown and LaTeX), `tables`, `claims` (the paper's claims, tested
by explicit rules), `values` (the paper's numbers as LaTeX values; the claims summary), `figures`,
`readme` (the generated blocks of README and docs/) and `latex_log` (the paper's layout check).
"""

from .claims import claims_table
from .figures import FIGURES, FORMATS, make_figure, save_figure, write_figures
from .figures import (figure_accuracy_vs_bits, figure_energy_gap, figure_hardware_study, figure_problem_size,
                      figure_runtime, figure_training_loss)
from .formatting import Table, write_table
from .loading import HARDWARE_SCHEMA, RESULT_SCHEMA, find_hardware, load_hardware, load_results
from .runs import dataset_labels, dataset_order, group_runs, method_key, run_summary
from .tables import (TABLES, annealing_gap_table, baselines_table, collect_table, hardware_study_table,
                     main_accuracy_table, make_tables, precision_table, qpu_precision_table, runtime_table)

__all__ = ["FIGURES", "FORMATS", "HARDWARE_SCHEMA", "RESULT_SCHEMA", "TABLES", "Table", "annealing_gap_table",
           "baselines_table", "claims_table", "collect_table", "dataset_labels", "dataset_order",
           "figure_accuracy_vs_bits", "figure_energy_gap", "figure_hardware_study", "figure_problem_size",
           "figure_runtime", "figure_training_loss", "find_hardware", "group_runs", "hardware_study_table",
           "load_hardware", "load_results", "main_accuracy_table", "make_figure", "make_tables", "method_key",
           "precision_table", "qpu_precision_table", "run_summary", "runtime_table", "save_figure", "write_figures", "write_table"]
