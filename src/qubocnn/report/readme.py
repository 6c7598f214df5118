"""The README's result tables, copied from the generated Markdown tables so that they never drift
from the result files: every block between `<!-- table:NAME -->` and `<!-- end table:NAME -->` is
replaced by TABLES_DIR/NAME.md."""

from __future__ import annotations

import os
import re
from pathlib import Path

from .. import outputs

BLOCK = re.compile(r"(<!-- table:(?P<name>[a-z_]+) -->\n)(?P<body>.*?)(<!-- end table:(?P=name) -->)", re.S)


def sync_readme(readme: str | os.PathLike, tables_dir: str | os.PathLike) -> list[str]:
    """Rewrite the README's table blocks in place; returns the names of the blocks it filled."""
    readme, tables_dir = Path(readme), Path(tables_dir)
    text = readme.read_text()
    names = [match["name"] for match in BLOCK.finditer(text)]
    missing = [name for name in names if not (tables_dir / f"{name}.md").exists()]
    if missing:
        raise FileNotFoundError(f"no table {', '.join(missing)} in {tables_dir}: run `qubocnn report tables` first")
    outputs.write_text(readme, BLOCK.sub(lambda m: m.group(1) + (tables_dir / f"{m['name']}.md").read_text() + m.group(4), text))
    return names
