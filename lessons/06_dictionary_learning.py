# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Lesson 6: Dictionary learning with sparse autoencoders
#
# **Central claim.** A sparse autoencoder recovers a toy model's true features and turns a CNN's
# polysemantic neurons into purer latents while keeping most of the model's loss.
#
# **Learning objectives**
#
# - Build a sparse autoencoder (SAE): ReLU encoder, decoder with unit-norm rows, squared error plus an L1 penalty
#   weighted by decoder norms.
# - Measure an SAE: L0, dead latents, variance explained, loss recovered when spliced into a model.
# - Recover the known features of a toy model in superposition, and see how the L1 coefficient trades sparsity
#   against fidelity.
# - Train an SAE on a course CNN and test, on labelled data, whether its latents are more monosemantic than the
#   network's neurons.
#
# **Prerequisites:** lesson 5 (superposition), lesson 2 (features, dataset examples), lesson 1 (hooks).
#
# **Estimated time:** 2 hours (the notebook itself executes in about a minute on a laptop CPU).
#
# Lesson 5 showed that a layer can store more features than it has neurons, and that its neurons then become
# polysemantic. If that is what real networks do, reading neurons one by one will never give clean features. The
# way out explored in *Towards Monosemanticity* (Bricken et al., 2023) is **dictionary learning**: learn an
# overcomplete set of directions such that every activation vector is a sparse, non-negative combination of a
# few of them. A sparse autoencoder learns that dictionary by gradient descent.

# %% nbgrader={"grade": false, "grade_id": "setup", "locked": true, "schema_version": 3, "solution": false}
from mi_tutor.course.setup import setup_lesson

device = setup_lesson(seed=0)
import matplotlib.pyplot as plt
import torch

from mi_tutor import hooks, zoo
from mi_tutor import dictionary as dl
from mi_tutor import superposition as sp
from mi_tutor.checks import lesson06 as checks
from mi_tutor.vision import render_shapes

# %% [markdown]
# ## 1. The sparse autoencoder
#
# For an activation vector $x \in \mathbb{R}^{d_\text{in}}$, the SAE computes latent activations and a reconstruction
#
# $f = \mathrm{ReLU}\big((x - b_\text{dec}) W_\text{enc} + b_\text{enc}\big)$ with `W_enc: [d_in, d_sae]`, and $\hat x = f W_\text{dec} + b_\text{dec}$ with
# `W_dec: [d_sae, d_in]`.
#
# Row `i` of `W_dec` is latent `i`'s *dictionary direction*. Usually $d_\text{sae} > d_\text{in}$ (overcomplete), so only
# sparsity makes the code meaningful. Subtracting `b_dec` before encoding lets the encoder work on centred
# inputs.

# %% [markdown]
# ### Exercise 6.1: encode
# **Difficulty:** ★☆☆☆☆  **Importance:** ★★★★☆
#
# Implement `sae_encode(x, W_enc, b_enc, b_dec)` for `x: [batch, d_in]`, returning a tensor `f: [batch, d_sae]`.
# The SAE is trained through this function, so the gradient must reach `W_enc`, `b_enc` and `b_dec` (no
# `torch.no_grad()` or `.detach()`). Like every exercise of this lesson, it leaves its arguments as they were
# (no in-place edits such as `x -= b_dec`).
#
# <details><summary>Hint</summary>
#
# One matrix product, two biases, one ReLU; `b_dec` has shape `[d_in]` and broadcasts over the batch.
#
# </details>

# %% nbgrader={"grade": false, "grade_id": "ex6_1_solution", "locked": false, "schema_version": 3, "solution": true}
def sae_encode(x: torch.Tensor, W_enc: torch.Tensor, b_enc: torch.Tensor, b_dec: torch.Tensor) -> torch.Tensor:
    """f = ReLU((x - b_dec) W_enc + b_enc): x [batch, d_in] -> [batch, d_sae]."""
    # YOUR CODE HERE
    raise NotImplementedError()


# %% nbgrader={"grade": true, "grade_id": "ex6_1_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false}
checks.check_sae_encode(sae_encode)


# %% nbgrader={"grade": true, "grade_id": "ex6_1_hidden", "locked": true, "points": 1, "schema_version": 3, "solution": false}

# %% [markdown]
# ### Exercise 6.2: decode
# **Difficulty:** ★☆☆☆☆  **Importance:** ★★★☆☆
#
# Implement `sae_decode(f, W_dec, b_dec)`: `[batch, d_sae] -> [batch, d_in]`, a tensor through which the
# gradient reaches `W_dec` and `b_dec`.
#
# <details><summary>Hint</summary>
#
# The reconstruction is a weighted sum of decoder rows, plus the decoder bias.
#
# </details>

# %% nbgrader={"grade": false, "grade_id": "ex6_2_solution", "locked": false, "schema_version": 3, "solution": true}
def sae_decode(f: torch.Tensor, W_dec: torch.Tensor, b_dec: torch.Tensor) -> torch.Tensor:
    """x_hat = f W_dec + b_dec: f [batch, d_sae] -> [batch, d_in]."""
    # YOUR CODE HERE
    raise NotImplementedError()


# %% nbgrader={"grade": true, "grade_id": "ex6_2_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false}
checks.check_sae_decode(sae_decode)


# %% nbgrader={"grade": true, "grade_id": "ex6_2_hidden", "locked": true, "points": 1, "schema_version": 3, "solution": false}

# %% [markdown]
# ### Exercise 6.3: the loss
# **Difficulty:** ★★☆☆☆  **Importance:** ★★★★★
#
# The loss has two parts:
#
# - reconstruction $\text{mse} = \operatorname{mean}_\text{batch} \sum_d (x_d - \hat x_d)^2$ (summed over `d_in`, averaged over the batch);
# - sparsity $\text{l1} = \operatorname{mean}_\text{batch} \sum_i f_i \lVert W_{\text{dec},i} \rVert$, an L1 penalty weighted by the norm of each
#   decoder row.
#
# `total = mse + l1_coeff * l1`. Without the decoder-norm weight the SAE could shrink every `f_i` and grow the
# matching decoder row, reconstructing just as well with a smaller penalty. (We also keep decoder rows at unit
# norm during training, so the two conventions agree there, but coefficients from codebases that sum over the
# batch or average over `d_in` are *not* interchangeable with ours.)
#
# Implement `sae_loss(x, x_hat, f, W_dec, l1_coeff)` returning the tuple `(total, mse, l1)` of scalar tensors, in
# that order. Training calls `total.backward()`, so `total` must keep the gradient to `x_hat` and `f` (no
# `torch.no_grad()`, `.detach()` or `.item()`).
#
# <details><summary>Hint</summary>
#
# `W_dec.norm(dim=-1)` has one entry per latent; multiply it into `f` before summing over latents.
#
# </details>

# %% nbgrader={"grade": false, "grade_id": "ex6_3_solution", "locked": false, "schema_version": 3, "solution": true}
def sae_loss(x, x_hat, f, W_dec, l1_coeff):
    """(total, mse, l1) with mse summed over d_in and l1 weighted by decoder row norms, both batch means."""
    # YOUR CODE HERE
    raise NotImplementedError()


# %% nbgrader={"grade": true, "grade_id": "ex6_3_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false}
checks.check_sae_loss(sae_loss)


# %% nbgrader={"grade": true, "grade_id": "ex6_3_hidden", "locked": true, "points": 2, "schema_version": 3, "solution": false}

# %% [markdown]
# ## 2. Keeping decoder rows on the unit sphere
#
# After every optimiser step the decoder rows are rescaled to unit norm. The gradient component *along* a row
# would only change its length, which the rescaling undoes; worse, it pollutes Adam's running statistics. So
# before each step we remove it: for each row $W_i$ (unit norm) and its gradient $g_i$, keep
# $$g_i - (g_i \cdot W_i)\, W_i.$$

# %% [markdown]
# ### Exercise 6.4: remove the parallel component
# **Difficulty:** ★★☆☆☆  **Importance:** ★★☆☆☆
#
# Implement `remove_parallel_component(grad, W)` for `grad, W: [n, d]` (rows of `W` have unit norm), returning
# a new tensor `[n, d]`: the trainer copies it into the gradient itself, so leave `grad` and `W` as they were
# (no `grad -= ...`).
#
# <details><summary>Hint</summary>
#
# Projecting a vector onto a unit vector needs the dot product of each row pair, kept with a
# trailing axis of size 1 so it broadcasts back over `d`; subtract that multiple of the row of `W`.
#
# </details>

# %% nbgrader={"grade": false, "grade_id": "ex6_4_solution", "locked": false, "schema_version": 3, "solution": true}
def remove_parallel_component(grad: torch.Tensor, W: torch.Tensor) -> torch.Tensor:
    """grad minus its projection on each unit-norm row of W: [n, d] -> [n, d]."""
    # YOUR CODE HERE
    raise NotImplementedError()


# %% nbgrader={"grade": true, "grade_id": "ex6_4_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false}
checks.check_remove_parallel_component(remove_parallel_component)


# %% nbgrader={"grade": true, "grade_id": "ex6_4_hidden", "locked": true, "points": 1, "schema_version": 3, "solution": false}

# %% [markdown]
# ## 3. Recovering the features of a toy model
#
# The zoo model `tms_16in6` is a lesson-5 toy model that stores 16 sparse features ($p = 0.05$) in 6 hidden
# dimensions. We know its features exactly: feature `j` is written along the row `W_j`. Its hidden activations
# $h = \sum_j x_j W_j$ are our test data: can an SAE that only sees `h` find the 16 directions?
#
# To score it we use the **mean max cosine similarity** (MMCS): for each true feature, the best cosine similarity
# with any decoder row, averaged over the true features. 1 means every feature has a latent pointing exactly
# along it.

# %% [markdown]
# ### Exercise 6.5: mean max cosine similarity
# **Difficulty:** ★★☆☆☆  **Importance:** ★★★☆☆
#
# Implement `mean_max_cosine_similarity(learned, true)` for `learned: [n_learned, d]` and `true: [n_true, d]`,
# returning a scalar (0-d) tensor. Neither input is normalised: normalise copies, and leave the caller's tensors
# as they were (no `learned /= ...`).
#
# <details><summary>Hint</summary>
#
# Normalise both sets of rows, form the `[n_true, n_learned]` matrix of cosines, take the max over the learned
# axis, then the mean.
#
# </details>

# %% nbgrader={"grade": false, "grade_id": "ex6_5_solution", "locked": false, "schema_version": 3, "solution": true}
def mean_max_cosine_similarity(learned: torch.Tensor, true: torch.Tensor) -> torch.Tensor:
    """For each true feature the best cosine with any learned row, averaged: -> scalar."""
    # YOUR CODE HERE
    raise NotImplementedError()


# %% nbgrader={"grade": true, "grade_id": "ex6_5_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false}
checks.check_mean_max_cosine_similarity(mean_max_cosine_similarity)

# %% nbgrader={"grade": true, "grade_id": "ex6_5_hidden", "locked": true, "points": 1, "schema_version": 3, "solution": false}

# %% [markdown]
# We train SAEs with 32 latents (twice the number of true features) on freshly drawn toy activations, one per L1
# coefficient. `mi_tutor.dictionary.SparseAutoencoder` implements your three functions; `train_sae` runs Adam,
# removes the parallel gradient and renormalises the decoder at every step.

# %% nbgrader={"grade": false, "grade_id": "fig6_toy_sweep", "locked": true, "schema_version": 3, "solution": false}
toy = zoo.load("tms_16in6", device=device)
true_features = toy.W.detach()[0]                                  # [16, 6]
true_features = true_features[true_features.norm(dim=-1) > 0.5]   # the learned features


def toy_activations(n: int, generator: torch.Generator) -> torch.Tensor:
    """Hidden activations [n, 6] of the toy model on fresh sparse features."""
    with torch.no_grad():
        return toy.hidden(toy.generate_batch(n, generator=generator))[:, 0]


eval_x = toy_activations(4096, torch.Generator(device=device).manual_seed(123))
l1_coeffs = [0.01, 0.03, 0.1, 0.3]
sweep = {"l0": [], "fve": [], "mmcs": [], "dead": []}
saes = {}
for coeff in l1_coeffs:
    sae = dl.SparseAutoencoder(dl.SAEConfig(d_in=6, d_sae=32, l1_coeff=coeff, seed=0)).to(device)
    dl.train_sae(sae, toy_activations, dl.SAETrainConfig(steps=1000, batch_size=512, lr=3e-3, seed=0))
    with torch.no_grad():
        x_hat, f = sae(eval_x)
    sweep["l0"].append(dl.l0_norm(f).item())
    sweep["fve"].append(dl.fraction_variance_explained(eval_x, x_hat).item())
    sweep["mmcs"].append(mean_max_cosine_similarity(sae.W_dec.detach(), true_features).item())   # Exercise 6.5
    sweep["dead"].append(int(dl.dead_latents(f).sum()))
    saes[coeff] = sae
for key, values in sweep.items():
    print(f"{key:5s}", [round(v, 3) for v in values])
fig, sweep_data = dl.plot_sparsity_sweep(l1_coeffs, sweep["l0"], sweep["fve"])
plt.show()
fig, recovery_data = dl.plot_feature_recovery(saes[0.1].W_dec.detach().cpu(), true_features.cpu())
plt.show()

# %% [markdown]
# **Figure.** First, L0 and variance explained across the L1 sweep; then the cosines between the true
# features (rows) and the decoder rows of the SAE trained with an L1 coefficient of 0.1 (columns). Notice
# the trade-off and the clean diagonal: the printed L0 falls from 6.087 to 1.221 while variance explained
# falls from 0.999 to 0.905, and at the third coefficient the mean max cosine similarity reaches 0.989.

# %% [markdown]
# Raising the L1 coefficient buys sparsity (L0 falls) at the cost of fidelity (variance explained falls). In
# between there is a sweet spot where the SAE finds the true features almost exactly: the heatmap of cosines
# between true features (rows) and decoder rows (columns) shows a clean diagonal, while the remaining latents
# stay dead or duplicate a feature. Too little L1 and latents stay dense mixtures; too much and the SAE would
# rather drop features than pay for them.

# %% nbgrader={"grade": false, "grade_id": "fig6_toy_check", "locked": true, "schema_version": 3, "solution": false}
checks.check_toy_recovery_result(mean_max_cosine_similarity(saes[0.1].W_dec.detach(), true_features),
                                saes[0.1].W_dec, true_features)
checks.check_l0_falls_result(sweep_data["l1_coeff"], sweep_data["l0"])

# %% [markdown]
# ## 4. Measuring an SAE
#
# Three numbers summarise an SAE on real data:
#
# - **L0**, the mean number of active latents per input: sparsity.
# - **Dead latents**, which never fire on a large batch. They waste capacity; *resampling* re-initialises them
#   towards inputs the SAE currently reconstructs badly.
# - **Fraction of variance explained**, $1 - \sum \lVert x - \hat x \rVert^2 / \sum \lVert x - \bar x \rVert^2$ with $\bar x$ the batch mean: 0 for a
#   reconstruction that only outputs the mean, 1 for a perfect one. On a model we also splice the SAE into the
#   forward pass and ask how much of the loss it keeps (**loss recovered**, section 5).

# %% [markdown]
# ### Exercise 6.6: fraction of variance explained
# **Difficulty:** ★★☆☆☆  **Importance:** ★★★☆☆
#
# Implement `fraction_variance_explained(x, x_hat)` for `x, x_hat: [batch, d]`, returning a scalar (0-d) tensor.
#
# <details><summary>Hint</summary>
#
# Explained variance compares the squared reconstruction error with the spread of `x` around its
# *own mean*, not around zero: centre only in the denominator.
#
# </details>

# %% nbgrader={"grade": false, "grade_id": "ex6_6_solution", "locked": false, "schema_version": 3, "solution": true}
def fraction_variance_explained(x: torch.Tensor, x_hat: torch.Tensor) -> torch.Tensor:
    """1 - sum ||x - x_hat||^2 / sum ||x - mean(x)||^2 over the batch: -> scalar."""
    # YOUR CODE HERE
    raise NotImplementedError()


# %% nbgrader={"grade": true, "grade_id": "ex6_6_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false}
checks.check_fraction_variance_explained(fraction_variance_explained)

# %% nbgrader={"grade": true, "grade_id": "ex6_6_hidden", "locked": true, "points": 1, "schema_version": 3, "solution": false}

# %% [markdown]
# ## 5. An SAE on a course CNN
#
# Now a real network: `convnet_shapes_s0`, the course's plain ConvNet that classifies disks, squares, triangles
# and bars in the shape world. We take its 64 global-average-pooled channels (layer `head.0`, the input of the
# classifier) on 6,000 rendered images, train an SAE with 256 latents on 4,000 of them (with resampling of dead
# latents) and keep 2,000 for evaluation.

# %% nbgrader={"grade": false, "grade_id": "fig6_cnn_sae", "locked": true, "schema_version": 3, "solution": false}
cnn = zoo.load("convnet_shapes_s0", device=device)
world = render_shapes(6000, seed=100)
acts = hooks.collect(cnn, world.images, ["head.0"], pool="mean")["head.0"]   # [6000, 64]
concepts, concept_names = dl.concept_matrix(world)                  # [6000, 10]: 4 shapes + 6 colours
train_acts, test_acts, test_concepts = acts[:4000], acts[4000:], concepts[4000:]
scale = (train_acts.norm(dim=-1).mean() / train_acts.shape[1] ** 0.5).item()   # unit RMS per channel
cnn_sae = dl.SparseAutoencoder(dl.SAEConfig(d_in=64, d_sae=256, l1_coeff=1.0, seed=0)).to(device)
cnn_result = dl.train_sae(cnn_sae, train_acts / scale, dl.SAETrainConfig(
    steps=1500, batch_size=256, lr=3e-3, resample_every=500, dead_window=300, seed=0))
with torch.no_grad():
    test_hat, test_latents = cnn_sae(test_acts.to(device) / scale)
test_latents = test_latents.cpu()
losses = dl.spliced_losses(cnn, cnn_sae, world.images[4000:], world.labels[4000:], "head.0", scale)
print(f"L0 {dl.l0_norm(test_latents):.2f}, dead latents {int(dl.dead_latents(test_latents).sum())} of 256, "
      f"variance explained {fraction_variance_explained(test_acts / scale, test_hat.cpu()):.3f}")
print(f"cross-entropy clean {losses['clean']:.3f}, with the SAE {losses['spliced']:.3f}, zeroed {losses['zero']:.3f}"
      f" -> loss recovered {dl.loss_recovered(losses['clean'], losses['spliced'], losses['zero']):.3f}")
fig, training_data = dl.plot_training(cnn_result.history)
plt.show()

# %% [markdown]
# **Figure.** The training curves of the SAE on the CNN's head activations. The printed numbers say how
# good the end result is: L0 6.75, variance explained 0.973 and loss recovered 0.922, but 192 of the 256
# latents are dead, so only a quarter of the dictionary is in use.

# %% [markdown]
# ### Monosemanticity, measured
#
# Are the SAE's latents easier to name than the CNN's channels? We need a number. Every image comes with labels:
# its shape kind and its colour, ten binary *concepts*. For a unit (neuron or latent) with activations `a_n`,
# define its **concept purity**
#
# $$\text{purity} = \max_c \frac{\sum_{n \text{ shows } c} a_n}{\sum_n a_n},$$
#
# the largest share of its total activation that lands on images of a single concept. A unit that fires only on
# red disks scores 1; one that fires on everything scores the commonest base rate (about 1/4); one that fires on
# "red or disk" lands in between. Units active on too few images are not scored (`nan`).

# %% [markdown]
# ### Exercise 6.7: concept purity
# **Difficulty:** ★★★☆☆  **Importance:** ★★★★☆
#
# Implement `concept_purity(acts, concepts, min_active)` for `acts: [n_inputs, n_units]` and
# `concepts: [n_inputs, n_concepts]` (bool). Clamp negative activations to 0 (on a copy: `acts` is left as it
# was). Return a tensor `[n_units]`, with `nan` for units active (`> 0`) on fewer than a fraction `min_active` of
# the inputs.
#
# <details><summary>Hint</summary>
#
# `acts.T @ concepts.float()` gives, for every unit and concept, the activation mass on that concept. Divide by
# the unit's total activation (clamped away from zero), take the max over concepts, then use `torch.where` to put
# `nan` where `(acts > 0).float().mean(0) < min_active`.
#
# </details>

# %% nbgrader={"grade": false, "grade_id": "ex6_7_solution", "locked": false, "schema_version": 3, "solution": true}
def concept_purity(acts: torch.Tensor, concepts: torch.Tensor, min_active: float = 0.01) -> torch.Tensor:
    """Largest share of each unit's activation on one concept: [n_inputs, n_units] -> [n_units]."""
    # YOUR CODE HERE
    raise NotImplementedError()


# %% nbgrader={"grade": true, "grade_id": "ex6_7_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false}
checks.check_concept_purity(concept_purity)

# %% nbgrader={"grade": true, "grade_id": "ex6_7_hidden", "locked": true, "points": 2, "schema_version": 3, "solution": false}

# %% nbgrader={"grade": false, "grade_id": "fig6_purity", "locked": true, "schema_version": 3, "solution": false}
neuron_purity = concept_purity(test_acts, test_concepts)                 # your Exercise 6.7
latent_purity = concept_purity(test_latents, test_concepts)
fig, purity_data = dl.plot_purity(neuron_purity, latent_purity)
plt.show()
fig, concept_data = dl.plot_latent_concepts(test_latents, test_concepts, concept_names, n_units=12)
plt.show()

# %% [markdown]
# **Figure.** First, the distributions of concept purity for the CNN's channels and for the SAE's latents;
# then the concepts on which the twelve most active latents fire. Notice that the latent distribution sits
# to the right; the check below prints a purity of 0.75 for the 26 latents against 0.45 for the 57
# neurons.

# %% [markdown]
# The CNN's channels spread their activation over many shapes and colours: each is a mixture. The SAE's latents
# concentrate theirs, and the heatmap shows what each of the most active latents is about: typically one shape
# kind, sometimes one shape in one colour. The dictionary has pulled apart what the neurons had superposed.
# The check compares the two distributions through their data.

# %% nbgrader={"grade": false, "grade_id": "fig6_purity_check", "locked": true, "schema_version": 3, "solution": false}
checks.check_monosemanticity_result(neuron_purity, latent_purity)

# %% [markdown] nbgrader={"grade": true, "grade_id": "written6_1", "locked": false, "points": 2, "schema_version": 3, "solution": true}
# **Written question.** Our purity score says the SAE latents are "more monosemantic" than the CNN's channels.
# Give two reasons to be cautious about that conclusion (think about what the measure rewards, which concepts
# it can see, and what the SAE costs the model), and propose one extra measurement that would make the claim
# stronger.
#
# YOUR ANSWER HERE

# %% nbgrader={"grade": false, "grade_id": "results", "locked": true, "schema_version": 3, "solution": false}
# The numbers this lesson measured, for the table that ends its page on the course site.
from mi_tutor.course.results import record

record("mean max cosine similarity of the toy SAE's dictionary with the true features",
       mean_max_cosine_similarity(saes[0.1].W_dec.detach(), true_features))
record("toy SAE L0 at the smallest and largest L1 coefficient", f"{sweep['l0'][0]:.2f} and {sweep['l0'][-1]:.2f}")
record("CNN SAE: variance explained", fraction_variance_explained(test_acts / scale, test_hat.cpu()))
record("CNN SAE: loss recovered", dl.loss_recovered(losses["clean"], losses["spliced"], losses["zero"]))
record("mean concept purity of SAE latents and of neurons",
       f"{float(latent_purity[~latent_purity.isnan()].mean()):.2f} and "
       f"{float(neuron_purity[~neuron_purity.isnan()].mean()):.2f}")


# %% [markdown]
# ## Summary
#
# - An SAE writes each activation as a sparse, non-negative combination of dictionary directions; the L1
#   penalty (weighted by decoder norms) sets the trade-off between **L0** and **variance explained**.
# - Decoder rows are kept at unit norm; the parallel gradient component is removed first.
# - Dead latents waste capacity; **resampling** points them at badly reconstructed inputs.
# - On a toy model in superposition an SAE recovers the true features (MMCS near 1) at a well-chosen L1.
# - On a CNN, SAE latents are purer than neurons on labelled concepts, while keeping most of the model's loss
#   (**loss recovered**): a first, cautious step from polysemantic neurons to monosemantic features.
#
# ## Further reading
#
# - T. Bricken et al., [Towards Monosemanticity: Decomposing Language Models With Dictionary Learning](https://transformer-circuits.pub/2023/monosemantic-features/index.html), 2023.
# - L. Sharkey, D. Braun, B. Millidge, [Taking features out of superposition with sparse autoencoders](https://www.alignmentforum.org/posts/z6QQJbtpkEAX3Aojj/interim-research-report-taking-features-out-of-superposition), 2022 (the MMCS test on toy data).
# - H. Cunningham et al., [Sparse Autoencoders Find Highly Interpretable Features in Language Models](https://arxiv.org/abs/2309.08600), 2023.
# - A. Templeton et al., [Scaling Monosemanticity](https://transformer-circuits.pub/2024/scaling-monosemanticity/index.html), 2024.
