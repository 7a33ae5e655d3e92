"""``mi-tutor check``: run a lesson the way the autograder would and show the points.

Only what can be known is counted: the visible tests earn points, the hidden
tests (absent from a student's notebook) are listed as "graded later" and
written answers as "graded by hand", so an untouched notebook checks at 0.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .execute import DEFAULT_TIMEOUT, execute_notebook
from .lessons import read_lesson
from .scoring import CellScore, score_cells, story_failures

__all__ = ["CheckReport", "check_notebook"]


@dataclass
class CheckReport:
    """What ``mi-tutor check`` found.

    Attributes:
        scores: One :class:`~mi_tutor.course.scoring.CellScore` per graded cell.
        story: The ungraded cells that raised, ``[(where, error), ...]``
            (:func:`~mi_tutor.course.scoring.story_failures`): no points, but the lesson's
            figures and numbers from there on are wrong or missing.
    """

    scores: list[CellScore]
    story: list[tuple[str, str]] = field(default_factory=list)


def check_notebook(path: str | Path, timeout: int = DEFAULT_TIMEOUT, cwd: str | Path | None = None) -> CheckReport:
    """Execute a student notebook (``.ipynb`` or lesson ``.py``) and score its test cells.

    Cells keep running after a failure, as in nbgrader, so one broken exercise
    does not hide the results of the others. Only the tests present in the file
    run: in a student version those are the visible tests, and the hidden-test
    cells come back with status ``"later"`` (see :func:`score_cells`).

    Args:
        path: The notebook.
        timeout: Per-cell timeout in seconds.
        cwd: Working directory of the kernel (default: the notebook's folder).

    Returns:
        The scores of the graded cells and the story cells that raised.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"No notebook at {path}")
    nb = read_lesson(path)
    if not any(c.metadata.get("nbgrader", {}).get("grade") for c in nb.cells):
        raise ValueError(f"{path} has no graded cells: is it a mi-tutor lesson?")
    execute_notebook(nb, cwd=cwd or path.parent, timeout=timeout, allow_errors=True)
    return CheckReport(score_cells(nb), story_failures(nb))
