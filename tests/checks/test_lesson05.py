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


# --- issue 27: contracts and named mistakes -------------------------------------------------------------------

def _toy(W, b, x, after=False):
    pre = torch.einsum("bih,ifh->bif", torch.einsum("bif,ifh->bih", x, W), W)
    return torch.relu(pre) + b if after else torch.relu(pre + b)


def test_toy_forward_and_loss_must_keep_the_gradient():
    def no_grad_forward(W, b, x):
        with torch.no_grad():
            return _toy(W, b, x)
    with pytest.raises(CheckFailure, match="no gradient"):
        checks.check_toy_forward(no_grad_forward)
    with pytest.raises(CheckFailure, match="no gradient"):
        checks.check_importance_weighted_loss(lambda x, x_hat, importance: sp.importance_weighted_loss(
            x, x_hat.detach(), importance))


def test_toy_forward_names_the_bias_after_the_relu():
    with pytest.raises(CheckFailure, match=r"bias goes \*inside\* the ReLU"):
        checks.check_toy_forward(lambda W, b, x: _toy(W, b, x, after=True))


def test_importance_weighted_loss_names_a_sum_over_features():
    with pytest.raises(CheckFailure, match="sums over the features and averages over the batch"):
        checks.check_importance_weighted_loss(
            lambda x, x_hat, importance: (importance * (x - x_hat) ** 2).sum(-1).mean(0))


def _dimensionality(W, both=False, skip_self=False, square=True):
    norms = W.norm(dim=-1, keepdim=True)
    W_hat = W / norms.clamp_min(1e-6)
    dots = W_hat @ (W_hat if both else W).mT
    terms = dots ** 2 if square else dots
    total = terms.sum(-1) - (torch.diagonal(terms, dim1=-2, dim2=-1) if skip_self else 0)
    return norms.squeeze(-1) ** 2 / total.clamp_min(1e-12)


@pytest.mark.parametrize("mistake, message", [({"both": True}, "normalised both factors"),
                                              ({"skip_self": True}, "leaves out k = j"),
                                              ({"square": False}, "did not square")])
def test_feature_dimensionality_names_the_mistake(mistake, message):
    checks.check_feature_dimensionality(_dimensionality)
    with pytest.raises(CheckFailure, match=message):
        checks.check_feature_dimensionality(lambda W: _dimensionality(W, **mistake))


def test_feature_dimensionality_must_not_normalise_in_place():
    def in_place(W):
        norms = W.norm(dim=-1, keepdim=True)
        W /= norms.clamp_min(1e-6)          # the caller's weights are changed
        return norms.squeeze(-1) ** 2 / ((W @ (W * norms).mT) ** 2).sum(-1).clamp_min(1e-12)
    with pytest.raises(CheckFailure, match=r"changed its argument `W` in place \(`W /= norms.clamp_min\(1e-6\)`"):
        checks.check_feature_dimensionality(in_place)


def test_dimensions_per_feature_names_the_mistake():
    with pytest.raises(CheckFailure, match=r"number of features \(W.shape\[-2\]"):
        checks.check_dimensions_per_feature(lambda W: W.shape[-2] / (W ** 2).sum(dim=(-2, -1)))
    with pytest.raises(CheckFailure, match="upside down"):
        checks.check_dimensions_per_feature(lambda W: (W ** 2).sum(dim=(-2, -1)) / W.shape[-1])


def _phase(W, strict=False, signed=False):
    w0, w1 = W[..., 0, 0], W[..., 1, 0]
    a0, a1 = (w0, w1) if signed else (w0.abs(), w1.abs())
    first, extra = (a0 > 0.5, a1 > 0.5) if strict else (a0 >= 0.5, a1 >= 0.5)
    return torch.where(first & ~extra, 0, torch.where(~first & extra, 1, torch.where(
        first & extra & (w0 * w1 < 0), 2, -1)))


def test_classify_phase_names_the_mistake_and_the_hidden_test_probes_ties():
    checks.check_classify_phase(_phase, at_threshold=True)
    checks.check_classify_phase(lambda W: _phase(W, strict=True))        # no weight at 0.5 in the visible test ...
    with pytest.raises(CheckFailure, match=r"`>=`, not `>`"):              # ... the hidden one has some
        checks.check_classify_phase(lambda W: _phase(W, strict=True), seed=4, n=80, at_threshold=True)
    with pytest.raises(CheckFailure, match="magnitude"):
        checks.check_classify_phase(lambda W: _phase(W, signed=True))


def test_neuron_feature_counts_names_the_mistake_and_the_hidden_test_probes_ties():
    checks.check_neuron_feature_counts(lambda W, t=0.5: (W > t).sum(-2))
    with pytest.raises(CheckFailure, match=r"`>=`, not `>`"):
        checks.check_neuron_feature_counts(lambda W, t=0.5: (W > t).sum(-2), seed=8, at_threshold=True)
    with pytest.raises(CheckFailure, match=r"counted \|W\| >= threshold"):
        checks.check_neuron_feature_counts(lambda W, t=0.5: (W.abs() >= t).sum(-2))
    with pytest.raises(CheckFailure, match="one count per \\*feature\\*"):
        checks.check_neuron_feature_counts(lambda W, t=0.5: (W >= t).sum(-1))


def test_polysemantic_counts_result_compares_with_the_weights():
    """Issue 27 part 5: counts of |W| >= 0.5 (negative weights counted) passed the old sign-of-a-count check."""
    g = torch.Generator().manual_seed(0)
    W = torch.randn(3, 10, 5, generator=g) * torch.tensor([0.3, 0.6, 1.0])[:, None, None]
    p = torch.tensor([1.0, 0.1, 0.01])
    right = (sp.neuron_feature_counts(W) >= 2).sum(-1)
    with_abs = ((W.abs() >= 0.5).sum(-2) >= 2).sum(-1)
    assert right.tolist() != with_abs.tolist()
    checks.check_polysemantic_counts_result(with_abs, p)                 # the claim alone cannot see it
    with pytest.raises(CheckFailure, match="on the same weights"):
        checks.check_polysemantic_counts_result(with_abs, p, W)
    with pytest.raises(CheckFailure, match="should not get rarer"):
        checks.check_polysemantic_counts_result(torch.tensor([1, 5, 4]), p)
