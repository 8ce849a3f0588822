"""Sphinx extension: render measured figures from ``benchmarks/results/*.json`` as tables.

Each results file holds one table and where it was measured::

    {"title": "...", "machine": "...", "command": "...", "date": "...",
     "notes": ["..."], "columns": ["...", ...], "rows": [["...", ...], ...]}

``date`` and ``notes`` are optional.  Cells are Markdown inline text (code in
single backticks, ``\\|`` for a literal bar), as the figures were first
recorded.  Use it in a page as::

    .. benchmark-table:: train_speed_quick.json

(or, in a MyST page, a ``{benchmark-table}`` fence).  The directory is the
``benchmark_results_dir`` configuration value, relative to ``conf.py``.
"""
import json
import pathlib
import re

from docutils.parsers.rst import Directive, directives
from docutils.statemachine import StringList
from sphinx.errors import ExtensionError

__all__ = ["BenchmarkTable", "setup"]


def _inline(text):
    """Markdown inline code and bars to reStructuredText."""
    parts = re.split(r"(`[^`]*`)", text)
    out = []
    for part in parts:
        if part.startswith("`") and part.endswith("`") and len(part) > 1:
            code = part[1:-1].replace("\\|", "|")
            out.append(f"``{code}``" if code.strip() else part)
        else:
            out.append(part)
    return "".join(out) or "\\ "


class BenchmarkTable(Directive):
    """``.. benchmark-table:: NAME.json``: one results file as a table."""

    required_arguments = 1
    has_content = False
    option_spec = {"class": directives.class_option}

    def run(self):
        env = self.state.document.settings.env
        folder = pathlib.Path(env.srcdir) / env.config.benchmark_results_dir
        path = folder / self.arguments[0]
        env.note_dependency(str(path))
        try:
            record = json.loads(path.read_text())
            columns, rows = record["columns"], record["rows"]
        except (OSError, ValueError, KeyError) as error:
            raise ExtensionError(f"{path}: not a benchmark results file ({error})") from error
        width = len(columns)
        if any(len(row) != width for row in rows):
            raise ExtensionError(f"{path}: every row must have {width} cells")
        lines = [f".. list-table:: {_inline(record['title'])}", "   :header-rows: 1", ""]
        for row in [columns] + rows:
            lines.append(f"   * - {_inline(row[0])}")
            lines.extend(f"     - {_inline(cell)}" for cell in row[1:])
        lines.append("")
        where = [f"*Command:* ``{record['command']}``", f"*Machine:* {_inline(record['machine'])}"]
        if record.get("date"):
            where.append(f"*Date:* {record['date']}")
        where.append(f"*Results file:* ``benchmarks/results/{self.arguments[0]}``")
        lines.append("; ".join(where) + ".")
        lines.append("")
        for note in record.get("notes", []):
            lines.extend([_inline(note), ""])
        container = StringList(lines, source=str(path))
        from docutils import nodes

        node = nodes.container(classes=["benchmark-table"] + self.options.get("class", []))
        self.state.nested_parse(container, self.content_offset, node)
        return [node]


def setup(app):
    """Register the directive and the ``benchmark_results_dir`` setting."""
    app.add_config_value("benchmark_results_dir", "../benchmarks/results", "env")
    app.add_directive("benchmark-table", BenchmarkTable)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
