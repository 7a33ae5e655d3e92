"""Which autograded cells tamper evidence zeroes (the course's default policy), and why.

Static-scan findings never reach this module: they only list a submission for review.
Evidence gathered while grading is of two kinds, and each zeroes the cells it concerns:

* **evidence about one exercise**, named by one of its test cells (``"ex1_2_visible: ..."``):
  the known-answer self-test found that the check of that test no longer tells the reference
  answer from a known-wrong one, or the exercise's function returned an object equal to
  anything while a hidden test ran. Every autograded test cell of that exercise (the test
  cells between its answer cell and the next answer cell) scores 0;
* **evidence about the kernel** (it no longer runs what it is sent; an input or AST
  transformer, a custom exception handler, a replaced shell method, a rebound builtin, a trace
  function, a patched check or comparison function): the grader audits the kernel after every
  autograded test cell, so it knows the last point where the kernel was intact. Every
  autograded cell graded after that point scores 0: the test cell just audited, every later
  one, and every hidden test (they run after the notebook's last cell). Cells graded before it
  keep their points. Evidence that names no exercise counts as evidence about the kernel.

>>> ledger = Ledger({"ex1_visible": "ex1", "ex1_hidden": "ex1", "ex2_visible": "ex2", "ex2_hidden": "ex2"})
>>> ledger.graded("ex1_visible"); ledger.checkpoint([])
>>> ledger.graded("ex2_visible"); ledger.checkpoint(["the builtin len was rebound"])
>>> sorted(ledger.untrusted())
['ex1_hidden', 'ex2_hidden', 'ex2_visible']
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["Ledger", "answer_cells", "tamper_comment", "TAMPER_COMMENT"]

#: The comment nbgrader shows on an answer cell whose tests the policy scored 0.
TAMPER_COMMENT = ("Scored 0 by the course's grading policy: {cells} (the autograded cells graded after the grader "
                  "last found the kernel intact, or the tests of this exercise), because the grader found evidence "
                  "of tampering while grading ({reasons}). The submission is listed for the instructor's review.")


def _meta(cell) -> dict:
    return (cell.get("metadata") or {}).get("nbgrader") or {}


def answer_cells(cells: list) -> dict[str, str]:
    """Each autograded test cell's grade id -> the grade id of the answer cell it tests.

    The answer cell of a test is the last solution cell above it (nbgrader's layout: an
    exercise's tests follow its answer); ``""`` for tests above every answer cell.

    >>> cells = [{"cell_type": "code", "metadata": {"nbgrader": {"grade_id": g, "solution": s, "grade": t}}}
    ...          for g, s, t in [("ex1_solution", True, False), ("ex1_visible", False, True)]]
    >>> answer_cells(cells)
    {'ex1_visible': 'ex1_solution'}
    """
    out, answer = {}, ""
    for cell in cells:
        m = _meta(cell)
        if m.get("solution") and not m.get("grade"):
            answer = m.get("grade_id", "")
        elif cell.get("cell_type") == "code" and m.get("grade") and m.get("grade_id"):
            out[m["grade_id"]] = m.get("grade_id") if m.get("solution") else answer
    return out


@dataclass
class Ledger:
    """What the grader saw while grading one submission, in order; :meth:`untrusted` applies the rule above.

    Attributes:
        answer_of: :func:`answer_cells` of the notebook being graded.
        ran: Autograded cells graded so far, in order.
        intact: How many of ``ran`` were graded before the last audit that found the kernel intact.
        kernel: Evidence about the kernel (empty: none found).
        exercise: Evidence about one exercise: ``{grade id of a test cell: [evidence]}``.
    """

    answer_of: dict[str, str]
    ran: list[str] = field(default_factory=list)
    intact: int = 0
    kernel: list[str] = field(default_factory=list)
    exercise: dict[str, list[str]] = field(default_factory=dict)

    def graded(self, grade_id: str) -> None:
        """Note that an autograded cell was graded (its result is in)."""
        self.ran.append(grade_id)

    @property
    def compromised(self) -> bool:
        """Evidence about the kernel was found: no later audit can make it trusted again."""
        return bool(self.kernel)

    def checkpoint(self, evidence: list[str]) -> None:
        """Record what one audit found (empty: the kernel was intact here)."""
        for e in evidence:
            gid = e.split(":", 1)[0]
            if gid in self.answer_of:
                self.exercise.setdefault(gid, []).append(e)
            elif e not in self.kernel:
                self.kernel.append(e)
        if not self.kernel:
            self.intact = len(self.ran)

    def untrusted(self) -> dict[str, list[str]]:
        """``{grade id: [evidence]}`` of every autograded cell the policy scores 0."""
        out: dict[str, list[str]] = {}
        for gid, found in self.exercise.items():
            for test, answer in self.answer_of.items():
                if test == gid or (answer and answer == self.answer_of[gid]):
                    out.setdefault(test, []).extend(found)
        if self.kernel:
            trusted = set(self.ran[:self.intact])
            for test in self.answer_of:
                if test not in trusted:
                    out.setdefault(test, []).extend(self.kernel)
        return out


def tamper_comment(tests: list[str], reasons: list[str]) -> str:
    """The comment of an answer cell whose ``tests`` were scored 0 for ``reasons``.

    >>> tamper_comment(["ex1_visible"], ["the builtin len was rebound"])[:48]
    "Scored 0 by the course's grading policy: ex1_vis"
    """
    unique = list(dict.fromkeys(reasons))
    return TAMPER_COMMENT.format(cells=", ".join(tests), reasons="; ".join(unique)[:1500])
