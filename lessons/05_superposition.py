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
# # Lesson 5: Superposition
#
# **Central claim.** A ReLU model stores more sparse features than it has dimensions, in regular
# geometries (antipodal pairs, pentagons) whose dimensions per feature stick at 1 and 1/2.
#
# **Learning objectives**
#
# - Build the ReLU output toy model $x' = \mathrm{ReLU}(W^\top W x + b)$ and train many copies of it at once.
# - See how *sparsity* and *importance* decide whether a network stores more features than it has dimensions.
# - Measure the geometry of the stored features: norms, interference, feature dimensionality, dimensions per feature.
# - Read a phase diagram, and count polysemantic neurons in a model whose hidden layer has a privileged basis.
#
# **Prerequisites:** lessons 1-2 (hooks, features as directions); PyTorch tensors, `einsum`, a training loop.
#
# **Estimated time:** 2 hours (the notebook itself executes in about a minute on a laptop CPU).
#
# Lesson 2 treated features as directions in activation space. If every feature had its own neuron, reading a
# network would be easy. In practice we meet *polysemantic* neurons that fire for unrelated things. One
# explanation is **superposition**: a layer with `m` dimensions can store more than `m` features if it accepts
# some interference between them, and the interference is cheap when features are rarely active together. Here we
# reproduce the core experiments of *Toy Models of Superposition* (Elhage et al., 2022) on tiny models, small
# enough to train in seconds and to inspect completely.

# %% nbgrader={"grade": false, "grade_id": "setup", "locked": true, "schema_version": 3, "solution": false}
from mi_tutor.course.setup import setup_lesson

device = setup_lesson(seed=0)
import matplotlib.pyplot as plt
import torch

from mi_tutor import zoo
from mi_tutor import superposition as sp
from mi_tutor.checks import lesson05 as checks

# %% [markdown]
# ## 1. Sparse features with importance
#
# The toy world has `n` features. Each one is zero most of the time: it is "on" with the *feature probability*
# `p` (the paper writes the sparsity as $S = 1 - p$), and when on it takes a value drawn uniformly from `[0, 1]`.
# Features also differ in *importance* `I_j`: how much the loss cares about getting feature `j` right.
#
# To study how behaviour changes with `p`, we train many models side by side. Every tensor carries an
# **instances** axis: instance `k` is an independent model with its own weights and its own feature probability.
# A batch therefore has shape `[batch, n_instances, n_features]`.

# %% [markdown]
# ### Exercise 5.1: generate sparse features
# **Difficulty:** ★★☆☆☆  **Importance:** ★★★☆☆
#
# Write `generate_batch(n_batch, feature_probability)` where `feature_probability` has shape
# `[n_instances, n_features]`. Return a float tensor `[n_batch, n_instances, n_features]` in which every entry is,
# independently, a `U[0, 1]` value with probability `feature_probability[i, f]` and `0` otherwise. Create the
# tensor on the device of `feature_probability`. Like every exercise of this lesson, it returns a new tensor and
# leaves its arguments as they were (no in-place edits such as `p *= ...`).
#
# <details><summary>Hint</summary>
#
# Two independent random draws per entry: whether the feature is on (compare a uniform number with
# its probability, which broadcasts over the batch axis) and its value when it is on. Drawing both on
# the device of the probabilities keeps everything in one place.
#
# </details>

# %% nbgrader={"grade": false, "grade_id": "ex5_1_solution", "locked": false, "schema_version": 3, "solution": true}
def generate_batch(n_batch: int, feature_probability: torch.Tensor) -> torch.Tensor:
    """Sparse features [n_batch, n_instances, n_features]; feature_probability is [n_instances, n_features]."""
    # YOUR CODE HERE
    raise NotImplementedError()


# %% nbgrader={"grade": true, "grade_id": "ex5_1_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false}
checks.check_generate_batch(generate_batch)


# %% nbgrader={"grade": true, "grade_id": "ex5_1_hidden", "locked": true, "points": 1, "schema_version": 3, "solution": false}

# %% [markdown]
# ## 2. The ReLU output model
#
# The model compresses $x \in \mathbb{R}^n$ into $h = W x \in \mathbb{R}^m$ ($m < n$) and decodes with the transpose:
# $x' = \mathrm{ReLU}(W^\top h + b)$. We store `W` as `[n_instances, n_features, d_hidden]`, so row `W[k, j]` is the direction
# in which instance `k` embeds feature `j`, and
#
# $$x'_j = \mathrm{ReLU}\Big(\sum_k (W_j \cdot W_k)\, x_k + b_j\Big).$$
#
# The term $k = j$ reads the feature back; the terms $k \ne j$ are *interference*. The final ReLU and a negative
# bias can filter out small interference, which is what makes superposition pay off.

# %% [markdown]
# ### Exercise 5.2: the forward pass
# **Difficulty:** ★★☆☆☆  **Importance:** ★★★★☆
#
# Implement `toy_forward(W, b, x)` with `W: [n_instances, n_features, d_hidden]`, `b: [n_instances, n_features]`
# and `x: [batch, n_instances, n_features]`; return a tensor `[batch, n_instances, n_features]`. Training
# differentiates through this forward pass, so the gradient must reach `W` and `b`: no `torch.no_grad()`,
# `.detach()` or `.item()` on the way.
#
# <details><summary>Hint</summary>
#
# Two `torch.einsum` calls: one maps features to hidden dimensions (`"bif,ifh->bih"`), the other maps back.
# Add the bias before the ReLU.
#
# </details>

# %% nbgrader={"grade": false, "grade_id": "ex5_2_solution", "locked": false, "schema_version": 3, "solution": true}
def toy_forward(W: torch.Tensor, b: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """x' = ReLU(W^T W x + b) per instance: W [i, f, h], b [i, f], x [batch, i, f] -> [batch, i, f]."""
    # YOUR CODE HERE
    raise NotImplementedError()


# %% nbgrader={"grade": true, "grade_id": "ex5_2_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false}
checks.check_toy_forward(toy_forward)


# %% nbgrader={"grade": true, "grade_id": "ex5_2_hidden", "locked": true, "points": 2, "schema_version": 3, "solution": false}

# %% [markdown]
# ### Exercise 5.3: the importance-weighted loss
# **Difficulty:** ★☆☆☆☆  **Importance:** ★★★☆☆
#
# The loss of instance `k` is the mean, over the batch and the features, of $I_{k,j}\,(x_j - x'_j)^2$. Implement
# `importance_weighted_loss(x, x_hat, importance)` returning one loss per instance, shape `[n_instances]`
# (`importance` is `[n_instances, n_features]`). Training minimises the *sum* over instances: instances share no
# parameters, so each one receives exactly its own gradient. The result must therefore keep the gradient to
# `x_hat` (no `torch.no_grad()`, `.detach()` or `.item()`).
#
# <details><summary>Hint</summary>
#
# `importance` broadcasts against `[batch, n_instances, n_features]` as it is. Reduce with `.mean(dim=(0, 2))`.
#
# </details>

# %% nbgrader={"grade": false, "grade_id": "ex5_3_solution", "locked": false, "schema_version": 3, "solution": true}
def importance_weighted_loss(x: torch.Tensor, x_hat: torch.Tensor, importance: torch.Tensor) -> torch.Tensor:
    """Per-instance loss [n_instances] from x, x_hat [batch, i, f] and importance [i, f]."""
    # YOUR CODE HERE
    raise NotImplementedError()


# %% nbgrader={"grade": true, "grade_id": "ex5_3_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false}
checks.check_importance_weighted_loss(importance_weighted_loss)

# %% nbgrader={"grade": true, "grade_id": "ex5_3_hidden", "locked": true, "points": 1, "schema_version": 3, "solution": false}

# %% [markdown]
# ## 3. Five features in two dimensions
#
# Now we train ten instances of a model with 5 features, 2 hidden dimensions and importances $0.9^j$. The
# feature probability runs from 1 (dense) to 0.05 (sparse), log-spaced. `mi_tutor.superposition.ToyModel`
# wraps the same forward pass and loss as your functions, and `train_toy_model` trains all instances at once
# with Adam, showing a progress bar. A short run shows the idea: every instance's loss falls.

# %% nbgrader={"grade": false, "grade_id": "fig5_train_demo", "locked": true, "schema_version": 3, "solution": false}
probabilities = sp.log_spaced(1.0, 0.05, 10)
importance = sp.importance_decay(5, 0.9)
demo = sp.ToyModel(sp.ToyModelConfig(n_features=5, d_hidden=2, n_instances=10),
                   importance=importance, feature_probability=probabilities).to(device)
demo_result = sp.train_toy_model(demo, sp.ToyTrainConfig(steps=300, lr=1e-2, seed=0))
plt.plot(demo_result.losses)
plt.yscale("log")
plt.xlabel("step / 50")
plt.ylabel("loss of each instance")
plt.show()

# %% [markdown]
# **Figure.** The training loss of each of the ten instances over a short 300-step demo run, on a log
# scale. Notice that every loss falls within the first hundred steps and then flattens, at levels more
# than an order of magnitude apart from instance to instance; the cell prints no number, and the trained
# run is what the next cell loads.

# %% [markdown]
# A full run (4,000 steps) takes about half a minute on a laptop, so the course ships it in its model zoo;
# `mi-tutor zoo train tms_5in2` reproduces it from its seed. We load it and draw every instance's features.

# %% nbgrader={"grade": false, "grade_id": "fig5_5in2", "locked": true, "schema_version": 3, "solution": false}
model_5in2 = zoo.load("tms_5in2", device=device)
W_5in2 = model_5in2.W.detach().cpu()
labels = [f"p = {p:.2f}" for p in probabilities]
fig, features_data = sp.plot_features_2d(W_5in2, labels, importance)
plt.show()
fig, gram_data = sp.plot_gram(W_5in2, labels)
plt.show()

# %% [markdown]
# **Figure.** Each spoke is a feature's direction `W_j`; darker spokes are more important features. On dense data (left) the
# model behaves like PCA: it keeps the two most important features on orthogonal axes and drops the rest. As the
# data gets sparser it squeezes in a third, a fourth and finally all five features, which settle on a **regular
# pentagon**. In the $W W^\top$ heatmaps the off-diagonal entries, the interference, appear exactly when features
# share the plane. The check below reads those numbers, not the picture.
# In numbers, from the check: on dense data features 0 and 1 are kept and orthogonal; on sparse data all
# five form a pentagon with norms near 1 and about 2/5 of a dimension each.

# %% nbgrader={"grade": false, "grade_id": "fig5_pentagon", "locked": true, "schema_version": 3, "solution": false}
checks.check_pentagon_result(W_5in2, probabilities)

# %% [markdown]
# ## 4. The geometry of superposition
#
# How much of a dimension does a feature get? The paper defines the **feature dimensionality**
#
# $$D_j = \frac{\lVert W_j \rVert^2}{\sum_k (\hat W_j \cdot W_k)^2},$$
#
# where $\hat W_j$ is the unit vector of $W_j$ and the sum includes $k = j$. The numerator says how much the feature is
# represented; the denominator how many features share its direction. A feature with a dimension to itself gets
# 1; each member of an antipodal pair ($W_k = -W_j$) gets 1/2; a pentagon in a plane gives 2/5 each; an unlearned
# feature gets 0.

# %% [markdown]
# ### Exercise 5.4: feature dimensionality
# **Difficulty:** ★★★☆☆  **Importance:** ★★★★☆
#
# Implement `feature_dimensionality(W)` for `W` of shape `[..., n_features, d_hidden]` (any number of leading
# axes), returning `[..., n_features]`. A feature with $W_j = 0$ must give 0, not NaN.
#
# <details><summary>Hint</summary>
#
# `W @ W.mT` gives all dot products $W_j \cdot W_k$. Dividing row `j` by $\lVert W_j \rVert$ (clamped away from zero) turns them
# into $\hat W_j \cdot W_k$. Square, sum over $k$, and divide $\lVert W_j \rVert^2$ by the result, again clamping the denominator.
#
# </details>

# %% nbgrader={"grade": false, "grade_id": "ex5_4_solution", "locked": false, "schema_version": 3, "solution": true}
def feature_dimensionality(W: torch.Tensor) -> torch.Tensor:
    """D_j = ||W_j||^2 / sum_k (W_j_hat . W_k)^2 for W [..., n_features, d_hidden] -> [..., n_features]."""
    # YOUR CODE HERE
    raise NotImplementedError()


# %% nbgrader={"grade": true, "grade_id": "ex5_4_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false}
checks.check_feature_dimensionality(feature_dimensionality)


# %% nbgrader={"grade": true, "grade_id": "ex5_4_hidden", "locked": true, "points": 2, "schema_version": 3, "solution": false}

# %% [markdown]
# ### Exercise 5.5: dimensions per feature
# **Difficulty:** ★☆☆☆☆  **Importance:** ★★★☆☆
#
# A whole-model summary is $D^* = m / \lVert W \rVert_F^2$: with unit-norm features, the number of hidden dimensions divided by
# the number of features stored. Implement `dimensions_per_feature(W)`: `[..., n_features, d_hidden] -> [...]`,
# a tensor with one number per instance (0-d for a single `W` of shape `[n_features, d_hidden]`).
#
# <details><summary>Hint</summary>
#
# `m` is `W.shape[-1]`; the squared Frobenius norm sums `W ** 2` over the last two axes.
#
# </details>

# %% nbgrader={"grade": false, "grade_id": "ex5_5_solution", "locked": false, "schema_version": 3, "solution": true}
def dimensions_per_feature(W: torch.Tensor) -> torch.Tensor:
    """m / ||W||_F^2 per instance: [..., n_features, d_hidden] -> [...]."""
    # YOUR CODE HERE
    raise NotImplementedError()


# %% nbgrader={"grade": true, "grade_id": "ex5_5_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false}
checks.check_dimensions_per_feature(dimensions_per_feature)

# %% nbgrader={"grade": true, "grade_id": "ex5_5_hidden", "locked": true, "points": 1, "schema_version": 3, "solution": false}

# %% [markdown]
# ### Sticky fractions
#
# A larger model shows the geometry best: 100 features in 10 dimensions, all of importance 1, twenty instances
# from $p = 1$ down to $p = 0.05$. Training it takes minutes, so it ships in the course zoo (its recipe is
# `mi-tutor zoo train tms_dimensionality`). The black line is $D^*$ per instance; the dots are the feature
# dimensionalities of the learned features; dotted lines mark the fractions the paper highlights (1, 3/4, 2/3,
# 1/2, 2/5, 3/8).

# %% nbgrader={"grade": false, "grade_id": "fig5_dimensionality", "locked": true, "schema_version": 3, "solution": false}
model_dims = zoo.load("tms_dimensionality", device=device)
probabilities_dims = model_dims.feature_probability[:, 0].cpu()
fig, dims_data = sp.plot_dimensionality(model_dims.W.detach().cpu(), probabilities_dims)
plt.show()
dims_yours = dimensions_per_feature(model_dims.W.detach().cpu())          # your Exercise 5.5
print("dimensions per feature (yours):", [round(v, 2) for v in dims_yours.tolist()])

# %% [markdown]
# **Figure.** Instead of falling smoothly, $D^*$ *sticks*: at 1 while the data is dense (each learned feature owns a
# dimension), then at 1/2 over a range of sparsities, where features are stored as antipodal pairs, before it
# falls further. The dots cluster on a few fractions rather than spreading out: superposition organises
# features into a few regular geometric configurations.
# The printed values back it: 1.01, 0.99 and 0.96 for the densest instances, then 0.54, 0.52, 0.49 and
# 0.49 near 1/2; the check counts 3 instances at 1 and 4 at 1/2.

# %% nbgrader={"grade": false, "grade_id": "fig5_sticky", "locked": true, "schema_version": 3, "solution": false}
checks.check_sticky_dimensionality_result(dims_yours, probabilities_dims)

# %% [markdown]
# ## 5. A phase diagram
#
# The simplest case with a choice: 2 features in 1 dimension. Feature 0 has importance 1, the *extra* feature 1 a
# relative importance `r`; both share the density `p`. The model can drop the extra feature ($W \approx [1, 0]$), give
# the dimension to it instead ($W \approx [0, 1]$), or store both as an antipodal pair ($W \approx [1, -1]$). The zoo holds
# the trained grid: 9 values of `r` × 9 densities × 4 repeats, 324 instances of one batched model; we keep the
# repeat with the lowest loss at every grid point.

# %% [markdown]
# ### Exercise 5.6: classify the phase
# **Difficulty:** ★★☆☆☆  **Importance:** ★★★☆☆
#
# Implement `classify_phase(W)` for `W` of shape `[..., 2, 1]`, returning a `torch.long` tensor `[...]`. A feature
# is *learned* when $\lvert W_j \rvert \ge 0.5$. Return 0 (*not learned*) when only feature 0 is learned, 1 (*dedicated
# dimension*) when only feature 1 is learned, 2 (*antipodal*) when both are learned with opposite signs, and -1
# otherwise.
#
# <details><summary>Hint</summary>
#
# Start from "every instance is -1" and overwrite it with the three cases, each a boolean mask
# built from the two features' weights: learned means a large enough magnitude, antipodal means both
# learned and their product negative. The result keeps the leading axes of `W` and is an integer tensor.
#
# </details>

# %% nbgrader={"grade": false, "grade_id": "ex5_6_solution", "locked": false, "schema_version": 3, "solution": true}
def classify_phase(W: torch.Tensor) -> torch.Tensor:
    """Phase codes [...] (0 not learned, 1 dedicated, 2 antipodal, -1 other) of W [..., 2, 1]."""
    # YOUR CODE HERE
    raise NotImplementedError()


# %% nbgrader={"grade": true, "grade_id": "ex5_6_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false}
checks.check_classify_phase(classify_phase)

# %% nbgrader={"grade": true, "grade_id": "ex5_6_hidden", "locked": true, "points": 1, "schema_version": 3, "solution": false}

# %% nbgrader={"grade": false, "grade_id": "fig5_phase", "locked": true, "schema_version": 3, "solution": false}
model_phase = zoo.load("tms_phase_2in1", device=device)
diagram = sp.phase_diagram_from_model(model_phase, sp.evaluate_loss(model_phase))
diagram.phases = classify_phase(diagram.W)                                 # your Exercise 5.6 labels the grid
fig, phase_data = sp.plot_phase_diagram(diagram)
plt.show()
print(phase_data["counts"])

# %% [markdown]
# **Figure.** Reading the diagram: on dense data (left) there is no room to share, so the more important feature wins the
# dimension, the original one below $r = 1$ and the extra one above it. As the features get sparser, the
# antipodal pair takes over: when two features are rarely on together, storing both with opposite signs costs
# little, because the ReLU removes the negative interference. The boundary moves with the importance ratio.
# The printed counts: 59 of the 81 points of the grid store an antipodal pair, 12 give one feature a
# dedicated dimension and 10 learn nothing.

# %% nbgrader={"grade": false, "grade_id": "fig5_phase_check", "locked": true, "schema_version": 3, "solution": false}
checks.check_phase_diagram_result(phase_data["phases"], phase_data["importances"], phase_data["densities"])

# %% [markdown]
# ## 6. A privileged basis and polysemantic neurons
#
# In the model so far the hidden space has no preferred directions: rotating `W` changes nothing, so "neuron 3"
# means nothing. Put a ReLU on the hidden layer, $x' = \mathrm{ReLU}(W^\top \mathrm{ReLU}(W x) + b)$, and the basis becomes privileged:
# each hidden unit is now a neuron whose activation we can read. Do neurons then carry one feature each?
#
# The zoo model `tms_privileged` holds 10 features (importance $0.75^j$) trained into 5 neurons at three
# densities, six runs each; we keep the run with the lowest loss at each density.

# %% [markdown]
# ### Exercise 5.7: count the features of each neuron
# **Difficulty:** ★★☆☆☆  **Importance:** ★★★☆☆
#
# Implement `neuron_feature_counts(W, threshold)` for `W` of shape `[..., n_features, d_hidden]`: for every
# neuron (last axis) count the features whose weight is at least `threshold`. Return an integer tensor
# `[..., d_hidden]`. A neuron with a count of 2 or more is *polysemantic*.
#
# <details><summary>Hint</summary>
#
# Compare `W >= threshold` and sum over the features axis (`dim=-2`). Negative weights only silence a neuron
# behind the hidden ReLU, so they do not count.
#
# </details>

# %% nbgrader={"grade": false, "grade_id": "ex5_7_solution", "locked": false, "schema_version": 3, "solution": true}
def neuron_feature_counts(W: torch.Tensor, threshold: float = 0.5) -> torch.Tensor:
    """Number of features with weight >= threshold on each neuron: [..., n_features, d_hidden] -> [..., d_hidden]."""
    # YOUR CODE HERE
    raise NotImplementedError()


# %% nbgrader={"grade": true, "grade_id": "ex5_7_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false}
checks.check_neuron_feature_counts(neuron_feature_counts)

# %% nbgrader={"grade": true, "grade_id": "ex5_7_hidden", "locked": true, "points": 1, "schema_version": 3, "solution": false}

# %% nbgrader={"grade": false, "grade_id": "fig5_privileged", "locked": true, "schema_version": 3, "solution": false}
probabilities_relu = torch.tensor([1.0, 0.1, 0.01])
n_repeats = 6                              # 6 runs per density, instances ordered density by density
model_relu = zoo.load("tms_privileged", device=device)
best = sp.best_repeats(sp.evaluate_loss(model_relu), n_repeats)
W_relu = model_relu.W.detach().cpu()[best]
fig, neuron_data = sp.plot_neuron_weights(W_relu, [f"p = {p:.2f}" for p in probabilities_relu])
plt.show()
polysemantic = (neuron_feature_counts(W_relu) >= 2).sum(-1)              # your Exercise 5.7
print("features per neuron:", neuron_data["features_per_neuron"].tolist())
print("polysemantic neurons per model:", polysemantic.tolist())

# %% [markdown]
# **Figure.** On dense data the model keeps only the five most important features, one per dimension, and most neurons
# carry a single feature: the best-trained runs line each feature up with its own neuron, because a rotated
# arrangement would send negative values into the hidden ReLU and lose information. (Runs that are not yet fully
# converged still show a mixed neuron or two.) As sparsity rises the same five neurons carry all ten features,
# and nearly every neuron responds strongly to several unrelated features: polysemanticity, appearing exactly
# where superposition pays off.
# The printed counts back it: 1 polysemantic neuron of 5 at $p = 1$, 4 at $p = 0.1$ and all 5 at
# $p = 0.01$.

# %% nbgrader={"grade": false, "grade_id": "fig5_polysemantic", "locked": true, "schema_version": 3, "solution": false}
checks.check_polysemantic_counts_result(polysemantic, probabilities_relu, W_relu)

# %% [markdown] nbgrader={"grade": true, "grade_id": "written5_1", "locked": false, "points": 2, "schema_version": 3, "solution": true}
# **Written question.** The pentagon appears only when features are sparse. Explain, using the interference
# terms $(W_j \cdot W_k)\, x_k$ and the output ReLU, why storing five features in two dimensions hurts the loss on dense
# data but helps on sparse data. Then say what this predicts for a neuron in a real vision model whose inputs are
# rarely active together (for instance the cat-face and car-front detectors that share one neuron).
#
# YOUR ANSWER HERE

# %% nbgrader={"grade": false, "grade_id": "results", "locked": true, "schema_version": 3, "solution": false}
# The numbers this lesson measured, for the table that ends its page on the course site.
from mi_tutor.course.results import record

record("dimensionality of each of 5 features in 2 dimensions, sparsest density",
       feature_dimensionality(W_5in2[probabilities.argmin()]).mean(), paper="2/5 = 0.4, a pentagon (Elhage et al. 2022)")
_near = lambda v: int(((dims_yours - v).abs() < 0.05).sum())  # noqa: E731
record("instances at 1 and at 1/2 dimension per feature (within 0.05)", f"{_near(1.0)} and {_near(0.5)}",
       paper="sticks at 1 and 1/2 (Elhage et al. 2022)")
record("2-in-1 phase diagram: not learned, dedicated dimension, antipodal pair",
       ", ".join(str(phase_data["counts"][k]) for k in ("not learned", "dedicated dimension", "antipodal pair")))
record("polysemantic neurons (of 5) at feature probability 1 and 0.01",
       f"{int(polysemantic[0])} and {int(polysemantic[-1])}")


# %% [markdown]
# ## Summary
#
# - A layer can store more features than dimensions by accepting interference; a ReLU after the read-out filters
#   small interference, so **sparsity** makes superposition cheap and **importance** decides what is kept.
# - Training many **instances** at once turns a sweep over sparsity into one batched model.
# - Features arrange in regular geometries: orthogonal pairs when dense, antipodal pairs, pentagons. Feature
#   dimensionality and dimensions per feature measure this; the latter **sticks** at 1 and 1/2.
# - The 2-in-1 **phase diagram** has three regions: not learned, dedicated dimension, antipodal pair.
# - With a **privileged basis**, superposition shows up as **polysemantic neurons**: lesson 6 asks how to pull
#   the features back out of them.
#
# ## Further reading
#
# - N. Elhage et al., [Toy Models of Superposition](https://transformer-circuits.pub/2022/toy_model/index.html),
#   Transformer Circuits Thread, 2022.
# - C. Olah et al., [Zoom In: An Introduction to Circuits](https://distill.pub/2020/circuits/zoom-in/), Distill,
#   2020 (polysemantic neurons and the superposition hypothesis).
# - T. Henighan et al., [Superposition, Memorization, and Double Descent](https://transformer-circuits.pub/2023/toy-double-descent/index.html), 2023.
