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
import re
from pathlib import Path

import nbformat

from .execute import cache_path, execute_lesson
from .views import lesson_view_cells
from .lessons import LEAK_MARKERS, Lesson, find_lessons, read_lesson, student_version

__all__ = ["display_notebook", "prepare_site", "default_cache_dir", "leaked_lines", "SETUP_CELL_ID", "CARD_CELL_ID"]


def default_cache_dir(repo_root: str | Path = ".") -> Path:
    """Where executed lessons are cached: ``$MI_TUTOR_CACHE`` or ``build/cache/executed``."""
    return Path(os.environ.get("MI_TUTOR_CACHE") or Path(repo_root) / "build" / "cache" / "executed")


#: Cell ids the hook and the stylesheet know: the folded setup cell and the card under the title.
SETUP_CELL_ID = "mi-setup"
CARD_CELL_ID = "mi-card"

_LABEL = re.compile(r"^\*\*(?P<label>[A-Z][A-Za-z ]+?)[.:]?\*\*[.:]?\s*(?P<rest>.*)", re.S)


def _split_intro(source: str) -> tuple[str, str, dict[str, str]]:
    """Split the opening cell into its title line, the remaining prose and its labelled paragraphs.

    A labelled paragraph starts with ``**Learning objectives.**`` (or ``**Estimated time:**``
    and the like) and runs until the next blank-line-separated paragraph that is not a list.
    """
    lines = source.splitlines()
    title = lines[0] if lines and lines[0].startswith("# ") else ""
    body = "\n".join(lines[1:] if title else lines)
    blocks = re.split(r"\n\s*\n", body.strip())
    kept: list[str] = []
    labelled: dict[str, str] = {}
    current = None
    for block in blocks:
        m = _LABEL.match(block)
        if m and m.group("label").lower() in ("learning objectives", "estimated time"):
            current = m.group("label").lower()
            labelled[current] = m.group("rest").strip()
        elif current == "learning objectives" and block.lstrip().startswith(("- ", "* ", "1. ")):
            labelled[current] += "\n\n" + block
        else:
            current = None
            kept.append(block)
    return title, "\n\n".join(kept), labelled


def _card_cell(lesson: Lesson, labelled: dict[str, str]) -> nbformat.NotebookNode:
    """The box under a lesson's title: time, download button, objectives."""
    download = f"../../notebooks/{lesson.slug}.ipynb"
    parts = []
    if "estimated time" in labelled:
        parts.append(f"**Estimated time:** {labelled['estimated time']}")
    parts.append(f'<a class="md-button md-button--primary" href="{download}" download>'
                 f"Download the notebook ({lesson.slug}.ipynb)</a>")
    parts.append(f"This page shows lesson {lesson.number} as a student receives it, with the outputs of a "
                 f"full run. Work in the notebook, then check your answers with "
                 f"`mi-tutor check {lesson.slug}.ipynb`.")
    if "learning objectives" in labelled:
        parts.append(f"**Learning objectives.** {labelled['learning objectives']}")
    cell = nbformat.v4.new_markdown_cell("\n\n".join(parts))
    cell.id = CARD_CELL_ID
    return cell


def _reader_cells(cells: list, lesson: Lesson) -> list:
    """Title, card, intro; the setup cell gets the id the hook folds."""
    out = []
    first_md = next((i for i, c in enumerate(cells) if c.cell_type == "markdown"), None)
    for i, cell in enumerate(cells):
        cell.id = f"cell-{i}"
        if cell.cell_type == "code" and cell.metadata.get("nbgrader", {}).get("grade_id") == "setup":
            cell.id = SETUP_CELL_ID
        if i == first_md:
            title, rest, labelled = _split_intro(cell.source)
            if title:
                cell.source = title
                out.append(cell)
                out.append(_card_cell(lesson, labelled))
                if rest:
                    intro = nbformat.v4.new_markdown_cell(rest)
                    intro.id = "cell-intro"
                    out.append(intro)
                continue
        out.append(cell)
    return out


def display_notebook(executed: nbformat.NotebookNode, student: nbformat.NotebookNode,
                     lesson: Lesson | None = None) -> nbformat.NotebookNode:
    """Merge an executed solution notebook with the student version's sources.

    Args:
        executed: The solution notebook after execution (has outputs).
        student: :func:`student_version` of the same lesson (same cells).
        lesson: When given, the page is laid out for readers: the title, then a card with the
            estimated time, a download button and the learning objectives, then the rest; the
            setup cell gets the id :data:`SETUP_CELL_ID` (the site folds it).

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
        out.nbformat, out.nbformat_minor = 4, max(5, out.get("nbformat_minor", 0))  # cell ids need 4.5
        out.cells = _reader_cells(out.cells, lesson)
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
                 cache_dir: str | Path | None = None, only: list[str] | None = None,
                 jobs: int | None = None) -> list[Path]:
    """Execute (or reuse) every lesson and write its page and student notebook.

    Lessons missing from the cache are executed first, in parallel (see
    :func:`~mi_tutor.course.build.execute_lessons`).

    Args:
        docs_dir: The site's ``docs_dir``.
        solutions_dir: The lessons.
        cache_dir: Executed-lesson cache (default :func:`default_cache_dir`).
        only: Lesson slugs or numbers (default: all).
        jobs: Lessons executed at once (default: ``$MI_TUTOR_JOBS`` or the number of cores).

    Returns:
        The page notebooks written to ``docs_dir/lessons``.

    Raises:
        RuntimeError: when a lesson fails; the message holds every failing cell and traceback.
    """
    from .build import execute_lessons, failure_report

    docs = Path(docs_dir)
    root = Path(solutions_dir).resolve().parent
    (docs / "lessons").mkdir(parents=True, exist_ok=True)
    (docs / "notebooks").mkdir(parents=True, exist_ok=True)
    cache = Path(cache_dir) if cache_dir else default_cache_dir(root)
    lessons = find_lessons(solutions_dir, only)
    if any(not cache_path(l.path, cache).exists() for l in lessons):
        jobs = jobs or int(os.environ.get("MI_TUTOR_JOBS") or 0) or None
        report = failure_report(execute_lessons(lessons, cache, cwd=root, jobs=jobs))
        if report:
            raise RuntimeError(f"lessons failed to execute:{report}")
    pages = []
    for lesson in lessons:
        student = student_version(read_lesson(lesson.path))
        nbformat.write(student, docs / "notebooks" / f"{lesson.slug}.ipynb")
        executed = execute_lesson(lesson.path, cache_dir=cache, cwd=root)
        page = docs / "lessons" / f"{lesson.slug}.ipynb"
        shown = display_notebook(executed.notebook, student, lesson)
        shown.cells = lesson_view_cells(lesson.path, shown.cells)
        nbformat.write(shown, page)
        pages.append(page)
    return pages
