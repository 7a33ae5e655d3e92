"""``mi-tutor check``: run a lesson the way the autograder would and show the points.

Only what can be known is counted: the visible tests earn points, the hidden
tests (absent from a student's notebook) are listed as "graded later" and
written answers as "graded by hand", so an untouched notebook checks at 0.
"""

from __future__ import annotations

from pathlib import Path

from .execute import DEFAULT_TIMEOUT, execute_notebook
from .lessons import read_lesson
from .scoring import CellScore, score_cells

__all__ = ["check_notebook"]


def check_notebook(path: str | Path, timeout: int = DEFAULT_TIMEOUT, cwd: str | Path | None = None) -> list[CellScore]:
    """Execute a student notebook (``.ipynb`` or lesson ``.py``) and score its test cells.

    Cells keep running after a failure, as in nbgrader, so one broken exercise
    does not hide the results of the others. Only the tests present in the file
    run: in a student version those are the visible tests, and the hidden-test
    cells come back with status ``"later"`` (see :func:`score_cells`).

    Args:
        path: The notebook.
        timeout: Per-cell timeout in seconds.
        cwd: Working directory of the kernel (default: the notebook's folder).
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"No notebook at {path}")
    nb = read_lesson(path)
    if not any(c.metadata.get("nbgrader", {}).get("grade") for c in nb.cells):
        raise ValueError(f"{path} has no graded cells: is it a mi-tutor lesson?")
    execute_notebook(nb, cwd=cwd or path.parent, timeout=timeout, allow_errors=True)
    return score_cells(nb)
