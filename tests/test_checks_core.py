"""The check machinery: a crash names the student's own line, a stub is named, and the self-check
counts only what it can know."""

from __future__ import annotations

import nbformat
import pytest
import torch

from mi_tutor.checks import CheckFailure, call_student, compare_functions
from mi_tutor.course.scoring import CellScore, format_table, score_cells, stub_name


def _students_broken_fn(x):
    y = x * 2
    return y[:, 99]          # the student's bug: an index out of range


def _stub(x):
    raise NotImplementedError()


def _uses_stub(x):
    return _stub(x) + 1


def test_crash_names_the_students_line_and_keeps_the_cause():
    with pytest.raises(CheckFailure) as info:
        compare_functions("double", _students_broken_fn, lambda x: x * 2, [{"x": torch.zeros(2, 3)}])
    msg = str(info.value)
    assert "`double` raised IndexError" in msg
    assert "in _students_broken_fn" in msg and "`return y[:, 99]" in msg and "test_checks_core.py" in msg
    assert "x of shape (2, 3)" in msg
    assert isinstance(info.value.__cause__, IndexError)          # not re-raised `from None`


def test_stub_is_named_even_when_called_from_another_function():
    with pytest.raises(CheckFailure, match="`double` is not implemented yet"):
        call_student("double", _stub, 1)
    with pytest.raises(CheckFailure, match="`plus_one` calls `_stub`, which is still a stub"):
        call_student("plus_one", _uses_stub, 1)


def test_check_failures_pass_through_unchanged():
    def raises_check(x):
        raise CheckFailure("the check's own words")
    with pytest.raises(CheckFailure, match="the check's own words"):
        call_student("f", raises_check, 1)


def _cell(gid, source, points=1, outputs=(), markdown=False):
    meta = {"nbgrader": {"grade": True, "grade_id": gid, "locked": True, "points": points,
                         "schema_version": 3, "solution": markdown}}
    if markdown:
        return nbformat.v4.new_markdown_cell(source, metadata=meta)
    cell = nbformat.v4.new_code_cell(source, metadata=meta)
    cell.outputs = list(outputs)
    return cell


def _error(ename, evalue, traceback=()):
    return nbformat.v4.new_output("error", ename=ename, evalue=evalue, traceback=list(traceback))


def test_untouched_notebook_self_checks_at_zero():
    """The student version: visible tests fail on stubs, hidden cells are empty (graded later)."""
    nb = nbformat.v4.new_notebook(cells=[
        _cell("ex1_1_visible", "checks.check_a(a)", outputs=[_error(
            "NotImplementedError", "", ["Cell In[3], line 1, in <module>", "Cell In[2], line 3, in a(x)"])]),
        _cell("ex1_1_hidden", "", points=2),
        _cell("ex1_2_visible", "checks.check_b(b)", outputs=[_error(
            "CheckFailure", "\n`b(...)` has wrong values.\nHint: the mean, not the sum.")]),
        _cell("ex1_2_hidden", "# (hidden tests)\n", points=2),
        _cell("written_1", "Why?", points=2, markdown=True),
    ])
    scores = score_cells(nb)
    assert [s.status for s in scores] == ["auto", "later", "auto", "later", "hand"]
    assert sum(s.score for s in scores if s.status == "auto") == 0
    assert "`a` is still a stub" in scores[0].message
    assert "Hint: the mean, not the sum." in scores[2].message          # the hint survives
    table = format_table(scores)
    assert "0/2 from the visible tests; 4 more points in hidden tests, graded later; 2 points graded by hand" in table
    assert "Hint: the mean, not the sum." in table


def test_hidden_tests_that_are_present_are_scored():
    """The instructor's version runs its hidden tests: those are scored, not deferred."""
    nb = nbformat.v4.new_notebook(cells=[
        _cell("ex1_1_hidden", "### BEGIN HIDDEN TESTS\n# other shapes\ncheck(a, seed=3)\n### END HIDDEN TESTS")])
    [s] = score_cells(nb)
    assert (s.status, s.score) == ("auto", 1.0)


def test_stub_name_reads_ansi_tracebacks():
    assert stub_name(["\x1b[0;32mCell In[2], line 4\x1b[0m, in \x1b[0;36mlayer_table\x1b[0;34m(model, x)"]) == \
        "layer_table"
    assert stub_name(["Cell In[2], line 4"]) is None
    assert CellScore("x", 1, 0.0, "boom").failed


def test_expect_close_or_named_names_a_mistake_only_where_it_is_wrong():
    from mi_tutor.checks.mistakes import expect_close_or_named

    x = torch.tensor([1.0, -2.0, 3.0])
    called = []

    def lazy():
        called.append(1)
        return -x

    expect_close_or_named("f(x)", x.clone(), x, mistakes=[(lazy, "never")])        # right: nothing computed
    assert not called
    with pytest.raises(CheckFailure, match=r"(?s)wrong values.*largest difference.*\nsign flipped$"):
        expect_close_or_named("f(x)", -x, x, mistakes=[(x, "not this"), (lazy, "sign flipped")], hint="generic")
    with pytest.raises(CheckFailure, match=r"(?s)shape \(3, 1\).*\ncolumn$"):       # a shape mistake is named too
        expect_close_or_named("f(x)", x[:, None], x, mistakes=[(x[:, None], "column")])
    with pytest.raises(CheckFailure, match="Hint: generic") as err:                  # a mistake equal to the answer
        expect_close_or_named("f(x)", x * 2, x, mistakes=[(x, "same as the answer")], hint="generic")
    assert "same as the answer" not in str(err.value)


def test_named_mistake_wraps_a_check_of_its_own():
    import math

    from mi_tutor.checks.mistakes import matches, named_mistake

    def check(got, want):
        if abs(float(got) - want) > 1e-4:
            raise CheckFailure(f"got {float(got):.3f}, expected {want:.3f}.\nHint: generic")

    named_mistake(lambda: check(1.0, 1.0), 1.0, [(lambda: 1 / 0, "never computed")])      # right: nothing run
    with pytest.raises(CheckFailure, match=r"(?s)got 2\.000, expected 1\.000\.\nhalved the other way$"):
        named_mistake(lambda: check(2.0, 1.0), 2.0, [(0.5, "not this"), (2.0, "halved the other way")])
    with pytest.raises(CheckFailure, match="Hint: generic") as err:                    # a mistake equal to the answer
        named_mistake(lambda: check(2.0, 1.0), 2.0, [(2.0, "the answer here")], want=torch.tensor(2.0))
    assert "the answer here" not in str(err.value)
    with pytest.raises(CheckFailure, match="Hint: generic"):                           # a result that is no number
        named_mistake(lambda: check(2.0, 1.0), "2.0", [(2.0, "strings match nothing")])
    angle = torch.tensor([0.1, 6.2])
    assert matches(angle, angle + 2 * math.pi, period=2 * math.pi)
    assert not matches(angle, angle + 2 * math.pi) and not matches(angle, angle + math.pi, period=2 * math.pi)
    assert matches(torch.tensor([float("nan"), 1.0]), torch.tensor([float("nan"), 1.0]))
    assert not matches(torch.tensor([1.0]), torch.tensor(1.0))                          # shapes differ
