"""The README's and docs/' numbers, copied from generated Markdown so that they never drift from the
result files: every block between `<!-- table:NAME -->` and `<!-- end table:NAME -->` is replaced by
TABLES_DIR/NAME.md (a table of `qubocnn report tables`), and every block between
`<!-- include:PATH -->` and `<!-- end include:PATH -->` by the file PATH (relative to the repository
root: a benchmark's generated Markdown, e.g. benchmarks/results/train_speed_mnist.md)."""

from __future__ import annotations

import os
import re
from pathlib import Path

from .. import outputs

BLOCK = re.compile(r"(<!-- (?P<kind>table|include):(?P<name>[A-Za-z0-9_./-]+) -->\n)(?P<body>.*?)"
                   r"(<!-- end (?P=kind):(?P=name) -->)", re.S)


def block_source(match: re.Match, tables_dir: Path, root: Path) -> Path:
    """The generated file a block copies."""
    return tables_dir / f"{match['name']}.md" if match["kind"] == "table" else root / match["name"]


def sync_readme(readme: str | os.PathLike, tables_dir: str | os.PathLike, root: str | os.PathLike = ".") -> list[str]:
    """Rewrite a Markdown file's blocks in place; returns the names of the blocks it filled."""
    readme, tables_dir, root = Path(readme), Path(tables_dir), Path(root)
    text = readme.read_text()
    matches = list(BLOCK.finditer(text))
    missing = [m["name"] for m in matches if not block_source(m, tables_dir, root).exists()]
    if missing:
        raise FileNotFoundError(f"{readme}: no generated file for block(s) {', '.join(missing)} (tables in "
                                f"{tables_dir}: run `qubocnn report tables` first; includes: from {root})")
    outputs.write_text(readme, BLOCK.sub(lambda m: m.group(1) + block_source(m, tables_dir, root).read_text()
                                         + m.group(5), text))
    return [m["name"] for m in matches]
