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
from .lessons import LEAK_MARKERS, Lesson, find_lessons, read_lesson, split_secret, student_version

__all__ = ["display_notebook", "prepare_site", "default_cache_dir", "leaked_lines", "tex_formulas", "lesson_facts",
           "course_map", "results_cell", "SETUP_CELL_ID", "CARD_CELL_ID", "RESULTS_CELL_ID"]


def default_cache_dir(repo_root: str | Path = ".") -> Path:
    """Where executed lessons are cached: ``$MI_TUTOR_CACHE`` or ``build/cache/executed``."""
    return Path(os.environ.get("MI_TUTOR_CACHE") or Path(repo_root) / "build" / "cache" / "executed")


#: The MIME type of a Jupyter widget's output (the site drops those outputs: see :func:`display_notebook`).
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"

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
    # Widgets (a progress bar left by a training loop) need a widget manager that nbconvert's page
    # would fetch from a CDN; a finished bar says nothing, so the site drops them and their state.
    out.metadata.pop("widgets", None)
    for cell in out.cells:
        if cell.cell_type == "code":
            cell.outputs = [o for o in cell.outputs if WIDGET_VIEW not in o.get("data", {})]
    if lesson is not None:
        out.nbformat, out.nbformat_minor = 4, max(5, out.get("nbformat_minor", 0))  # cell ids need 4.5
        out.cells = _reader_cells(out.cells, lesson)
    return out


_FENCED = re.compile(r"^\s*(```|~~~).*?^\s*\1", re.S | re.M)
_CODE = re.compile(r"(`+)(.+?)\1", re.S)
#: ``$$...$$``, or ``$...$`` within one paragraph (a single line break may fall inside, as MathJax allows).
_TEX = re.compile(r"(?<![\\$])\$\$(.+?)(?<!\\)\$\$|(?<![\\$])\$(?!\$)((?:[^$\n]|\n(?![ \t]*\n))+?)(?<![\\$])\$(?!\$)",
                  re.S)


def tex_formulas(markdown: str) -> list[str]:
    r"""The TeX formulas of a markdown text (``$...$`` and ``$$...$$``), outside code.

    MathJax typesets each of them as one ``mjx-container`` on the site; the browser test compares
    the two counts. An escaped dollar (``\$5``) is no formula.

    Examples:
        >>> tex_formulas("Let $x_j$ be `a $b$ c`, and $$\\sum_j x_j$$ costs \\$5, $t =\n1$.")
        ['x_j', '\\sum_j x_j', 't =\n1']
    """
    text = _CODE.sub(" ", _FENCED.sub(" ", markdown))
    return [m.group(1) or m.group(2) for m in _TEX.finditer(text)]


#: The cell id of the table that ends a lesson page.
RESULTS_CELL_ID = "mi-results"


def results_cell(executed: nbformat.NotebookNode) -> nbformat.NotebookNode | None:
    """The "Results at a glance" cell that ends a lesson page, or ``None`` when nothing was recorded.

    The numbers are the ones the executed notebook recorded with
    :func:`mi_tutor.course.results.record` (the reference solution's run), with the paper's
    value beside them where the lesson reproduces a paper.
    """
    from .results import recorded, results_table

    found = recorded(executed)
    if not found:
        return None
    cell = nbformat.v4.new_markdown_cell(
        "## Results at a glance\n\nWhat this lesson measured, read from the outputs of the run shown on this "
        "page (the reference solutions, executed when the site was built)"
        + (", beside the published value where the lesson reproduces a paper" if any(r.get("paper") for r in found)
           else "") + ".\n\n" + results_table(found))
    cell.id = RESULTS_CELL_ID
    return cell


def leaked_lines(lesson_path: str | Path, text: str, min_length: int = 25,
                 kinds: tuple[str, ...] = ("SOLUTION", "HIDDEN TESTS")) -> list[str]:
    """Lines of the lesson's solution blocks and hidden tests that appear in ``text``.

    Used to prove that a page, a release or a feedback file leaks nothing: a
    distinctive line (at least ``min_length`` characters once stripped) of a
    solution or a hidden test found in ``text`` is a leak. Markers count too. The lesson's lines
    are split by :func:`~mi_tutor.course.lessons.split_secret`, as the lesson spec's hint rule splits them.

    Args:
        lesson_path: The lesson's solution file.
        text: The text to search.
        min_length: Shorter lines (``return x``) are too generic to count.
        kinds: Which blocks are secret: ``"SOLUTION"``, ``"HIDDEN TESTS"`` or both.
    """
    secret, shown = split_secret(read_lesson(lesson_path), kinds)
    public = set(shown)  # lines the lesson shows anyway are no secret
    secret = [s for s in secret if len(s) >= min_length and s not in public]
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
        glance = results_cell(executed.notebook)
        if glance is not None:
            shown.cells.append(glance)
        nbformat.write(shown, page)
        pages.append(page)
    return pages


# --- The map of the course on the home page ------------------------------------------------------

_PREREQ_LIST = re.compile(r"\blessons?\s+(\d+(?:\s*-\s*\d+)?(?:\s*(?:,|and|or)\s*\d+(?:\s*-\s*\d+)?)*)", re.I)


def _labelled(nb: nbformat.NotebookNode, label: str) -> str:
    """The text of the ``**Label.**`` (or ``**Label:**``) paragraph of a lesson's first markdown cell."""
    first = next((c.source for c in nb.cells if c.cell_type == "markdown"), "")
    m = re.search(rf"\*\*{label}[.:]?\*\*[.:]?\s*(.*?)(?:\n\s*\n|\Z)", first, re.S | re.I)
    return " ".join(m.group(1).split()) if m else ""


def lesson_facts(lesson: Lesson) -> dict:
    """What the home page's map shows of a lesson, read from its opening cell.

    Returns:
        ``{"number", "slug", "title", "time", "claim", "builds_on"}``: the title without
        ``Lesson N:``, the estimated time (``"2 hours"``), the one-line ``**Central claim.**``
        and the earlier lessons its ``**Prerequisites.**`` name (ranges such as ``lessons 1-2``
        expanded; a clause saying a lesson "helps" names an optional one, left out).
    """
    nb = read_lesson(lesson.path)
    prereq = re.sub(r"\([^()]*\)", " ", _labelled(nb, "Prerequisites"))
    required = " ".join(c for c in re.split(r"[;.]\s", prereq) if not re.search(r"\b(helps|optional|useful)\b", c))
    builds_on: set[int] = set()
    for group in _PREREQ_LIST.findall(required):
        for a, b in re.findall(r"(\d+)(?:\s*-\s*(\d+))?", group):
            builds_on.update(range(int(a), int(b or a) + 1))
    time = _labelled(nb, "Estimated time")
    m = re.match(r"(.*?\bhours?\b)", time)
    return {"number": lesson.number, "slug": lesson.slug, "title": lesson.title.split(":", 1)[-1].strip(),
            "time": m.group(1) if m else time.split(".")[0], "claim": _labelled(nb, "Central claim"),
            "builds_on": sorted(n for n in builds_on if n < lesson.number)}


def _direct(facts: list[dict]) -> dict[int, list[int]]:
    """Each lesson's prerequisites without the ones another prerequisite already builds on."""
    by = {f["number"]: set(f["builds_on"]) for f in facts}

    def below(n: int, seen: set[int]) -> set[int]:
        for p in by.get(n, ()):
            if p not in seen:
                seen.add(p)
                below(p, seen)
        return seen

    return {n: sorted(p for p in ps if not any(p in below(q, set()) for q in ps if q != p)) for n, ps in by.items()}


def _wrap(text: str, width: int, lines: int) -> list[str]:
    """``text`` in at most ``lines`` lines of at most ``width`` characters (an ellipsis when cut)."""
    out: list[str] = []
    for word in text.split():
        if out and len(out[-1]) + 1 + len(word) <= width:
            out[-1] += " " + word
        else:
            out.append(word)
    if len(out) > lines:
        out = out[:lines]
        out[-1] = out[-1][:width - 1].rstrip(" ,:") + "…"
    return out


def course_map(lessons: list[Lesson], href: str = "lessons/{slug}/") -> str:
    """The home page's map of the course: an inline SVG diagram and a table, as HTML.

    The diagram places each lesson in the column of its longest chain of prerequisites, draws an
    arrow from every lesson it builds on directly (a prerequisite that another one already
    contains is left out), and shows its number, title and time; hovering shows its central
    claim. The table below lists the same facts in full. Nothing is loaded: plain SVG and HTML.

    Args:
        lessons: The lessons (:func:`~mi_tutor.course.lessons.find_lessons`).
        href: Link of a lesson, relative to the page, with ``{slug}``.
    """
    from html import escape

    facts = [lesson_facts(l) for l in lessons]
    by = {f["number"]: f for f in facts}
    direct = _direct(facts)
    depth: dict[int, int] = {}
    for f in facts:  # lessons come in order and build only on earlier ones
        depth[f["number"]] = 1 + max((depth[p] for p in f["builds_on"] if p in depth), default=-1)
    columns: dict[int, list[int]] = {}
    for n in sorted(depth):
        columns.setdefault(depth[n], []).append(n)
    box_w, box_h, gap_x, gap_y, pad = 216, 70, 40, 14, 8
    height = max(len(c) for c in columns.values()) * (box_h + gap_y) - gap_y + 2 * pad
    width = len(columns) * (box_w + gap_x) - gap_x + 2 * pad
    pos = {}
    for d, nums in columns.items():
        top = pad + (height - 2 * pad - (len(nums) * (box_h + gap_y) - gap_y)) / 2
        for i, n in enumerate(nums):
            pos[n] = (pad + d * (box_w + gap_x), top + i * (box_h + gap_y))
    parts = [f'<svg class="mi-map" viewBox="0 0 {width} {height:.0f}" width="100%" role="img" '
             f'xmlns="http://www.w3.org/2000/svg" aria-labelledby="mi-map-title">'
             f'<title id="mi-map-title">The twelve lessons and what each builds on</title>'
             '<defs><marker id="mi-arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
             'markerHeight="7" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" class="mi-map-head"/>'
             '</marker></defs>']
    for n, ps in direct.items():
        x2, y2 = pos[n]
        for p in ps:
            x1, y1 = pos[p]
            a, b = (x1 + box_w, y1 + box_h / 2), (x2, y2 + box_h / 2)
            mid = (a[0] + b[0]) / 2
            parts.append(f'<path class="mi-map-edge" d="M {a[0]:.0f} {a[1]:.0f} C {mid:.0f} {a[1]:.0f}, '
                         f'{mid:.0f} {b[1]:.0f}, {b[0] - 2:.0f} {b[1]:.0f}" marker-end="url(#mi-arrow)"/>')
    for n, (x, y) in pos.items():
        f = by[n]
        lines = _wrap(f"{n}. {f['title']}", 28, 2)
        text = "".join(f'<tspan x="{x + 10}" dy="{0 if i == 0 else 17}">{escape(t)}</tspan>' for i, t in enumerate(lines))
        parts.append(f'<a href="{href.format(slug=f["slug"])}" class="mi-map-node">'
                     f'<title>Lesson {n}: {escape(f["title"])}. {escape(f["claim"])}</title>'
                     f'<rect x="{x}" y="{y:.0f}" width="{box_w}" height="{box_h}" rx="6"/>'
                     f'<text x="{x + 10}" y="{y + 21:.0f}" class="mi-map-title">{text}</text>'
                     f'<text x="{x + 10}" y="{y + 60:.0f}" class="mi-map-time">{escape(f["time"])}</text></a>')
    parts.append("</svg>")
    rows = ["<div class=\"mi-map-table\"><table><thead><tr><th>#</th><th>Lesson</th><th>Builds on</th>"
            "<th>Time</th><th>Central claim</th></tr></thead><tbody>"]
    for f in facts:
        on = ", ".join(str(p) for p in f["builds_on"]) or "nothing"
        rows.append(f'<tr><td>{f["number"]}</td><td><a href="{href.format(slug=f["slug"])}">{escape(f["title"])}</a>'
                    f'</td><td>{on}</td><td>{escape(f["time"])}</td><td>{escape(f["claim"])}</td></tr>')
    rows.append("</tbody></table></div>")
    return f'<div class="mi-map-wrap">{"".join(parts)}</div>\n\n' + "".join(rows)
