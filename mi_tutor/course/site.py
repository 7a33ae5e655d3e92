"""The course site's lesson pages: executed outputs, student inputs.

A lesson page shows the prose, the exercise stubs exactly as the student sees
them, and the outputs and figures computed by running the *solutions*. It never
shows solution code or hidden tests: every cell's source is taken from the
student version, and the outputs of solution cells and hidden-test cells are
dropped. The pages are notebooks written to ``site/lessons/`` and rendered by
mkdocs-jupyter without executing them again; the student notebook for download
goes to ``site/notebooks/``.
"""

from __future__ import annotations

import copy
import os
from pathlib import Path

import nbformat

from .execute import execute_lesson
from .lessons import LEAK_MARKERS, Lesson, find_lessons, read_lesson, student_version

__all__ = ["display_notebook", "prepare_site", "default_cache_dir", "leaked_lines"]


def default_cache_dir(repo_root: str | Path = ".") -> Path:
    """Where executed lessons are cached: ``$MI_TUTOR_CACHE`` or ``build/cache/executed``."""
    return Path(os.environ.get("MI_TUTOR_CACHE") or Path(repo_root) / "build" / "cache" / "executed")


def _download_cell(lesson: Lesson) -> nbformat.NotebookNode:
    return nbformat.v4.new_markdown_cell(
        f"*This page shows lesson {lesson.number} as a student receives it, with the outputs of a full run. "
        f"Download the notebook: [{lesson.slug}.ipynb](../../notebooks/{lesson.slug}.ipynb), "
        f"then check your work with `mi-tutor check {lesson.slug}.ipynb`.*"
    )


def display_notebook(executed: nbformat.NotebookNode, student: nbformat.NotebookNode,
                     lesson: Lesson | None = None) -> nbformat.NotebookNode:
    """Merge an executed solution notebook with the student version's sources.

    Args:
        executed: The solution notebook after execution (has outputs).
        student: :func:`student_version` of the same lesson (same cells).
        lesson: When given, a download note is added after the title cell.

    Raises:
        ValueError: if the two notebooks do not have the same cells.
    """
    if len(executed.cells) != len(student.cells):
        raise ValueError(f"executed notebook has {len(executed.cells)} cells, student version {len(student.cells)}")
    out = copy.deepcopy(executed)
    for cell, stud in zip(out.cells, student.cells):
        meta = stud.metadata.get("nbgrader", {})
        if cell.metadata.get("nbgrader", {}).get("grade_id") != meta.get("grade_id"):
            raise ValueError("executed and student notebooks do not line up cell by cell")
        hidden = "BEGIN HIDDEN TESTS" in cell.source
        cell.source = stud.source
        if cell.cell_type == "code" and (meta.get("solution") or hidden):
            cell.outputs = []
    if lesson is not None:
        out.cells.insert(1, _download_cell(lesson))
    return out


def leaked_lines(lesson_path: str | Path, text: str, min_length: int = 25,
                 kinds: tuple[str, ...] = ("SOLUTION", "HIDDEN TESTS")) -> list[str]:
    """Lines of the lesson's solution blocks and hidden tests that appear in ``text``.

    Used to prove that a page, a release or a feedback file leaks nothing: a
    distinctive line (at least ``min_length`` characters once stripped) of a
    solution or a hidden test found in ``text`` is a leak. Markers count too.

    Args:
        lesson_path: The lesson's solution file.
        text: The text to search.
        min_length: Shorter lines (``return x``) are too generic to count.
        kinds: Which blocks are secret: ``"SOLUTION"``, ``"HIDDEN TESTS"`` or both.
    """
    secret: list[str] = []
    public: set[str] = set()
    for cell in read_lesson(lesson_path).cells:
        inside = False
        for line in cell.source.splitlines():
            s = line.strip().lstrip("# ").strip()
            if any(f"BEGIN {k}" in s for k in kinds):
                inside = True
                continue
            if any(f"END {k}" in s for k in kinds):
                inside = False
                continue
            if inside and len(s) >= min_length:
                secret.append(s)
            elif not inside:
                public.add(s)
    secret = [s for s in secret if s not in public]  # lines the lesson shows anyway are no secret
    found = [m for m in LEAK_MARKERS if m in text and any(k in m for k in kinds)]
    return found + [s for s in dict.fromkeys(secret) if s in text]


def prepare_site(docs_dir: str | Path = "site", solutions_dir: str | Path = "solutions",
                 cache_dir: str | Path | None = None, only: list[str] | None = None) -> list[Path]:
    """Execute (or reuse) every lesson and write its page and student notebook.

    Returns:
        The page notebooks written to ``docs_dir/lessons``.
    """
    docs = Path(docs_dir)
    (docs / "lessons").mkdir(parents=True, exist_ok=True)
    (docs / "notebooks").mkdir(parents=True, exist_ok=True)
    cache = Path(cache_dir) if cache_dir else default_cache_dir(Path(solutions_dir).resolve().parent)
    pages = []
    for lesson in find_lessons(solutions_dir, only):
        student = student_version(read_lesson(lesson.path))
        nbformat.write(student, docs / "notebooks" / f"{lesson.slug}.ipynb")
        executed = execute_lesson(lesson.path, cache_dir=cache, cwd=Path(solutions_dir).resolve().parent)
        page = docs / "lessons" / f"{lesson.slug}.ipynb"
        nbformat.write(display_notebook(executed.notebook, student, lesson), page)
        pages.append(page)
    return pages
