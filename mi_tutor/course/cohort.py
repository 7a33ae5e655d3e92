"""Fake students: submissions that test a course before real students do.

An instructor (and the test suite) can drop three submissions into a course
and grade them: the *solution* student (the reference answers typed into the
released notebook: must score full marks), the *untouched* student (the release
as handed out: must score zero) and a *wrong* student (plausible bugs: must
score in between).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from pathlib import Path

import nbformat

__all__ = ["solution_submission", "wrong_submission", "write_submission"]


def _by_id(nb: nbformat.NotebookNode) -> dict[str, nbformat.NotebookNode]:
    return {c.metadata["nbgrader"]["grade_id"]: c for c in nb.cells if "grade_id" in c.metadata.get("nbgrader", {})}


def solution_submission(release: nbformat.NotebookNode, source: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The released notebook with every solution cell answered as in ``source``."""
    answered = copy.deepcopy(release)
    answers = _by_id(source)
    for gid, cell in _by_id(answered).items():
        if cell.metadata["nbgrader"].get("solution") and gid in answers:
            cell.source = answers[gid].source
    return answered


def wrong_submission(solution: nbformat.NotebookNode, replacements: Mapping[str, str]) -> nbformat.NotebookNode:
    """A solution submission with the named solution cells replaced by other code.

    Raises:
        KeyError: if a replacement names a cell that is not a solution cell.
    """
    wrong = copy.deepcopy(solution)
    cells = _by_id(wrong)
    for gid, text in replacements.items():
        if gid not in cells or not cells[gid].metadata["nbgrader"].get("solution"):
            raise KeyError(f"{gid!r} is not a solution cell; solution cells: "
                           f"{[g for g, c in cells.items() if c.metadata['nbgrader'].get('solution')]}")
        cells[gid].source = text
    return wrong


def write_submission(course_root: str | Path, student: str, assignment: str, nb: nbformat.NotebookNode,
                     name: str | None = None) -> Path:
    """Save ``nb`` as ``submitted/<student>/<assignment>/<name or assignment>.ipynb``."""
    folder = Path(course_root) / "submitted" / student / assignment
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name or assignment}.ipynb"
    nbformat.write(nb, path)
    return path
