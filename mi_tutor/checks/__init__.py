"""Checks that lesson test cells call: ``from mi_tutor.checks import lesson01``.

Each ``lessonNN`` module holds one ``check_<exercise>(student_fn, seed=...)``
per exercise; visible tests call it with the default seed, hidden tests with
other seeds and shapes.
"""

from .core import CheckFailure, call_student, compare_functions, expect, expect_close, expect_tensor_like, expect_type, passed

__all__ = ["CheckFailure", "call_student", "compare_functions", "expect", "expect_close", "expect_tensor_like", "expect_type", "passed"]
