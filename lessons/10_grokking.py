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
# # Lesson 10: Grokking: a network that memorises, then understands
#
# Train a small network on $(a + b) \bmod p$ with only part of the table as training data and
# something strange happens. Within a hundred steps it knows every training pair by heart while it gets
# most held-out pairs wrong (how wrong depends on the model: the small MLP below is right on none of them,
# the transformer of section 2 on 8 to 26 times as many as chance). Little seems to happen for hundreds of
# steps more; then, long after the training loss stopped telling us anything, test accuracy shoots
# up to 100 %. Power et al. (2022) called this **grokking**.
#
# Nanda et al. (2023) reverse-engineered the network that groks: it turns numbers into waves
# $\cos(w a)$, $\sin(w a)$ for a few **key frequencies** $w_k = 2\pi k / p$, combines them into
# $\cos(w (a + b))$ with trigonometric identities, and reads out $\mathrm{logit}(c) \propto \cos(w (a + b - c))$,
# which peaks exactly at $c = (a + b) \bmod p$. Knowing the algorithm, they built **progress measures**
# that see the circuit grow long before the test accuracy moves.
#
# In this lesson you watch a network grok live, then take apart a grokked 1-layer transformer from
# the course's zoo with the Fourier transform, and measure its three phases: memorisation, circuit
# formation and clean-up.
#
# **Central claim.** A network that groks modular addition computes it with a few Fourier frequencies,
# and progress measures see that circuit form long before test accuracy moves.
#
# **Learning objectives.** After this lesson you can
#
# - train a network that groks and read its train and test curves;
# - build the Fourier basis of $\mathbb{Z}_p$ and find the key frequencies of an embedding and of neurons;
# - show that the logits are a sum of $\cos(w_k (a + b - c))$ terms and that removing those terms
#   (and nothing else) destroys the model;
# - compute the restricted and the excluded loss over training and locate the three phases;
# - explain what weight decay has to do with it.
#
# **Prerequisites.** Lesson 1 (hooks and activations) and lesson 8 (a transformer's hook names).
# Complex numbers or trigonometric identities ($\cos(x + y) = \cos x \cos y - \sin x \sin y$), orthonormal
# bases, the cross-entropy loss.
#
# **Estimated time.** 2.5 hours. The notebook itself executes in about a minute on a laptop CPU.
#
# **How this works.** Each exercise has a difficulty (★ easy to ★★★★★ hard), a hint you can unfold,
# a visible test you can run, and hidden tests the grader adds (other primes, shapes and frequencies).
# Write your code between the lines of the solution cells and replace `raise NotImplementedError()`.

# %% nbgrader={"grade": false, "grade_id": "setup", "locked": true, "schema_version": 3, "solution": false}
from mi_tutor.course.setup import setup_lesson

device = setup_lesson(seed=0, threads=1)  # these models are tiny: one thread beats two on a shared CPU

import math

import matplotlib.pyplot as plt
import torch

from mi_tutor import grokking
from mi_tutor import zoo
from mi_tutor.checks import lesson10 as checks
from mi_tutor.grokking.plots import (
    plot_accuracy_curves,
    plot_frequency_norms,
    plot_neuron_clusters,
    plot_progress_measures,
    plot_weight_norm,
)

print(f"Running on {device}")

# %% [markdown]
# ## 1. The task, and a network that groks while you watch
#
# The data set is the whole addition table of $\mathbb{Z}_p$: all $p^2$ pairs $(a, b)$ with the answer
# $(a + b) \bmod p$, written as three tokens $a$, $b$ and `=` (token $p$ is `=`). A random half of the pairs
# is for training, the other half for testing. Training is **full batch**: every step sees all the
# training pairs, with AdamW and a strong **weight decay**.
#
# The live model is the smallest thing that groks quickly: two embeddings of 64 numbers summed,
# 256 ReLU units and an unembedding (`grokking.EmbedMLP`), on p = 53. It trains on one CPU thread
# (for a model this small, one thread beats two on a shared machine) in well under a minute.

# %%
data = grokking.modular_addition(53, 0.5, seed=0)
print("tokens", tuple(data.tokens.shape), " first rows:", data.tokens[:3].tolist(), " answers:", data.labels[:3].tolist())
print(f"{len(data.train_idx)} training pairs, {len(data.test_idx)} test pairs; chance accuracy 1/53 = {1 / 53:.3f}")
print("live recipe:", grokking.LIVE_MLP, grokking.LIVE_TRAIN, sep="\n  ")

# %%
live_model, live_log, live_data = grokking.train_live(seed=0)
print(f"trained {live_log.steps[-1]} steps in {live_log.seconds:.0f} s")
fig, live_curves = plot_accuracy_curves(live_log.curves(), title="live MLP, p = 53, half the pairs")

# %% [markdown]
# **Figure.** Read the curves on their log axis. Train accuracy reaches 1 in about a hundred steps while test
# accuracy is **zero** (worse than chance: the model is confidently wrong on unseen pairs; the test
# loss goes *up*). Hundreds of steps later test accuracy jumps to nearly 1. The cell below checks
# these numbers (it checks the run, not your code, and carries no points).
# The check prints the landmarks: train accuracy 0.99 at step 140 with test accuracy 0.000, test accuracy
# past 0.5 only at step 650, 4.6 times later, and 0.984 at the end. Another seed (another initialisation and
# split, `train_live(seed=1)`) gives nearly the same run: train accuracy 0.99 at step 140 with test accuracy
# 0.000, test accuracy past 0.5 at step 690, 4.9 times later, and 0.972 at the end.

# %% nbgrader={"grade": false, "grade_id": "fig10_live_run", "locked": true, "schema_version": 3, "solution": false}
checks.check_live_run_result(live_log.curves())

# %% [markdown]
# ## 2. The grokked transformer from the zoo
#
# For the analysis we use a 1-layer transformer with the architecture of Nanda et al. at half width
# (d_model 64, 4 heads of 16, an MLP of 256 ReLU units, no LayerNorm) trained on $p = 53$ with 40 %
# of the pairs, AdamW lr 3e-3, weight decay 1, 3000 full-batch steps (`mi_tutor/zoo/entries/grokking.py`).
# Its snapshots every 100 steps ship with the course, and so does a **control** run with weight
# decay 0 and everything else the same. (The zoo also holds the paper's full-size model on p = 113 with
# 30 % of the pairs. `grokking_p113_nanda` is trained by Nanda et al.'s recipe, AdamW lr 1e-3, weight decay
# 1, 14000 full-batch steps: it memorises by step 150, groks between steps 6250 and 6950 and ends on five key
# frequencies, and its snapshots every 1000 steps ship too. `grokking_p113` is the same model at lr 3e-3: it
# groks at step ~2300, but its clean-up has only begun. Try this notebook's functions on both afterwards.)

# %%
run = zoo.snapshots("grokking_p53", device=device)
steps, snapshots, curves = run.steps, run.models, run.curves
control = zoo.snapshots("grokking_p53_wd0", device=device).curves
model = snapshots[-1]
p = model.cfg.d_vocab - 1
run_data = grokking.run_data(run.recipe)  # the task and train/test split of the run
phases = grokking.grokking_phases(curves["steps"], curves["train_acc"], curves["test_acc"])
print(f"p = {p}, {len(run_data.train_idx)} training pairs, {len(steps)} snapshots from step {steps[0]} to {steps[-1]}")
print("phases:", phases)
memorised = curves["steps"].index(phases["circuit formation"][0])  # where the plateau starts
print(f"plateau: test accuracy {curves['test_acc'][memorised]:.3f} at step {curves['steps'][memorised]}, "
      f"{curves['test_acc'][memorised] * p:.1f} x chance (1/{p}); test loss {curves['test_loss'][memorised]:.1f}, "
      f"a uniform guess {math.log(p):.2f}")
fig, run_curves = plot_accuracy_curves(curves, title="1-layer transformer, weight decay 1", phases=phases)
fig, control_curves = plot_accuracy_curves(control, title="control: weight decay 0", loss=False)

# %% [markdown]
# **Figure.** The accuracy and loss curves of the zoo's 1-layer transformer with weight decay 1, with the
# printed phases marked (memorisation to step 80, circuit formation to 700, clean-up to 1280), and the
# accuracy of the control run without weight decay. Notice that only the first run generalises: the check
# below prints 95% test accuracy at step 940 for it and at most 0.21 in 3000 steps for the control. Notice
# too that test accuracy never sits at chance: the printed plateau starts at 0.160, 8.5 x chance.

# %% nbgrader={"grade": false, "grade_id": "fig10_control", "locked": true, "schema_version": 3, "solution": false}
checks.check_weight_decay_control_result(curves, control)

# %% [markdown]
# The transformer's plateau is **not at chance**. When it has memorised (step 80) it already answers 0.16 of
# the held-out pairs correctly, 8.5 times chance (1/53), as printed above, and the share creeps to about 0.4
# (20 times chance) before the jump, while its test *loss* (10.5 at step 80) stays far above the 3.97 of a
# uniform guess: right on some held-out pairs, confidently wrong on the rest. The control memorises
# just as fast and then stays where it is for all 3000 steps.
#
# **Other seeds.** The same recipe on seed 1 (another initialisation and split: `grokking_p53_s1`, which the
# course's tests use and this lesson does not) memorises at step 80 too, with its plateau at 12 to 22 times
# chance, but has **not** grokked by step 3000: its test accuracy is still 0.41 there, its control without
# weight decay peaks at 0.32, and its sum of squared weights has only fallen to 0.64 of its peak (seed 0:
# 0.38). Trained on, it groks at step 3860 (test accuracy 0.5; 0.95 at step 4520). When a recipe groks is a property of the seed as much as of the recipe; the rest of this lesson
# analyses seed 0, which has.
#
# What is the model with weight decay doing during the plateau? To find out we need the right basis.

# %% [markdown]
# ## 3. The Fourier basis of $\mathbb{Z}_p$
#
# A function $f$ on $\mathbb{Z}_p$ is a vector of $p$ numbers. Besides the standard basis it has a **Fourier
# basis**: the constant function, and for every frequency $k = 1, \dots, (p - 1)/2$ the waves
# $\cos(2\pi k x / p)$ and $\sin(2\pi k x / p)$, $x = 0, \dots, p - 1$. That is $1 + 2 (p - 1)/2 = p$
# vectors: a basis (frequency $p - k$ gives the same waves as $k$, up to the sign of the sine).
# Normalised, the basis is orthonormal, so the coefficients of $f$ are just dot products.

# %% [markdown]
# ### Exercise 10.1: the Fourier basis
# **Difficulty:** ★★☆☆☆  **Importance:** ★★★★★
#
# Implement `fourier_basis(p)`: return a float32 tensor `[p, p]` with one basis vector per **row**:
# row 0 the constant, row $2k - 1$ the cosine of frequency $k$, row $2k$ its sine, each row with
# norm 1.
#
# <details><summary>Hint</summary>
#
# Build the rows from one $x = 0, \dots, p - 1$ vector. The rows do not all have the same length before
# normalising (a constant row of ones has length $\sqrt{p}$; a wave's length is about $\sqrt{p/2}$), so
# divide each row by its own norm rather than by one shared factor. A quick self-test: the basis
# times its transpose should be the identity.
#
# </details>

# %% nbgrader={"grade": false, "grade_id": "ex10_1_solution", "locked": false, "schema_version": 3, "solution": true}
def fourier_basis(p: int) -> torch.Tensor:
    """Orthonormal Fourier basis of Z_p: [p, p], rows const, cos 1, sin 1, cos 2, sin 2, ..."""
    # YOUR CODE HERE
    raise NotImplementedError()


# %% nbgrader={"grade": true, "grade_id": "ex10_1_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false}
checks.check_fourier_basis(fourier_basis)

# %% nbgrader={"grade": true, "grade_id": "ex10_1_hidden", "locked": true, "points": 2, "schema_version": 3, "solution": false}

# %%
basis = fourier_basis(p).to(device)
fig, ax = plt.subplots(figsize=(7, 2.6))
for row, name in [(0, "const"), (1, "cos 1"), (2, "sin 1"), (13, "cos 7")]:
    ax.plot(basis[row].cpu(), label=name)
ax.set(xlabel="x", title=f"Fourier basis vectors of Z_{p}")
ax.legend(fontsize=8, ncol=4)
fig.tight_layout()

# %% [markdown]
# **Figure.** Four of the Fourier basis vectors of $\mathbb{Z}_{53}$: the constant, the cosine and sine of
# frequency 1, and the cosine of frequency 7. Notice that each is a wave sampled at the 53 points
# $x = 0, \dots, 52$, completing $k$ periods for frequency $k$; the cell prints no number.

# %% [markdown]
# ## 4. The embedding speaks in a few frequencies
#
# The embedding `W_E[:p]` gives each number $a$ a vector of 64 numbers. Read column by column, it is
# 64 functions on $\mathbb{Z}_p$, and each can be written in the Fourier basis: `basis @ W_E` has one row of
# coefficients per basis function. The **Fourier norm of frequency $k$** combines its cosine and sine
# rows over all 64 columns: $\sqrt{\lVert c_{2k-1} \rVert^2 + \lVert c_{2k} \rVert^2}$, with $c_i$ row $i$ of the coefficients.

# %% [markdown]
# ### Exercise 10.2: Fourier norms of the embedding
# **Difficulty:** ★★☆☆☆  **Importance:** ★★★★☆
#
# Implement `embedding_frequency_norms(W_E, basis)`: `W_E` is `[p, d_model]`, `basis` the `[p, p]`
# Fourier basis. Return a tensor `[(p - 1) / 2]`, entry $k - 1$ the Fourier norm of frequency $k$ (leave the
# constant out). `W_E` and `basis` are left unchanged.
#
# <details><summary>Hint</summary>
#
# First the coefficients: the basis vectors are the rows, so each coefficient is a dot product of
# a basis row with a column of the embedding: a single matrix product, in the right order. The
# cosine rows are the odd-numbered rows and the sines the even-numbered ones after row 0; slicing with
# a step of 2 pairs them up. A norm is a square root of a sum of squares.
#
# </details>

# %% nbgrader={"grade": false, "grade_id": "ex10_2_solution", "locked": false, "schema_version": 3, "solution": true}
def embedding_frequency_norms(W_E: torch.Tensor, basis: torch.Tensor) -> torch.Tensor:
    """Fourier norm of each frequency k = 1 .. (p-1)/2 of an embedding [p, d_model] -> [(p-1)/2]."""
    # YOUR CODE HERE
    raise NotImplementedError()


# %% nbgrader={"grade": true, "grade_id": "ex10_2_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false}
checks.check_embedding_frequency_norms(embedding_frequency_norms)


# %% nbgrader={"grade": true, "grade_id": "ex10_2_hidden", "locked": true, "points": 2, "schema_version": 3, "solution": false}

# %% [markdown]
# ### Exercise 10.3: key frequencies
# **Difficulty:** ★☆☆☆☆  **Importance:** ★★★☆☆
#
# Implement `key_frequencies(norms, ratio=0.25)`: return the sorted list of frequencies `k` (ints,
# starting at 1) whose norm exceeds `ratio` times the largest norm (the rule of the TransformerLens
# grokking demo). The result is a Python `list` of `int`, not a tensor (the cells below index and
# format it), and `norms` is left unchanged.
#
# <details><summary>Hint</summary>
#
# A boolean comparison against a threshold, then the positions where it holds. The trap is the
# numbering: position 0 of `norms` is frequency 1, because the constant was left out.
#
# </details>

# %% nbgrader={"grade": false, "grade_id": "ex10_3_solution", "locked": false, "schema_version": 3, "solution": true}
def key_frequencies(norms: torch.Tensor, ratio: float = 0.25) -> list[int]:
    """Frequencies (1-based, sorted) whose norm exceeds ratio * max(norms)."""
    # YOUR CODE HERE
    raise NotImplementedError()


# %% nbgrader={"grade": true, "grade_id": "ex10_3_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false}
checks.check_key_frequencies(key_frequencies)

# %% nbgrader={"grade": true, "grade_id": "ex10_3_hidden", "locked": true, "points": 1, "schema_version": 3, "solution": false}

# %%
W_E = model.W_E.detach()[:p]  # drop the row of the "=" token
norms = embedding_frequency_norms(W_E, basis)
keys = key_frequencies(norms)
norms_init = embedding_frequency_norms(snapshots[0].W_E.detach()[:p], basis)
print("key frequencies:", keys)
print(f"Gini of the Fourier norms: {grokking.gini(norms_init):.2f} at initialisation, "
      f"{grokking.gini(norms):.2f} at the end")
fig, norm_data = plot_frequency_norms(norms, keys, title="W_E of the grokked transformer")

# %% [markdown]
# **Figure.** The Fourier norm of each frequency in the grokked embedding, with the key frequencies
# marked. Notice the few tall bars: the printed key frequencies are 14, 15, 16, 19 and 26, the Gini
# coefficient rose from 0.03 at initialisation to 0.61, and the check finds that the five carry 95.9% of
# the squared norm.

# %% nbgrader={"grade": false, "grade_id": "fig10_embedding_norms", "locked": true, "schema_version": 3, "solution": false}
checks.check_embedding_sparsity_result(norms, keys, W_E, basis)

# %% [markdown]
# At initialisation the norms are spread evenly (low Gini); after grokking a handful of frequencies
# carry nearly everything. Which ones is an accident of the seed; that there are few is not: seed 1 of the same
# recipe, once it has grokked (step 6000 of `grokking_p53_s1`), has three key frequencies, 7, 11 and 17, carrying
# 96.2% of the squared norm, with the Gini coefficient at 0.67. Frequency $k$ and $p - k$ are the same wave, so
# there is nothing to find above $(p - 1)/2$.

# %% [markdown]
# ## 5. Neurons are tuned to one frequency
#
# The MLP neurons at the `=` position see $a$ and $b$ through attention. Their activations over all
# $p^2$ inputs form a `[p, p]` picture per neuron, and in the 2-D Fourier basis
# ($b_i(a)\, b_j(b)$, with $b_i$ row $i$ of `basis`) a neuron that computes something like $\mathrm{ReLU}(\cos(w (a + b)) + \dots)$
# only has coefficients with $i, j$ in $\{\text{const}, \cos k, \sin k\}$ for its frequency $k$.

# %%
acts = grokking.neuron_activations(model, p)  # [p, p, d_mlp], hook blocks.0.mlp.hook_post at the "=" position
print("activations", tuple(acts.shape))
fig, axes = plt.subplots(1, 3, figsize=(9, 2.8))
for ax, n in zip(axes, [0, 1, 2]):
    ax.imshow(acts[:, :, n].cpu(), cmap="viridis")
    ax.set(title=f"neuron {n}", xlabel="b", ylabel="a")
fig.tight_layout()

# %% [markdown]
# **Figure.** The activations of neurons 0, 1 and 2 over all 53 by 53 inputs $(a, b)$. Notice the regular
# grids of neurons 1 and 2, periodic in both $a$ and $b$ (neuron 0 is less regular). The cell prints only
# the shape of the activations, (53, 53, 256); the exercise below measures the periodicity.

# %% [markdown]
# ### Exercise 10.4: how much of a neuron one frequency explains
# **Difficulty:** ★★★☆☆  **Importance:** ★★★★☆
#
# Implement `neuron_frequency_fractions(acts, basis)`: `acts` is `[p, p, n_neurons]`. Centre each
# neuron (subtract its mean over $a$ and $b$), take its 2-D Fourier coefficients
# $\text{coef}_{ij} = \sum_{a,b} b_i(a)\, b_j(b)\, \text{acts}(a, b)$, and return `[n_neurons, (p - 1)/2]`:
# for frequency $k$, the sum of squared coefficients with $i, j$ both in $\{0, 2k - 1, 2k\}$, divided by
# the neuron's total sum of squared coefficients. Return a tensor, and leave `acts` unchanged (centre a
# copy, not `acts` itself).
#
# <details><summary>Hint</summary>
#
# The 2-D transform is one `einsum` with the basis used twice, once for the `a` axis and once for
# the `b` axis. For frequency `k` the block you want is a 3 x 3 sub-grid, which you get by indexing
# the first two axes with the same three indices; it includes terms that depend on `a` or `b` alone.
# Without centring, the constant-constant term swamps every fraction.
#
# </details>

# %% nbgrader={"grade": false, "grade_id": "ex10_4_solution", "locked": false, "schema_version": 3, "solution": true}
def neuron_frequency_fractions(acts: torch.Tensor, basis: torch.Tensor) -> torch.Tensor:
    """Share of each neuron's variance explained by each frequency: [p, p, n] -> [n, (p-1)/2]."""
    # YOUR CODE HERE
    raise NotImplementedError()


# %% nbgrader={"grade": true, "grade_id": "ex10_4_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false}
checks.check_neuron_frequency_fractions(neuron_frequency_fractions)

# %% nbgrader={"grade": true, "grade_id": "ex10_4_hidden", "locked": true, "points": 2, "schema_version": 3, "solution": false}

# %%
fractions = neuron_frequency_fractions(acts, basis)
fig, cluster_data = plot_neuron_clusters(fractions)
print("neurons per frequency (> 85 % from one frequency):",
      {k + 1: c for k, c in enumerate(cluster_data["counts"]) if c})

# %% [markdown]
# **Figure.** For every neuron, the share of its variance that each frequency explains, with the neurons
# explained over 85% by one frequency counted per frequency. Notice four clusters, not five: the printed
# counts are 69 neurons for frequency 14, 55 for 16, 63 for 19 and 54 for 26, while the key frequency 15
# of the embedding gets no cluster.

# %% nbgrader={"grade": false, "grade_id": "fig10_neuron_clusters", "locked": true, "schema_version": 3, "solution": false}
checks.check_neuron_clusters_result(fractions, keys, acts)

# %% [markdown]
# Most neurons belong to exactly one frequency, and the clusters sit on the key frequencies: the
# second rule for finding them (Nanda et al. call a frequency key if a cluster of neurons has more
# than 85 % of its variance from it). The two rules need not agree on every frequency: a frequency
# can be visible in the embedding and still have no neurons of its own.

# %% [markdown]
# ## 6. The logits are a sum of waves
#
# The algorithm's last step: for each key frequency the model holds $\cos(w (a + b))$ and
# $\sin(w (a + b))$, and the unembedding turns them into
# $$\cos(w (a + b)) \cos(w c) + \sin(w (a + b)) \sin(w c) = \cos(w (a + b - c)),$$ which is largest at
# $c = (a + b) \bmod p$. Summed over the key frequencies, the peaks add up at the right answer and the
# rest cancels.

# %% [markdown]
# ### Exercise 10.5: the $\cos(w (a + b - c))$ terms
# **Difficulty:** ★★☆☆☆  **Importance:** ★★★★☆
#
# Implement `cos_sum_terms(p, freqs)`: return a float32 tensor `[len(freqs), p, p, p]` whose entry
# `[i, a, b, c]` is $\cos(w_k (a + b - c))$ with $k$ = `freqs[i]` and $w_k = 2\pi k / p$.
#
# <details><summary>Hint</summary>
#
# Broadcasting does the work: make three views of `arange(p)` that vary along different axes, combine
# them into one `[p, p, p]` grid of $a + b - c$, and multiply it by a frequency vector shaped so it
# lands on a new first axis. Watch the sign of $c$: the wave must peak where $c$ equals $a + b$.
#
# </details>

# %% nbgrader={"grade": false, "grade_id": "ex10_5_solution", "locked": false, "schema_version": 3, "solution": true}
def cos_sum_terms(p: int, freqs: list[int]) -> torch.Tensor:
    """cos(2 pi k (a + b - c) / p) for each k in freqs: -> [len(freqs), p, p, p] indexed (k, a, b, c)."""
    # YOUR CODE HERE
    raise NotImplementedError()


# %% nbgrader={"grade": true, "grade_id": "ex10_5_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false}
checks.check_cos_sum_terms(cos_sum_terms)

# %% nbgrader={"grade": true, "grade_id": "ex10_5_hidden", "locked": true, "points": 1, "schema_version": 3, "solution": false}

# %% [markdown]
# Now fit the model's logits (all $p^2$ inputs, `[p, p, p]` indexed $(a, b, c)$) with
# $\text{const} + \sum_k \alpha_k \cos(w_k (a + b - c))$ by least squares, using your terms.

# %%
logits = grokking.all_logits(model, p)  # [p, p, p]
terms = cos_sum_terms(p, keys).to(logits.device).reshape(len(keys), -1)  # [n_keys, p^3]
y = logits.reshape(-1) - logits.mean()
centred_terms = terms - terms.mean(dim=1, keepdim=True)
alpha = torch.linalg.lstsq(centred_terms.T, y[:, None]).solution[:, 0]
explained = float(1 - (y - centred_terms.T @ alpha).pow(2).sum() / y.pow(2).sum())
print("alpha_k:", {k: round(float(a), 2) for k, a in zip(keys, alpha)})
print(f"variance of the logits explained: {explained:.3f}")

# %% nbgrader={"grade": false, "grade_id": "fig10_cos_fit", "locked": true, "schema_version": 3, "solution": false}
checks.check_cos_fit_result(explained)

# %% [markdown]
# ## 7. Progress measures: restricted and excluded loss
#
# If the logits are (mostly) waves in $a + b$, we can split them in two. Over the grid of inputs
# $(a, b)$, $\cos(w_k (a + b))$ and $\sin(w_k (a + b))$ are two unit directions in the 2-D Fourier basis:
#
# - $(c_k c_k^\top - s_k s_k^\top) / \sqrt 2$, since $\cos(x + y) = \cos x \cos y - \sin x \sin y$,
# - $(s_k c_k^\top + c_k s_k^\top) / \sqrt 2$, since $\sin(x + y) = \sin x \cos y + \cos x \sin y$,
#
# where $c_k$, $s_k$ (the cosine and sine of frequency $k$) are rows of the Fourier basis. For every answer $c$ we can project the
# `[p, p]` slice of logits onto these directions.
#
# - **Restricted logits** keep only these components of the key frequencies, plus each answer's
#   mean over `(a, b)` (the **bias correction** of the released code: without it the answers'
#   different offsets are lost and the loss measures that instead of the circuit). Their loss says
#   how well the circuit alone does.
# - **Excluded logits** are the logits minus those components. Their loss on the *training* pairs
#   says how well the model could still do by memorising, without the circuit.

# %% [markdown]
# ### Exercise 10.6: restricted logits
# **Difficulty:** ★★★★☆  **Importance:** ★★★★★
#
# Implement `restricted_logits(logits, freqs, basis)`: `logits` is `[p, p, p]` (`a, b, c`), `freqs`
# a list of frequencies, `basis` the Fourier basis. Return a new tensor `[p, p, p]`: each answer's mean logit over
# `(a, b)` plus, for every `k` in `freqs`, the projection of the logits onto the two directions above.
# `logits` itself is left unchanged.
#
# <details><summary>Hint</summary>
#
# Build the two `[p, p]` directions of each frequency from outer products of basis rows. For one
# direction $D$ the projection is $D$ times the coefficient $\sum_{a,b} D_{ab}\, \text{logits}_{abc}$, one
# coefficient per answer $c$: an `einsum` to get the coefficients and another to put them back on the
# grid. The directions of different frequencies are orthogonal, so the projections simply add. Keep
# the mean over the first two axes with `keepdim` so it broadcasts back.
#
# </details>

# %% nbgrader={"grade": false, "grade_id": "ex10_6_solution", "locked": false, "schema_version": 3, "solution": true}
def restricted_logits(logits: torch.Tensor, freqs: list[int], basis: torch.Tensor) -> torch.Tensor:
    """Keep each answer's mean and the cos/sin(w_k (a + b)) components of freqs: [p, p, p] -> [p, p, p]."""
    # YOUR CODE HERE
    raise NotImplementedError()


# %% nbgrader={"grade": true, "grade_id": "ex10_6_visible", "locked": true, "points": 2, "schema_version": 3, "solution": false}
checks.check_restricted_logits(restricted_logits)


# %% nbgrader={"grade": true, "grade_id": "ex10_6_hidden", "locked": true, "points": 2, "schema_version": 3, "solution": false}

# %% [markdown]
# ### Exercise 10.7: excluded logits
# **Difficulty:** ★★☆☆☆  **Importance:** ★★★★☆
#
# Implement `excluded_logits(logits, freqs, basis)`: return a new tensor `[p, p, p]`, the logits minus their
# $\cos(w_k (a + b))$ and $\sin(w_k (a + b))$ components for every `k` in `freqs` (the mean stays), leaving
# `logits` itself unchanged.
#
# <details><summary>Hint</summary>
#
# The components to remove are the same projections as in Exercise 10.6, one pair of directions per
# frequency, and nothing else: in particular each answer's mean logit is not one of them, so it must
# survive. Subtracting the projections from the logits leaves everything orthogonal to them.
#
# </details>

# %% nbgrader={"grade": false, "grade_id": "ex10_7_solution", "locked": false, "schema_version": 3, "solution": true}
def excluded_logits(logits: torch.Tensor, freqs: list[int], basis: torch.Tensor) -> torch.Tensor:
    """Remove the cos/sin(w_k (a + b)) components of freqs from logits [p, p, p]."""
    # YOUR CODE HERE
    raise NotImplementedError()


# %% nbgrader={"grade": true, "grade_id": "ex10_7_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false}
checks.check_excluded_logits(excluded_logits)

# %% nbgrader={"grade": true, "grade_id": "ex10_7_hidden", "locked": true, "points": 1, "schema_version": 3, "solution": false}

# %% [markdown]
# First an **ablation**: remove the key frequencies from the final logits and measure test accuracy;
# then remove as many other frequencies, chosen at random.

# %%
acc_full = grokking.grid_accuracy(logits, run_data)
acc_keys = grokking.grid_accuracy(excluded_logits(logits, keys, basis), run_data)
others = [k for k in range(1, (p - 1) // 2 + 1) if k not in keys]
gen = torch.Generator().manual_seed(0)
acc_random = []
for _ in range(3):
    pick = [others[i] for i in torch.randperm(len(others), generator=gen)[:len(keys)].tolist()]
    acc_random.append(grokking.grid_accuracy(excluded_logits(logits, pick, basis), run_data))
print(f"test accuracy: full {acc_full:.3f}, key frequencies excluded {acc_keys:.3f}, "
      f"random others excluded {[round(a, 3) for a in acc_random]}")

# %% nbgrader={"grade": false, "grade_id": "fig10_ablation", "locked": true, "schema_version": 3, "solution": false}
checks.check_ablation_result(acc_keys, acc_random, p)

# %% [markdown]
# ### A frequency the embedding has and the logits do not use
#
# Three rules have now named key frequencies: the embedding's Fourier norms (Exercise 10.3), the neuron
# clusters (Exercise 10.4) and the fitted coefficients $\alpha_k$ of the logits (Exercise 10.5). Put side by
# side, frequency by frequency, with the test accuracy left when that one frequency is excluded from the logits
# (Exercise 10.7):

# %%
share = norms.pow(2) / norms.pow(2).sum()
cluster_counts = cluster_data["counts"]
print("frequency  share of W_E  neurons  alpha_k  test accuracy with it excluded")
for k, a in zip(keys, alpha.tolist()):
    acc_without = grokking.grid_accuracy(excluded_logits(logits, [k], basis), run_data)
    print(f"{k:9d}  {float(share[k - 1]):11.3f}  {cluster_counts[k - 1]:7d}  {a:7.2f}  {acc_without:.3f}")

# %% [markdown]
# **A finding, not a glitch.** Four of the five rows agree: a fifth to a quarter of the embedding, 54 to 69
# neurons, a coefficient $\alpha_k$ of 7 to 9, and a small loss of test accuracy (to 0.969-0.993) when the
# frequency alone is removed, because the other three still vote for the right answer. Frequency 15 is different:
# it holds 4.9% of the embedding's squared norm, enough for the 0.25 rule of Exercise 10.3, yet no neuron is
# tuned to it, its fitted coefficient is **0.00**, and removing it from the logits leaves test accuracy at
# 1.000. Attention does not read it either (the course's tests find it in at most 1.3% of any head's
# $W_E W_V W_O$ and 0.2% of its $W_E W_K$). The embedding carries a wave that nothing downstream uses.
#
# Seed 1 has no such frequency: each of its three keys has its own neurons (93, 48 and 74) and a coefficient of 8
# to 29, so an unused embedding frequency is a property of this run, not of grokking.
#
# So "key frequency" depends on where you look: the embedding rule says five, the neurons and the logits say
# four, and only the logits' rule measures what the model *computes* with. Why weight decay has not removed
# frequency 15 this lesson does not answer: its norm in $W_E$ even grows after clean-up, from 1.88 at step 1300
# to 2.23 at step 3000. Check your own rule against the logits before you call a frequency part of the algorithm.

# %% [markdown]
# Now the progress measures over every snapshot, with the key frequencies of the *final* model:
# test loss, restricted loss (on the test pairs) and excluded loss (on the training pairs).

# %%
measures = {"test loss": [], "restricted loss": [], "excluded loss (train)": [], "test accuracy": []}
with torch.no_grad():
    for snapshot in snapshots:
        snap_logits = grokking.all_logits(snapshot, p)
        measures["test loss"].append(grokking.grid_loss(snap_logits, run_data, "test"))
        measures["restricted loss"].append(grokking.grid_loss(restricted_logits(snap_logits, keys, basis), run_data, "test"))
        measures["excluded loss (train)"].append(grokking.grid_loss(excluded_logits(snap_logits, keys, basis), run_data, "train"))
        measures["test accuracy"].append(grokking.grid_accuracy(snap_logits, run_data, "test"))
shown = {k: v for k, v in measures.items() if k != "test accuracy"}
fig, progress = plot_progress_measures(steps, shown, phases, title="progress measures of grokking_p53")
progress["test accuracy"] = measures["test accuracy"]
for s, tl, rl, el in list(zip(steps, *shown.values()))[::3]:
    print(f"step {s:5d}: test {tl:8.4f}  restricted {rl:8.4f}  excluded (train) {el:7.3f}")

# %% [markdown]
# **Figure.** The test loss, the restricted loss (only the key frequencies kept) and the excluded train
# loss (the key frequencies removed) across training, over the three phases. Notice that the restricted
# loss falls long before the test loss: the printed restricted loss is 0.0387 at step 600 while the test
# loss is still 5.8009, and the excluded train loss climbs from 2.081 at step 300 to 8.029 at step 900.

# %% nbgrader={"grade": false, "grade_id": "fig10_progress", "locked": true, "schema_version": 3, "solution": false}
checks.check_progress_measures_result(progress)

# %% [markdown]
# On seed 1 (snapshots every 400 steps) the same pattern holds, later: restricted loss 0.032 at step 3600 while
# test accuracy is 0.45, and the excluded train loss rises 2.6 times over its circuit formation (steps 80 to 3860).
#
# The three phases of Nanda et al. are visible:
#
# 1. **Memorisation** (red): train loss collapses and test loss goes up; the excluded loss falls with
#    the train loss, since memorising needs no circuit.
# 2. **Circuit formation** (orange): the restricted loss falls by orders of magnitude while the
#    test loss is still high. The circuit is being built *while the model still memorises*: the
#    excluded loss rises, because the memorised part is being replaced by the circuit, and without
#    the circuit the model can no longer fit its own training data.
# 3. **Clean-up** (green): the memorising components are removed and the test loss drops to match
#    the restricted loss. This is the "sudden" grokking: the end of a long, gradual process.
#
# What drives the clean-up? The weight norm tells us.

# %%
fig, norm_curves = plot_weight_norm({"weight decay 1": curves, "weight decay 0": control}, phases)
print(f"sum of squared weights: peak {max(curves['weight_norm']):.0f}, final {curves['weight_norm'][-1]:.0f} "
      f"(weight decay 1); final {control['weight_norm'][-1]:.0f} (weight decay 0)")

# %% [markdown]
# **Figure.** The sum of squared weights over training, with and without weight decay. Notice that with
# weight decay the norm rises to a peak and then falls: the printed peak is 1655 and the final value 629,
# while without weight decay it ends at 2559. Seed 1's norm peaks at 1651 too and ends at 573, 0.35 of the peak,
# at step 6000 (seed 0: 0.38 at step 3000).

# %% [markdown] nbgrader={"grade": true, "grade_id": "written10_1", "locked": false, "points": 3, "schema_version": 3, "solution": true}
# **Written question.** Both runs memorise the training pairs within about 100 steps, but only the
# one with weight decay generalises. (a) Using the weight-norm curves and the progress measures,
# explain why weight decay makes the network switch from memorising to the Fourier circuit, and why
# this takes so long. (b) Predict what a *larger* training fraction (say 0.8) and a *larger* weight
# decay would each do to the plateau, and why.
#
# YOUR ANSWER HERE

# %% nbgrader={"grade": false, "grade_id": "results", "locked": true, "schema_version": 3, "solution": false}
# The numbers this lesson measured, for the table that ends its page on the course site.
from mi_tutor.course.results import record

_curves = live_log.curves()
record("live run: final test accuracy", _curves["test_acc"][-1])
record("key frequencies of the grokked embedding", ", ".join(str(k) for k in keys),
       paper="5 key frequencies at p = 113 (Nanda et al. 2023)")
record("logit variance explained by the key frequencies' cos(w(a + b - c)) terms", explained)
record("test accuracy: full model, key frequencies excluded (chance 1/53)", f"{acc_full:.3f}, {acc_keys:.3f}")


# %% [markdown]
# ## Summary
#
# - A network trained on part of the addition table of $\mathbb{Z}_p$ first memorises it (train accuracy 1,
#   test accuracy low: zero for the live MLP, 8 to 26 times chance for the transformer, not chance) and, with
#   weight decay, much later generalises: **grokking**. When depends on the seed: seed 1 of the same recipe is
#   still on its plateau at step 3000.
# - In the Fourier basis of $\mathbb{Z}_p$ the grokked transformer is simple: its embedding uses a handful of
#   key frequencies, most MLP neurons are tuned to one of them, and the logits are a sum of
#   $\cos(w_k (a + b - c))$ terms. Removing those terms from the logits destroys test accuracy; removing
#   as many other frequencies changes nothing.
# - The **restricted loss** (only the circuit) and the **excluded loss** (everything but the circuit,
#   on the training data) reveal three phases: memorisation, circuit formation (the circuit grows
#   during the plateau) and clean-up (weight decay removes the memorisation, and test loss drops).
# - The "sudden" generalisation is the visible end of a gradual, measurable process, a lesson for
#   reading any training curve.
#
# ## Further reading
#
# - N. Nanda, L. Chan, T. Lieberum, J. Smith, J. Steinhardt, [Progress measures for grokking via mechanistic interpretability](https://arxiv.org/abs/2301.05217), ICLR 2023: the algorithm, the progress measures and the three phases.
# - A. Power et al., [Grokking: Generalization Beyond Overfitting on Small Algorithmic Datasets](https://arxiv.org/abs/2201.02177), 2022: the discovery and the data-fraction sweeps.
# - A. Gromov, [Grokking modular arithmetic](https://arxiv.org/abs/2301.02679), 2023: an MLP that groks without regularisation, with analytic Fourier weights.
# - ARENA 1.5.2, [Grokking and modular arithmetic](https://arena-chapter1-transformer-interp.streamlit.app/): the same analysis on the p = 113 run.
