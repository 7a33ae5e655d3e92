"""Lesson 6's checks accept the reference and reject plausible mistakes; the result checks send the
student back to the exercise to fix."""

import pytest
import torch

from mi_tutor import dictionary as dl
from mi_tutor.checks import CheckFailure
from mi_tutor.checks import lesson06 as checks


def test_checks_accept_reference_and_reject_mistakes(capsys):
    checks.check_sae_encode(dl.sae_encode)
    checks.check_sae_decode(dl.sae_decode)
    checks.check_sae_loss(dl.sae_loss)
    checks.check_remove_parallel_component(dl.remove_parallel_component)
    checks.check_fraction_variance_explained(dl.fraction_variance_explained)
    checks.check_mean_max_cosine_similarity(dl.mean_max_cosine_similarity)
    checks.check_concept_purity(dl.concept_purity)
    assert capsys.readouterr().out.count("\u2713") == 7
    with pytest.raises(CheckFailure, match="b_dec"):
        checks.check_sae_encode(lambda x, W_enc, b_enc, b_dec: torch.relu(x @ W_enc + b_enc))
    with pytest.raises(CheckFailure, match="decoder norms"):
        checks.check_sae_loss(lambda x, x_hat, f, W_dec, l1_coeff: (
            ((x - x_hat) ** 2).sum(-1).mean() + l1_coeff * f.sum(-1).mean(), ((x - x_hat) ** 2).sum(-1).mean(),
            f.sum(-1).mean()))
    with pytest.raises(CheckFailure, match="mean"):
        checks.check_fraction_variance_explained(lambda x, x_hat: 1 - ((x - x_hat) ** 2).sum() / (x**2).sum())


def test_lesson06_result_checks_send_the_student_back():
    checks.check_toy_recovery_result(torch.tensor(0.95))
    with pytest.raises(CheckFailure, match="Exercise 6.5"):
        checks.check_toy_recovery_result(torch.tensor(0.2))
    with pytest.raises(CheckFailure, match="Exercise 6.7"):
        checks.check_monosemanticity_result(torch.full((64,), 0.5), torch.full((64,), 0.5))


def test_concept_purity_must_clamp_negative_activations():
    """Issue 27: purity of unclamped (pre-ReLU) activations passed when every test input was non-negative."""
    def unclamped(acts, concepts, min_active=0.01):
        purity = (acts.T @ concepts.to(acts.dtype)).amax(-1) / acts.sum(0).clamp_min(1e-12)
        return torch.where((acts > 0).to(acts.dtype).mean(0) < min_active, torch.nan, purity)

    with pytest.raises(CheckFailure, match=r"negative activations as they are.*clamp_min\(0\)"):
        checks.check_concept_purity(unclamped)
