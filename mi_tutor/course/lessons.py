"""Lessons as files: discovery, the lesson spec, and the student release.

``solutions/NN_slug.py`` (jupytext percent format with nbgrader markup) is the
single source of every lesson. :func:`student_version` turns it into what a
student gets, with nbgrader's own preprocessors (solutions become
``raise NotImplementedError()``, hidden tests disappear), and
:func:`release_lessons` writes those to ``lessons/NN_slug.py`` after
:func:`validate_lesson` has checked the lesson against the spec below, so
``mi-tutor release`` refuses a lesson that drifts from it.

The lesson spec
---------------
Every lesson follows one spec. ``mi-tutor release`` checks it with :func:`validate_lesson` and
refuses to write the student version of a lesson that breaks it, so drift fails on the author's
machine, before CI; ``tests/test_lesson_format.py`` checks that every lesson passes and that a
lesson breaking each rule is rejected. :data:`RULES` holds one function per rule, in this order.
A lesson ``solutions/NN_slug.py`` (``L`` = ``int(NN)``) is valid when:

1. **Metadata.** Every nbgrader cell passes nbgrader's schema; grade_ids are
   unique; ``BEGIN/END SOLUTION`` and ``BEGIN/END HIDDEN TESTS`` markers occur
   only in nbgrader cells.
2. **Sections.** The first heading is ``# Lesson L: ...``; the lesson has a
   *Central claim* (one sentence: the home page's map shows it), *Learning
   objectives*, *Prerequisites*, *Estimated time*, ``## Summary`` and *Further
   reading*; a locked ``setup`` cell calls ``setup_lesson()``.
3. **Exercises.** The lesson has exercises. Each starts with a markdown cell whose heading is
   ``### Exercise L.k: title`` with ``k`` = 1, 2, 3, ... in order. That cell
   states ``**Difficulty:**`` and holds a hint in a ``<details>`` block.
4. **One grade_id scheme.** A grade_id says what its cell is, and carries the lesson number:

    - ``exL_k_solution``, ``exL_k_visible``, ``exL_k_hidden``: exercise ``k``. After its heading
      and before the next one, exercise ``k`` has exactly these three nbgrader code cells, in this
      order: the solution cell (with a ``### BEGIN SOLUTION`` block); the visible test (graded,
      locked, points > 0, no hidden block); and the hidden test (graded, locked, points > 0, its
      tests inside ``### BEGIN HIDDEN TESTS`` ... ``### END HIDDEN TESTS``, and a comment inside
      that block saying what the hidden tests probe that the visible one does not: side effects
      on the caller's tensors, results that should be detached, other batch sizes, shapes,
      dtypes, the cases the exercise text promises but the visible test never tries).
    - ``writtenL_k``: the lesson's ``k``-th written question (rule 6), ``k`` = 1, 2, ... in order.
    - ``figL_name`` (``name`` in snake_case): every story or result cell (rule 5), whether it
      draws a figure, runs an experiment or checks a result.
    - ``setup`` (rule 2) and ``results`` (the cell that records the lesson's numbers with
      :func:`mi_tutor.course.results.record`): one of each per lesson.
5. **Points land once.** No other code cell carries points. Cells that tell
   the story (figures, experiments run with the *student's* functions) and the
   result checks under them are locked and ungraded; a cell that calls a check
   (``checks.check_...``) must be an nbgrader cell and locked. Each graded cell tests its own
   exercise, with reference inputs, so one mistake costs its own points once: an exercise that
   builds on an earlier one either takes the earlier function as an argument (lesson 8's
   ``scores_with_hooks(..., score_fn)``) or is checked inside
   :func:`mi_tutor.checks.core.reference_helpers`, which points the student's names for the
   earlier functions at the reference implementations for the duration of the check.
6. **Written questions.** At least one markdown cell that is graded and a
   solution (graded by hand), named ``writtenL_k`` (rule 4).
7. **Formulas are mathematics.** A code span in a markdown cell holds code (a name, a
   shape, a call); one that reads as a formula (a sum, a braced subscript or superscript, a
   Greek letter, set membership, a norm, operators between one-letter symbols, symbols
   multiplied side by side) is rejected with its file and line: write it as TeX, ``$...$``
   inline or ``$$...$$`` displayed. :func:`formula_reason` says why a span reads as one.
8. **Hints teach, they do not quote.** No hint contains a fragment of
   :data:`QUOTE_LENGTH` characters of any solution block line (whitespace
   collapsed, backticks ignored) that the lesson does not already show outside its solution
   blocks (:func:`quoted_fragments`). The lines are split as the site's leak detector
   (:func:`mi_tutor.course.site.leaked_lines`) splits them, by :func:`split_secret`. A hint
   names the idea or the trap (the late-binding closure, the off-by-one of a shifted target, the
   mask value that still gets attention), never the line to type.
9. **Figures say what to see.** A code cell that draws a figure (:func:`draws_figure`: it calls
   pyplot, ``plt.subplots(...)``, a ``plot_*`` or ``show_*`` helper, or ``imshow``; a student's
   solution cell is exempt) is followed directly by its caption: a markdown cell that starts with
   :data:`CAPTION_MARKER` and says what the reader should notice and which printed number backs
   it. A missing caption is reported with the figure cell's ``path:line`` and its grade_id (or, for
   a cell without one, its number).
10. **One name per module.** A lesson calls a ``mi_tutor`` module by its own name
    (``from mi_tutor import patching``, ``from mi_tutor.tasks import facts``), except the five
    long names, which go by their short form in :data:`MODULE_ALIASES` (``circuits_vision as cv``,
    ``circuits_transformer as ct``, ``dictionary as dl``, ``superposition as sp``,
    ``universality as un``), and its checks module, which is ``checks``. ``F`` is
    ``torch.nn.functional`` and nothing else.

A conforming exercise:

```python
# %% [markdown]
# ### Exercise 9.1: add one
# **Difficulty:** ★☆☆☆☆
#
# Write `add_one(x)` that returns $x + 1$ without changing `x`.
#
# <details><summary>Hint</summary>
#
# Adding a constant to a tensor makes a new tensor; an in-place operator would edit the caller's.
#
# </details>

# %% nbgrader={"grade": false, "grade_id": "ex9_1_solution", "locked": false, "schema_version": 3, "solution": true}
def add_one(x):
    ### BEGIN SOLUTION
    return x + 1
    ### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "ex9_1_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false}
checks.check_add_one(add_one)

# %% nbgrader={"grade": true, "grade_id": "ex9_1_hidden", "locked": true, "points": 1, "schema_version": 3, "solution": false}
### BEGIN HIDDEN TESTS
# The caller's tensor is unchanged; a float64 input keeps its dtype; a batch of 1.
checks.check_add_one(add_one, seed=3, batch=1, dtype=torch.float64)
### END HIDDEN TESTS
```

``mi-tutor check NOTEBOOK`` (the student's self-check) runs the visible tests, counts them as
points, lists the hidden ones as "graded later", and names the function that is still a stub.
When a student's function crashes inside a check, the message names the student's own failing
line (:func:`mi_tutor.checks.core.call_student`), then the check's advice; when it changes the
caller's tensors in place, :func:`mi_tutor.checks.contracts.compare_functions` says so. The check
messages of lesson ``NN`` are tested in ``tests/checks/test_lessonNN.py``.
"""

from __future__ import annotations

import ast
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
    "RULES",
    "MODULE_ALIASES",
    "split_secret",
    "student_version",
    "student_source",
    "release_lessons",
    "stale_lessons",
    "LEAK_MARKERS",
    "QUOTE_LENGTH",
    "EXERCISE_HEADING",
    "exercise_hints",
    "quoted_fragments",
    "formula_reason",
    "formula_spans",
    "CAPTION_MARKER",
    "FIGURE_CALL",
    "draws_figure",
    "uncaptioned_figures",
]

LESSON_PATTERN = re.compile(r"^(\d\d)_([a-z0-9_]+)\.py$")
#: Text that must never appear in anything a student or reader receives.
LEAK_MARKERS = ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS")
JUPYTEXT_FORMAT = "py:percent"
#: A hint may not contain this many consecutive characters of a solution line.
QUOTE_LENGTH = 20
#: ``### Exercise 8.3: title`` -> lesson 8, exercise 3.
EXERCISE_HEADING = re.compile(r"^#+\s*Exercise\s+(\d+)\.(\d+)\b", re.M)
#: The first words of a figure's caption, the markdown cell right after the cell that draws it.
CAPTION_MARKER = "**Figure.**"
#: A call that draws a figure: pyplot (``plt.plot(...)``), ``subplots``, ``imshow``, or any ``plot_*`` or
#: ``show_*`` helper (``plot_bars(...)``, ``plots.plot_stimuli(...)``, ``show_images(...)``); not a ``def``.
FIGURE_CALL = re.compile(r"(?<![\w.])plt\.\w+\(|(?<!def )\b(?:plot|show)_\w+\(|\bimshow\(|\bsubplots\(")
SECTIONS = ("Central claim", "Learning objectives", "Prerequisites", "Estimated time", "## Summary",
            "Further reading")


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


def _collapse(text: str) -> str:
    return " ".join(text.replace("`", " ").split())


def split_secret(nb: nbformat.NotebookNode, kinds: tuple[str, ...] = ("SOLUTION",),
                 drop_hints: bool = False) -> tuple[list[str], list[str]]:
    """The lines inside the lesson's secret blocks, and every line outside them.

    Each line is stripped of its indentation and comment marks (``# ### note`` -> ``note``); the
    ``BEGIN``/``END`` marker lines of the ``kinds`` belong to neither list. The hints are checked
    against the first list (:func:`quoted_fragments`); the site's leak detector
    (:func:`mi_tutor.course.site.leaked_lines`) hunts its lines in pages.

    Args:
        nb: The lesson (solution version).
        kinds: Which blocks are secret: ``"SOLUTION"``, ``"HIDDEN TESTS"`` or both.
        drop_hints: Leave out the hints (``<details>`` blocks): a hint must not count as the
            lesson showing a line outside its solutions.

    Returns:
        ``(secret, public)``, each in the lesson's order.

    Examples:
        >>> import nbformat
        >>> nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        ...     "x = 1\\n    ### BEGIN SOLUTION\\n    return x + 1  # one more\\n    ### END SOLUTION")])
        >>> split_secret(nb)
        (['return x + 1  # one more'], ['x = 1'])
    """
    secret: list[str] = []
    public: list[str] = []
    for cell in nb.cells:
        source = re.sub(r"<details>.*?</details>", " ", cell.source, flags=re.S) if drop_hints else cell.source
        inside = False
        for line in source.splitlines():
            s = line.strip().lstrip("# ").strip()
            if any(f"BEGIN {k}" in s for k in kinds):
                inside = True
            elif any(f"END {k}" in s for k in kinds):
                inside = False
            else:
                (secret if inside else public).append(s)
    return secret, public


def quoted_fragments(hint: str, nb: nbformat.NotebookNode, length: int = QUOTE_LENGTH) -> list[str]:
    """Fragments of the lesson's solution blocks that ``hint`` quotes.

    A fragment is ``length`` consecutive characters (whitespace collapsed,
    backticks ignored) of a solution line that the lesson does not already show
    outside its solution blocks.

    Args:
        hint: The hint's text.
        nb: The lesson (solution version).
        length: Fragment length.

    Returns:
        The quoted fragments, merged into maximal runs, in order.

    Examples:
        >>> import nbformat
        >>> nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        ...     "### BEGIN SOLUTION\\nreturn pattern.diagonal(offset=-1).mean(0)\\n### END SOLUTION")])
        >>> quoted_fragments("Use `pattern.diagonal(offset=-1)`.", nb)
        ['pattern.diagonal(offset=-1)']
        >>> quoted_fragments("Which entries hold attention to the previous token?", nb)
        []
    """
    secret, shown = split_secret(nb, drop_hints=True)
    secret, public = [_collapse(line) for line in secret], "\n".join(_collapse(line) for line in shown)
    windows = {line[i:i + length] for line in secret for i in range(len(line) - length + 1)}
    text = _collapse(hint)
    hits = [i for i in range(len(text) - length + 1)
            if text[i:i + length] in windows and text[i:i + length] not in public]
    runs: list[list[int]] = []
    for i in hits:
        if runs and i <= runs[-1][1]:
            runs[-1][1] = i + length
        else:
            runs.append([i, i + length])
    return [text[a:b].strip() for a, b in runs]


#: Characters only mathematics uses: Greek letters, sums, relations, norms, arrows, hats and bars.
_MATH_CHARS = re.compile("[\u0391-\u03a9\u03b1-\u03c9\u03d5\u03f5\u2202\u2207\u2211\u220f\u221a\u221e"
                         "\u2208\u2209\u2229\u222a\u2248\u2260\u2264\u2265\u2016\u00b7\u22c5\u00d7"
                         "\u2192\u21a6\u00b2\u00b3\u1d40\u207b\u00b9\u2070-\u209f\u0174\u0175"
                         "\u0302\u0304\u0303]")
_GREEK = ("alpha|beta|gamma|delta|epsilon|zeta|eta|theta|kappa|lambda|mu|nu|xi|pi|rho|sigma|tau|"
          "phi|chi|psi|omega|Gamma|Delta|Theta|Lambda|Sigma|Phi|Omega")
#: A maths-style symbol: one or two letters, an optional prime and subscript (``x``, ``W_E``, ``x'_j``).
_SYMBOL = r"(?<![\w.])(?!(?:in|is|or|if|as)\b)[A-Za-z]{1,2}'?(?:_\w+)?'?(?![\w(\[.'])"
_NUMBER = r"(?<![\w.])\d+(?:\.\d+)?"
#: A call whose arguments are plain names (``concept_purity(acts, concepts, min_active)``): code.
_CALL = re.compile(r"^[A-Za-z_][\w.]*\(\s*(?:[\w.=*]+\s*(?:,\s*[\w.=*]+\s*)*)?\)$")
#: A shape (``[batch, pos - 1]``) or an annotated one (``x: [batch, d]``): code.
_SHAPE = re.compile(r"^(?:[\w, ]+:\s*)?\[.*\](?:\s*->\s*\[.*\])?$")
_ALWAYS = [
    ("a mathematical symbol", _MATH_CHARS),
    ("a superscript", re.compile(r"\^")),
    ("a braced subscript", re.compile(r"_\{")),
    ("a Greek letter spelled out", re.compile(rf"(?<![\w.])(?:{_GREEK})(?![\w(]|\s+\w+\s*:)")),
    ("a norm or absolute value", re.compile(r"\|[^|`]+\|")),
    ("a sum or maximum written in words", re.compile(
        r"(?<![\w.])(?:sum|mean|max|min|argmax)_(?:\{|\w\b)|(?<![\w.])(?:sum|mean) over\b")),
    ("a function applied without brackets", re.compile(
        r"(?<![\w.])(?:cos|sin|tan|log|exp|sqrt|tr|max|min|argmax|softmax|sigmoid|ReLU)\s+[\w(]")),
    ("a product written side by side", re.compile(rf"{_SYMBOL}\s+\(|\)\s+[A-Za-z(]|{_NUMBER}\s*[A-Za-z(]")),
]
#: Signs of code: indexing, attributes, calls, strings, keyword arguments, token tags, a single name.
_CODE = re.compile(r"[\[\]\"@{}:]|\w\(|\.[A-Za-z_]|\w=|=\w|->|<\w+>|^[-+]?\w+$")
_MATH_ONLY = re.compile(rf"^(?:{_SYMBOL}|{_NUMBER}|mod\b|\.\.|[\s(),+\-*/<>=!])+$")
_BINARY = re.compile(r"[\w)]\s*(?:[+\-*/<>=]|<=|>=|!=|==|\bmod\b)\s*[\w(+-]")
_SPACED_OPERATOR = re.compile(r"\s(?:[+\-*/<>=]|<=|>=|!=|==)\s")
_SOMETIMES = [
    ("an operator between symbols", lambda s: _MATH_ONLY.match(s) and _BINARY.search(s)),
    ("symbols side by side", re.compile(rf"{_SYMBOL}\s+{_SYMBOL}").search),
    ("a starred symbol", re.compile(r"(?<![\w.*])[A-Za-z]{1,2}\*(?![\w*(]|\s+[\w(])").search),
    ("a range written with ..", re.compile(r"(?<!\.)(?:\s\.\.|\.\.\s)(?!\.)").search),
    ("a chain of equations", re.compile(r"(?<![=!<>])=(?!=).*(?<![=!<>])=(?!=)").search),
    ("a formula written in words", lambda s: _SPACED_OPERATOR.search(s)
     and re.search(r"[A-Za-z]{2,}\s+[A-Za-z]{2,}", s)),
]


def formula_reason(span: str) -> str | None:
    """Why the text of a code span reads as a formula, or ``None`` when it reads as code.

    Examples:
        >>> formula_reason("w_k = 2 pi k / p")
        'a Greek letter spelled out'
        >>> formula_reason("a + b")
        'an operator between symbols'
        >>> [formula_reason(s) for s in ("model.blocks[0]", "(B, C, H, W)", "run_with_cache", "[batch, pos - 1]")]
        [None, None, None, None]
    """
    s = span.strip()
    if _CALL.match(s) or _SHAPE.match(s) and not _MATH_CHARS.search(s) or re.fullmatch(r"[A-Za-z_]\w*", s):
        return None
    for reason, pattern in _ALWAYS:
        if pattern.search(s):
            return reason
    if _CODE.search(s):
        return None
    for reason, test in _SOMETIMES:
        if test(s):
            return reason
    return None


_FENCE = re.compile(r"^\s*(```|~~~).*?^\s*\1", re.S | re.M)
_CODE_SPAN = re.compile(r"(?<!`)(`+)(?!`)(.+?)(?<!`)\1(?!`)", re.S)


def formula_spans(markdown: str) -> list[tuple[int, str, str]]:
    """The code spans of a markdown text that read as formulas: ``(line, span, reason)``.

    Lines count from 1; fenced code blocks are skipped; a span may run across a line break.

    Examples:
        >>> formula_spans("Call `run_with_cache`.\\nThe logit is `cos(w_k (a + b - c))`.")
        [(2, 'cos(w_k (a + b - c))', 'a product written side by side')]
    """
    text = _FENCE.sub(lambda m: "\n" * m.group(0).count("\n"), markdown)
    found = []
    for m in _CODE_SPAN.finditer(text):
        span = " ".join(m.group(2).split())
        reason = formula_reason(span)
        if reason:
            found.append((text.count("\n", 0, m.start(2)) + 1, span, reason))
    return found


def _markdown_cells_with_lines(source: str) -> list[tuple[int, str]]:
    """``(first line, text)`` of each markdown cell of a percent-format file, comment marks removed."""
    cells: list[tuple[int, list[str]]] = []
    current = None
    for number, line in enumerate(source.splitlines(), 1):
        if line.startswith("# %%"):
            current = [] if "[markdown]" in line else None
            if current is not None:
                cells.append((number + 1, current))
        elif current is not None:
            current.append(line[2:] if line.startswith("# ") else line.lstrip("#"))
    return [(first, "\n".join(lines)) for first, lines in cells]


def draws_figure(cell: nbformat.NotebookNode) -> bool:
    """Whether a cell is a figure cell: a code cell whose code (comments aside) calls :data:`FIGURE_CALL`.

    A solution cell (the student writes it) is not a figure cell.

    Examples:
        >>> from nbformat.v4 import new_code_cell
        >>> [draws_figure(new_code_cell(s)) for s in ("fig, bars = plot_bars(x)", "x = 1  # plot_bars(x)",
        ...                                           "def plot_bars(x): return x")]
        [True, False, False]
    """
    if cell.cell_type != "code" or cell.metadata.get("nbgrader", {}).get("solution"):
        return False
    code = "\n".join(line.split("#", 1)[0] if "#" in line and "\"" not in line and "'" not in line else line
                     for line in cell.source.splitlines() if not line.lstrip().startswith("#"))
    return bool(FIGURE_CALL.search(code))


def _cell_header_lines(source: str) -> list[int]:
    """The line number of every ``# %%`` cell header of a percent-format file."""
    return [n for n, line in enumerate(source.splitlines(), 1) if line.startswith("# %%")]


def uncaptioned_figures(nb: nbformat.NotebookNode) -> list[int]:
    """Indices of the figure cells not followed directly by a caption (a markdown cell starting with
    :data:`CAPTION_MARKER`)."""
    missing = []
    for i, cell in enumerate(nb.cells):
        if draws_figure(cell):
            after = nb.cells[i + 1] if i + 1 < len(nb.cells) else None
            if after is None or after.cell_type != "markdown" or not after.source.lstrip().startswith(CAPTION_MARKER):
                missing.append(i)
    return missing


def exercise_hints(nb: nbformat.NotebookNode) -> dict[str, str]:
    """``{"L.k": hint text}`` for every exercise heading with a ``<details>`` block."""
    hints = {}
    for cell in nb.cells:
        m = EXERCISE_HEADING.search(cell.source) if cell.cell_type == "markdown" else None
        found = re.search(r"<details>(.*?)</details>", cell.source, re.S) if m else None
        if found:
            hints[f"{m.group(1)}.{m.group(2)}"] = re.sub(r"^#\s?", "", found.group(1), flags=re.M)
    return hints


def _lesson_number(name: str) -> int | None:
    m = re.match(r"^(\d\d)_", Path(name).name)
    return int(m.group(1)) if m else None


@dataclass(frozen=True)
class _Draft:
    """What each rule reads: the lesson, its name in messages, its number and its file (or ``None``)."""

    nb: nbformat.NotebookNode
    name: str
    number: int | None
    path: Path | None

    def nbgrader_cells(self) -> list[tuple[int, nbformat.NotebookNode, dict, int]]:
        """``(index, cell, nbgrader metadata, exercise)`` of each nbgrader cell; ``exercise`` is the
        ``k`` of the last exercise heading above the cell (0 before the first)."""
        found, exercise = [], 0
        for i, cell in enumerate(self.nb.cells):
            heading = EXERCISE_HEADING.search(cell.source) if cell.cell_type == "markdown" else None
            if heading:
                exercise = int(heading.group(2))
            if cell.metadata.get("nbgrader"):
                found.append((i, cell, cell.metadata["nbgrader"], exercise))
        return found

    def exercises(self) -> list[int]:
        """The ``k`` of every exercise heading, in order."""
        return [int(h.group(2)) for c in self.nb.cells if c.cell_type == "markdown"
                for h in [EXERCISE_HEADING.search(c.source)] if h]

    def source_file(self) -> str | None:
        """The text of the percent-format file the lesson was read from, if known."""
        return self.path.read_text() if self.path is not None and self.path.suffix == ".py" else None


def _is_written(cell: nbformat.NotebookNode, meta: dict) -> bool:
    return cell.cell_type == "markdown" and bool(meta.get("grade") and meta.get("solution"))


def _is_story(cell: nbformat.NotebookNode, meta: dict) -> bool:
    """An ungraded, non-solution nbgrader cell: story, result, ``setup`` or ``results``."""
    return not meta.get("solution") and not meta.get("grade")


def _rule_metadata(d: _Draft) -> list[str]:
    """Rule 1: nbgrader's schema, unique grade_ids, markers only in nbgrader cells."""
    problems = []
    try:
        MetadataValidator().validate_nb(copy.deepcopy(d.nb))
    except Exception as err:  # nbgrader raises several exception types
        problems.append(f"{d.name}: invalid nbgrader metadata: {err}")
    ids: dict[str, int] = {}
    for i, _, meta, _ in d.nbgrader_cells():
        gid = meta.get("grade_id", "")
        if gid in ids:
            problems.append(f"{d.name}: grade_id {gid!r} is used by cells {ids[gid]} and {i}")
        ids[gid] = i
    for i, cell in enumerate(d.nb.cells):
        if not cell.metadata.get("nbgrader") and any(mk in cell.source for mk in LEAK_MARKERS):
            problems.append(f"{d.name}: cell {i} has solution/hidden markers but no nbgrader metadata")
    return problems


def _rule_sections(d: _Draft) -> list[str]:
    """Rule 2: the title, the sections and a locked ``setup`` cell."""
    problems = []
    title = next((line for c in d.nb.cells if c.cell_type == "markdown"
                  for line in c.source.splitlines() if line.startswith("# ")), "")
    m = re.match(r"^# Lesson (\d+):", title)
    if not m or int(m.group(1)) != d.number:
        problems.append(f"{d.name}: the first heading must be '# Lesson {d.number}: ...', not {title!r}")
    text = "\n".join(c.source for c in d.nb.cells if c.cell_type == "markdown")
    problems += [f"{d.name}: missing section {heading!r}" for heading in SECTIONS if heading not in text]
    if not any(meta.get("grade_id") == "setup" and meta.get("locked") and "setup_lesson" in cell.source
               for _, cell, meta, _ in d.nbgrader_cells()):
        problems.append(f"{d.name}: needs a locked cell with grade_id 'setup' that calls setup_lesson()")
    return problems


def _rule_exercises(d: _Draft) -> list[str]:
    """Rule 3: exercise headings numbered ``L.1``, ``L.2``, ..., each with a difficulty and a hint."""
    problems, exercise = [], 0
    for cell in d.nb.cells:
        h = EXERCISE_HEADING.search(cell.source) if cell.cell_type == "markdown" else None
        if not h:
            continue
        lesson_no, k = int(h.group(1)), int(h.group(2))
        where = f"{d.name}: Exercise {lesson_no}.{k}"
        if lesson_no != d.number:
            problems.append(f"{where}: exercises of lesson {d.number} are numbered {d.number}.k")
        if k != exercise + 1:
            problems.append(f"{where}: follows exercise {exercise}; number exercises 1, 2, 3, ... in order")
        exercise = k
        if "**Difficulty:**" not in cell.source:
            problems.append(f"{where}: the heading cell must state '**Difficulty:**'")
        if not re.search(r"<details>.*?</details>", cell.source, re.S):
            problems.append(f"{where}: the heading cell needs a hint in a <details> block")
    if not exercise:
        problems.append(f"{d.name}: has no exercise")
    return problems


_EXERCISE_ID = re.compile(r"^ex(\d+)_(\d+)_(solution|visible|hidden)$")
_WRITTEN_ID = re.compile(r"^written(\d+)_(\d+)$")
_STORY_ID = re.compile(r"^fig(\d+)_([a-z0-9]+(?:_[a-z0-9]+)*)$")


def _hidden_block_problems(d: _Draft, gid: str, source: str) -> list[str]:
    """What a hidden test cell lacks: its block, a comment and code inside it, nothing outside it."""
    where = f"{d.name}: hidden test {gid!r}"
    hidden = re.search(r"BEGIN HIDDEN TESTS(.*?)END HIDDEN TESTS", source, re.S)
    if not hidden:
        return [f"{where} needs a ### BEGIN HIDDEN TESTS ... ### END HIDDEN TESTS block"]
    problems = []
    body = [ln.strip() for ln in hidden.group(1).splitlines()]
    if not [ln for ln in body if ln.startswith("#") and len(ln.strip("# ")) >= 10]:
        problems.append(f"{where} needs a comment inside its hidden block saying what it probes")
    if not [ln for ln in body if ln and not ln.startswith("#")]:
        problems.append(f"{where} has no test code")
    outside = re.sub(r"#+ *BEGIN HIDDEN TESTS.*?END HIDDEN TESTS", "", source, flags=re.S)
    if any(ln.strip() and not ln.strip().startswith("#") for ln in outside.splitlines()):
        problems.append(f"{where} has test code outside its hidden block")
    return problems


def _rule_grade_ids(d: _Draft) -> list[str]:
    """Rule 4: ``exL_k_{solution,visible,hidden}`` under each exercise, ``writtenL_k``, ``figL_name``,
    ``setup`` and ``results``."""
    problems: list[str] = []
    say, L = problems.append, d.number
    seen: dict[int, list[str]] = {}
    written = 0
    for _, cell, meta, exercise in d.nbgrader_cells():
        gid = meta.get("grade_id", "")
        if _is_written(cell, meta):
            written += 1
            if gid != f"written{L}_{written}":
                say(f"{d.name}: written question {gid!r}: call it written{L}_{written} "
                    f"(written questions are written{L}_1, written{L}_2, ... in order)")
            continue
        if cell.cell_type == "markdown" or gid in ("setup", "results"):
            continue
        em = _EXERCISE_ID.match(gid)
        kind = em.group(3) if em else None
        if em:
            if (int(em.group(1)), int(em.group(2))) != (L, exercise):
                say(f"{d.name}: cell {gid!r} sits under Exercise {L}.{exercise}: call it ex{L}_{exercise}_{kind}")
            else:
                seen.setdefault(exercise, []).append(kind)
        if meta.get("solution"):
            if kind != "solution":
                say(f"{d.name}: solution cell {gid!r} must be called ex{L}_{exercise}_solution "
                    f"and follow an exercise heading")
            if "BEGIN SOLUTION" not in cell.source:
                say(f"{d.name}: solution cell {gid!r} has no ### BEGIN SOLUTION block")
        elif kind == "visible" and "HIDDEN TESTS" in cell.source:
            say(f"{d.name}: visible test {gid!r} must not hold hidden tests")
        elif kind == "hidden":
            problems += _hidden_block_problems(d, gid, cell.source)
        elif _is_story(cell, meta) and not kind:
            sm = _STORY_ID.match(gid)
            if not sm or int(sm.group(1)) != L:
                name = sm.group(2) if sm else re.sub(r"\W+", "_", gid.lower()).strip("_") or "name"
                say(f"{d.name}: story or result cell {gid!r}: call it fig{L}_{name} "
                    f"(fig{L}_ and a snake_case name)")
    for k in dict.fromkeys(d.exercises()):
        kinds = seen.get(k, [])
        if kinds != ["solution", "visible", "hidden"]:
            say(f"{d.name}: Exercise {L}.{k} must have exactly the cells ex{L}_{k}_solution, "
                f"ex{L}_{k}_visible, ex{L}_{k}_hidden in that order (found {kinds})")
    return problems


def _rule_points(d: _Draft) -> list[str]:
    """Rule 5: only exercise tests carry points; story and result cells are locked and ungraded."""
    problems: list[str] = []
    say = problems.append
    for i, cell in enumerate(d.nb.cells):
        if (not cell.metadata.get("nbgrader") and cell.cell_type == "code"
                and re.search(r"\bchecks\.check_", cell.source)):
            say(f"{d.name}: cell {i} runs a check but is not a locked nbgrader cell "
                f"(give it a grade_id, locked: true, grade: false)")
    for _, cell, meta, _ in d.nbgrader_cells():
        gid = meta.get("grade_id", "")
        if cell.cell_type != "code" or meta.get("solution"):
            continue
        em = _EXERCISE_ID.match(gid)
        kind = em.group(3) if em else None
        if meta.get("grade"):
            if kind not in ("visible", "hidden"):
                say(f"{d.name}: graded cell {gid!r}: only ex{d.number}_k_visible/_hidden test cells carry "
                    f"points (story and result cells are locked and ungraded)")
            if not meta.get("locked"):
                say(f"{d.name}: test cell {gid!r} must be locked")
            if not meta.get("points", 0) > 0:
                say(f"{d.name}: test cell {gid!r} needs points > 0")
        elif not meta.get("locked"):
            say(f"{d.name}: cell {gid!r} must be locked (result and story cells are read-only)")
        if meta.get("grade") is False and meta.get("points"):
            say(f"{d.name}: ungraded cell {gid!r} carries points")
    return problems


def _rule_written(d: _Draft) -> list[str]:
    """Rule 6: at least one written question, graded by hand."""
    if any(_is_written(cell, meta) for _, cell, meta, _ in d.nbgrader_cells()):
        return []
    return [f"{d.name}: needs a written question (a graded markdown solution cell, grade_id "
            f"'written{d.number}_1')"]


def _rule_formulas(d: _Draft) -> list[str]:
    """Rule 7: no code span reads as a formula; reported with ``path:line`` when the file is known."""
    source = d.source_file()
    if source is not None:
        cells = [(f"{d.path}:", first, text) for first, text in _markdown_cells_with_lines(source)]
    else:
        cells = [(f"{d.name}: cell {i}, line ", 1, c.source) for i, c in enumerate(d.nb.cells)
                 if c.cell_type == "markdown"]
    return [f"{where}{first + line - 1}: `{span}` reads as a formula ({reason}): "
            f"write it as TeX, $...$ inline or $$...$$ displayed; code spans hold code"
            for where, first, text in cells for line, span, reason in formula_spans(text)]


def _rule_hints(d: _Draft) -> list[str]:
    """Rule 8: no hint quotes a solution line."""
    return [f"{d.name}: the hint of Exercise {ex} quotes the solution: {fragment!r}"
            for ex, hint in exercise_hints(d.nb).items() for fragment in quoted_fragments(hint, d.nb)]


def _rule_figures(d: _Draft) -> list[str]:
    """Rule 9: a caption right after every figure cell."""
    source = d.source_file()
    headers = _cell_header_lines(source) if source is not None else []
    problems = []
    for i in uncaptioned_figures(d.nb):
        gid = d.nb.cells[i].metadata.get("nbgrader", {}).get("grade_id")
        where = f"{d.path}:{headers[i]}" if len(headers) == len(d.nb.cells) else f"{d.name}: cell {i}" if gid else d.name
        gid = gid or f"{i}"      # a cell without a grade_id goes by its number
        problems.append(f"{where}: figure cell {gid} has no caption (a markdown cell starting with "
                        f"{CAPTION_MARKER} right after it)")
    return problems


#: The short forms of the long ``mi_tutor`` subpackage names (rule 10); every other module goes by its name.
MODULE_ALIASES = {"circuits_vision": "cv", "circuits_transformer": "ct", "dictionary": "dl",
                  "superposition": "sp", "universality": "un"}


def _imported_names(source: str) -> list[tuple[str, str]]:
    """``(module or object imported, name it is bound to)`` for every import of a code cell."""
    try:
        tree = ast.parse(source)
    except SyntaxError:  # a cell with notebook magics: nothing to read
        return []
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(a.name, a.asname or a.name.split(".")[0]) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            found += [(f"{node.module}.{a.name}", a.asname or a.name) for a in node.names]
    return found


def _is_package_module(dotted: str) -> bool:
    """Whether ``dotted`` names a module or subpackage of ``mi_tutor`` (not a function or a class in one)."""
    parts = dotted.split(".")
    if parts[0] != "mi_tutor" or len(parts) < 2:
        return False
    path = Path(__file__).resolve().parents[1].joinpath(*parts[1:])
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def _rule_modules(d: _Draft) -> list[str]:
    """Rule 10: a ``mi_tutor`` module goes by its name or its short form; ``F`` is ``torch.nn.functional``."""
    problems = []
    for i, cell in enumerate(d.nb.cells):
        if cell.cell_type != "code":
            continue
        for dotted, bound in _imported_names(cell.source):
            last = dotted.rsplit(".", 1)[-1]
            if bound == "F" and dotted != "torch.nn.functional":
                problems.append(f"{d.name}: cell {i} imports {dotted} as F: F is torch.nn.functional; "
                                f"call {dotted} {MODULE_ALIASES.get(last, last)!r}")
                continue
            if not _is_package_module(dotted):
                continue  # not a module of mi_tutor (a function, a class, another package)
            want = "checks" if dotted.startswith("mi_tutor.checks.lesson") else MODULE_ALIASES.get(last, last)
            if bound != want and not (dotted.count(".") > 1 and bound == dotted.split(".")[0]):
                how = f"import it as {want}" if want != last else "import it without an alias"
                problems.append(f"{d.name}: cell {i} calls {dotted} {bound!r}: lessons call it {want!r} ({how})")
    return problems


#: The lesson spec, one ``(title, check)`` per numbered rule of the module docstring, in its order.
RULES = (
    ("Metadata", _rule_metadata),
    ("Sections", _rule_sections),
    ("Exercises", _rule_exercises),
    ("One grade_id scheme", _rule_grade_ids),
    ("Points land once", _rule_points),
    ("Written questions", _rule_written),
    ("Formulas are mathematics", _rule_formulas),
    ("Hints teach, they do not quote", _rule_hints),
    ("Figures say what to see", _rule_figures),
    ("One name per module", _rule_modules),
)


def validate_lesson(nb: nbformat.NotebookNode, name: str = "lesson", number: int | None = None,
                    path: str | Path | None = None) -> list[str]:
    """Check a lesson against the lesson spec (see the module docstring), one rule of :data:`RULES` at a time.

    Args:
        nb: The lesson, solution version.
        name: Used in messages; a ``NN_slug`` name also gives the lesson number.
        number: The lesson number (default: from ``name``, else from the title).
        path: The percent-format file ``nb`` was read from: problems found in the text (a code
            span that reads as a formula, a figure without a caption) then give its ``path:line``;
            without it they give the cell number (and the line inside the cell).

    Returns:
        A list of problems, rule by rule (empty when the lesson is valid). nbgrader's schema
        validation errors are included as text.
    """
    if number is None:
        number = _lesson_number(name)
    if number is None:
        title = next((line for c in nb.cells if c.cell_type == "markdown"
                      for line in c.source.splitlines() if line.startswith("# ")), "")
        m = re.match(r"^# Lesson (\d+):", title)
        number = int(m.group(1)) if m else None
    draft = _Draft(nb, name, number, Path(path) if path is not None else None)
    return [problem for _, rule in RULES for problem in rule(draft)]


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
        problems = validate_lesson(read_lesson(lesson.path), lesson.slug, path=lesson.path)
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
