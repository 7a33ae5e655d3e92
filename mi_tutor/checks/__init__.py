"""Checks that lesson test cells call: ``from mi_tutor.checks import lesson01``.

Each ``lessonNN`` module holds one ``check_<exercise>(student_fn, seed=...)``
per exercise, named after the function the student writes; visible tests call
it with the default seed, hidden tests with other seeds and shapes. The locked
story cells call ``check_<what>_result(...)`` on the numbers the student's
functions produced (no points; a failure names the exercise to revisit). Their
tests live in ``tests/checks/test_lessonNN.py``.
"""

from .contracts import Contract, check_contract, compare_functions
from .core import CheckFailure, call_student, expect, expect_close, expect_tensor_like, expect_type, passed

__all__ = ["CheckFailure", "Contract", "check_contract", "call_student", "compare_functions", "expect", "expect_close", "expect_tensor_like", "expect_type", "passed"]
