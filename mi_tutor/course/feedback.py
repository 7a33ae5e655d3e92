"""An nbgrader preprocessor that keeps hidden tests out of student feedback."""

from __future__ import annotations

import re

from nbconvert.preprocessors import Preprocessor
from traitlets import Bool

__all__ = ["HideHiddenTests", "hidden_lines", "scrub"]

_HIDDEN = re.compile(r"^[ \t]*#+ BEGIN HIDDEN TESTS.*?^[ \t]*#+ END HIDDEN TESTS[^\n]*\n?", re.S | re.M)
_MIN = 12  # shorter lines ("pass", "x = 1") carry no secret


def hidden_lines(source: str) -> list[str]:
    """The code lines between the hidden-test markers of a cell (stripped, the short ones left out)."""
    out = []
    for block in _HIDDEN.findall(source):
        for line in block.splitlines()[1:-1]:
            line = line.strip()
            if len(line) >= _MIN and not line.startswith("#"):
                out.append(line)
    return out


def scrub(text: str, secrets: list[str]) -> str:
    """``text`` with every line that quotes one of ``secrets`` (or their argument lists) replaced.

    Examples:
        >>> scrub("ok\\ngot checks.check(f, seed=7) here", ["checks.check(f, seed=7)"])
        'ok\\n(hidden)'
    """
    fragments = set(secrets)
    for s in secrets:  # the arguments alone give the hidden case away too
        if "(" in s and len(s[s.index("("):]) >= _MIN:
            fragments.add(s[s.index("("):])
    lines = text.split("\n")
    return "\n".join("(hidden)" if any(f in line for f in fragments) else line for line in lines)


class HideHiddenTests(Preprocessor):
    """Replace hidden-test code by a placeholder; keep only the verdict of their outputs.

    nbgrader's feedback shows every cell's source, hidden tests included, and a
    failing test's traceback quotes the failing line. This keeps the verdict and
    the message (our checks write student-facing messages) and drops the code.
    Student code runs inside hidden tests and could print what it captured of
    them (the calling frame's source, its arguments): printed output and
    displays of hidden-test cells are dropped, and any line of the message that
    quotes a hidden line is blanked.
    """

    enabled = Bool(True).tag(config=True)  # nbconvert preprocessors are off unless enabled

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type == "code" and "BEGIN HIDDEN TESTS" in cell.source:
            secrets = hidden_lines(cell.source)
            cell.source = _HIDDEN.sub("# (hidden tests: their code is not shown)\n", cell.source)
            kept = []
            for out in cell.get("outputs", []):
                if out.output_type == "error":
                    out.evalue = scrub(str(out.evalue), secrets)
                    out.ename = scrub(str(out.ename), secrets)
                    out.traceback = [f"{out.ename}: {out.evalue}"]
                    kept.append(out)
            if len(kept) < len(cell.get("outputs", [])):
                from nbformat.v4 import new_output

                kept.insert(0, new_output("stream", name="stdout",
                                          text="(output of hidden tests is not shown)\n"))
            cell.outputs = kept
        return cell, resources
