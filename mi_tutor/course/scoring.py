"""Scoring executed notebooks the way nbgrader does, for the student self-check."""

from __future__ import annotations

from dataclasses import dataclass

import nbformat

__all__ = ["CellScore", "score_cells", "format_table"]


@dataclass
class CellScore:
    """The outcome of one graded cell.

    Attributes:
        grade_id: The cell's nbgrader id.
        points: Points the cell is worth.
        score: Points earned (``None`` for answers graded by hand).
        message: Why points were lost (empty when full marks).
    """

    grade_id: str
    points: float
    score: float | None
    message: str = ""


def _failure(cell: nbformat.NotebookNode) -> str:
    for out in cell.get("outputs", []):
        if out.output_type == "error":
            first = str(out.evalue).strip().splitlines()
            return f"{out.ename}: {first[0] if first else ''}".strip()
        if out.output_type == "stream" and out.name == "stderr":
            return "wrote to stderr (a warning?): nbgrader gives 0 points for that: " + out.text.strip()[:120]
    return ""


def score_cells(nb: nbformat.NotebookNode) -> list[CellScore]:
    """Score every graded cell of an executed notebook.

    A code test cell earns its points when its outputs hold no error and
    nothing on stderr (nbgrader's rule); a written answer is left to the grader.
    """
    scores = []
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if not meta.get("grade"):
            continue
        points = float(meta.get("points", 0))
        if cell.cell_type != "code":
            scores.append(CellScore(meta["grade_id"], points, None, "graded by hand"))
            continue
        failure = _failure(cell)
        scores.append(CellScore(meta["grade_id"], points, 0.0 if failure else points, failure))
    return scores


def format_table(scores: list[CellScore]) -> str:
    """A plain-text table of :func:`score_cells` with a total line."""
    width = max([len(s.grade_id) for s in scores] + [10])
    lines = [f"{'test':<{width}}  points  result"]
    for s in scores:
        result = "graded by hand" if s.score is None else ("ok" if not s.message else s.message)
        got = "  -  " if s.score is None else f"{s.score:g}/{s.points:g}"
        lines.append(f"{s.grade_id:<{width}}  {got:>6}  {result}")
    auto = [s for s in scores if s.score is not None]
    total, possible = sum(s.score for s in auto), sum(s.points for s in auto)
    manual = sum(s.points for s in scores if s.score is None)
    lines.append(f"{'total':<{width}}  {total:g}/{possible:g} autograded" +
                 (f" (+{manual:g} points graded by hand)" if manual else ""))
    return "\n".join(lines)
