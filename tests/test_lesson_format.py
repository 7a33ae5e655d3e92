"""Every lesson follows the lesson spec, lessons/ is a fresh release, and the spec rejects drift.

The spec itself lives in :func:`mi_tutor.course.lessons.validate_lesson` (its module docstring says
it in words); ``mi-tutor release`` refuses a lesson that breaks it.
"""

from __future__ import annotations

import re

import jupytext
import nbformat
import pytest

from conftest import LESSONS, ROOT, lesson_ids
import mi_tutor.course.lessons as lessons_module
from mi_tutor.course.lessons import RULES, CAPTION_MARKER, draws_figure, exercise_hints, formula_reason, formula_spans, quoted_fragments, read_lesson, \
    release_lessons, student_source, uncaptioned_figures, validate_lesson
from mi_tutor.course.site import leaked_lines

each_lesson = pytest.mark.parametrize("lesson", LESSONS, ids=lesson_ids())


@each_lesson
def test_lesson_meets_the_spec(lesson):
    assert validate_lesson(read_lesson(lesson.path), lesson.slug) == []


@each_lesson
def test_student_version_is_committed_and_fresh(lesson):
    target = ROOT / "lessons" / lesson.path.name
    assert target.exists(), f"lessons/{lesson.path.name} is missing: run `mi-tutor release`"
    assert target.read_text() == student_source(lesson.path), (
        f"lessons/{lesson.path.name} is stale: run `mi-tutor release`")


@each_lesson
def test_student_version_leaks_nothing(lesson):
    text = (ROOT / "lessons" / lesson.path.name).read_text()
    assert leaked_lines(lesson.path, text) == []


@each_lesson
def test_every_exercise_has_a_hint(lesson):
    nb = read_lesson(lesson.path)
    hints = exercise_hints(nb)
    n_solutions = sum(1 for c in nb.cells if c.metadata.get("nbgrader", {}).get("solution") and c.cell_type == "code")
    assert len(hints) == n_solutions and all(len(h.split()) >= 10 for h in hints.values())


# --- The spec rejects a lesson that breaks it -------------------------------------------------------

VALID = '''# %% [markdown]
# # Lesson 9: A tiny lesson
#
# **Central claim.** One adds.
#
# **Learning objectives.** Add. **Prerequisites.** None. **Estimated time.** 1 minute.

# %% nbgrader={"grade": false, "grade_id": "setup", "locked": true, "schema_version": 3, "solution": false}
from mi_tutor.course.setup import setup_lesson
device = setup_lesson(seed=0)

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
    result_of_the_exercise = x + 1.0
    return result_of_the_exercise
    ### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "ex9_1_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false}
assert add_one(1) == 2

# %% nbgrader={"grade": true, "grade_id": "ex9_1_hidden", "locked": true, "points": 1, "schema_version": 3, "solution": false}
### BEGIN HIDDEN TESTS
# Negative input: the visible test only tries a positive one.
assert add_one(-1) == 0
### END HIDDEN TESTS

# %% nbgrader={"grade": false, "grade_id": "fig9_result", "locked": true, "schema_version": 3, "solution": false}
checks.check_something(add_one)

# %% [markdown] nbgrader={"grade": true, "grade_id": "written9_1", "locked": false, "points": 1, "schema_version": 3, "solution": true}
# Why?
# ### BEGIN SOLUTION
# Because.
# ### END SOLUTION

# %% [markdown]
# ## Summary
# Done. **Further reading.** None.
'''

BROKEN = {
    "old grade_id scheme": (('"ex9_1_solution"', '"ex_1_solution"'), "must be called ex9_1_solution"),
    "id of another exercise": (('"ex9_1_visible"', '"ex9_2_visible"'), "call it ex9_1_visible"),
    "exercise numbered for another lesson": (("Exercise 9.1:", "Exercise 3.1:"), "numbered 9.k"),
    "exercises out of order": (("Exercise 9.1:", "Exercise 9.2:"), "in order"),
    "no difficulty": (("**Difficulty:** ★☆☆☆☆", "Easy."), "Difficulty"),
    "no hint": (("<details><summary>Hint</summary>", "Hint:"), "<details>"),
    "hint quotes the solution": (("an in-place operator would edit the caller's.",
                                  "write result_of_the_exercise = x + 1.0"), "quotes the solution"),
    "hidden test without a comment": (("# Negative input: the visible test only tries a positive one.\n", ""),
                                      "comment inside its hidden block"),
    "hidden test without a hidden block": (("### BEGIN HIDDEN TESTS\n", ""), "HIDDEN TESTS"),
    "missing hidden test": (('"grade": true, "grade_id": "ex9_1_hidden", "locked": true, "points": 1,',
                             '"grade": false, "grade_id": "other_cell", "locked": true,'), "exactly the cells"),
    "unlocked test": (('"grade_id": "ex9_1_visible", "locked": true', '"grade_id": "ex9_1_visible", "locked": false'),
                      "must be locked"),
    "story cell with points": (('"grade": false, "grade_id": "fig9_result", "locked": true,',
                                '"grade": true, "grade_id": "fig9_result", "locked": true, "points": 1,'),
                               "only ex9_k_visible/_hidden test cells carry points"),
    "result check not locked": (('"grade": false, "grade_id": "fig9_result", "locked": true,',
                                 '"grade": false, "grade_id": "fig9_result", "locked": false,'), "must be locked"),
    "result check outside nbgrader": (('# %% nbgrader={"grade": false, "grade_id": "fig9_result", "locked": true, '
                                       '"schema_version": 3, "solution": false}', "# %%"), "runs a check"),
    "written question named otherwise": (('"grade_id": "written9_1"', '"grade_id": "essay"'), "call it written9_1"),
    "written question without the lesson number": (('"grade_id": "written9_1"', '"grade_id": "written_1"'),
                                                   "call it written9_1"),
    "story cell in an old scheme": (('"grade_id": "fig9_result"', '"grade_id": "result_check"'),
                                    "story or result cell 'result_check': call it fig9_result_check"),
    "story cell named for another lesson": (('"grade_id": "fig9_result"', '"grade_id": "fig3_result"'),
                                            "call it fig9_result"),
    "story cell without a name": (('"grade_id": "fig9_result"', '"grade_id": "fig9_"'), "call it fig9_"),
    "module under another name": (("device = setup_lesson(seed=0)", "from mi_tutor import patching as P\n"
                                   "device = setup_lesson(seed=0)"), "calls mi_tutor.patching 'P': lessons call it 'patching'"),
    "long module name without its short form": (("device = setup_lesson(seed=0)", "from mi_tutor import superposition\n"
                                                 "device = setup_lesson(seed=0)"), "lessons call it 'sp'"),
    "F for a module of the course": (("device = setup_lesson(seed=0)", "from mi_tutor.tasks import facts as F\n"
                                      "device = setup_lesson(seed=0)"), "F is torch.nn.functional"),
    "missing section": (("## Summary", "## The end"), "## Summary"),
    "no central claim": (("**Central claim.** One adds.", "One adds."), "Central claim"),
    "wrong title": (("# # Lesson 9:", "# # Lesson 7:"), "first heading"),
}


def _lesson(text):
    return jupytext.reads(text, fmt="py:percent")


def test_the_rules_are_the_numbered_rules_of_the_docstring():
    spec = lessons_module.__doc__.split("The lesson spec", 1)[1]
    titles = re.findall(r"^(\d+)\. \*\*(.+?)\.\*\*", spec, re.M)
    assert titles == [(str(n), title) for n, (title, _) in enumerate(RULES, 1)]
    assert all(rule.__doc__.startswith(f"Rule {n}:") for n, (_, rule) in enumerate(RULES, 1))


def test_the_valid_example_passes():
    assert validate_lesson(_lesson(VALID), "09_tiny") == []


@pytest.mark.parametrize("case", BROKEN, ids=list(BROKEN))
def test_spec_rejects(case):
    (old, new), message = BROKEN[case]
    assert old in VALID, old
    problems = validate_lesson(_lesson(VALID.replace(old, new, 1)), "09_tiny")
    assert any(message in p for p in problems), problems


def test_modules_by_their_names_and_short_forms_pass():
    imports = ("import torch.nn.functional as F\nfrom mi_tutor import patching, zoo\nfrom mi_tutor import superposition as sp\n"
               "from mi_tutor.checks import lesson09 as checks\nfrom mi_tutor.hooks import run_with_cache as cached\n")
    assert validate_lesson(_lesson(VALID.replace("device = setup_lesson", imports + "device = setup_lesson")),
                           "09_tiny") == []


def test_release_refuses_a_lesson_that_breaks_the_spec(tmp_path):
    (tmp_path / "solutions").mkdir()
    (tmp_path / "solutions" / "09_tiny.py").write_text(VALID.replace('"ex9_1_solution"', '"ex_1_solution"'))
    with pytest.raises(ValueError, match="ex9_1_solution"):
        release_lessons(tmp_path / "solutions", tmp_path / "lessons")
    assert not (tmp_path / "lessons" / "09_tiny.py").exists()


def test_quoted_fragments_ignore_what_the_lesson_shows_anyway():
    nb = _lesson(VALID.replace("Write `add_one(x)`", "Write `result_of_the_exercise = x + 1.0`"))
    assert quoted_fragments("write result_of_the_exercise = x + 1.0", nb) == []
    assert quoted_fragments("write result_of_the_exercise = x + 1.0", _lesson(VALID)) != []


# --- Formulas are TeX, code spans hold code ----------------------------------------------------------

FORMULA_SPANS = [
    "x'_j = ReLU( Σ_k (W_j · W_k) x_k + b_j )",   # the three examples
    "cos(w_k (a + b - c))",
    "w_k = 2 pi k / p",
    "x ∈ R^n",                                    # set membership
    "D_j = ||W_j||^2",                            # a norm, a superscript
    "sum_{a,b} D[a, b] logits[a, b, c]",          # a braced subscript, even beside indexing
    "alpha * sigma * u",                          # Greek letters spelled out
    "a + b",                                      # operators between one-letter symbols
    "k / (n - 1)",
    "W_E W_U",                                    # a product written side by side
    "log 63",                                     # a function applied without brackets
    "q = 1 .. pos - 1",                           # a range
    "D*",
]
CODE_SPANS = [
    "model.blocks[0]", "(B, C, H, W)", "run_with_cache", "[batch, pos - 1]", "[batch, head, 1 + 2 seq_len, 1 + 2 seq_len]",
    "x: [batch, d_in]", "[..., n_features, d_hidden] -> [...]", 'cache["pattern", 0]', "fwd_hooks=[(name, hook_fn)]",
    "run_with_hooks(model, x, fwd_hooks=[(name, hook_fn)])", "concept_purity(acts, concepts, min_active)",
    "mass_mean_shift(acts, labels, alpha)", "alpha", "W @ W.mT", "(acts > 0).float().mean(0) < min_active",
    "lambda name: ...", "mi-tutor zoo train tms_5in2", "(GAMMA, ZETA) = (-0.1, 1.1)", "<bos> s1 s2 seems w w w w",
    "seq_len - 1", "-1", "dim=-2", "blocks.{layer}.attn.hook_z", "plainnet_short_s0..2", "a, b, c", "(q, k)",
]


@pytest.mark.parametrize("span", FORMULA_SPANS)
def test_a_formula_in_a_code_span_is_recognised(span):
    assert formula_reason(span), f"`{span}` reads as a formula"


@pytest.mark.parametrize("span", CODE_SPANS)
def test_code_spans_are_left_alone(span):
    assert formula_reason(span) is None, f"`{span}` is code, not a formula"


def test_formula_spans_give_the_line_skip_fences_and_cross_line_breaks():
    text = ("Call `run_with_cache`.\n```python\nx = `a + b`\n```\nThe logit is `cos(w_k\n(a + b - c))`.\n"
            "Then $\\cos(w_k (a + b - c))$ is TeX already.")
    assert formula_spans(text) == [(5, "cos(w_k (a + b - c))", "a product written side by side")]


def test_the_spec_rejects_a_formula_in_a_code_span_with_its_file_and_line(tmp_path):
    text = VALID.replace("that returns $x + 1$ without", "that returns `x + 1` without")
    line = next(i for i, ln in enumerate(text.splitlines(), 1) if "`x + 1`" in ln)
    path = tmp_path / "09_tiny.py"
    path.write_text(text)
    problems = validate_lesson(_lesson(text), "09_tiny", path=path)
    assert [p for p in problems if "reads as a formula" in p] == [
        f"{path}:{line}: `x + 1` reads as a formula (an operator between symbols): write it as TeX, "
        f"$...$ inline or $$...$$ displayed; code spans hold code"]
    # without the file, the cell and the line inside it
    assert any("09_tiny: cell 2, line 4: `x + 1`" in p for p in validate_lesson(_lesson(text), "09_tiny"))
    (tmp_path / "solutions").mkdir()
    (tmp_path / "solutions" / "09_tiny.py").write_text(text)
    with pytest.raises(ValueError, match=rf"09_tiny.py:{line}: `x \+ 1` reads as a formula"):
        release_lessons(tmp_path / "solutions", tmp_path / "lessons")
    assert not (tmp_path / "lessons" / "09_tiny.py").exists()


@each_lesson
def test_lesson_writes_its_formulas_as_tex(lesson):
    problems = [p for p in validate_lesson(read_lesson(lesson.path), lesson.slug, path=lesson.path)
                if "reads as a formula" in p]
    assert problems == []


# --- Figures say what to see: a caption right after every figure cell ---------------------------------

FIGURE_CELL = '''# %% nbgrader={"grade": false, "grade_id": "fig9_demo", "locked": true, "schema_version": 3, "solution": false}
fig, bars = plot_bars([add_one(0), add_one(1)], "input", "output", "add_one at work")

'''
CAPTION = "# %% [markdown]\n# **Figure.** Each bar is one more than its input: the printed 2 backs it.\n\n"
CHECK_CELL = '# %% nbgrader={"grade": false, "grade_id": "fig9_result"'


def _with_figure(caption: str = "", after_check: bool = False) -> str:
    assert CHECK_CELL in VALID
    if after_check:
        return VALID.replace(CHECK_CELL, FIGURE_CELL + CHECK_CELL).replace("# %% [markdown] nbgrader", caption
                                                                          + "# %% [markdown] nbgrader", 1)
    return VALID.replace(CHECK_CELL, FIGURE_CELL + caption + CHECK_CELL)


def _figure_index(text: str) -> int:
    return next(i for i, c in enumerate(_lesson(text).cells)
                if c.metadata.get("nbgrader", {}).get("grade_id") == "fig9_demo")


@pytest.mark.parametrize("source", [
    "fig, bars = plot_bars(importance)", "fig, shown = plots.plot_stimuli(demo, titles)",
    "fig, ax = plt.subplots(figsize=(4, 3))", "plt.plot(losses)\nplt.show()", "ax.imshow(acts[:, :, 0])",
    "fig, _ = show_images(images, titles)", "fig, table = U.plot_census(census)"])
def test_a_cell_that_draws_is_a_figure_cell(source):
    assert draws_figure(nbformat.v4.new_code_cell(source))


@pytest.mark.parametrize("source", [
    "print(add_one(1))", "checks.check_importance_result(bars, n_channels=64)", "import matplotlib.pyplot as plt",
    "def plot_row(x):\n    return x", "x = add_one(1)\n# plot_bars(x) would draw it", "fig_size = (4, 3)"])
def test_a_cell_that_does_not_draw_is_not_a_figure_cell(source):
    assert not draws_figure(nbformat.v4.new_code_cell(source))


def test_a_solution_cell_that_draws_is_not_a_figure_cell():
    cell = nbformat.v4.new_code_cell("### BEGIN SOLUTION\nplt.plot(x)\n### END SOLUTION")
    cell.metadata["nbgrader"] = {"solution": True, "grade": False, "grade_id": "ex9_1_solution", "locked": False}
    assert not draws_figure(cell)


def test_the_spec_rejects_a_figure_without_a_caption_with_its_file_and_line(tmp_path):
    text = _with_figure()
    line = next(i for i, ln in enumerate(text.splitlines(), 1) if '"grade_id": "fig9_demo"' in ln)
    path = tmp_path / "09_tiny.py"
    path.write_text(text)
    problems = validate_lesson(_lesson(text), "09_tiny", path=path)
    assert problems == [f"{path}:{line}: figure cell fig9_demo has no caption (a markdown cell starting with "
                        f"{CAPTION_MARKER} right after it)"]
    # without the file, the cell number
    assert [p for p in validate_lesson(_lesson(text), "09_tiny") if "caption" in p] == [
        f"09_tiny: cell {_figure_index(text)}: figure cell fig9_demo has no caption (a markdown cell starting with "
        f"{CAPTION_MARKER} right after it)"]
    (tmp_path / "solutions").mkdir()
    (tmp_path / "solutions" / "09_tiny.py").write_text(text)
    with pytest.raises(ValueError, match=rf"09_tiny.py:{line}: figure cell fig9_demo has no caption"):
        release_lessons(tmp_path / "solutions", tmp_path / "lessons")
    assert not (tmp_path / "lessons" / "09_tiny.py").exists()


def test_a_figure_with_its_caption_right_after_it_passes():
    assert validate_lesson(_lesson(_with_figure(CAPTION)), "09_tiny") == []


def test_a_caption_must_follow_the_figure_directly_and_start_with_the_marker():
    late = _with_figure(CAPTION, after_check=True)
    assert uncaptioned_figures(_lesson(late)) == [_figure_index(late)]
    plain = _with_figure(CAPTION.replace("**Figure.** ", ""))
    assert uncaptioned_figures(_lesson(plain)) == [_figure_index(plain)]


def test_cells_that_draw_nothing_need_no_caption():
    nb = _lesson(VALID)
    assert [i for i, c in enumerate(nb.cells) if c.cell_type == "code"] and uncaptioned_figures(nb) == []


@each_lesson
def test_every_figure_of_the_lesson_has_a_caption(lesson):
    nb = read_lesson(lesson.path)
    assert any(map(draws_figure, nb.cells)) and uncaptioned_figures(nb) == []
