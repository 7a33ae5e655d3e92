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
# # Lesson 7: Universality: do different networks learn the same features?
#
# "Zoom In" (Olah et al. 2020) ends with its boldest claim: **analogous features and circuits
# form across models and tasks**. Curve detectors were found in AlexNet, InceptionV1, VGG19 and
# ResNet; Gabor-like filters appear in nearly every first layer. The authors call it a hypothesis
# on weak evidence. In lessons 2 to 4 you found edge and curve detectors in one net at a time;
# in this lesson you *measure* how alike whole representations are: across random seeds of one
# architecture, across architectures, across tasks, and even across modalities, with a text model
# that has never seen an image.
#
# The tools are the ones the literature uses: **CKA** (Kornblith et al. 2019), which compares two
# representations of the same inputs without needing their units to line up; **unit matching**
# (Li et al. 2016), which pairs each unit of one net with a unit of another; **mutual
# nearest neighbours** (Huh et al. 2024, the "Platonic Representation Hypothesis"); and **model
# stitching** (Lenc & Vedaldi 2015, Bansal et al. 2021), which plugs the bottom of one net into
# the top of another.
#
# **Central claim.** Nets of other seeds and architectures learn similar representations, but set
# beside untrained nets and a bag of words, training accounts for little of that similarity here.
#
# **Learning objectives.** After this lesson you can
#
# - compute CKA from its definition (HSIC of centred Gram matrices), in its fast feature-space form,
#   and in its debiased form, and say which invariances make it a good similarity index;
# - build a layer-correspondence map between two nets and use it to identify layers across seeds;
# - match units across nets one-to-one and read the matched correlations layer by layer;
# - measure mutual k-nearest-neighbour alignment and compare it with its chance level;
# - stitch two nets with a trained 1x1 convolution;
# - weigh the evidence for universality with numbers you measured yourself, each beside its control.
#
# **Prerequisites.** Lesson 1 (hooks), lesson 2 (units and directions), lesson 4 (curve detectors).
# Linear algebra: traces, Frobenius norms, orthogonal matrices.
#
# **Estimated time.** 3 hours. The notebook itself executes in about a minute on a laptop CPU.
#
# **How this works.** Each exercise has a difficulty (★ easy to ★★★★★ hard), a hint you can unfold,
# a visible test you can run, and hidden tests the grader adds (other shapes, seeds and edge cases).
# Write your code between the lines of the solution cells and replace `raise NotImplementedError()`.

# %% nbgrader={"grade": false, "grade_id": "setup", "locked": true, "schema_version": 3, "solution": false}
from mi_tutor.course.setup import setup_lesson

device = setup_lesson(seed=0, threads=1)  # small nets: one thread beats two on a shared CPU

import time

import matplotlib.pyplot as plt
import torch
from torch import nn

from mi_tutor import hooks
from mi_tutor import universality as un
from mi_tutor import zoo
from mi_tutor.checks import lesson07 as checks
from mi_tutor.vision.objects import OBJECT_KINDS, render_objects

print(f"Running on {device}")

# %% [markdown]
# ## 1. The nets and the images
#
# The zoo holds small CNNs trained on the **object world** (lesson 4): 64 x 64 scenes of cars,
# carts, heads, clocks, signs, houses, ladders, fences and arches drawn from parts, on textured
# backgrounds. We use
#
# - three **seeds** of one recipe: `plainnet_short_s0..2`, a plain conv net trained for 400 steps
#   on "which object is this?" (they differ only in their random initialisation and batch order);
# - three **architectures** trained on the same task with the zoo's full recipe:
#   `plainnet_objects_s0`, `resnet_objects_s0`, `vgg_objects_s0`;
# - one net trained on **another task** over the same world: `plainnet_count_s0` counts the objects;
# - **untrained** nets of each architecture (random weights from seed 0, and a second untrained plain
#   net from seed 1), as **controls**. A similarity between two nets means little until it is set
#   beside the same similarity between nets that learnt nothing, so every claim below is read as the
#   difference from its control (`zoo.untrained(name, seed)` builds one).
#
# Every net has four stages `layer1` ... `layer4` (post-ReLU feature maps at 64, 32, 16 and 8
# pixels) and a `head`. All comparisons use the same 400 held-out scenes in the same order; for
# each net and layer we keep the **channel means** over positions, a `[400, channels]` matrix.

# %%
SEED_NETS = [f"plainnet_short_s{s}" for s in (0, 1, 2)]
ARCH_NETS = {"plainnet": "plainnet_objects_s0", "resnet": "resnet_objects_s0", "vgg": "vgg_objects_s0"}
COUNT_NET = "plainnet_count_s0"
LAYERS = ["layer1", "layer2", "layer3", "layer4"]

scenes = render_objects(400, seed=10**6)
images, labels = scenes.images, scenes.labels
nets = {name: zoo.load(name, device=device) for name in SEED_NETS + list(ARCH_NETS.values()) + [COUNT_NET]}
random_nets = {f"{a}_random": zoo.untrained(name, seed=0, device=device) for a, name in ARCH_NETS.items()}
random_nets["plainnet_random_s1"] = zoo.untrained(ARCH_NETS["plainnet"], seed=1, device=device)  # a second untrained seed
feats = {name: hooks.collect(net, images, LAYERS + ["head"], pool="mean") for name, net in {**nets, **random_nets}.items()}
logits = {name: f.pop("head") for name, f in feats.items()}  # the same pass gives the outputs: each net runs once
own = {n: float((logits[n].argmax(-1).cpu() == labels).float().mean()) for n in nets if n != COUNT_NET}
for name in nets:
    print(f"{name:22s}", {k: v.shape[1] for k, v in feats[name].items()}, f"accuracy {own.get(name, float('nan')):.2f}")

# %% [markdown]
# ## 2. CKA from its definition
#
# Comparing two representations unit by unit fails at once: unit 5 of one net has no reason to be
# unit 5 of another. Kornblith et al. compare instead how each representation arranges the
# *examples*. For features `X` (`[n, d_x]`, rows are examples) take the Gram matrix $K = X X^\top$
# (`K[i, j]` is how alike examples `i` and `j` look to the net), likewise $L = Y Y^\top$, and ask
# how alike the two Gram matrices are after centring:
#
# $$\mathrm{HSIC}(K, L) = \frac{\operatorname{tr}(K H L H)}{(n - 1)^2}$$ with the centring matrix $H = I - \mathbf{1}\mathbf{1}^\top / n$, and
#
# $$\mathrm{CKA}(K, L) = \frac{\mathrm{HSIC}(K, L)}{\sqrt{\mathrm{HSIC}(K, K)\,\mathrm{HSIC}(L, L)}}.$$
#
# CKA is 1 when one representation is a rotation (or reflection) and a uniform scaling of the
# other, and it does not care how many features each side has.
#
# ### Exercise 7.1: CKA of two Gram matrices
# **Difficulty:** ★★☆☆☆  **Importance:** ★★★★☆
#
# Implement `cka_from_grams(K, L)` for two `[n, n]` Gram matrices; return a float.
#
# <details><summary>Hint</summary>
#
# Build `H` with `torch.eye` and `torch.ones`, in the dtype and on the device of `K`. The
# $(n - 1)^2$ appears in the numerator and in the denominator: it cancels. A trace of a product of
# two symmetric matrices is the sum of their element-wise product. Do not centre `K` in place:
# the caller's matrix must stay as it was.
#
# </details>

# %% nbgrader={"grade": false, "grade_id": "ex7_1_solution", "locked": false, "schema_version": 3, "solution": true}
def cka_from_grams(K: torch.Tensor, L: torch.Tensor) -> float:
    """CKA of two [n, n] Gram matrices: HSIC(K, L) / sqrt(HSIC(K, K) HSIC(L, L)), H-centred."""
    # YOUR CODE HERE
    raise NotImplementedError()


# %% nbgrader={"grade": true, "grade_id": "ex7_1_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false}
checks.check_cka_from_grams(cka_from_grams)

# %% nbgrader={"grade": true, "grade_id": "ex7_1_hidden", "locked": true, "points": 1, "schema_version": 3, "solution": false}

# %% [markdown]
# Kornblith et al.'s demo notebook prints a value for `np.random.seed(1337); X = randn(100, 10);
# Y = randn(100, 10) + X`. Your function should give the same number.

# %%
import numpy as np

rng = np.random.RandomState(1337)
X_demo = torch.tensor(rng.randn(100, 10))
Y_demo = torch.tensor(rng.randn(100, 10)) + X_demo
print(f"your CKA: {cka_from_grams(X_demo @ X_demo.T, Y_demo @ Y_demo.T):.5f}   Kornblith's demo: 0.55761")

# %% [markdown]
# ## 3. The feature-space form
#
# Two $n \times n$ Gram matrices cost $O(n^2)$ memory: at 10,000 examples that is 800 MB each in
# float64, and Kornblith's Gram-form code takes about 3 GB and tens of seconds (see
# `bench/results/cka.json`). For the linear kernel there is a shortcut. With centred `X` and `Y`,
# $\operatorname{tr}(X X^\top Y Y^\top) = \lVert Y^\top X \rVert_F^2$, so
#
# $$\text{linear CKA} = \frac{\lVert Y^\top X \rVert_F^2}{\lVert X^\top X \rVert_F\, \lVert Y^\top Y \rVert_F},$$
#
# which only needs $d \times d$ matrices.
#
# ### Exercise 7.2: linear CKA without an $n \times n$ matrix
# **Difficulty:** ★★☆☆☆  **Importance:** ★★★★★
#
# Implement `linear_cka(X, Y)` for `[n, d_x]` and `[n, d_y]` features in the feature-space form.
# The test watches every tensor your function creates and fails if one is $n \times n$.
#
# <details><summary>Hint</summary>
#
# Centring the Gram matrix is the same as centring the features: subtract each column's mean over
# the examples. Then you only ever multiply a transposed feature matrix by a feature matrix. Mind
# which norm is squared.
#
# </details>

# %% nbgrader={"grade": false, "grade_id": "ex7_2_solution", "locked": false, "schema_version": 3, "solution": true}
def linear_cka(X: torch.Tensor, Y: torch.Tensor) -> float:
    """Linear CKA of [n, d_x] and [n, d_y] features, feature-space form (no n x n matrix)."""
    # YOUR CODE HERE
    raise NotImplementedError()


# %% nbgrader={"grade": true, "grade_id": "ex7_2_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false}
checks.check_linear_cka(linear_cka)

# %% nbgrader={"grade": true, "grade_id": "ex7_2_hidden", "locked": true, "points": 2, "schema_version": 3, "solution": false}

# %% [markdown]
# The invariances that make CKA a sensible similarity index, checked on your function: an
# orthogonal map and a uniform scaling leave it at 1; a general invertible linear map does not
# (CCA, in contrast, is blind to every invertible map, which is why it cannot tell layers apart
# when they are wider than the number of examples).

# %%
g = torch.Generator().manual_seed(0)
Q, _ = torch.linalg.qr(torch.randn(10, 10, generator=g, dtype=torch.float64))
A = torch.randn(10, 10, generator=g, dtype=torch.float64)
print(f"CKA(X, XQ) = {linear_cka(X_demo, X_demo @ Q):.6f}, CKA(X, 1.337 X) = {linear_cka(X_demo, 1.337 * X_demo):.6f}, "
      f"CKA(X, XA) = {linear_cka(X_demo, X_demo @ A):.4f};  CCA(X, XA) = {un.cca(X_demo, X_demo @ A):.4f}")
n_big = 3000
Xb, Yb = torch.randn(n_big, 256, dtype=torch.float64), torch.randn(n_big, 256, dtype=torch.float64)
t0 = time.perf_counter()
fast = linear_cka(Xb, Yb)
t1 = time.perf_counter()
slow = un.cka_from_grams(un.gram_linear(Xb), un.gram_linear(Yb))  # Kornblith's Gram form (O(n^2) centring)
t2 = time.perf_counter()
print(f"n = {n_big}: feature space {t1 - t0:.3f} s, Gram form {t2 - t1:.2f} s; values {fast:.6f} and {slow:.6f}")

# %% [markdown]
# ## 4. Debiased CKA
#
# With few examples and wide layers, ordinary CKA is **biased upwards**: two unrelated random
# representations of 25 examples with 60 features score well above 0. The unbiased estimator of
# HSIC (Song et al. 2012) fixes this; Kornblith's code implements it by centring the Gram matrices
# differently:
#
# 1. set the diagonal of `K` to 0;
# 2. column means with $n - 2$ instead of $n$: $m = \sum_i K_{i\cdot} / (n - 2)$ (`K.sum(0) / (n - 2)`), then $m \leftarrow m - \sum_i m_i / (2 (n - 1))$;
# 3. `K = K - m[:, None] - m[None, :]`, and set the diagonal to 0 again.
#
# Debiased CKA is then the usual ratio of the element-wise products of the two centred matrices.
# It can be slightly negative.
#
# ### Exercise 7.3: debiased CKA
# **Difficulty:** ★★★☆☆  **Importance:** ★★★☆☆
#
# Implement `debiased_cka(X, Y)` for `[n, d]` features (n >= 4) with linear kernels. You may build
# the Gram matrices here (n is at most a few thousand in this lesson).
#
# <details><summary>Hint</summary>
#
# Write a helper that centres one Gram matrix the unbiased way and returns a new matrix
# (`fill_diagonal_` works in place, so use it on a copy). Then the same three sums as in
# exercise 7.1, without clamping anything to be positive.
#
# </details>

# %% nbgrader={"grade": false, "grade_id": "ex7_3_solution", "locked": false, "schema_version": 3, "solution": true}
def debiased_cka(X: torch.Tensor, Y: torch.Tensor) -> float:
    """Linear CKA from the unbiased HSIC estimator (Kornblith's debiased=True)."""
    # YOUR CODE HERE
    raise NotImplementedError()


# %% nbgrader={"grade": true, "grade_id": "ex7_3_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false}
checks.check_debiased_cka(debiased_cka)

# %% nbgrader={"grade": true, "grade_id": "ex7_3_hidden", "locked": true, "points": 2, "schema_version": 3, "solution": false}

# %%
g = torch.Generator().manual_seed(1)
bias_rows = []
for n_small in (25, 100, 400, 1600):
    Xr, Yr = torch.randn(n_small, 60, generator=g), torch.randn(n_small, 60, generator=g)
    bias_rows.append((n_small, linear_cka(Xr, Yr), debiased_cka(Xr, Yr)))
    print(f"unrelated features, n = {n_small:4d}: CKA {bias_rows[-1][1]:.3f}, debiased {bias_rows[-1][2]:+.3f}")

# %% [markdown]
# ## 5. Layer-correspondence maps
#
# Kornblith et al.'s test of a similarity index: compare every layer of net A with every layer of
# net B on the same images. For two seeds of one architecture, a good index finds each layer's
# counterpart at the **same depth**: with linear CKA they identified 99.3% of the layers of 10-layer
# CIFAR nets across 10 seeds, CCA only 1.4%.
#
# ### Exercise 7.4: correspondence map
# **Difficulty:** ★☆☆☆☆  **Importance:** ★★★★☆
#
# Implement `correspondence_map(features_a, features_b, similarity)`: two dicts
# `{layer: [n, d]}` and a function `similarity(X, Y) -> float`; return a float tensor
# `[len(features_a), len(features_b)]` whose entry `[i, j]` compares layer `i` of A with layer `j`
# of B, in the dicts' order.
#
# <details><summary>Hint</summary>
#
# Two nested loops over the dicts' values; rows belong to A. Use the function you are given: the
# grader passes one that counts its calls.
#
# </details>

# %% nbgrader={"grade": false, "grade_id": "ex7_4_solution", "locked": false, "schema_version": 3, "solution": true}
def correspondence_map(features_a: dict, features_b: dict, similarity) -> torch.Tensor:
    """[len(features_a), len(features_b)] similarities of every layer of A with every layer of B."""
    # YOUR CODE HERE
    raise NotImplementedError()


# %% nbgrader={"grade": true, "grade_id": "ex7_4_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false}
checks.check_correspondence_map(correspondence_map)


# %% nbgrader={"grade": true, "grade_id": "ex7_4_hidden", "locked": true, "points": 1, "schema_version": 3, "solution": false}

# %% [markdown]
# Maps across seeds (left) and across architectures (right), from your `correspondence_map` and
# `linear_cka`. A white dot marks each row's best match. Then layer identification over every
# ordered pair of the three seeds (and, for comparison, of the three architectures), and the seed
# map built with CCA on 2 x 2-pooled features instead (192 and 256 features in the deep layers).

# %% nbgrader={"grade": false, "grade_id": "fig7_correspondence", "locked": true, "schema_version": 3, "solution": false}
def cmap_of(a: str, b: str, similarity=linear_cka, fa=None, fb=None) -> un.CorrespondenceMap:
    fa, fb = fa or feats[a], fb or feats[b]
    return un.CorrespondenceMap(correspondence_map(fa, fb, similarity), list(fa), list(fb))


S0, S1 = SEED_NETS[0], SEED_NETS[1]
P, R, V = ARCH_NETS["plainnet"], ARCH_NETS["resnet"], ARCH_NETS["vgg"]
fig, axes = plt.subplots(1, 4, figsize=(17, 3.6))
un.plot_correspondence(cmap_of(S0, S1), "seeds: plainnet_short s0 vs s1", ax=axes[0])
un.plot_correspondence(cmap_of(P, R), "architectures: plainnet vs resnet", ax=axes[1])
un.plot_correspondence(cmap_of(P, V), "architectures: plainnet vs vgg", ax=axes[2])
un.plot_correspondence(cmap_of(P, COUNT_NET), "tasks: objects vs counting", ax=axes[3])
fig.tight_layout()

same_arch_maps = [cmap_of(a, b) for a in SEED_NETS for b in SEED_NETS if a != b]
identification = un.identification_accuracy(same_arch_maps)
cross_maps = [cmap_of(a, b) for a in ARCH_NETS.values() for b in ARCH_NETS.values() if a != b]
pooled = {name: hooks.collect(nets[name], images, LAYERS, pool=2) for name in (S0, S1)}
cca_map = cmap_of(S0, S1, lambda X, Y: un.cca(X, Y), pooled[S0], pooled[S1])
print(f"layer identification across seeds (linear CKA): {identification:.0%} of {4 * len(same_arch_maps)} cases; "
      f"across architectures: {un.identification_accuracy(cross_maps):.0%}")
print("CCA on 2x2-pooled features, seeds s0 vs s1 (rows s0, columns s1):\n", cca_map.values.numpy().round(3))
UNTRAINED_PAIR = ("plainnet_random", "plainnet_random_s1")        # the control: two untrained plain nets
untrained_identification = un.identification_accuracy([cmap_of(*UNTRAINED_PAIR), cmap_of(*UNTRAINED_PAIR[::-1])])
print(f"layer identification between two untrained plain nets: {untrained_identification:.0%} of 8 cases")
same_layer = {label: [linear_cka(feats[a][layer], feats[b][layer]) for layer in LAYERS]
              for label, (a, b) in {"seeds s0 vs s1": (S0, S1), "objects vs counting": (P, COUNT_NET),
                                    "untrained s0 vs s1": UNTRAINED_PAIR}.items()}
for label, row in same_layer.items():
    print(f"same-layer linear CKA, {label:20s}", "  ".join(f"{layer} {v:.2f}" for layer, v in zip(LAYERS, row)))
checks.check_identification_result(identification, control=untrained_identification)

# %% [markdown]
# **Figure.** Linear CKA between the layers of two nets, for two seeds, two pairs of architectures and two
# tasks. Notice the bright diagonal between seeds: the printed identification is 100% of 24 cases across
# seeds and 67% across architectures. The printed CCA map of the same two seeds, by contrast, lies between
# 0.541 and 0.765 everywhere, and in every row its largest entry is off the diagonal.
#
# Now the control. Two **untrained** plain nets identify the printed 50% of their layers (8 cases; 67%
# over three untrained pairs, on other scenes): training lifts identification to 100%. But their CKA *values* are as high as the trained seeds', or higher:
# the printed same-layer CKA of the untrained pair is 0.97, 0.89, 0.87 and 0.80 from `layer1` to
# `layer4`, against 0.93, 0.91, 0.85 and 0.83 for seeds s0 and s1 (over three untrained pairs, on other
# scenes, 0.96 to 1.00 in `layer1`). So the first layer's CKA across tasks, objects against counting
# (0.97), is no evidence of a learnt universal first layer: two nets that learnt nothing give the same.
# Random convolutions of one architecture already compute nearly one function of the image (as the
# width grows, random nets of one architecture converge to one fixed kernel), and only the difference
# from that is training's. Trained and untrained nets, in contrast, share little below the first
# layer: an untrained plain net against the trained `plainnet_objects_s0` gives CKA 0.94 in `layer1`
# and 0.06 to 0.13 in `layer2` to `layer4` (three untrained seeds).

# %% [markdown]
# ## 6. Matching units
#
# CKA says two layers hold similar information; it does not say that individual units agree. Li
# et al. (2016) correlated every unit of one AlexNet with every unit of another trained from a
# different seed and paired them: some units have a near-twin (correlation above 0.9), others have
# no counterpart at all. They found the best matches in the first and the last conv layers and
# the worst in the middle.
#
# ### Exercise 7.5: one-to-one matching
# **Difficulty:** ★★☆☆☆  **Importance:** ★★★☆☆
#
# Implement `match_units(A, B)` for activations `[n, units_a]` and `[n, units_b]` (units_a <=
# units_b): compute the `[units_a, units_b]` Pearson correlation matrix and find the one-to-one
# matching with the largest total correlation (`scipy.optimize.linear_sum_assignment`). Return
# `(cols, corr)`: `cols[i]` is the unit of B matched with unit `i` of A (a long tensor) and
# `corr[i]` their correlation. A unit that never varies correlates 0 with everything.
#
# <details><summary>Hint</summary>
#
# Correlate columns: centre each unit over the examples and divide by its norm (guard against a
# zero norm). `linear_sum_assignment` works on NumPy arrays and *minimises* a cost; it returns the
# rows in order. Taking each row's maximum is semi-matching: partners may repeat.
#
# </details>

# %% nbgrader={"grade": false, "grade_id": "ex7_5_solution", "locked": false, "schema_version": 3, "solution": true}
from scipy.optimize import linear_sum_assignment


def match_units(A: torch.Tensor, B: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Hungarian one-to-one matching of A's units with B's by Pearson correlation -> (cols, corr)."""
    # YOUR CODE HERE
    raise NotImplementedError()


# %% nbgrader={"grade": true, "grade_id": "ex7_5_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false}
checks.check_match_units(match_units)


# %% nbgrader={"grade": true, "grade_id": "ex7_5_hidden", "locked": true, "points": 2, "schema_version": 3, "solution": false}

# %% [markdown]
# Matched correlations layer by layer, for the three seed pairs, for two architectures (VGG's
# units matched into the plain net's) and for an untrained net, from your `match_units`. The
# units are channels averaged over positions; Li et al. used single positions. When we wrote the
# lesson the seeds gave about 0.77, 0.74, 0.69 and 0.75 for `layer1` to `layer4`: Li et al.'s
# ordering (best at the two ends, worst in the middle), with no unit-for-unit copy anywhere. Read
# them beside the control, two untrained plain nets (seeds 0 and 1), before reading them as
# learnt partners.

# %% nbgrader={"grade": false, "grade_id": "fig7_matching", "locked": true, "schema_version": 3, "solution": false}
def matched_by_layer(a: str, b: str) -> list[float]:
    return [float(match_units(feats[a][layer], feats[b][layer])[1].mean()) for layer in LAYERS]


seed_pairs = [(SEED_NETS[i], SEED_NETS[j]) for i, j in ((0, 1), (0, 2), (1, 2))]
matched = {f"seeds {a[-2:]}-{b[-2:]}": matched_by_layer(a, b) for a, b in seed_pairs}
matched["vgg vs plainnet"] = matched_by_layer(V, P)          # vgg is the narrower net: A must have <= units
matched["untrained vs plainnet"] = matched_by_layer("plainnet_random", P)
matched["untrained s0 vs s1"] = matched_by_layer(*UNTRAINED_PAIR)    # the control
by_layer = {layer: sum(matched[f"seeds {a[-2:]}-{b[-2:]}"][i] for a, b in seed_pairs) / 3 for i, layer in enumerate(LAYERS)}
fig, ax = plt.subplots(figsize=(6, 3))
for label, values in matched.items():
    ax.plot(LAYERS, values, "o-" if label.startswith("seeds") else "s--", label=label)
ax.set_ylabel("mean matched correlation")
ax.set_title("one-to-one matched units")
ax.legend(fontsize=7)
fig.tight_layout()
print("seeds minus the untrained pair:", ", ".join(f"{layer} {by_layer[layer] - c:+.2f}"
                                                 for layer, c in zip(LAYERS, matched["untrained s0 vs s1"])))
checks.check_matching_by_layer_result(by_layer, control=dict(zip(LAYERS, matched["untrained s0 vs s1"])))

# %% [markdown]
# **Figure.** The mean correlation of one-to-one matched units, layer by layer, for three pairs of seeds,
# for two architectures, for an untrained net against a trained one and for two untrained nets. Notice that
# matching is best at the first layer and worst in the middle; the check prints the seed average by layer:
# layer1 0.77, layer2 0.74, layer3 0.69 and layer4 0.75. But two untrained nets give 0.80, 0.70, 0.66 and
# 0.61: a mean matched correlation of 0.7 is what random weights of this architecture already give, and
# says nothing by itself about learnt partners. The seeds' gain over the untrained pair is the printed
# -0.02, +0.04, +0.03 and +0.14: training adds closely matched units clearly only in the last layer.
# Over three untrained pairs, on other scenes, the gains are about +0.09, +0.10, +0.03 and +0.14 (an
# untrained pair can match the first layer as well as two trained seeds do).

# %% [markdown]
# ## 7. Mutual nearest neighbours
#
# Huh et al. (2024) measure alignment by the **neighbourhoods** of the data: L2-normalise each
# example's features, find each example's `k` nearest other examples by inner product in
# representation A and in representation B, and average the fraction of neighbours the two share.
# Two unrelated representations share about $k / (n - 1)$ by chance.
#
# ### Exercise 7.6: mutual k-NN alignment
# **Difficulty:** ★★★☆☆  **Importance:** ★★★★☆
#
# Implement `mutual_knn(X, Y, k)` for `[n, d_x]`, `[n, d_y]` features; return a float in `[0, 1]`.
#
# <details><summary>Hint</summary>
#
# Divide each row by its length first. An example is always its own nearest
# neighbour: push the diagonal of the similarity matrix to minus infinity before `topk`. To count
# shared neighbours without a Python loop, mark A's neighbours in a boolean `[n, n]` table and look
# B's neighbours up in it.
#
# </details>

# %% nbgrader={"grade": false, "grade_id": "ex7_6_solution", "locked": false, "schema_version": 3, "solution": true}
def mutual_knn(X: torch.Tensor, Y: torch.Tensor, k: int = 10) -> float:
    """Mean fraction of shared k nearest neighbours (normalised features, inner product, self excluded)."""
    # YOUR CODE HERE
    raise NotImplementedError()


# %% nbgrader={"grade": true, "grade_id": "ex7_6_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false}
checks.check_mutual_knn(mutual_knn)

# %% nbgrader={"grade": true, "grade_id": "ex7_6_hidden", "locked": true, "points": 2, "schema_version": 3, "solution": false}

# %% [markdown]
# The ordering Huh et al.'s argument rests on, with your `mutual_knn` on the last layer (k = 10,
# n = 400; chance is 0.025): seeds of one architecture and recipe, the same architecture trained
# with another recipe, different architectures, a different task, a trained net against an untrained
# one, and two untrained nets of one architecture. Expect the first three to be close to each other
# (about 0.35 and 0.32 when we measured) and far above a trained net against an untrained one (about
# 0.04). The counting net is the surprise of "across tasks": by `layer4` it shares only about 0.08
# of its neighbours with any object net, barely above an untrained net. (Its `layer1` CKA with the
# object net, 0.97, is what two untrained nets give too, section 5: it says nothing either way.)

# %% nbgrader={"grade": false, "grade_id": "fig7_knn", "locked": true, "schema_version": 3, "solution": false}
last = LAYERS[-1]
def mean_knn(pairs): return sum(mutual_knn(feats[a][last], feats[b][last]) for a, b in pairs) / len(pairs)

knn = {
    "same architecture, other seed": mean_knn(seed_pairs),
    "same architecture, other recipe": mean_knn([(a, P) for a in SEED_NETS]),
    "other architecture": mean_knn([(P, R), (P, V), (R, V)]),
    "other task (counting)": mean_knn([(a, COUNT_NET) for a in ARCH_NETS.values()]),
    "random-init net": mean_knn([(ARCH_NETS[a], f"{a}_random") for a in ARCH_NETS] + [(a, "plainnet_random") for a in SEED_NETS]),
    "two untrained nets, same architecture": mean_knn([UNTRAINED_PAIR]),
}
print({key: round(v, 3) for key, v in knn.items()})
fig, ax = plt.subplots(figsize=(7, 2.6))
ax.barh(list(knn), list(knn.values()))
ax.axvline(10 / 399, color="k", ls="--", label="chance k/(n-1)")
ax.set_xlabel(f"mutual 10-NN alignment ({last})")
ax.legend()
fig.tight_layout()
checks.check_knn_ordering_result(knn["same architecture, other seed"], knn["other architecture"],
                                 knn["random-init net"])

# %% [markdown]
# **Figure.** Mutual 10-NN alignment of the last layer for pairs of nets that differ more and more, with
# chance marked by the dashed line. Notice the ordering: the check prints 0.347 for the same architecture,
# 0.322 for another architecture and 0.042 for a trained net against an untrained one, the last close to
# chance, $10/399 \approx 0.025$. Now the bottom bar: two *untrained* plain nets share 0.427 of their
# neighbours, more than two trained seeds (over three untrained pairs per architecture, on the lesson's
# scenes, 0.13 to 0.43). A high alignment between nets of one architecture is what random weights already
# give; what training does is move all seeds' neighbourhoods away from the untrained ones (0.04) to one
# shared place. The evidence is the trained pairs against the trained-untrained pairs, not the level.

# %% [markdown]
# ## 8. Model stitching
#
# Similar statistics do not prove that one net can *use* another's representation. Stitching
# tests that directly: run net A up to layer `i`, map its feature map into net B's layer `i` with a
# learned **1x1 convolution** (a linear map per position), and let B finish. If the stitched net is
# nearly as accurate as B, A's layer holds what B's upper layers need, in a linearly readable form.
#
# ### Exercise 7.7: the stitched forward pass
# **Difficulty:** ★★★☆☆  **Importance:** ★★★☆☆
#
# Implement `stitch_forward(net_a, net_b, layer_a, layer_b, stitch, x)`: A's output at module
# `layer_a` for images `x`, passed through `stitch` (an `nn.Conv2d`), replaces the output of B's
# module `layer_b`; return B's logits. The two layers have the same spatial size here. Leave no
# hooks behind; the gradient must reach `stitch`'s weights.
#
# <details><summary>Hint</summary>
#
# Two forward hooks (look the modules up by name): one on A that stores the
# output, one on B that returns a replacement (a forward hook's return value replaces the
# module's output). Remove each handle in a `finally:` block. Do not wrap anything in
# `torch.no_grad()`.
#
# </details>

# %% nbgrader={"grade": false, "grade_id": "ex7_7_solution", "locked": false, "schema_version": 3, "solution": true}
def stitch_forward(net_a: nn.Module, net_b: nn.Module, layer_a: str, layer_b: str, stitch: nn.Module,
                   x: torch.Tensor) -> torch.Tensor:
    """B's logits with B's layer_b output replaced by stitch(A's layer_a output)."""
    # YOUR CODE HERE
    raise NotImplementedError()


# %% nbgrader={"grade": true, "grade_id": "ex7_7_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false}
checks.check_stitch_forward(stitch_forward)

# %% nbgrader={"grade": true, "grade_id": "ex7_7_hidden", "locked": true, "points": 2, "schema_version": 3, "solution": false}

# %% [markdown]
# We fit each stitch by **least squares** (`un.stitch_init_lstsq`: the 1x1 conv that best predicts
# B's layer from A's on 128 training scenes, every position a sample; Csiszárik et al. 2021 call this direct matching) and
# score the stitched nets, run by your `stitch_forward`, on 200 held-out scenes. Both nets stay
# frozen. Same depth across seeds and across architectures, a mismatched depth (A's `layer2` into B's
# `layer3`, pooled to B's size), and the control: the same stitch from an **untrained** plain net
# into B. Trained stitches (`un.train_stitch`, as Bansal et al. do it: the least-squares start, then
# Adam on B's loss) take minutes each, too slow for this notebook; `bench/universality_controls.py`
# trains them (200 steps of 32 fresh scenes) and we quote its numbers below.

# %% nbgrader={"grade": false, "grade_id": "fig7_stitching", "locked": true, "schema_version": 3, "solution": false}
fit_images = render_objects(128, seed=10**6 + 1).images.to(device)
held = images[:200].to(device)
fit_acts = {}  # net -> its layers on fit_images: each net runs over them once, for all its stitches


def stitched_accuracy(a: str, b: str, la: str, lb: str) -> float:
    na, nb = {**nets, **random_nets}[a], nets[b]
    for name, net in ((a, na), (b, nb)):
        if name not in fit_acts:
            fit_acts[name] = hooks.collect(net, fit_images, LAYERS)
    conv = un.stitch_fit_lstsq(fit_acts[a][la], fit_acts[b][lb])  # = un.stitch_init_lstsq(na, nb, la, lb, fit_images)
    stitch = nn.Sequential(nn.AdaptiveAvgPool2d(un.layer_output_size(nb, lb, held)), conv)
    with torch.no_grad():
        return float((stitch_forward(na, nb, la, lb, stitch, held).argmax(-1).cpu() == labels[:200]).float().mean())


STITCH_PAIRS = {"seeds": (S0, S1), "architectures": (R, P), "untrained bottom": ("plainnet_random", S1)}
LAYER_PAIRS = (("layer1", "layer1"), ("layer2", "layer2"), ("layer3", "layer3"), ("layer4", "layer4"),
               ("layer2", "layer3"))
stitching = {(kind, la, lb): stitched_accuracy(a, b, la, lb)
             for kind, (a, b) in STITCH_PAIRS.items() for la, lb in LAYER_PAIRS
             if kind == "seeds" or (kind == "untrained bottom" and la == lb) or la == lb == "layer3"}
for (kind, la, lb), v in stitching.items():
    print(f"{kind:16s} {STITCH_PAIRS[kind][0]}.{la} -> {STITCH_PAIRS[kind][1]}.{lb}: {v:.2f} "
          f"({v / own[STITCH_PAIRS[kind][1]]:.2f} of the target's {own[STITCH_PAIRS[kind][1]]:.2f})")
fig, ax = plt.subplots(figsize=(8, 3))
for off, kind in ((-0.27, "seeds"), (0.0, "architectures"), (0.27, "untrained bottom")):
    xs = [i for i, p in enumerate(LAYER_PAIRS) if (kind, *p) in stitching]
    ax.bar([x + off for x in xs], [stitching[(kind, *LAYER_PAIRS[x])] for x in xs], width=0.27,
           label=f"{STITCH_PAIRS[kind][0]} -> {STITCH_PAIRS[kind][1]}")
ax.axhline(own[S1], color="C0", ls="--", label=f"{S1} alone")
ax.axhline(own[P], color="C1", ls="--", label=f"{P} alone")
ax.axhline(1 / len(OBJECT_KINDS), color="gray", ls=":", label="chance")
ax.set_xticks(range(len(LAYER_PAIRS)), [f"{a}->{b}" for a, b in LAYER_PAIRS])
ax.set_ylabel("stitched accuracy")
ax.legend(fontsize=7)
fig.tight_layout()
checks.check_stitching_table_result({(la, lb): v for (kind, la, lb), v in stitching.items() if kind == "seeds"},
                                    chance=1 / len(OBJECT_KINDS), target=own[S1],
                                    control={(la, lb): v for (kind, la, lb), v in stitching.items()
                                             if kind == "untrained bottom"})

# %% [markdown]
# **Figure.** The accuracy of net B when a 1x1 convolution feeds it net A's layer, for five layer pairs,
# with each net alone and chance as lines. Notice that least-squares stitching works better the deeper the
# layer: the printed accuracies across seeds are 0.35 at `layer1`, 0.31 at `layer2`, 0.56 at `layer3` and
# 0.83 at `layer4` (0.41, 0.36, 0.65 and 0.97 of the target net's 0.86), and 0.25 from `layer2` into `layer3`. So
# least squares reaches 0.9 of the target only at `layer4`; over three seed pairs it gives 0.27, 0.44, 0.72
# and 0.96 of the target on average (0.13 to 0.41 in `layer1`; on other scenes 0.32, 0.39, 0.71 and 0.98). From an untrained bottom net the same
# stitch gives 0.34, 0.19, 0.14 and 0.11: deeper than `layer1`, a trained seed's layer is far more usable than random
# features, but in `layer1` the two are alike. Trained stitches (the bench, three seed pairs) reach 0.80,
# 0.87, 0.96 and 1.01 of the target from `layer1` to `layer4` (0.77 to 0.84 in `layer1`, 0.86 to 0.89 in
# `layer2`): 0.9 of the target from `layer3` on, not in the first two layers. "Stitching works at the same
# depth" holds, then, where the representations are deep; in the early layers a linear map from one seed
# into the other loses a tenth to a fifth of the accuracy even when trained for the task.

# %% [markdown]
# ## 9. The family census
#
# Lessons 2 and 4 found edge detectors in a first layer and a family of curve detectors deeper
# in. Are they in *every* net? The census runs the same searches (the toolkit's `tuning_map` and
# `find_curve_family` on synthetic arcs and lines) on every layer of every net, including the
# counting net and untrained nets as controls.

# %% nbgrader={"grade": false, "grade_id": "fig7_census", "locked": true, "schema_version": 3, "solution": false}
census = un.family_census({**nets, **random_nets},
                          image_size=64, n_orientations=16)
fig, table = un.plot_census(census, "edge and curve families across the zoo")
best_gap = {net: min(r.curve_max_gap for r in census if r.net == net) for net in dict.fromkeys(r.net for r in census)}
trained_gaps = [g for net, g in best_gap.items() if net not in random_nets]
untrained_gaps = [g for net, g in best_gap.items() if net in random_nets]
print("smallest largest-gap of each net's curve families (degrees; a full family has no gap above 45):")
print("  trained:  ", {net: g for net, g in best_gap.items() if net not in random_nets})
print("  untrained:", {net: g for net, g in best_gap.items() if net in random_nets})
print(f"trained {min(trained_gaps):.0f} to {max(trained_gaps):.0f} degrees, "
      f"untrained {min(untrained_gaps):.0f} to {max(untrained_gaps):.0f}")
checks.check_census_result(census, controls=list(random_nets))

# %% [markdown]
# **Figure.** The census table: for each layer of each net, the edge census of its first layer and the curve
# family the search found. Read it against the untrained nets. No net has a full curve family: the
# printed smallest largest-gap of a net's families is 69 to 185 degrees in the trained nets (`vgg_objects_s0`
# best, `plainnet_short_s1` worst; the three seeds of one recipe give 92 to 185) and 81 to 195 in the
# untrained ones, where a full family would leave no gap above 45 degrees. The trained nets' families are
# no fuller than those of nets that learnt nothing, so this census gives no evidence of curve families in
# any net, and none of their universality. Orientation-tuned units in the first layer are found in every
# net, trained (6 to 9 units) or not (6 to 8): random oriented filters pass this edge search too.

# %% [markdown]
# ## 10. Across modalities: images and their captions
#
# The object world knows what it drew, so it can describe it. Every scene gets a caption from its
# ground truth ("a large red car facing left with body window wheel hub at the top left on a noise
# background"), and the zoo's `caption_lm` is the course's transformer trained on those captions
# alone: it has never seen a pixel. Do a vision net's images and a text model's captions arrange
# the same scenes into the same neighbourhoods? Huh et al. report that real vision and language
# models align more the better they are. We measure the alignment of each vision layer with the
# captions against the same score for shuffled pairs, and along the training of a vision net
# (`plainnet_short_s0`, whose snapshots `zoo.snapshots` reads). Two controls for the text side: the
# same text model with random weights, and a **bag of words** (`un.bag_of_words`: each caption's word
# counts, no model at all).

# %% nbgrader={"grade": false, "grade_id": "fig7_crossmodal", "locked": true, "schema_version": 3, "solution": false}
text_model = zoo.load("caption_lm", device=device)
torch.manual_seed(0)
untrained_text = type(text_model)(text_model.cfg).to(device).eval()     # same architecture, random weights
captions = un.scene_captions(scenes)
print(captions[0])
tokens = un.caption_tokens(captions)
text = un.caption_features(text_model, tokens)
text_random = un.caption_features(untrained_text, tokens)
vision = [S0, P, R, V, COUNT_NET, "plainnet_random"]
alignment = {name: [mutual_knn(feats[name][layer], text) for layer in LAYERS] for name in vision}
alignment_random_text = [mutual_knn(feats[S0][layer], text_random) for layer in LAYERS]
words = un.bag_of_words(tokens)                                         # word counts: no model at all
alignment_words = [mutual_knn(feats[S0][layer], words) for layer in LAYERS]
lm_minus_words = [mutual_knn(feats[n][last], text) - mutual_knn(feats[n][last], words) for n in SEED_NETS]
g = torch.Generator().manual_seed(0)
shuffled = torch.tensor([mutual_knn(feats[S0][last], text[torch.randperm(len(text), generator=g)]) for _ in range(5)])
shuf_mean, shuf_std = float(shuffled.mean()), float(shuffled.std())
run = zoo.snapshots("plainnet_short_s0", device=device)
steps, accs, snapshots = run.steps, run.curves["accuracy"], run.models
along = [mutual_knn(hooks.collect(m, images, [last], pool="mean")[last], text) for m in snapshots]

fig, axes = plt.subplots(1, 2, figsize=(12, 3.4))
for name, row in alignment.items():
    axes[0].plot(LAYERS, row, "o-", label=name)
axes[0].plot(LAYERS, alignment_random_text, "x:", color="k", label=f"{S0} vs untrained text model")
axes[0].plot(LAYERS, alignment_words, "+--", color="C7", label=f"{S0} vs bag of words")
axes[0].axhspan(shuf_mean - 3 * shuf_std, shuf_mean + 3 * shuf_std, color="gray", alpha=0.3, label="shuffled pairs ±3σ")
axes[0].set_ylabel("image-caption mutual 10-NN")
axes[0].legend(fontsize=6)
axes[1].plot(steps, along, "o-", label=f"alignment ({last})")
ax2 = axes[1].twinx()
ax2.plot(steps, accs, "s--", color="C1", label="accuracy")
axes[1].set_xlabel(f"training step of {S0}")
axes[1].set_ylabel("alignment")
ax2.set_ylabel("held-out accuracy")
axes[1].legend(loc="upper left", fontsize=7)
fig.tight_layout()
best = max(alignment[S0])
print(f"{S0}: best layer {best:.3f} vs shuffled {shuf_mean:.3f} ± {shuf_std:.3f} (margin {best - shuf_mean:.3f}); "
      f"with the untrained text model {max(alignment_random_text):.3f}, with a bag of words {max(alignment_words):.3f}")
print(f"{last}: caption model minus bag of words, three seeds:", ", ".join(f"{v:+.3f}" for v in lm_minus_words))
print("along training (step, accuracy, alignment):", [(s, round(a, 2), round(v, 3)) for s, a, v in zip(steps, accs, along)])
checks.check_alignment_result(best, shuf_mean, shuf_std, bag_of_words=max(alignment_words))

# %% [markdown]
# **Figure.** Read the two panels with care; here is what we measured when we wrote the lesson. The trained
# vision net's `layer4` shares about 0.27 of its 10 neighbours with the captions, ten times the
# shuffled pairs (0.025), and the alignment grows with depth (0.04 in `layer1`) and with training
# (0.05 at initialisation, 0.17 at step 200, 0.27 at step 400, while accuracy went 0.12, 0.45,
# 0.88): the same shape as Huh et al.'s finding. But look at the black crosses: a text model with
# **random weights** aligns almost as well (about 0.24), and the grey pluses, the captions' bare word
# counts, align as well as the trained text model: the printed 0.267 against 0.270 in `layer4`, and the caption
# model minus the bag of words is +0.003, -0.000 and +0.022 for the three seeds (on other scenes, within 0.02 either way). What is
# shared is the *content* of the captions (which words appear), and the trained text model adds nothing
# to it here: these captions are a fixed grammar over the scene's ground truth, so word order carries
# almost nothing that the word counts miss. A fair reading: the vision net's neighbourhoods converge on
# the world's ground truth as it learns, and the captions expose that ground truth. Whether two
# *learned* models converge beyond what their inputs share needs a control like this one (captions
# whose relations or order matter, and a bag of words beside them), which real-model studies rarely have.

# %% [markdown]
# ## 11. Written questions

# %% [markdown] nbgrader={"grade": true, "grade_id": "written7_1", "locked": false, "points": 2, "schema_version": 3, "solution": true}
# **Short question.** CCA gave (nearly) 1 for every pair of layers in section 5, while linear CKA
# told the layers apart. Explain why, using the invariances of the two indices and the numbers of
# features and examples. What would you change to make CCA usable here?
#
# YOUR ANSWER HERE

# %% [markdown] nbgrader={"grade": true, "grade_id": "written7_2", "locked": false, "points": 5, "schema_version": 3, "solution": true}
# **Writing exercise: do the claims of "Zoom In" hold up?** (at most half a page) Pick one of the
# three claims of the circuits paper: **features** are the fundamental unit of networks and can
# be understood; **circuits** of features connected by weights can be understood; **universality**:
# analogous features and circuits form across models and tasks. Then
#
# 1. state the claim in your own words, and say where you are unsure what it claims;
# 2. weigh the evidence for and against it, from the paper, the readings and **the numbers you
#    measured in lessons 2 to 7** (quote at least three, with what they measure);
# 3. conclude: what would change your mind?
#
# YOUR ANSWER HERE

# %% nbgrader={"grade": false, "grade_id": "results", "locked": true, "schema_version": 3, "solution": false}
# The numbers this lesson measured, for the table that ends its page on the course site.
from mi_tutor.course.results import record

record("layers identified by linear CKA: across seeds, across architectures",
       f"{identification:.0%}, {un.identification_accuracy(cross_maps):.0%}")
record("mean matched correlation, layer1 to layer4", ", ".join(f"{by_layer[l]:.2f}" for l in LAYERS))
record("mutual 10-NN alignment: other seed, other architecture, random init",
       f"{knn['same architecture, other seed']:.3f}, {knn['other architecture']:.3f}, {knn['random-init net']:.3f}")
record("stitched accuracy across seeds, layer4 to layer4", stitching[("seeds", "layer4", "layer4")], digits=2)
record("image-caption alignment: best layer, shuffled captions", f"{max(alignment[S0]):.3f}, {shuf_mean:.3f}")
record("controls: layers identified by two untrained nets; their matched correlation, layer1 to layer4",
       f"{untrained_identification:.0%}; " + ", ".join(f"{v:.2f}" for v in matched["untrained s0 vs s1"]))
record("controls: mutual 10-NN of two untrained nets; image-caption alignment with a bag of words",
       f"{knn['two untrained nets, same architecture']:.3f}; {max(alignment_words):.3f}")


# %% [markdown]
# ## Summary
#
# - **CKA** compares the Gram matrices of two representations after centring; the linear version
#   has a feature-space form that never builds an $n \times n$ matrix, and a debiased version that is
#   not inflated at small `n`. It is invariant to orthogonal maps and uniform scaling, not to
#   every invertible map; CCA is, and it saturates when layers are wide.
# - **Controls first.** Two untrained nets of one architecture are already similar: CKA 0.97 in the
#   first layer, matched correlations of 0.6 to 0.8, mutual kNN 0.43. Every claim is the difference
#   from such a control, not the level.
# - **Correspondence maps** built with linear CKA identify each layer's counterpart across seeds
#   (100%, against 50% for two untrained nets); across architectures and tasks the diagonal is weaker,
#   and the first layer's CKA across tasks is what untrained nets give.
# - **Unit matching**: training adds closely matched units clearly only in the last layer (+0.14 over
#   the untrained pair).
# - **Mutual kNN** orders the trained comparisons (seeds > other architectures > other task), all far
#   above a trained net against an untrained one; two untrained nets align more than two trained seeds.
# - **Stitching**: least squares reaches 0.9 of the target only in the last layer, trained stitches from
#   `layer3` on; an untrained bottom gives little beyond `layer1`.
# - **The census** finds no full curve family in any net, and does not tell trained nets from untrained.
# - Images and the captions share neighbourhoods far above shuffled pairs, more in deeper layers and
#   more as the vision net learns; but a bag of words does as well as the trained text model, so the
#   shared part is the ground truth the captions name, not anything the text model learnt.
#
# ## Further reading
#
# - S. Kornblith, M. Norouzi, H. Lee, G. Hinton, [Similarity of Neural Network Representations Revisited](https://arxiv.org/abs/1905.00414), ICML 2019 (CKA; the demo notebook in google-research/representation_similarity).
# - M. Raghu, J. Gilmer, J. Yosinski, J. Sohl-Dickstein, [SVCCA](https://arxiv.org/abs/1706.05806), NeurIPS 2017; A. Morcos, M. Raghu, S. Bengio, [PWCCA](https://arxiv.org/abs/1806.05759), NeurIPS 2018.
# - Y. Li, J. Yosinski, J. Clune, H. Lipson, J. Hopcroft, [Convergent Learning: Do different neural networks learn the same representations?](https://arxiv.org/abs/1511.07543), ICLR 2016.
# - M. Huh, B. Cheung, T. Wang, P. Isola, [The Platonic Representation Hypothesis](https://arxiv.org/abs/2405.07987), ICML 2024.
# - Y. Bansal, P. Nakkiran, B. Barak, [Revisiting Model Stitching to Compare Neural Representations](https://arxiv.org/abs/2106.07682), NeurIPS 2021; K. Lenc, A. Vedaldi, [Understanding image representations by measuring their equivariance and equivalence](https://arxiv.org/abs/1411.5908), CVPR 2015.
# - C. Olah et al., [Zoom In: An Introduction to Circuits](https://distill.pub/2020/circuits/zoom-in/), Distill 2020.
# - M. Davari et al., [Reliability of CKA as a Similarity Measure in Deep Learning](https://arxiv.org/abs/2210.16156), 2022.
