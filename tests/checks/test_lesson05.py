"""Lesson 5's checks accept the reference and reject plausible mistakes; the result checks send the
student back to the exercise to fix."""

import pytest
import torch

from mi_tutor import superposition as sp
from mi_tutor.checks import CheckFailure
from mi_tutor.checks import lesson05 as checks


def test_checks_accept_reference(capsys):
    checks.check_generate_batch(lambda n, p: sp.generate_batch(n, p))
    checks.check_toy_forward(sp.toy_forward)
    checks.check_importance_weighted_loss(sp.importance_weighted_loss)
    checks.check_feature_dimensionality(sp.feature_dimensionality)
    checks.check_dimensions_per_feature(sp.dimensions_per_feature)
    checks.check_classify_phase(sp.classify_phase)
    checks.check_neuron_feature_counts(sp.neuron_feature_counts)
    assert capsys.readouterr().out.count("\u2713") == 7


def test_checks_reject_mistakes():
    with pytest.raises(CheckFailure, match="ReLU"):
        checks.check_toy_forward(lambda W, b, x: torch.einsum("bih,ifh->bif", torch.einsum("bif,ifh->bih", x, W), W) + b)
    with pytest.raises(CheckFailure, match="importance"):
        checks.check_importance_weighted_loss(lambda x, x_hat, importance: ((x - x_hat) ** 2).mean(dim=(0, 2)))

    def cosines(W):
        u = W / W.norm(dim=-1, keepdim=True).clamp_min(1e-6)
        return W.norm(dim=-1) ** 2 / ((u @ u.mT) ** 2).sum(-1)
    with pytest.raises(CheckFailure):
        checks.check_feature_dimensionality(cosines)
    with pytest.raises(CheckFailure, match="rand < p"):
        checks.check_generate_batch(lambda n, p: torch.where(torch.rand(n, *p.shape) > p, torch.rand(n, *p.shape), 0.0))


def test_lesson05_result_checks_send_the_student_back():
    with pytest.raises(CheckFailure, match="Exercise 5.5"):
        checks.check_sticky_dimensionality_result(torch.linspace(2.0, 0.1, 10), torch.logspace(0, -2, 10))
    with pytest.raises(CheckFailure, match="Exercise 5.6"):
        checks.check_phase_diagram_result(torch.full((5, 5), -1), torch.logspace(-1, 1, 5), torch.logspace(-2, 0, 5))
    with pytest.raises(CheckFailure, match="Exercise 5.7"):
        checks.check_polysemantic_counts_result(torch.tensor([0, 0, 0]), torch.tensor([1.0, 0.1, 0.01]))
