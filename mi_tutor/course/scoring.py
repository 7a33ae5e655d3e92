"""Scoring executed notebooks the way nbgrader does, for the student self-check.

A student's notebook holds the *visible* tests only: the hidden-test cells are
there, but empty, until the grader puts their code back. The self-check
therefore scores the visible tests as points, lists the hidden ones as
"graded later" (it cannot know their result, and an empty cell that "passes"
would overstate the student's score) and leaves written answers to the
instructor. Each failure keeps the whole message of the check, hint included,
and a ``NotImplementedError`` names the function that is still a stub.

Examples:
    >>> s = CellScore("ex1_1_visible", 1.0, 0.0, "CheckFailure: wrong values", status="auto")
    >>> s.failed
    True
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import nbformat

__all__ = ["CellScore", "score_cells", "story_failures", "format_table", "stub_name", "STATUSES"]

#: How a cell's points are decided: by the tests run here, by the grader's hidden tests, by hand.
STATUSES = ("auto", "later", "hand")
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


@dataclass
class CellScore:
    """The outcome of one graded cell.

    Attributes:
        grade_id: The cell's nbgrader id.
        points: Points the cell is worth.
        score: Points earned (``None`` when not known here: hidden tests or hand grading).
        message: Why points were lost (empty when full marks), or what happens to the cell.
        status: ``"auto"`` (scored here), ``"later"`` (hidden tests, run by the grader) or
            ``"hand"`` (a written answer).
    """

    grade_id: str
    points: float
    score: float | None
    message: str = ""
    status: str = "auto"

    @property
    def failed(self) -> bool:
        """True when the cell was scored here and lost its points."""
        return self.status == "auto" and bool(self.message)


def stub_name(traceback: list[str]) -> str | None:
    """The innermost function of a traceback (the one that raised), or ``None`` at top level.

    Examples:
        >>> stub_name(["Cell In[3], line 2, in check()", "Cell In[2], line 4, in layer_table(model, x)"])
        'layer_table'
    """
    names = re.findall(r"\bin (\w+)\(", _ANSI.sub("", "\n".join(traceback)))
    names = [n for n in names if n != "<module>"]
    return names[-1] if names else None


def _failure(cell: nbformat.NotebookNode) -> str:
    for out in cell.get("outputs", []):
        if out.output_type == "error":
            text = _ANSI.sub("", str(out.evalue)).strip()
            if out.ename == "NotImplementedError":
                name = stub_name(out.get("traceback", []))
                where = f"`{name}` is still a stub" if name else "a solution cell is still a stub"
                return (f"NotImplementedError: {where}: write your code in its solution cell and remove "
                        f"`raise NotImplementedError()`." + (f" ({text})" if text else ""))
            return f"{out.ename}: {text}".strip()
        if out.output_type == "stream" and out.name == "stderr":
            return "wrote to stderr (a warning?): nbgrader gives 0 points for that: " + out.text.strip()[:120]
    return ""


def _has_code(source: str) -> bool:
    return any(line.strip() and not line.strip().startswith("#") for line in source.splitlines())


def _is_hidden(meta: dict, cell: nbformat.NotebookNode) -> bool:
    return meta.get("grade_id", "").endswith("_hidden") or "HIDDEN TESTS" in cell.source


def score_cells(nb: nbformat.NotebookNode) -> list[CellScore]:
    """Score every graded cell of an executed notebook.

    A visible test cell earns its points when its outputs hold no error and
    nothing on stderr (nbgrader's rule). A hidden-test cell whose tests were
    removed (the student version) is ``"later"``: the grader runs it. A written
    answer is ``"hand"``.
    """
    scores = []
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if not meta.get("grade"):
            continue
        points = float(meta.get("points", 0))
        if cell.cell_type != "code":
            scores.append(CellScore(meta["grade_id"], points, None, "graded by hand", "hand"))
            continue
        if _is_hidden(meta, cell) and not _has_code(cell.source):
            scores.append(CellScore(meta["grade_id"], points, None, "hidden tests: graded later", "later"))
            continue
        failure = _failure(cell)
        scores.append(CellScore(meta["grade_id"], points, 0.0 if failure else points, failure, "auto"))
    return scores


def story_failures(nb: nbformat.NotebookNode) -> list[tuple[str, str]]:
    """The ungraded code cells of an executed notebook that raised: ``[(where, error), ...]``.

    They carry no points, but the figures and numbers they make are the lesson's story: a locked
    result check under a figure that fails says the student's function gave the wrong story,
    and every cell after a failing one may be missing its inputs. ``where`` is the cell's
    nbgrader id, or ``"cell N"`` (counting code cells from 1) when it has none.

    Examples:
        >>> nb = nbformat.v4.new_notebook()
        >>> ok, bad = nbformat.v4.new_code_cell("x = 1"), nbformat.v4.new_code_cell("check(x)")
        >>> bad.outputs = [nbformat.v4.new_output("error", ename="CheckFailure", evalue="the top channel", traceback=[])]
        >>> nb.cells = [ok, bad]
        >>> story_failures(nb)
        [('cell 2', 'CheckFailure: the top channel')]
    """
    found = []
    code = [c for c in nb.cells if c.cell_type == "code"]
    for number, cell in enumerate(code, start=1):
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade"):
            continue
        errors = [out for out in cell.get("outputs", []) if out.output_type == "error"]
        if errors:
            text = _ANSI.sub("", str(errors[0].evalue)).strip().splitlines()
            found.append((meta.get("grade_id") or f"cell {number}", f"{errors[0].ename}: {text[0] if text else ''}".strip()))
    return found


def _indent(text: str, width: int) -> str:
    lines = text.splitlines() or [""]
    return "\n".join([lines[0]] + [" " * width + line for line in lines[1:]])


def format_table(scores: list[CellScore]) -> str:
    """A plain-text table of :func:`score_cells` with a total of what is known.

    The total counts only the cells scored here; hidden tests and written
    answers are listed with their points but never added to the score.

    Examples:
        >>> print(format_table([CellScore("ex1_1_visible", 1, 0.0, "CheckFailure: no\\nHint: yes"),
        ...                     CellScore("ex1_1_hidden", 2, None, "hidden tests: graded later", "later")]))
        test           points  result
        ex1_1_visible   0/1    CheckFailure: no
                               Hint: yes
        ex1_1_hidden    -/2    hidden tests: graded later
        total          0/1 from the visible tests; 2 more points in hidden tests, graded later
    """
    width = max([len(s.grade_id) for s in scores] + [10])
    lines = [f"{'test':<{width}}  points  result"]
    for s in scores:
        result = "ok" if s.status == "auto" and not s.message else s.message
        got = f"{s.score:g}/{s.points:g}" if s.score is not None else f"-/{s.points:g}"
        lines.append(f"{s.grade_id:<{width}}  {got:^6}  " + _indent(result, width + 10))
    auto = [s for s in scores if s.status == "auto"]
    total, possible = sum(s.score for s in auto), sum(s.points for s in auto)
    later = sum(s.points for s in scores if s.status == "later")
    hand = sum(s.points for s in scores if s.status == "hand")
    ran = "the visible tests" if later else "the tests run here"
    line = f"{'total':<{width}}  {total:g}/{possible:g} from {ran}"
    if later:
        line += f"; {later:g} more points in hidden tests, graded later"
    if hand:
        line += f"; {hand:g} points graded by hand"
    lines.append(line)
    return "\n".join(lines)
