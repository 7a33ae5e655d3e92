"""Tests of mi_tutor.superposition (lesson 5) and of the toy models it ships."""

import math

import matplotlib
import pytest
import torch

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from mi_tutor import superposition as sp  # noqa: E402
from mi_tutor import zoo  # noqa: E402
from mi_tutor.checks import lesson05 as checks  # noqa: E402
from mi_tutor.validation import ShapeError  # noqa: E402


def polygon(k):
    a = torch.arange(k) * 2 * math.pi / k
    return torch.stack([a.cos(), a.sin()], -1)


# --- data ---------------------------------------------------------------------------------------

def test_generate_batch_sparsity_and_values():
    p = torch.tensor([1.0, 0.3, 0.05])
    x = sp.generate_batch(40_000, p, n_features=4, generator=torch.Generator().manual_seed(0))
    assert x.shape == (40_000, 3, 4)
    assert x.min() >= 0 and x.max() <= 1
    on = (x > 0).float().mean(dim=(0, 2))
    assert torch.allclose(on, p, atol=0.01)
    assert abs(x[x > 0].mean().item() - 0.5) < 0.01


def test_generate_batch_is_seeded():
    a = sp.generate_batch(5, torch.full((2, 3), 0.5), generator=torch.Generator().manual_seed(1))
    b = sp.generate_batch(5, torch.full((2, 3), 0.5), generator=torch.Generator().manual_seed(1))
    assert torch.equal(a, b)


@pytest.mark.parametrize("bad", [1.5, -0.1, torch.tensor([0.5, 1.2])])
def test_feature_probability_out_of_range(bad):
    with pytest.raises(ValueError, match="feature_probability"):
        sp.generate_batch(4, bad, n_features=3)
    with pytest.raises(ValueError, match="feature_probability"):
        sp.ToyModel(sp.ToyModelConfig(n_features=3, d_hidden=2, n_instances=2), feature_probability=bad)


def test_importance_of_wrong_length():
    with pytest.raises(ShapeError, match=r"`importance` has shape \(4,\).*\(5,\)"):
        sp.ToyModel(sp.ToyModelConfig(n_features=5, d_hidden=2), importance=torch.ones(4))
    with pytest.raises(ShapeError, match="importance"):
        sp.importance_weighted_loss(torch.rand(2, 1, 5), torch.rand(2, 1, 5), torch.ones(3))


def test_importance_decay_and_log_spaced():
    assert torch.allclose(sp.importance_decay(3, 0.5), torch.tensor([1.0, 0.5, 0.25]))
    assert torch.allclose(sp.log_spaced(1.0, 0.01, 3), torch.tensor([1.0, 0.1, 0.01]))


# --- model and loss --------------------------------------------------------------------------------

def test_toy_forward_by_hand():
    W = torch.tensor([[[1.0], [-1.0]]])          # one instance, an antipodal pair in 1 dim
    b = torch.tensor([[-0.1, -0.1]])
    x = torch.tensor([[[0.8, 0.0]]])
    # hidden = 0.8; outputs: ReLU(0.8 - 0.1) = 0.7 and ReLU(-0.8 - 0.1) = 0
    assert torch.allclose(sp.toy_forward(W, b, x), torch.tensor([[[0.7, 0.0]]]))
    hidden_relu = sp.toy_forward(-W, b, x, hidden_relu=True)   # hidden = ReLU(-0.8) = 0
    assert torch.allclose(hidden_relu, torch.zeros(1, 1, 2))


def test_model_matches_functional_and_hook_records_hidden():
    from mi_tutor import run_with_cache

    model = sp.ToyModel(sp.ToyModelConfig(n_features=5, d_hidden=2, n_instances=3))
    x = torch.rand(4, 3, 5)
    assert torch.allclose(model(x), sp.toy_forward(model.W, model.b, x))
    _, cache = run_with_cache(model, x, ["hook_hidden"])
    assert cache["hook_hidden"].shape == (4, 3, 2)


def test_importance_weighted_loss_by_hand():
    x = torch.ones(2, 2, 2)
    x_hat = torch.zeros(2, 2, 2)
    imp = torch.tensor([[1.0, 0.0], [2.0, 2.0]])
    assert torch.allclose(sp.importance_weighted_loss(x, x_hat, imp), torch.tensor([0.5, 2.0]))


def test_instances_are_independent():
    model = sp.ToyModel(sp.ToyModelConfig(n_features=4, d_hidden=2, n_instances=3))
    loss = model.loss(model.generate_batch(32))
    loss[1].backward()
    assert model.W.grad[0].abs().sum() == 0 and model.W.grad[2].abs().sum() == 0
    assert model.W.grad[1].abs().sum() > 0


def test_training_reduces_loss_and_is_seeded():
    def run():
        m = sp.ToyModel(sp.ToyModelConfig(n_features=5, d_hidden=2, n_instances=2),
                        feature_probability=torch.tensor([1.0, 0.1]))
        return sp.train_toy_model(m, sp.ToyTrainConfig(steps=150, batch_size=256), progress=False)
    a, b = run(), run()
    assert torch.equal(a.model.W, b.model.W)
    assert (a.losses[-1] < a.losses[0]).all()


def test_best_repeats():
    assert sp.best_repeats(torch.tensor([3.0, 1.0, 2.0, 0.5, 9.0, 9.5]), 3).tolist() == [1, 3]
    with pytest.raises(ValueError):
        sp.best_repeats(torch.ones(5), 2)


# --- geometry -------------------------------------------------------------------------------------

def test_feature_dimensionality_known_geometries():
    assert torch.allclose(sp.feature_dimensionality(polygon(5)), torch.full((5,), 0.4), atol=1e-5)
    assert torch.allclose(sp.feature_dimensionality(polygon(3)), torch.full((3,), 2 / 3), atol=1e-5)
    W = torch.tensor([[1.0, 0.0], [-1.0, 0.0], [0.0, 2.0], [0.0, 0.0]])
    assert torch.allclose(sp.feature_dimensionality(W), torch.tensor([0.5, 0.5, 1.0, 0.0]))
    batched = torch.stack([polygon(5), polygon(5) * 2])[None]          # [1, 2, 5, 2]
    assert sp.feature_dimensionality(batched).shape == (1, 2, 5)


def test_feature_dimensionality_formula_on_random_weights():
    W = torch.randn(3, 7, 3, generator=torch.Generator().manual_seed(0))
    got = sp.feature_dimensionality(W)
    for k in range(3):
        for j in range(7):
            wj = W[k, j]
            denom = sum(float((wj / wj.norm()) @ W[k, i]) ** 2 for i in range(7))
            assert abs(got[k, j].item() - float(wj @ wj) / denom) < 1e-4


def test_swapped_W_is_reported():
    with pytest.raises(ShapeError, match=r"transposed"):
        sp.feature_dimensionality(torch.randn(10, 2, 5))
    with pytest.raises(ShapeError, match=r"W.mT"):
        sp.feature_dimensionality(torch.randn(2, 5), n_features=5)
    assert sp.feature_dimensionality(torch.randn(3, 6), n_features=3).shape == (3,)   # meant: 3 features in 6 dims


def test_dimensions_per_feature_interference_gram():
    assert torch.allclose(sp.dimensions_per_feature(polygon(4)), torch.tensor(0.5))
    W = torch.tensor([[1.0, 0.0], [0.6, 0.8]])
    assert torch.allclose(sp.interference(W), torch.tensor([0.36, 0.36]))
    assert torch.allclose(sp.gram_matrix(W), torch.tensor([[1.0, 0.6], [0.6, 1.0]]))


def test_neuron_counts_and_polysemantic():
    W = torch.tensor([[1.0, 0.0, 0.0], [0.9, -0.8, 0.0], [0.0, 0.7, 0.6], [0.0, 0.0, 0.55]])
    assert sp.neuron_feature_counts(W).tolist() == [2, 1, 2]
    assert int(sp.polysemantic_neurons(W)) == 2


def test_classify_phase():
    W = torch.tensor([[[1.0], [0.1]], [[0.1], [-1.0]], [[1.0], [-0.9]], [[1.0], [1.0]], [[0.0], [0.0]]])
    assert sp.classify_phase(W).tolist() == [sp.NOT_LEARNED, sp.DEDICATED, sp.ANTIPODAL, sp.OTHER, sp.OTHER]
    with pytest.raises(ShapeError):
        sp.classify_phase(torch.zeros(4, 3, 1))


# --- plots return their data ---------------------------------------------------------------------

def test_plots_return_data():
    W = torch.stack([polygon(5), polygon(5) * 0.5])
    fig, data = sp.plot_features_2d(W, ["a", "b"])
    assert torch.allclose(data["norms"][0], torch.ones(5), atol=1e-5)
    fig2, gram = sp.plot_gram(W)
    assert gram["gram"].shape == (2, 5, 5)
    fig3, dims = sp.plot_dimensionality(torch.randn(4, 10, 3), torch.tensor([1.0, 0.5, 0.2, 0.1]))
    assert dims["dims_per_feature"].shape == (4,)
    with pytest.raises(ShapeError):
        sp.plot_features_2d(torch.randn(2, 5, 3))
    plt.close("all")


# --- the shipped zoo models have the properties the lesson relies on -------------------------------

def test_zoo_5in2_pentagon(capsys):
    model = zoo.load("tms_5in2", device="cpu")
    checks.check_pentagon_result(model.W.detach(), model.feature_probability[:, 0])


def test_zoo_dimensionality_sticks(capsys):
    model = zoo.load("tms_dimensionality", device="cpu")
    checks.check_sticky_dimensionality_result(sp.dimensions_per_feature(model.W.detach()), model.feature_probability[:, 0])


def test_zoo_phase_diagram_regions(capsys):
    model = zoo.load("tms_phase_2in1", device="cpu")
    diagram = sp.phase_diagram_from_model(model, sp.evaluate_loss(model))
    checks.check_phase_diagram_result(diagram.phases, diagram.importances, diagram.densities)
    fig, data = sp.plot_phase_diagram(diagram)
    assert data["counts"]["antipodal pair"] > 0
    plt.close("all")


def test_zoo_privileged_polysemantic(capsys):
    from mi_tutor.zoo.entries.toy_models import PRIVILEGED_PROBABILITIES, PRIVILEGED_REPEATS

    model = zoo.load("tms_privileged", device="cpu")
    best = sp.best_repeats(sp.evaluate_loss(model), PRIVILEGED_REPEATS)
    counts = sp.polysemantic_neurons(model.W.detach()[best])
    checks.check_polysemantic_counts_result(counts, torch.tensor(PRIVILEGED_PROBABILITIES))


def test_zoo_16in6_learns_every_feature():
    model = zoo.load("tms_16in6", device="cpu")
    assert (model.W.detach().norm(dim=-1) > 0.8).all()


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_training_follows_device():
    model = sp.ToyModel(sp.ToyModelConfig(n_features=5, d_hidden=2, n_instances=2)).to("cuda")
    result = sp.train_toy_model(model, sp.ToyTrainConfig(steps=5), progress=False)
    assert model.W.device.type == "cuda" and result.final_loss.shape == (2,)
    assert sp.generate_batch(3, torch.full((2, 5), 0.5, device="cuda")).device.type == "cuda"
    assert sp.feature_dimensionality(model.W.detach()).device.type == "cuda"
