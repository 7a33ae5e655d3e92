"""Tests of mi_tutor.dictionary (lesson 6): the SAE, its training, metrics and the lesson's claims."""

import matplotlib
import pytest
import torch

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from mi_tutor import dictionary as dl  # noqa: E402
from mi_tutor import zoo  # noqa: E402
from mi_tutor.checks import lesson06 as checks  # noqa: E402
from mi_tutor.hooks import collect  # noqa: E402
from mi_tutor.validation import ShapeError  # noqa: E402


# --- the autoencoder --------------------------------------------------------------------------------

def test_encode_decode_by_hand():
    x = torch.tensor([[2.0, 1.0]])
    W_enc = torch.tensor([[1.0, -1.0, 0.0], [0.0, 1.0, 1.0]])
    b_enc = torch.tensor([0.0, 0.0, -0.5])
    b_dec = torch.tensor([1.0, 0.0])
    # x - b_dec = [1, 1]; pre = [1, 0, 1] + [0, 0, -0.5] -> f = [1, 0, 0.5]
    f = dl.sae_encode(x, W_enc, b_enc, b_dec)
    assert torch.allclose(f, torch.tensor([[1.0, 0.0, 0.5]]))
    W_dec = torch.tensor([[1.0, 0.0], [0.0, 1.0], [0.6, 0.8]])
    assert torch.allclose(dl.sae_decode(f, W_dec, b_dec), torch.tensor([[2.3, 0.4]]))


def test_loss_by_hand():
    x, x_hat = torch.zeros(2, 2), torch.tensor([[1.0, 1.0], [0.0, 2.0]])   # errors 2 and 4 -> mse 3
    f = torch.tensor([[1.0, 0.0], [1.0, 2.0]])
    W_dec = torch.tensor([[3.0, 4.0], [0.0, 1.0]])                          # norms 5 and 1
    loss = dl.sae_loss(x, x_hat, f, W_dec, l1_coeff=0.1)                    # l1 = (5 + 7) / 2 = 6
    assert torch.allclose(loss.mse, torch.tensor(3.0))
    assert torch.allclose(loss.l1, torch.tensor(6.0))
    assert torch.allclose(loss.total, torch.tensor(3.6))


def test_bad_input_names_the_argument():
    with pytest.raises(ShapeError, match=r"`W_enc` has shape \(5, 8\)"):
        dl.sae_encode(torch.randn(3, 4), torch.randn(5, 8), torch.zeros(8), torch.zeros(4))
    with pytest.raises(ValueError, match="l1_coeff"):
        dl.sae_loss(torch.zeros(1, 2), torch.zeros(1, 2), torch.zeros(1, 3), torch.zeros(3, 2), -1.0)


def test_parallel_component_removed():
    W = dl.normalize_rows(torch.randn(6, 4))
    g = dl.remove_parallel_component(torch.randn(6, 4), W)
    assert torch.allclose((g * W).sum(-1), torch.zeros(6), atol=1e-6)
    assert torch.allclose(W.norm(dim=-1), torch.ones(6))


def test_training_keeps_unit_decoder_and_lowers_loss():
    data = torch.relu(torch.randn(512, 4)) @ torch.randn(4, 6)
    sae = dl.SparseAutoencoder(dl.SAEConfig(d_in=6, d_sae=12, l1_coeff=0.01))
    res = dl.train_sae(sae, data, dl.SAETrainConfig(steps=200, batch_size=128), progress=False)
    assert torch.allclose(sae.W_dec.detach().norm(dim=-1), torch.ones(12), atol=1e-5)
    assert res.history["loss"][-1] < res.history["loss"][0]


def test_resampling_moves_only_dead_latents():
    torch.manual_seed(0)
    sae = dl.SparseAutoencoder(dl.SAEConfig(d_in=5, d_sae=8))
    before = {k: v.detach().clone() for k, v in sae.state_dict().items()}
    dead = torch.tensor([True, False, False, True, False, False, False, False])
    x = torch.randn(64, 5)
    n = dl.resample_dead_latents(sae, x, dead, torch.Generator().manual_seed(0))
    assert n == 2
    assert torch.equal(sae.W_dec[~dead], before["W_dec"][~dead])
    assert not torch.allclose(sae.W_dec[dead], before["W_dec"][dead])
    assert torch.allclose(sae.W_dec[dead].norm(dim=-1), torch.ones(2))
    assert (sae.b_enc[dead] == 0).all()
    # each new decoder row points at one of the inputs (minus b_dec = 0)
    cos = dl.normalize_rows(sae.W_dec[dead].detach()) @ dl.normalize_rows(x).T
    assert torch.allclose(cos.amax(-1), torch.ones(2), atol=1e-5)


def test_training_with_resampling_reports_it():
    data = torch.randn(256, 4)
    sae = dl.SparseAutoencoder(dl.SAEConfig(d_in=4, d_sae=32, l1_coeff=0.1))
    with torch.no_grad():
        sae.b_enc[:8] = -100.0                       # these 8 latents can never fire: dead
    res = dl.train_sae(sae, data, dl.SAETrainConfig(steps=120, batch_size=64, resample_every=50, dead_window=20),
                       progress=False)
    assert len(res.resampled) == 2 and res.resampled[0] >= 8
    assert (sae.b_enc[:8] > -100).all()


# --- metrics -----------------------------------------------------------------------------------------

def test_metrics_by_hand():
    f = torch.tensor([[0.0, 1.0, 0.0], [2.0, 3.0, 0.0]])
    assert dl.l0_norm(f).item() == 1.5
    assert dl.dead_latents(f).tolist() == [False, False, True]
    x = torch.tensor([[0.0, 1.0], [2.0, 3.0]])
    assert torch.allclose(dl.fraction_variance_explained(x, x), torch.tensor(1.0))
    assert torch.allclose(dl.fraction_variance_explained(x, x.mean(0, keepdim=True).expand_as(x)), torch.tensor(0.0))
    assert torch.allclose(dl.loss_recovered(0.5, 1.0, 2.5), torch.tensor(0.75))


def test_mmcs_by_hand():
    learned = torch.tensor([[2.0, 0.0], [1.0, 1.0]])
    true = torch.tensor([[1.0, 0.0], [0.0, 3.0]])
    # best cosines: 1 for the x axis, 1/sqrt(2) for the y axis
    assert torch.allclose(dl.mean_max_cosine_similarity(learned, true), torch.tensor((1 + 0.5**0.5) / 2))


def test_concept_purity_by_hand():
    acts = torch.tensor([[2.0, 1.0, 0.0], [2.0, 1.0, 0.0], [0.0, 2.0, 0.0], [0.0, 0.0, 1.0]])
    concepts = torch.tensor([[1, 0], [1, 0], [0, 1], [0, 1]]).bool()
    p = dl.concept_purity(acts, concepts, min_active=0.5)
    assert torch.allclose(p[:2], torch.tensor([1.0, 0.5]))
    assert torch.isnan(p[2])                        # active on 1 of 4 inputs < min_active


def test_plots_return_data():
    fig, data = dl.plot_purity(torch.tensor([0.2, float("nan"), 0.4]), torch.tensor([0.9, 0.7]))
    assert torch.allclose(data["neuron_mean"], torch.tensor(0.3))
    fig, data = dl.plot_feature_recovery(torch.eye(3), torch.eye(3)[:2])
    assert torch.allclose(data["max_cosine"], torch.ones(2))
    plt.close("all")


# --- the lesson's claims -----------------------------------------------------------------------------

def _toy_source():
    toy = zoo.load("tms_16in6", device="cpu")

    def draw(n, g):
        with torch.no_grad():
            return toy.hidden(toy.generate_batch(n, generator=g))[:, 0]
    return toy, draw


def test_sae_recovers_toy_features_and_l0_falls(capsys):
    toy, draw = _toy_source()
    true = toy.W.detach()[0]
    eval_x = draw(2048, torch.Generator().manual_seed(3))
    l0, mmcs = [], []
    for coeff in (0.01, 0.1):
        sae = dl.SparseAutoencoder(dl.SAEConfig(d_in=6, d_sae=32, l1_coeff=coeff))
        dl.train_sae(sae, draw, dl.SAETrainConfig(steps=800, batch_size=512), progress=False)
        with torch.no_grad():
            _, f = sae(eval_x)
        l0.append(dl.l0_norm(f).item())
        mmcs.append(dl.mean_max_cosine_similarity(sae.W_dec.detach(), true).item())
    checks.check_toy_recovery_result(mmcs[1])
    checks.check_l0_falls_result([0.01, 0.1], l0)


def test_cnn_latents_purer_than_neurons(capsys):
    from mi_tutor.vision import render_shapes

    cnn = zoo.load("convnet_shapes_s0", device="cpu")
    world = render_shapes(3000, seed=100)
    acts = collect(cnn, world.images, ["head.0"], pool="mean")["head.0"]
    concepts, names = dl.concept_matrix(world)
    assert acts.shape == (3000, 64) and len(names) == concepts.shape[1] == 10
    scale = (acts[:2000].norm(dim=-1).mean() / 8).item()
    sae = dl.SparseAutoencoder(dl.SAEConfig(d_in=64, d_sae=256, l1_coeff=1.0))
    dl.train_sae(sae, acts[:2000] / scale, dl.SAETrainConfig(steps=1000, batch_size=256, resample_every=400,
                                                            dead_window=300), progress=False)
    with torch.no_grad():
        _, latents = sae(acts[2000:] / scale)
    checks.check_monosemanticity_result(dl.concept_purity(acts[2000:], concepts[2000:]),
                                        dl.concept_purity(latents, concepts[2000:]))
    losses = dl.spliced_losses(cnn, sae, world.images[2000:], world.labels[2000:], "head.0", scale)
    assert losses["clean"] < losses["spliced"] < losses["zero"]
    assert dl.loss_recovered(losses["clean"], losses["spliced"], losses["zero"]) > 0.5


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_sae_follows_device():
    sae = dl.SparseAutoencoder(dl.SAEConfig(d_in=4, d_sae=8)).to("cuda")
    res = dl.train_sae(sae, torch.randn(64, 4), dl.SAETrainConfig(steps=5, batch_size=16, resample_every=2,
                                                                  dead_window=1), progress=False)
    x_hat, f = res.sae(torch.randn(3, 4, device="cuda"))
    assert x_hat.device.type == "cuda" and f.device.type == "cuda"
