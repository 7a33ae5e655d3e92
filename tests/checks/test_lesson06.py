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


# --- issue 27: contracts and named mistakes -------------------------------------------------------------------

def test_encoder_decoder_and_loss_must_keep_the_gradient():
    def no_grad_encode(x, W_enc, b_enc, b_dec):
        with torch.no_grad():
            return dl.sae_encode(x, W_enc, b_enc, b_dec)
    with pytest.raises(CheckFailure, match="no gradient"):
        checks.check_sae_encode(no_grad_encode)
    with pytest.raises(CheckFailure, match="no gradient"):
        checks.check_sae_decode(lambda f, W_dec, b_dec: (f @ W_dec + b_dec).detach())

    def detached_mse(x, x_hat, f, W_dec, l1_coeff):
        mse = ((x - x_hat.detach()) ** 2).sum(-1).mean()
        l1 = (f * W_dec.norm(dim=-1)).sum(-1).mean()
        return mse + l1_coeff * l1, mse, l1
    with pytest.raises(CheckFailure, match="no gradient to x_hat"):
        checks.check_sae_loss(detached_mse)


def test_sae_loss_returns_a_tuple_of_tensors_in_order():
    with pytest.raises(CheckFailure, match="should return a tuple of Tensor, but an element is a float"):
        checks.check_sae_loss(lambda *args: tuple(v.item() for v in dl.sae_loss(*args)))
    with pytest.raises(CheckFailure, match="wrong order"):
        checks.check_sae_loss(lambda *args: (lambda t, m, l: (m, l, t))(*dl.sae_loss(*args)))


@pytest.mark.parametrize("wrong, message", [
    (lambda x, W_enc, b_enc, b_dec: torch.relu((x + b_dec) @ W_enc + b_enc), "You added `b_dec`"),
    (lambda x, W_enc, b_enc, b_dec: torch.relu((x - x.mean(0)) @ W_enc + b_enc), "centred x on its batch mean"),
])
def test_sae_encode_names_the_mistake(wrong, message):
    with pytest.raises(CheckFailure, match=message):
        checks.check_sae_encode(wrong)


def test_sae_decode_names_the_mistake():
    with pytest.raises(CheckFailure, match="forgot the decoder bias"):
        checks.check_sae_decode(lambda f, W_dec, b_dec: f @ W_dec)
    with pytest.raises(CheckFailure, match="subtracted `b_dec`"):
        checks.check_sae_decode(lambda f, W_dec, b_dec: f @ W_dec - b_dec)


def _loss(x, x_hat, f, W_dec, l1_coeff, mse_sum=False, no_coeff=False):
    err = (x - x_hat) ** 2
    mse = err.sum() if mse_sum else err.sum(-1).mean()
    l1 = (f * W_dec.norm(dim=-1)).sum(-1).mean()
    return mse + (1 if no_coeff else l1_coeff) * l1, mse, l1


def test_sae_loss_names_the_mistake():
    with pytest.raises(CheckFailure, match="sums over the batch too"):
        checks.check_sae_loss(lambda *a: _loss(*a, mse_sum=True))
    with pytest.raises(CheckFailure, match=r"total = mse \+ l1_coeff \* l1"):
        checks.check_sae_loss(lambda *a: _loss(*a, no_coeff=True))


def test_remove_parallel_component_names_the_mistake_and_refuses_an_in_place_edit():
    with pytest.raises(CheckFailure, match="on every row of W"):
        checks.check_remove_parallel_component(lambda grad, W: grad - grad @ W.T @ W)
    with pytest.raises(CheckFailure, match=r"down the columns \(dim=0\)"):
        checks.check_remove_parallel_component(lambda grad, W: grad - (grad * W).sum(0, keepdim=True) * W)
    with pytest.raises(CheckFailure, match="added the parallel component"):
        checks.check_remove_parallel_component(lambda grad, W: grad + (grad * W).sum(-1, keepdim=True) * W)

    def in_place(grad, W):
        grad -= (grad * W).sum(-1, keepdim=True) * W
        return grad
    with pytest.raises(CheckFailure, match=r"changed its argument `grad` in place \(`grad -= "):
        checks.check_remove_parallel_component(in_place)


def test_mean_max_cosine_similarity_must_not_normalise_in_place():
    """Issue 27: `F /= F.norm(...)` on the caller's features gave full marks."""
    def in_place(learned, true):
        learned /= learned.norm(dim=-1, keepdim=True)
        true /= true.norm(dim=-1, keepdim=True)
        return (true @ learned.T).amax(-1).mean()
    with pytest.raises(CheckFailure, match="changed its argument `learned` in place"):
        checks.check_mean_max_cosine_similarity(in_place)


def test_fraction_variance_explained_names_the_mistake():
    with pytest.raises(CheckFailure, match=r"one mean over every entry \(`x.mean\(\)`\)"):
        checks.check_fraction_variance_explained(
            lambda x, x_hat: 1 - ((x - x_hat) ** 2).sum() / ((x - x.mean()) ** 2).sum())
    with pytest.raises(CheckFailure, match="one ratio per dimension"):
        checks.check_fraction_variance_explained(
            lambda x, x_hat: 1 - (((x - x_hat) ** 2).sum(0) / ((x - x.mean(0)) ** 2).sum(0)).mean())


def test_concept_purity_must_not_clamp_in_place():
    def in_place(acts, concepts, min_active=0.01):
        acts.clamp_(min=0)
        return dl.concept_purity(acts, concepts, min_active)
    with pytest.raises(CheckFailure, match=r"changed its argument `acts` in place \(`acts.clamp_\(min=0\)`\)"):
        checks.check_concept_purity(in_place)


def test_toy_recovery_result_compares_with_the_dictionary():
    """Issue 27 part 5: an MMCS of dot products (not cosines) passed the old `>= 0.9` range check."""
    g = torch.Generator().manual_seed(0)
    true = torch.randn(5, 6, generator=g) * 1.5
    learned = dl.normalize_rows(true + 0.05 * torch.randn(5, 6, generator=g))
    right = dl.mean_max_cosine_similarity(learned, true)
    dots = (true @ learned.T).amax(-1).mean()
    checks.check_toy_recovery_result(right, learned, true)
    with pytest.raises(CheckFailure, match="above 1"):
        checks.check_toy_recovery_result(dots, learned, true)
    with pytest.raises(CheckFailure, match="on the same decoder and true features"):
        checks.check_toy_recovery_result(right - 0.05, learned, true)
