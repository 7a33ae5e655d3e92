"""Grading a class: coordinator, per-submission worker, sandbox, limits, trick scanner, records."""

from .coordinator import GradingRun, SubmissionResult, diagnose_submission, grade_class
from .limits import Limits, lesson_limits
from .sandbox import sandbox_available
from .tricks import scan_submission

__all__ = ["GradingRun", "SubmissionResult", "diagnose_submission", "grade_class", "Limits", "lesson_limits",
           "sandbox_available", "scan_submission"]
