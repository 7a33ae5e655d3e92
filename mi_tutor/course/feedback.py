"""An nbgrader preprocessor that keeps hidden tests out of student feedback."""

from __future__ import annotations

import re

from nbconvert.preprocessors import Preprocessor
from traitlets import Bool

__all__ = ["HideHiddenTests"]

_HIDDEN = re.compile(r"^[ \t]*#+ BEGIN HIDDEN TESTS.*?^[ \t]*#+ END HIDDEN TESTS[^\n]*\n?", re.S | re.M)


class HideHiddenTests(Preprocessor):
    """Replace hidden-test code by a placeholder and shorten their tracebacks.

    nbgrader's feedback shows every cell's source, hidden tests included, and a
    failing test's traceback quotes the failing line. This keeps the verdict and
    the message (our checks write student-facing messages) and drops the code.
    """

    enabled = Bool(True).tag(config=True)  # nbconvert preprocessors are off unless enabled

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type == "code" and "BEGIN HIDDEN TESTS" in cell.source:
            cell.source = _HIDDEN.sub("# (hidden tests: their code is not shown)\n", cell.source)
            for out in cell.get("outputs", []):
                if out.output_type == "error":
                    out.traceback = [f"{out.ename}: {out.evalue}"]
        return cell, resources
