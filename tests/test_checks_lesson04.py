"""Lesson 4's checks: the messages of the locked cells that read the student's own numbers."""

from __future__ import annotations

import pytest
import torch

from mi_tutor import circuits_vision as cv
from mi_tutor.checks import CheckFailure
from mi_tutor.checks import lesson04 as c4


def fails(check, fn, match, **kwargs):
    with pytest.raises(CheckFailure, match=match):
        check(fn, **kwargs)

def test_lesson04_result_checks_send_the_student_back():
    ang = torch.arange(36) * (2 * torch.pi / 36)
    pref = torch.arange(6) * (2 * torch.pi / 6)
    c4.check_handoff_result(cv.handoff(torch.exp(2 * (torch.cos(ang[:, None] + 0.4 - pref[None]) - 1)), ang, pref))
    scrambled = cv.handoff(torch.rand(36, 6, generator=torch.Generator().manual_seed(1)), ang, pref)
    with pytest.raises(CheckFailure, match="Exercise 4.5"):          # responses that ignore the rotation
        c4.check_handoff_result(scrambled)
    with pytest.raises(CheckFailure, match="Exercise 4.6"):
        c4.check_alignment_result(0.01, torch.randn(50, generator=torch.Generator().manual_seed(0)) * 0.05)
