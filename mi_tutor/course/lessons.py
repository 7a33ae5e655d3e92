"""Lessons as files: discovery, metadata validation and the student release.

``solutions/NN_slug.py`` (jupytext percent format with nbgrader markup) is the
single source of every lesson. :func:`student_version` turns it into what a
student gets, with nbgrader's own preprocessors (solutions become
``raise NotImplementedError()``, hidden tests disappear), and
:func:`release_lessons` writes those to ``lessons/NN_slug.py``.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from pathlib import Path

import jupytext
import nbformat
from nbconvert.exporters.exporter import ResourcesDict
from nbgrader.nbgraderformat import MetadataValidator
from nbgrader.preprocessors import ClearHiddenTests, ClearOutput, ClearSolutions

__all__ = [
    "Lesson",
    "LESSON_PATTERN",
    "find_lessons",
    "read_lesson",
    "validate_lesson",
    "student_version",
    "student_source",
    "release_lessons",
    "stale_lessons",
    "LEAK_MARKERS",
]

LESSON_PATTERN = re.compile(r"^(\d\d)_([a-z0-9_]+)\.py$")
#: Text that must never appear in anything a student or reader receives.
LEAK_MARKERS = ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS")
JUPYTEXT_FORMAT = "py:percent"


@dataclass(frozen=True)
class Lesson:
    """A lesson source file.

    Attributes:
        path: ``solutions/NN_slug.py``.
        number: ``NN`` as an int.
        slug: ``NN_slug``: the nbgrader assignment and notebook name.
    """

    path: Path
    number: int
    slug: str

    @property
    def title(self) -> str:
        """The text of the first ``# `` heading of the lesson."""
        for cell in read_lesson(self.path).cells:
            if cell.cell_type == "markdown":
                for line in cell.source.splitlines():
                    if line.startswith("# "):
                        return line[2:].strip()
        return self.slug


def find_lessons(solutions_dir: str | Path = "solutions", only: list[str] | None = None) -> list[Lesson]:
    """All lessons in ``solutions_dir``, ordered by number.

    Args:
        solutions_dir: Folder with ``NN_slug.py`` files.
        only: Keep the lessons whose slug or number (``"01"``, ``"1"``) is listed.

    Raises:
        FileNotFoundError: if the folder does not exist or ``only`` names no lesson.
    """
    folder = Path(solutions_dir)
    if not folder.is_dir():
        raise FileNotFoundError(f"No lesson folder at {folder.resolve()}: run from the repository root or pass --root")
    lessons = []
    for path in sorted(folder.glob("*.py")):
        m = LESSON_PATTERN.match(path.name)
        if m:
            lessons.append(Lesson(path, int(m.group(1)), path.stem))
    if only:
        wanted = {str(o).removesuffix(".py") for o in only}
        picked = [l for l in lessons if l.slug in wanted or f"{l.number:02d}" in wanted or str(l.number) in wanted]
        if not picked:
            raise FileNotFoundError(f"No lesson matches {only}; lessons: {[l.slug for l in lessons]}")
        lessons = picked
    return lessons


def read_lesson(path: str | Path) -> nbformat.NotebookNode:
    """Read a percent-format lesson (or an ``.ipynb``) as a notebook."""
    path = Path(path)
    if path.suffix == ".ipynb":
        return nbformat.read(path, as_version=4)
    return jupytext.read(path, fmt=JUPYTEXT_FORMAT)


def validate_lesson(nb: nbformat.NotebookNode, name: str = "lesson") -> list[str]:
    """Check a lesson's nbgrader metadata and the course's own rules.

    Returns:
        A list of problems (empty when the lesson is valid). nbgrader's schema
        validation errors are included as text.
    """
    problems: list[str] = []
    try:
        MetadataValidator().validate_nb(copy.deepcopy(nb))
    except Exception as err:  # nbgrader raises several exception types
        problems.append(f"{name}: invalid nbgrader metadata: {err}")
    ids: dict[str, int] = {}
    has_setup = False
    for i, cell in enumerate(nb.cells):
        meta = cell.metadata.get("nbgrader")
        if not meta:
            if any(m in cell.source for m in LEAK_MARKERS):
                problems.append(f"{name}: cell {i} has solution/hidden markers but no nbgrader metadata")
            continue
        gid = meta.get("grade_id", "")
        if gid in ids:
            problems.append(f"{name}: grade_id {gid!r} is used by cells {ids[gid]} and {i}")
        ids[gid] = i
        if gid == "setup":
            has_setup = meta.get("locked") and "setup_lesson" in cell.source
        if meta.get("solution") and cell.cell_type == "code" and "BEGIN SOLUTION" not in cell.source:
            problems.append(f"{name}: solution cell {gid!r} has no ### BEGIN SOLUTION block")
        if meta.get("grade") and cell.cell_type == "code" and not meta.get("locked"):
            problems.append(f"{name}: test cell {gid!r} must be locked")
    if not has_setup:
        problems.append(f"{name}: needs a locked cell with grade_id 'setup' that calls setup_lesson()")
    if not any(c.metadata.get("nbgrader", {}).get("grade") for c in nb.cells):
        problems.append(f"{name}: has no graded cell")
    return problems


def student_version(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The student's notebook: solutions stubbed, hidden tests removed, outputs cleared.

    Uses nbgrader's own ``ClearSolutions``, ``ClearHiddenTests`` and
    ``ClearOutput`` preprocessors, so the result matches what
    ``nbgrader generate_assignment`` releases.
    """
    nb = copy.deepcopy(nb)
    nb.metadata.setdefault("kernelspec", {"name": "python3", "language": "python", "display_name": "Python 3"})
    resources = ResourcesDict()
    for pre in (ClearSolutions(enforce_metadata=True), ClearHiddenTests(enforce_metadata=True), ClearOutput()):
        nb, resources = pre.preprocess(nb, resources)
    for cell in nb.cells:
        cell.metadata.pop("editable", None)
        cell.metadata.pop("deletable", None)
    return nb


def student_source(lesson_path: str | Path) -> str:
    """The text of ``lessons/NN_slug.py`` for the lesson at ``lesson_path``."""
    nb = student_version(read_lesson(lesson_path))
    text = jupytext.writes(nb, fmt=JUPYTEXT_FORMAT)
    return text


def release_lessons(solutions_dir: str | Path = "solutions", lessons_dir: str | Path = "lessons",
                    only: list[str] | None = None) -> list[Path]:
    """Write the student version of every lesson; return the files written.

    Raises:
        ValueError: if a lesson's metadata is invalid (nothing is written for it).
    """
    out = Path(lessons_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for lesson in find_lessons(solutions_dir, only):
        problems = validate_lesson(read_lesson(lesson.path), lesson.slug)
        if problems:
            raise ValueError("Invalid lesson:\n  " + "\n  ".join(problems))
        target = out / lesson.path.name
        target.write_text(student_source(lesson.path))
        written.append(target)
    return written


def stale_lessons(solutions_dir: str | Path = "solutions", lessons_dir: str | Path = "lessons") -> list[str]:
    """Slugs whose committed student version differs from a fresh release (or is missing)."""
    stale = []
    for lesson in find_lessons(solutions_dir):
        target = Path(lessons_dir) / lesson.path.name
        if not target.exists() or target.read_text() != student_source(lesson.path):
            stale.append(lesson.slug)
    return stale
