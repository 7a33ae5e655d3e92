# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Lesson 11: Reading, steering and editing representations: top-down meets bottom-up
#
# Two traditions study what a network represents. **Representation engineering** (RepE, Zou et al.
# 2023) works *top-down*: pick a concept (sentiment, honesty), collect activations for contrasting
# stimuli, find the direction that separates them, and use it to read and steer the model, without
# asking which neurons or heads produce it. **Mechanistic interpretability** works *bottom-up*: find
# the components and the computation, then act on them. This lesson does both on one model and lets
# you compare.
#
# The model is the course's own: a 4-layer transformer with MLPs (`facts_4l` in the zoo) trained on
# a synthetic language with **facts** ("Gaia Hale works-as baker", two-token subjects, four relations,
# two phrasings each), **rumours** (the same sentences behind `rumor`/`myth`, with false objects),
# **reviews** whose words carry a binary **sentiment**, and **bios** that list a subject's four
# objects right after its name. It knows all 256 facts.
#
# On it you will build, as the papers did:
#
# - **reading vectors** (RepE): mean difference and PCA of paired differences, against random directions;
# - **activation addition** (ActAdd, Turner et al. 2023): add $c \cdot v$ (a coefficient times a vector) to the residual stream, sweep $c$;
# - **inference-time intervention** (ITI, Li et al. 2023): probe every attention head, shift the best;
# - **causal tracing** (Meng et al. 2022): corrupt the subject, restore one state, see what comes back;
# - a **rank-one edit** of a fact (ROME, Meng et al. 2022), at the traced site and elsewhere;
# - **DoLa** (Chuang et al. 2024): contrast the last layer with an early one, for facts about rare objects.
#
# **Central claim.** Directions read from contrasting prompts steer a model smoothly within a working
# range, and causal tracing finds where a fact is stored so that a rank-one edit changes it.
#
# **Learning objectives.** After this lesson you can
#
# - compute mean-difference and PCA reading vectors and judge them against a random baseline;
# - steer a model by activation addition and measure what it costs elsewhere;
# - choose attention heads by probes and shift them, and tell a predictive head from a causal one;
# - locate where a fact is recalled by causal tracing, and read the residual, MLP and attention maps;
# - edit a fact with a rank-one update and measure efficacy, generalisation and specificity;
# - explain DoLa's contrast between layers and when it helps.
#
# **Prerequisites.** Lessons 1 (hooks), 2 (directions and probes), 8 (transformer hook names) and 9
# (activation patching). Linear algebra: projections, PCA, solving a linear system.
#
# **Estimated time.** 3 hours. The notebook itself executes in about a minute on a laptop CPU.
#
# **How this works.** Each exercise has a difficulty (★ easy to ★★★★★ hard), a hint you can unfold,
# a visible test you can run, and hidden tests the grader adds (other seeds, shapes and layers).
# Write your code between the lines of the solution cells and replace `raise NotImplementedError()`.

# %% nbgrader={"grade": false, "grade_id": "setup", "locked": true, "schema_version": 3, "solution": false}
from mi_tutor.course.setup import setup_lesson

device = setup_lesson(seed=0)

import matplotlib.pyplot as plt
import torch

from mi_tutor import editing, steering, zoo
from mi_tutor.checks import lesson11 as checks
from mi_tutor.steering.plots import plot_edit_scores, plot_iti, plot_reading_accuracy, plot_steering_sweep, plot_tracing_maps
from mi_tutor.tasks import facts

print(f"Running on {device}")

# %% [markdown]
# ## 1. The language and the model
#
# Every sequence has 8 tokens. Facts and rumours read `<bos> filler s1 s2 relation object relation
# object`, reviews `<bos> s1 s2 seems w w w w`, bios `<bos> filler s1 s2 o1 o2 o3 o4`. Each first name
# and each last name belongs to four subjects, so neither token alone says who the subject is.
# Within each relation one object belongs to 24 of the 64 subjects and the two rarest to 2 each: the
# **rare** facts.

# %%
model = zoo.load("facts_4l", device=device)
extras = zoo.extras("facts_4l", device=device)  # key covariances, an early snapshot, the training record
record = extras["record"]
world = facts.facts_world()
for line in facts.decode(facts.corpus_batch(6, seed=4)):
    print("  ", line)
print(f"\n{model.cfg.n_layers} layers, d_model {model.cfg.d_model}, d_mlp {model.cfg.d_mlp}; trained in "
      f"{record['seconds']:.0f} s on one CPU thread (800 steps)")
print(f"fact accuracy: {record['final_accuracy']:.3f} (phrase 1), {record['final_accuracy_paraphrase']:.3f} (phrase 2)")
facts_batch = facts.fact_prompts(world).to(device)
print("a fact prompt:", facts_batch.text()[5], "->", facts.VOCAB[int(facts_batch.answers[5])])

# %% [markdown]
# ## 2. Reading vectors
#
# RepE's recipe: collect the residual stream at the last token for **paired** stimuli, the same
# review with every sentiment word swapped for its opposite (`good` <-> `bad`), so that the pairs
# differ only in the concept. Two ways to get a direction:
#
# - the **mean difference** of the positive and the negative states;
# - the first **principal component of the paired differences**, RepE's "LAT" with
#   `n_difference=1`. PCA gives an axis, not a sign: choose the sign so that the positive member of a
#   pair projects higher.
#
# A direction **reads** the concept when the projection of a held-out state on it, thresholded
# halfway between the two classes' mean projections, tells them apart.

# %%
pos_tokens, neg_tokens = facts.sentiment_pairs(200, n_words=3, seed=0)
print(facts.decode(pos_tokens[0]), " | ", facts.decode(neg_tokens[0]))
pos_states = steering.residual_states(model, pos_tokens.to(device)).cpu()  # [n_layers + 1, 200, d_model]
neg_states = steering.residual_states(model, neg_tokens.to(device)).cpu()
print("states", tuple(pos_states.shape), "(index L < 4: blocks.L.hook_resid_pre; 4: the last block's output)")

# %% [markdown]
# ### Exercise 11.1: the mean-difference direction
# **Difficulty:** ★☆☆☆☆  **Importance:** ★★★★☆
#
# Implement `mean_difference(pos_acts, neg_acts)`: `pos_acts` is `[n_pos, d_model]`, `neg_acts`
# `[n_neg, d_model]` (the groups need not be the same size). Return the **unit** vector `[d_model]` (a
# tensor) along the positive group's mean minus the negative group's mean, leaving both inputs unchanged.
#
# <details><summary>Hint</summary>
#
# Average each group over its batch axis (the first), not over the features. A direction compared
# across layers must not carry the residual stream's scale, which grows with depth: divide by the
# length.
#
# </details>

# %% nbgrader={"grade": false, "grade_id": "ex11_1_solution", "locked": false, "schema_version": 3, "solution": true}
def mean_difference(pos_acts: torch.Tensor, neg_acts: torch.Tensor) -> torch.Tensor:
    """Unit vector along mean(pos_acts) - mean(neg_acts): [n_pos, d], [n_neg, d] -> [d]."""
    ### BEGIN SOLUTION
    v = pos_acts.mean(0) - neg_acts.mean(0)
    return v / v.norm()
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ex11_1_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false}
checks.check_mean_difference(mean_difference)

# %% nbgrader={"grade": true, "grade_id": "ex11_1_hidden", "locked": true, "points": 1, "schema_version": 3, "solution": false}
### BEGIN HIDDEN TESTS
# Another seed, a wider d_model and groups of different sizes: a mean over the feature axis, a missing norm or
# neg - pos fails; the inputs stay unchanged.
checks.check_mean_difference(mean_difference, seed=7, n=9, d=40)
### END HIDDEN TESTS

# %% [markdown]
# ### Exercise 11.2: the PCA direction of paired differences
# **Difficulty:** ★★★☆☆  **Importance:** ★★★★☆
#
# Implement `pca_direction(pos_acts, neg_acts)`: both `[batch, d_model]` and **paired** (row `i` of
# one is the partner of row `i` of the other). RepE shows each pair in random order, so its
# differences point both ways; do the same deterministically: take the differences `pos - neg`,
# **negate every second one** (rows 1, 3, 5, ...), subtract their mean, and return the first
# principal component as a unit vector `[d_model]`, signed so that the (unflipped) differences
# project positively on average. Negate the rows of a copy: `pos_acts` and `neg_acts` are left unchanged.
#
# <details><summary>Hint</summary>
#
# Why the flips: if every difference pointed the same way, subtracting their mean would remove
# exactly the concept and leave only how the pairs vary. The first principal component of a centred
# data matrix is its top right singular vector (`torch.linalg.svd`; the rows of its last output are
# the right singular vectors). Singular vectors come with an arbitrary sign: check the mean
# projection of the original differences and flip the vector when it is negative.
#
# </details>

# %% nbgrader={"grade": false, "grade_id": "ex11_2_solution", "locked": false, "schema_version": 3, "solution": true}
def pca_direction(pos_acts: torch.Tensor, neg_acts: torch.Tensor) -> torch.Tensor:
    """First PC of the paired differences (every second one negated, recentred), signed: [batch, d] x 2 -> [d]."""
    ### BEGIN SOLUTION
    diffs = pos_acts - neg_acts
    flipped = diffs.clone()
    flipped[1::2] = -flipped[1::2]
    _, _, vh = torch.linalg.svd(flipped - flipped.mean(0), full_matrices=False)
    v = vh[0]
    return -v if (diffs @ v).mean() < 0 else v
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ex11_2_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false}
checks.check_pca_direction(pca_direction)

# %% nbgrader={"grade": true, "grade_id": "ex11_2_hidden", "locked": true, "points": 2, "schema_version": 3, "solution": false}
### BEGIN HIDDEN TESTS
# Another seed and shapes (more features than pairs): a sign left to chance, or no flips before recentring, fails.
checks.check_pca_direction(pca_direction, seed=3, n=8, d=30)
### END HIDDEN TESTS

# %% [markdown]
# ### Exercise 11.3: reading accuracy
# **Difficulty:** ★★☆☆☆  **Importance:** ★★★★☆
#
# Implement `reading_accuracy(acts, labels, direction)`: `acts` `[batch, d_model]`, `labels` `[batch]`
# of 0/1, `direction` `[d_model]`. Project every state on the direction, put the threshold halfway
# between the mean projection of class 1 and that of class 0, predict the side of class 1 for the
# states on its side, and return the share predicted correctly (a Python float, not a 0-d tensor). The
# arguments are left unchanged.
#
# <details><summary>Hint</summary>
#
# The states need not be centred: a threshold at zero fails when all of them sit far along the
# direction. And the direction may point either way: decide which side of the threshold is class 1
# from the two class means, not by assuming it is the upper side.
#
# </details>

# %% nbgrader={"grade": false, "grade_id": "ex11_3_solution", "locked": false, "schema_version": 3, "solution": true}
def reading_accuracy(acts: torch.Tensor, labels: torch.Tensor, direction: torch.Tensor) -> float:
    """Accuracy of a midpoint threshold on the projection acts @ direction at predicting labels."""
    ### BEGIN SOLUTION
    scores = acts @ direction
    labels = labels.bool()
    mu1, mu0 = scores[labels].mean(), scores[~labels].mean()
    threshold = (mu1 + mu0) / 2
    pred = scores > threshold if mu1 >= mu0 else scores < threshold
    return float((pred == labels).float().mean())
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ex11_3_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false}
checks.check_reading_accuracy(reading_accuracy)

# %% nbgrader={"grade": true, "grade_id": "ex11_3_hidden", "locked": true, "points": 1, "schema_version": 3, "solution": false}
### BEGIN HIDDEN TESTS
# Another seed, more and wider states, flipped directions and large offsets: a threshold at 0, or class 1 assumed
# on the upper side, fails.
checks.check_reading_accuracy(reading_accuracy, seed=5, n=50, d=20)
### END HIDDEN TESTS

# %% [markdown]
# Now fit both directions on the first 100 pairs at every layer, score them on the other 100, and
# compare with random unit directions (the mean over 10).

# %%
train, test = torch.arange(100), torch.arange(100, 200)
labels = torch.cat([torch.ones(100), torch.zeros(100)]).long()
accuracy = {"mean difference": [], "PCA": [], "random (mean of 10)": []}
cosines = []
for layer in range(model.cfg.n_layers + 1):
    P, N = pos_states[layer], neg_states[layer]
    v_mean, v_pca = mean_difference(P[train], N[train]), pca_direction(P[train], N[train])
    acts = torch.cat([P[test], N[test]])
    accuracy["mean difference"].append(reading_accuracy(acts, labels, v_mean))
    accuracy["PCA"].append(reading_accuracy(acts, labels, v_pca))
    randoms = [reading_accuracy(acts, labels, steering.random_reading_vector(model.cfg.d_model, seed=s)) for s in range(10)]
    accuracy["random (mean of 10)"].append(sum(randoms) / len(randoms))
    cosines.append(steering.cosine(v_mean, v_pca))
fig, reading_data = plot_reading_accuracy(accuracy, title="reading sentiment at the last token")
print("cosine(mean difference, PCA) per layer:", [round(c, 3) for c in cosines])

# %% [markdown]
# **Figure.** How well the mean-difference direction, the top PCA direction and random directions read
# sentiment at the last token, layer by layer. Notice that the two fitted directions coincide, with a
# printed cosine of 1.0 at every layer, and read almost perfectly (the check prints a peak of 0.995), and
# look at the random baseline as well, whose values this cell does not print.

# %% nbgrader={"grade": false, "grade_id": "fig11_reading", "locked": true, "schema_version": 3, "solution": false}
checks.check_reading_result({"mean": accuracy["mean difference"], "pca": accuracy["PCA"]}, cosines)

# %% [markdown]
# Both directions read sentiment almost perfectly from the first block on and point the same way
# (cosine 1.00 to two decimals). But look at the random baseline: from layer 1 on, a *random* direction reads
# it well too (the mean of ten reads 0.90 to 0.98; single ones anywhere from 0.52 to 0.995). In this model sentiment is so loud (the top principal component of the states
# carries about half of their variance) that almost any direction picks it up. A high reading
# accuracy alone is a weak claim: the baseline, and whether the direction *does* anything when
# added, are what count. That is the next section.

# %% [markdown]
# ## 3. Activation addition
#
# ActAdd adds $c \cdot v$ to the residual stream at one layer and a set of positions, with $v$ the
# difference of activations of contrasting prompts (Turner et al. use a single pair such as "Love" -
# "Hate"; we use the mean paired difference at the last token, at the input of the block we steer).
# We steer the neutral prompt `<bos> s1 s2 seems` and measure the **latent**: the share of the
# next-word probability that goes to positive words out of positive and negative words. The cost is
# measured on unrelated text, the **off-target loss**: the loss on the 256 fact prompts under the
# same intervention.

# %% [markdown]
# ### Exercise 11.4: add a steering vector
# **Difficulty:** ★★☆☆☆  **Importance:** ★★★★★
#
# Implement `add_steering(resid, vector, coefficient, positions)`: `resid` is `[batch, pos, d_model]`,
# `vector` `[d_model]`, `positions` either `None` (every position) or a list of positions. Return a
# **new** tensor with `coefficient * vector` added at those positions of every sequence; with
# coefficient 0 the result must equal `resid` exactly.
#
# <details><summary>Hint</summary>
#
# Work on a copy, so the caller's tensor (the model's activation) is not changed behind its back.
# Indexing the position axis with a list selects those positions in every sequence at once; a full
# slice selects them all. Broadcasting takes care of the batch.
#
# </details>

# %% nbgrader={"grade": false, "grade_id": "ex11_4_solution", "locked": false, "schema_version": 3, "solution": true}
def add_steering(resid: torch.Tensor, vector: torch.Tensor, coefficient: float, positions=None) -> torch.Tensor:
    """resid [batch, pos, d_model] with coefficient * vector added at positions (None: all)."""
    ### BEGIN SOLUTION
    out = resid.clone()
    where = slice(None) if positions is None else positions
    out[:, where] = out[:, where] + coefficient * vector
    return out
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ex11_4_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false}
checks.check_add_steering(add_steering)

# %% nbgrader={"grade": true, "grade_id": "ex11_4_hidden", "locked": true, "points": 2, "schema_version": 3, "solution": false}
### BEGIN HIDDEN TESTS
# Another seed (negative coefficients, a subset of positions, the last position by -1): steering every position,
# or editing `resid` in place, fails.
checks.check_add_steering(add_steering, seed=11)
### END HIDDEN TESTS

# %%
prompts = facts.review_prompts(64, 0, n_words=0, seed=5).to(device)  # "<bos> s1 s2 seems": the latent decides the next word
pos_ids, neg_ids = facts.token_ids(facts.POSITIVE_WORDS), facts.token_ids(facts.NEGATIVE_WORDS)
coefficients = [-1.0, -0.5, -0.25, 0.0, 0.25, 0.5, 1.0]


def steer(tokens, vector, layer, coefficient, positions=None):
    """Logits with your add_steering on blocks.{layer}.hook_resid_pre."""
    hook = lambda resid, hook: add_steering(resid, vector, coefficient, positions)
    return model.run_with_hooks(tokens, fwd_hooks=[(f"blocks.{layer}.hook_resid_pre", hook)])


latent, loss_increase = {}, {}
with torch.no_grad():
    base_loss = steering.answer_loss(model(facts_batch.tokens), facts_batch.answers).item()
    for layer in (1, 2, 3):
        vector = (pos_states[layer] - neg_states[layer]).mean(0).to(device)  # [d_model]
        latent[f"layer {layer}"] = [steering.latent_probability(steer(prompts, vector, layer, c), pos_ids, neg_ids).mean().item()
                                    for c in coefficients]
        loss_increase[f"layer {layer}"] = [steering.answer_loss(steer(facts_batch.tokens, vector, layer, c), facts_batch.answers).item()
                                           - base_loss for c in coefficients]
    vector = (pos_states[2] - neg_states[2]).mean(0).to(device)
    exact = torch.equal(steer(prompts, vector, 2, 0.0), model(prompts))
fig, sweep_data = plot_steering_sweep(coefficients, latent, loss_increase, title="steering sentiment (vector norm ~ 20-40)")
for c, lat, cost in zip(coefficients, latent["layer 2"], loss_increase["layer 2"]):
    print(f"layer 2, c = {c:+.2f}: latent {lat:.3f}, fact loss {cost:+.3f} nats")

# %% [markdown]
# **Figure.** The share of positive words (the latent) and the extra loss on facts as the sentiment vector
# is added with coefficient $c$ at each layer. Notice the working range: at layer 2 the printed latent
# runs from 0.000 at $c = -1$ through 0.510 at $c = 0$ to 0.995 at $c = +1$, while the fact loss rises by
# only 0.021 and 0.050 nats at $c = \pm 0.25$ but by 1.209 and 4.030 nats at $c = \pm 1$.

# %% nbgrader={"grade": false, "grade_id": "fig11_steering", "locked": true, "schema_version": 3, "solution": false}
checks.check_steering_result(coefficients, latent["layer 2"], exact)

# %% [markdown]
# The latent follows the coefficient smoothly, from almost only negative words at $c = -1$ to almost
# only positive ones at $c = +1$, at every layer (the vector's length is that of the difference, 20 to 40). For $\lvert c \rvert \le 0.25$ the fact loss rises by a few
# hundredths of a nat; at $\lvert c \rvert = 1$ by one to four nats: the vector is as long as the residual stream itself,
# and pushing that hard overwrites the subject. Steering has a working range, and it must be
# measured, not assumed.

# %% [markdown]
# ## 4. Inference-time intervention
#
# After a rumour marker the model answers a *false* object: in `<bos> rumor Gaia Hale works-as` the
# true object gets only about 10 % of the probability. The model knows the truth; the context tells
# it to say something else. ITI asks: is there a "truth" direction in some heads that we can push on?
#
# For every head, a logistic-regression probe on its output `z` (`blocks.L.attn.hook_z`) at the last
# token tells true statements (fact prompts) from false ones (the same prompts behind a rumour
# marker); the **top K** heads by validation accuracy are then shifted by $\alpha \sigma u$, $u$ the
# unit **mass-mean** direction of the head (class mean of true minus that of false) and $\sigma$ the
# standard deviation of the head's activations along $u$. The control shifts **K random heads**.

# %%
statements, truth = facts.statement_prompts(world, seed=0)
head_acts = steering.head_activations(model, statements.to(device)).cpu()  # [512, n_layers, n_heads, d_head]
probe_acc = steering.probe_accuracies(head_acts, truth)
K = 2
top = steering.top_heads(probe_acc, K)
print("validation accuracy of a probe per head (rows: layers):\n", probe_acc.numpy().round(2))
print("top heads:", top)

# %% [markdown]
# ### Exercise 11.5: the ITI shift of one head
# **Difficulty:** ★★☆☆☆  **Importance:** ★★★★☆
#
# Implement `mass_mean_shift(acts, labels, alpha)`: `acts` `[batch, d_head]` (one head), `labels`
# `[batch]` of 0/1. Return the `[d_head]` tensor $\alpha \sigma u$ (the argument `alpha` times $\sigma$ times $u$), where $u$ is the unit vector
# along the mean of class 1 minus the mean of class 0, and $\sigma$ the standard deviation over all
# examples of their projections on $u$. `acts` and `labels` are left unchanged.
#
# <details><summary>Hint</summary>
#
# Two ingredients: a normalised difference of class means, and a spread measured *along that
# direction* (project every example on it first, then take one standard deviation over the batch).
# The spread is what makes $\alpha$ mean the same thing for a head with large activations and one
# with small ones.
#
# </details>

# %% nbgrader={"grade": false, "grade_id": "ex11_5_solution", "locked": false, "schema_version": 3, "solution": true}
def mass_mean_shift(acts: torch.Tensor, labels: torch.Tensor, alpha: float) -> torch.Tensor:
    """alpha * sigma * u for one head: acts [batch, d_head], labels [batch] -> [d_head]."""
    ### BEGIN SOLUTION
    labels = labels.bool()
    d = acts[labels].mean(0) - acts[~labels].mean(0)
    u = d / d.norm()
    return alpha * (acts @ u).std() * u
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ex11_5_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false}
checks.check_mass_mean_shift(mass_mean_shift)

# %% nbgrader={"grade": true, "grade_id": "ex11_5_hidden", "locked": true, "points": 1, "schema_version": 3, "solution": false}
### BEGIN HIDDEN TESTS
# Another seed (a negative alpha, a 3-wide head, odd class sizes): sigma left out or taken over every entry fails.
checks.check_mass_mean_shift(mass_mean_shift, seed=4)
### END HIDDEN TESTS

# %%
rumours = facts.fact_prompts(world, marker="rumor").to(device)


def iti_run(tokens, heads, alpha):
    """Logits with your mass-mean shift added to each chosen head's z at every position."""
    hooks = []
    for layer, head in heads:
        shift = mass_mean_shift(head_acts[:, layer, head], truth, alpha).to(device)

        def hook(z, hook, head=head, shift=shift):
            z = z.clone()
            z[:, :, head] = z[:, :, head] + shift
            return z
        hooks.append((f"blocks.{layer}.attn.hook_z", hook))
    return model.run_with_hooks(tokens, fwd_hooks=hooks)


alphas = [0.0, 1.0, 2.0, 3.0]
random_sets = [steering.random_heads(model.cfg.n_layers, model.cfg.n_heads, K, seed=s) for s in range(4)]
with torch.no_grad():
    p_true = lambda logits: steering.answer_probability(logits, rumours.answers).mean().item()
    iti_curves = {f"top {K} heads {top}": [p_true(iti_run(rumours.tokens, top, a)) for a in alphas]}
    random_curves = [[p_true(iti_run(rumours.tokens, heads, a)) for a in alphas] for heads in random_sets]
    iti_curves[f"{K} random heads (best of 4)"] = [max(r[i] for r in random_curves) for i in range(len(alphas))]
    iti_curves[f"{K} random heads (mean of 4)"] = [sum(r[i] for r in random_curves) / 4 for i in range(len(alphas))]
fig, iti_data = plot_iti(alphas, iti_curves, title="ITI: P(true object) after a rumour marker")
best = alphas.index(2.0)
print(f"alpha 2: top heads {iti_curves[f'top {K} heads {top}'][best]:.3f}, random heads "
      f"{[round(r[best], 3) for r in random_curves]}, no intervention {iti_curves[f'top {K} heads {top}'][0]:.3f}")

# %% [markdown]
# **Figure.** The probability of the true object after a rumour marker as the top-probed heads, or random
# heads, are shifted by $\alpha$. Notice that only the probed heads move it: at $\alpha = 2$ the printed
# probability is 0.310 for the top heads against 0.097 to 0.112 for random ones and 0.103 with no
# intervention.

# %% nbgrader={"grade": false, "grade_id": "fig11_iti", "locked": true, "schema_version": 3, "solution": false}
checks.check_iti_result(iti_curves[f"top {K} heads {top}"][best], [r[best] for r in random_curves],
                        iti_curves[f"top {K} heads {top}"][0])

# %% [markdown]
# Shifting the two best-probed heads triples the probability of the true object (from 0.10 to 0.31
# at $\alpha = 2$); two random heads barely move it. But two things temper the story. Most heads
# probe at 0.95 or better (the rumour marker is easy to see), so the probe ranking is nearly a tie
# and says little about which heads *matter*; and past $\alpha = 2$ the shift overshoots and the
# probability falls again. Li et al. meet the same trade-off between truthfulness and helpfulness;
# Wang & Veitch (2025) report that optimised edits at *random* heads match ITI's chosen ones. A
# probe finds where information *is*, not where it is *used*: for that we intervene.

# %% [markdown]
# ### A direction about truth, not about a marker
#
# The direction above tells fact prompts from rumour prompts, and the rumour marker is a word in the input:
# any head that sees it can tell them apart. A truth direction must separate statements that look alike
# and differ only in whether they are true. The zoo's `facts_truth_4l` has the same architecture and was
# trained on a corpus in which a quarter of the sequences are **liars**: the fact form with both objects
# false and no marker (`facts.TRUTH_KIND_FRACTIONS`). Only the first object tells a liar from an honest
# speaker, so to predict the second object the model must judge whether the first one is true; it answers
# the truth after an honest start and goes on lying after a false one. `facts.liar_contrast` gives
# `<bos> f s1 s2 r_a o_a r_b` with `o_a` true or false and the words otherwise the same. The probes and
# your mass-mean shifts are fitted on the even subjects; the intervention is measured on the odd ones,
# which they never saw. Two controls: a random direction of the same size at the same head, and random
# heads shifted along their own truth directions.

# %%
truth_model = zoo.load("facts_truth_4l", device=device)
fit_subjects, held_subjects = list(range(0, 64, 2)), list(range(1, 64, 2))
contrast, said_truth = facts.liar_contrast(world, subjects=fit_subjects, seed=0)  # [256, 7], truth 1 / 0
truth_acts = steering.head_activations(truth_model, contrast.to(device)).cpu()  # [256, n_layers, n_heads, d_head]
truth_probe = steering.probe_accuracies(truth_acts, said_truth)
[truth_head] = steering.top_heads(truth_probe, 1)
lying, lie_answers = facts.liar_questions(world, subjects=held_subjects, lie=True, seed=5)
honest, honest_answers = facts.liar_questions(world, subjects=held_subjects, lie=False, seed=5)


def true_rate(tokens, answers, head=None, shift=None):
    """Share of ``tokens`` whose top next word is the true object, with ``shift`` added to ``head``'s z."""
    hooks = []
    if head is not None:
        def hook(z, hook, h=head[1], shift=shift.to(device)):
            z = z.clone()
            z[:, :, h] = z[:, :, h] + shift
            return z
        hooks = [(f"blocks.{head[0]}.attn.hook_z", hook)]
    with torch.no_grad():
        logits = truth_model.run_with_hooks(tokens.to(device), fwd_hooks=hooks)
    return (logits[:, -1].argmax(-1).cpu() == answers).float().mean().item()


def own_shift(head, alpha):
    return mass_mean_shift(truth_acts[:, head[0], head[1]], said_truth, alpha)


truth_alphas = [0.0, 2.0, 4.0, 6.0]
random_direction = torch.randn(truth_acts.shape[-1], generator=torch.Generator().manual_seed(0))
random_direction = random_direction / random_direction.norm()
other_heads = [steering.random_heads(truth_model.cfg.n_layers, truth_model.cfg.n_heads, 1, seed=s,
                                     exclude=[truth_head])[0] for s in range(3)]
truth_curves = {
    f"best head {truth_head}": [true_rate(lying, lie_answers, truth_head, own_shift(truth_head, a)) for a in truth_alphas],
    "same head, random direction": [
        true_rate(lying, lie_answers, truth_head, own_shift(truth_head, a).norm() * random_direction) for a in truth_alphas],
    "random heads, their own truth shift (mean of 3)": [
        sum(true_rate(lying, lie_answers, h, own_shift(h, a)) for h in other_heads) / 3 for a in truth_alphas],
    "best head, after an honest start": [true_rate(honest, honest_answers, truth_head, own_shift(truth_head, a))
                                         for a in truth_alphas],
}
fig, truth_iti_data = plot_iti(truth_alphas, truth_curves, title="ITI along truth, held-out subjects")
plt.show()
held_contrast, held_truth = facts.liar_contrast(world, subjects=held_subjects, seed=1)
truth_u = own_shift(truth_head, 1.0)
truth_u = truth_u / truth_u.norm()
fit_proj = truth_acts[:, truth_head[0], truth_head[1]] @ truth_u
held_proj = steering.head_activations(truth_model, held_contrast.to(device)).cpu()[:, truth_head[0], truth_head[1]] @ truth_u
middle = (fit_proj[said_truth == 1].mean() + fit_proj[said_truth == 0].mean()) / 2
held_accuracy = ((held_proj > middle) == held_truth.bool()).float().mean().item()
print(f"best head {truth_head}: probe {truth_probe[truth_head].item():.2f}, its direction on held-out subjects "
      f"{held_accuracy:.2f}; true answers after a lying start {truth_curves[f'best head {truth_head}'][0]:.3f} -> "
      f"{truth_curves[f'best head {truth_head}'][2]:.3f} at alpha 4 (random direction "
      f"{truth_curves['same head, random direction'][2]:.3f}, random heads "
      f"{truth_curves['random heads, their own truth shift (mean of 3)'][2]:.3f}); after an honest start "
      f"{truth_curves['best head, after an honest start'][0]:.3f} -> {truth_curves['best head, after an honest start'][2]:.3f}")

# %% [markdown]
# **Figure.** The true-answer rate after a lying start, on held-out subjects, as the best-probed head is
# shifted along its truth direction (and the controls), with the rate after an honest start under the
# same shift. Notice the printed numbers: head (1, 0) tells a true first statement from a false one on
# held-out subjects 0.89 of the time; shifting it by $\alpha = 4$ raises the true answers after a lying start
# from 0.195 to 0.484, a random direction of the same size gives 0.219 and random heads 0.201, and after
# an honest start the rate falls from 0.969 to 0.859.

# %% nbgrader={"grade": false, "grade_id": "fig11_truth_iti", "locked": true, "schema_version": 3, "solution": false}
checks.check_truth_iti_result(truth_curves, truth_alphas)

# %% [markdown]
# Unlike the marker direction, this one is read where the model needs it: at the last position the heads
# of layers 1 to 3 separate true from false starts on held-out subjects 0.60 to 0.92 of the time (8 of the
# 12 above 0.7; layer 0, whose heads read only the embeddings, 0.50 to 0.70), and one
# head's shift more than doubles the true answers. It stops far short of undoing the lie (about
# half of the answers stay false, and past $\alpha = 4$ the honest answers suffer too). The same recipe
# trained on another seed (`bench/iti_truth.py --train-seed1`) gives the same picture with another head:
# (1, 3) raises the held-out true answers after a lying start from 0.188 to 0.398 at $\alpha = 4$ (random
# directions up to 0.242, random heads 0.201), and leaves 0.773 after an honest start.

# %% [markdown]
# ## 5. Causal tracing: where is the fact recalled?
#
# Meng et al. corrupt the subject's token embeddings with Gaussian noise of 3 x the standard
# deviation of the embedding matrix, which makes the model forget who the subject is, and then
# restore **one** activation from the clean run: a residual-stream state, an MLP output or an
# attention output at one layer and one position. Where restoring brings the answer back, that state
# carries the fact. We report the share of the clean probability recovered:
# $$\frac{p_\text{restored} - p_\text{corrupted}}{p_\text{clean} - p_\text{corrupted}}.$$

# %% [markdown]
# ### Exercise 11.6: a restoring hook
# **Difficulty:** ★★☆☆☆  **Importance:** ★★★★★
#
# Implement `restore_hook(clean, position)`: `clean` is an activation `[batch, pos, ...]` cached in
# the clean run. Return a hook function `hook(act, hook)` that returns the corrupted run's `act` with
# position `position` replaced by the clean values, every other position untouched. `clean` itself is
# left as it was.
#
# <details><summary>Hint</summary>
#
# A function that builds and returns another function: the inner one sees `clean` and `position`
# from the outer one (a closure). Inside, copy the corrupted activation, overwrite one slice along
# the position axis (the second), and return the copy.
#
# </details>

# %% nbgrader={"grade": false, "grade_id": "ex11_6_solution", "locked": false, "schema_version": 3, "solution": true}
def restore_hook(clean: torch.Tensor, position: int):
    """A hook (act, hook) -> act with act[:, position] replaced by clean[:, position]."""
    ### BEGIN SOLUTION
    def hook(act, hook):
        act = act.clone()
        act[:, position] = clean[:, position]
        return act
    return hook
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ex11_6_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false}
checks.check_restore_hook(restore_hook)

# %% nbgrader={"grade": true, "grade_id": "ex11_6_hidden", "locked": true, "points": 1, "schema_version": 3, "solution": false}
### BEGIN HIDDEN TESTS
# Another seed (the first position, the last by -1, a batch of one), then a head's output [batch, pos, heads,
# d_head]: code written for three axes only, or the batch axis for the position axis, fails.
checks.check_restore_hook(restore_hook, seed=9)
checks.check_restore_hook(restore_hook, seed=10, heads=4)
### END HIDDEN TESTS

# %%
trace = facts.fact_prompts(world, subjects=range(0, 64, 4)).to(device)  # 64 prompts "<bos> f s1 s2 r"
position_labels = ["<bos>", "filler", "s1", "s2 (last subject)", "relation (final)"]
subject_positions = [2, 3]
gen = torch.Generator().manual_seed(0)
sigma = 3 * steering.embedding_std(model)
noises = [(torch.randn(len(trace), 2, model.cfg.d_model, generator=gen) * sigma).to(device) for _ in range(2)]  # 2 noise samples (ROME: 10)
p_answer = lambda logits: steering.answer_probability(logits, trace.answers).mean().item()
with torch.no_grad():
    _, clean_cache = model.run_with_cache(trace.tokens)
    p_clean = p_answer(model(trace.tokens))
    p_corrupt = sum(p_answer(model.run_with_hooks(trace.tokens, fwd_hooks=[("hook_embed", steering.noise_hook(subject_positions, z))]))
                    for z in noises) / len(noises)
    recovered = {}
    for kind, name in steering.KINDS.items():
        grid = torch.zeros(model.cfg.n_layers, trace.tokens.shape[1])
        for layer in range(model.cfg.n_layers):
            for pos in range(trace.tokens.shape[1]):
                hook_name = name.format(layer)
                ps = [p_answer(model.run_with_hooks(trace.tokens, fwd_hooks=[
                    ("hook_embed", steering.noise_hook(subject_positions, z)),
                    (hook_name, restore_hook(clean_cache[hook_name], pos))])) for z in noises]
                grid[layer, pos] = (sum(ps) / len(ps) - p_corrupt) / (p_clean - p_corrupt)
        recovered[kind] = grid
print(f"p(answer): clean {p_clean:.3f}, subject corrupted {p_corrupt:.3f}")
fig, tracing_data = plot_tracing_maps(recovered, position_labels, title="share of the clean probability recovered")
site = divmod(int(recovered["mlp"].argmax()), trace.tokens.shape[1])
print(f"strongest MLP state: layer {site[0]}, position {site[1]} ({position_labels[site[1]]}): "
      f"{float(recovered['mlp'][site]):.2f}")

# %% [markdown]
# **Figure.** The share of the clean answer probability recovered by restoring one state (residual stream,
# MLP or attention output) at one layer and position in the run with a noised subject. Notice the hot cell
# at the last subject token in the MLP map: the printed strongest MLP state is layer 0 at position 3 with
# 0.85, where the corruption had dropped $p(\text{answer})$ from 0.990 to 0.489.

# %% nbgrader={"grade": false, "grade_id": "fig11_tracing", "locked": true, "schema_version": 3, "solution": false}
checks.check_tracing_result(recovered, site)

# %% [markdown]
# Read the three maps together.
#
# - **Residual stream**: restoring the *last subject token* after block 0 recovers most of the
#   answer (the first subject token alone does little: neither name identifies the subject); from
#   block 1 on, only the final token matters. The information moves from the subject to the final
#   token between block 0 and block 1.
# - **MLPs**: the decisive state is **MLP 0 at the last subject token**. Later MLPs at the subject do
#   nothing; MLPs at the final token recover a little.
# - **Attention**: attention of block 1 at the final token carries the recalled attribute from the
#   subject to where it is needed.
#
# This is the picture Meng et al. found in GPT-2 (an early-to-middle MLP at the last subject token
# enriches the subject, attention later moves the attribute to the end), squeezed into 4 layers: the
# site is layer 0 here, not a middle layer. It was not a given: a model of the same size trained
# without the *bio* sentences (where the subject's objects follow its name directly) recalled at the
# final token, where attention had gathered the raw subject tokens (the course notes saw the same
# with another toy model). The corpus gave this model a reason to enrich the subject early.

# %% [markdown]
# ## 6. Editing a fact with a rank-one update
#
# An MLP reads as a key-value memory: its hidden activation `k` (`blocks.L.mlp.hook_post`) is a key,
# and `k @ W_out` the value written to the residual stream. ROME edits one association:
#
# 1. the **key** $k^*$: the mean MLP key at the edit position over the fact's prompts with different
#    fillers;
# 2. the **value** $v^*$: the MLP output that makes the new object the answer, found by gradient
#    descent, with a KL term that keeps the subject's other facts where they were
#    (`editing.compute_value`, 20 Adam steps as in ROME);
# 3. the **update** $W_\text{out} + u\, (v^* - k^* W_\text{out})^\top / (u \cdot k^*)$ with $u = C^{-1} k^*$ and $C = \mathbb{E}[k k^\top]$ the
#    key covariance over the corpus (shipped with the model: `extras["covariance"]`). Of all updates
#    that send $k^*$ to $v^*$, it changes the output least on typical keys. It is an outer product: rank one.

# %% [markdown]
# ### Exercise 11.7: the key
# **Difficulty:** ★★☆☆☆  **Importance:** ★★★★☆
#
# Implement `mean_key(model, prompts, layer, position)`: run `model` on `prompts` `[batch, pos]`,
# read the MLP's hidden activation of block `layer` (after its non-linearity) at `position`, and
# return its mean over the prompts, a tensor `[d_mlp]`. The model and `prompts` are left as they were.
#
# <details><summary>Hint</summary>
#
# `run_with_cache` with a names filter gives just the activation you need. The key is what the
# output matrix multiplies, so it is the MLP's *post*-activation, not its input. Average over the
# batch, not over the neurons.
#
# </details>

# %% nbgrader={"grade": false, "grade_id": "ex11_7_solution", "locked": false, "schema_version": 3, "solution": true}
def mean_key(model, prompts: torch.Tensor, layer: int, position: int) -> torch.Tensor:
    """Mean of blocks.{layer}.mlp.hook_post at position over prompts [batch, pos] -> [d_mlp]."""
    ### BEGIN SOLUTION
    name = f"blocks.{layer}.mlp.hook_post"
    _, cache = model.run_with_cache(prompts, names_filter=name)
    return cache[name][:, position].mean(0)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ex11_7_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false}
checks.check_mean_key(mean_key)  # on a small random transformer (5 prompts, then a single one)

# %% nbgrader={"grade": true, "grade_id": "ex11_7_hidden", "locked": true, "points": 1, "schema_version": 3, "solution": false}
### BEGIN HIDDEN TESTS
# On the lesson's trained model: other layers and positions (the first subject token), many prompts and a single
# prompt: a pre-activation key, a mean over the neurons or a fixed layer fails.
checks.check_mean_key(mean_key, model, [facts.fact_prompts(world, range(10), [0, 2]).tokens.to(device),
                                        facts.fact_prompts(world, [9], [3]).tokens.to(device)], [(1, 2), (2, 4)])
### END HIDDEN TESTS

# %% [markdown]
# ### Exercise 11.8: the rank-one update
# **Difficulty:** ★★★☆☆  **Importance:** ★★★★★
#
# Implement `rank_one_update(W_out, C, key, value)`: `W_out` `[d_mlp, d_model]`, `C` `[d_mlp, d_mlp]`,
# `key` `[d_mlp]`, `value` `[d_model]`. Return the new `W_out` (a new tensor; leave the inputs alone)
# such that `key @ W_new == value`, changed only along $u = C^{-1} k$ (with $k$ = `key`).
#
# <details><summary>Hint</summary>
#
# Solve a linear system rather than forming the inverse of C. What the key currently produces is
# `key @ W_out`; the residual between the wanted value and that is what the update must add when the
# key comes in. An outer product of `u` with that residual, scaled so that multiplying by the key
# gives exactly the residual back, does it: the scale is one over the dot product of `u` and the key.
#
# </details>

# %% nbgrader={"grade": false, "grade_id": "ex11_8_solution", "locked": false, "schema_version": 3, "solution": true}
def rank_one_update(W_out: torch.Tensor, C: torch.Tensor, key: torch.Tensor, value: torch.Tensor) -> torch.Tensor:
    """ROME's closed form: W_out + outer(C^-1 k, v - k W_out) / (C^-1 k . k)."""
    ### BEGIN SOLUTION
    u = torch.linalg.solve(C, key)
    return W_out + torch.outer(u, value - key @ W_out) / (u @ key)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ex11_8_visible", "locked": true, "points": 2, "schema_version": 3, "solution": false}
checks.check_rank_one_update(rank_one_update)

# %% nbgrader={"grade": true, "grade_id": "ex11_8_hidden", "locked": true, "points": 2, "schema_version": 3, "solution": false}
### BEGIN HIDDEN TESTS
# Another seed and shapes (d_model wider than d_mlp): C ignored, a wrong denominator or a rank above one fails;
# the inputs stay unchanged.
checks.check_rank_one_update(rank_one_update, seed=21)
### END HIDDEN TESTS

# %% [markdown]
# Now edit two facts at three sites: the traced one (MLP 0 at the last subject token), a later MLP
# at the same token (MLP 2), and the last MLP at the final token. Each edit is scored on the edited
# prompts (**efficacy**), on the relation's other phrase (**paraphrase**), on the other subjects'
# facts (**specificity**: unchanged answers) and on the subject's other relations.

# %%
C_all = extras["covariance"]  # [n_layers, d_mlp, d_mlp], from 4096 corpus sequences


def ridge(C, r=1e-4):
    """C plus a little of its mean diagonal: a few rare key directions make C nearly singular."""
    return C + r * C.diagonal().mean() * torch.eye(C.shape[0], device=C.device)


sites = {"MLP 0, last subject token (traced)": (0, 3), "MLP 2, last subject token": (2, 3), "MLP 3, final token": (3, 4)}
to_edit = [(0, 1), (17, 2)]  # (subject, relation)
known = editing.known_facts(model, world)
edit_results, ranks = {}, {}
for label, (layer, pos) in sites.items():
    per_edit = []
    for subject, relation in to_edit:
        assert known[subject, relation], "edit only facts the model knows"
        new = editing.new_object_for(world, subject, relation)
        prompts_ = torch.cat([facts.fact_prompts(world, [subject], [relation], filler=f).tokens for f in range(len(facts.FILLERS))]).to(device)
        kl_prompts = facts.fact_prompts(world, [subject], [r for r in range(4) if r != relation]).tokens.to(device)
        key = mean_key(model, prompts_, layer, pos).detach()
        value = editing.compute_value(model, prompts_, new, layer, pos, kl_prompts=kl_prompts)
        W_old = model.blocks[layer].mlp.W_out.detach()
        W_new = rank_one_update(W_old, ridge(C_all[layer]), key, value)
        edited = editing.apply_update(model, layer, W_new)
        per_edit.append(editing.edit_scores(model, edited, subject, relation, new, world).as_dict())
        ranks[label] = editing.update_rank(W_old, W_new)[0]
    edit_results[label] = {k: sum(e[k] for e in per_edit) / len(per_edit) for k in per_edit[0]}
    print(f"{label:36s}", {k: round(v, 3) for k, v in edit_results[label].items()}, "rank", ranks[label])
fig, edit_data = plot_edit_scores(edit_results, title=f"ROME edits of {world.subject_name(0)} and {world.subject_name(17)}")

# %% [markdown]
# **Figure.** Efficacy, paraphrase, specificity and same-subject scores of rank-one edits at three sites.
# Notice that the edit works only at the traced site: MLP 0 at the last subject token prints 1.0 for
# efficacy and paraphrase (0.667 for the same subject's other facts), MLP 2 at the same token prints 0.0,
# and MLP 3 at the final token 0.5.

# %% nbgrader={"grade": false, "grade_id": "fig11_edit", "locked": true, "schema_version": 3, "solution": false}
checks.check_edit_result(edit_results, "MLP 0, last subject token (traced)", ranks["MLP 0, last subject token (traced)"])

# %% [markdown]
# At the traced site both edits work (efficacy 1.0) and generalise to the other phrasing of the
# relation (paraphrase 1.0): the key at the subject token does not depend on how the relation is
# worded. Other subjects keep all their facts; the *same* subject's other relations suffer most (the
# last column printed): the value written at the subject token also feeds its other facts, which
# the KL term only partly protects. At MLP 2 of the same token the edit does nothing at all
# (efficacy 0): by then the final token has already read the subject, so what the subject token writes
# later is never used. The final token's last MLP, which tracing gave a small share, is a possible
# site too: with ROME's 20 optimisation steps one of the two edits there has taken (efficacy 0.5);
# with 40 steps both do (measured while building the lesson; try `steps=40`).
# (Editing a fact the model does not know makes no sense, and `editing.edit_fact` refuses.)

# %%
early = extras["early_model"]  # the snapshot after 150 training steps (section 7)
unknown = (~editing.known_facts(early, world)).nonzero()[0].tolist()
try:
    editing.edit_fact(early, unknown[0], unknown[1], editing.new_object_for(world, *unknown), 0, 3, C_all[0])
except editing.NotKnownError as err:
    print("NotKnownError:", err)

# %% [markdown]
# ### Two edits are not a recipe: many facts, held-out fillers, and MEMIT
#
# Two edits that work say little about the next one. Score the recipe the way the papers do, over
# facts this section has not touched, with the **key and value fitted on fillers 0-3 only** so that
# fillers 4-7 test generalisation to prefixes the edit never saw, and with specificity split into
# the **neighbours** (subjects sharing a first or last name) and the **same subject**'s other relations.
# `editing.edit_fact` uses the recipe chosen that way over 32 other facts (40 steps, ridge $10^{-2}$,
# a KL weight of 0.5 over the subject's other relations with every filler and both phrases).
#
# **MEMIT** (Meng et al. 2023) edits many facts at once: one target residual $z_i$ per fact at the
# last edited layer, and for every layer of the range a least-squares update
# $\Delta W = (w C + K^\top K)^{-1} K^\top R$ that fits all the keys $K$ together (one row per fact),
# each layer taking its share of what is still missing. It shares ROME's key and value code
# (`editing.memit`). Here the range is MLP 0 alone: tracing found nothing to edit at MLP 1 of the subject.

# %%
fit = [0, 1, 2, 3]  # the fillers the edits are fitted on; 4-7 are held out
many = [(s, s % 4, editing.new_object_for(world, s, s % 4, shift=1 + s % 7)) for s in (3, 34)]
alone = [editing.edit_measures(model, editing.edit_fact(model, s, r, new, 0, 3, C_all[0], world, fillers=fit).model,
                               [(s, r, new)], world, fit) for s, r, new in many]
scored = {"ROME, each fact alone": {k: torch.cat([a[k] for a in alone]) for k in alone[0]},
          "MEMIT, both at once": editing.edit_measures(
              model, editing.edit_facts(model, many, (0,), C_all, world, fillers=fit).model, many, world, fit)}
measures = ("efficacy", "held_out", "neighbours", "same_subject", "specificity")
for name, per_fact in scored.items():
    print(name)
    for k in measures:
        print(f"   {k:12s}", editing.score_distribution(per_fact[k]))
table = zoo.info("facts_4l")["editing"]  # measured by bench/rome_facts.py
print(f"\nover {table['source']}:")
print(f"ROME, {table['rome_recipe']['name']}:", {k: table["rome_recipe"][k]["mean"] for k in measures},
      "worst efficacy", table["rome_recipe"]["efficacy"]["worst"])
for n, row in table["table"].items():
    for method, res in row.items():
        print(f"{n:>3s} facts, {method:19s}", {k: res[k]["mean"] for k in measures})

# %% [markdown]
# Read the distribution, not one number. Your 2 facts may both take; over the 32 facts of the table,
# most of ROME's edits take everywhere (efficacy and held-out fillers at 1.0), the neighbours keep
# every fact, and the same subject's other relations mostly survive; but the mean efficacy is below 1
# and the worst fact stayed unedited: for such a fact the value optimisation at MLP 0 does not make
# the new object win, and no setting of steps, ridge or KL weight tried in `bench/rome_facts.py`
# fixed every fact. MEMIT writes
# all the facts at once, generalising and keeping the other facts about as well as ROME's
# rank-one updates applied one after another; neither disturbs the other subjects much in this
# small model. The table is what `bench/rome_facts.py` measured over 32 facts and is the claim;
# your 2 facts are a sample of it (2 to keep the notebook fast: each edit optimises a value).

# %% [markdown] nbgrader={"grade": true, "grade_id": "written11_1", "locked": false, "points": 3, "schema_version": 3, "solution": true}
# **Written question.** Causal tracing put the fact in MLP 0 at the last subject token, and the edit
# there worked. (a) Does the tracing peak tell you where to edit? Use this lesson's three edit sites,
# and Hase et al. (2023), who found that across layers of GPT-J the tracing effect does not predict
# which layer edits best. (b) What does tracing measure that editing does not need, and vice versa?
#
# ### BEGIN SOLUTION
# (a) Only partly. Here the peak (MLP 0, subject) is a good site, and a site tracing rates as useless
# (MLP 2 at the same token, recovered share ~0) fails: the subject token is no longer read after block
# 0. But the last MLP at the final token, which tracing gives a small share, can be edited too (one of
# two edits with 20 steps, both with 40): an edit
# only needs *some* place where a change can route the new answer to the output, not the place where
# the old answer was recalled. Hase et al. show the same at scale: ROME succeeds at many layers whose
# tracing effect is small, and the effect does not correlate with edit success; localisation and
# editability are different questions.
# (b) Tracing measures where the *existing* information sits and is needed (restoring one state under
# a corrupted subject), a statement about the clean computation. Editing needs a key that is specific
# to the fact (so other subjects are untouched), a position whose output still reaches the answer,
# and enough capacity to write the new value; it does not need the old fact to be stored there.
# Efficacy also needs to be scored with paraphrase and specificity, which tracing cannot predict.
# ### END SOLUTION

# %% [markdown]
# ## 7. DoLa: contrasting an early layer with the last
#
# Read every layer's residual stream through the final LayerNorm and the unembedding (the logit
# lens): early layers predict what is *common*, later layers what is *specific*. For a fact with a
# rare object the specific answer must beat the frequent one. DoLa picks, per prompt, the
# **premature** layer whose distribution is farthest from the last layer's by Jensen-Shannon
# divergence, and ranks tokens by $\log p_\text{last} - \log p_\text{premature}$, but only among tokens with
# $p_\text{last} \ge \text{relative_top} \cdot \max p_\text{last}$, so implausible tokens cannot win.
#
# The fully trained model knows every fact, so there is nothing to fix. The snapshot after 150 steps
# (shipped with the model) knows 68 % of the facts but only 29 % of the rare ones.

# %% [markdown]
# ### Exercise 11.9: Jensen-Shannon divergence
# **Difficulty:** ★★☆☆☆  **Importance:** ★★★☆☆
#
# Implement `js_divergence(logp, logq)`: two tensors of **log**-probabilities `[..., d_vocab]`;
# return a tensor `[...]` (the inputs left unchanged), the JSD in nats over the last axis: $\big(\mathrm{KL}(P \,\Vert\, M) + \mathrm{KL}(Q \,\Vert\, M)\big) / 2$ with $M = (P + Q)/2$.
#
# <details><summary>Hint</summary>
#
# Exponentiate to get P and Q, form the mixture, and keep the logs you were given for P and Q (a
# probability of exactly 0 has a log of -inf, and 0 x -inf is NaN: multiply P with log-differences
# in which P's own log appears, and keep the mixture's log finite).
#
# </details>

# %% nbgrader={"grade": false, "grade_id": "ex11_9_solution", "locked": false, "schema_version": 3, "solution": true}
def js_divergence(logp: torch.Tensor, logq: torch.Tensor) -> torch.Tensor:
    """JSD over the last axis of two log-probability tensors [..., d_vocab] -> [...]."""
    ### BEGIN SOLUTION
    p, q = logp.exp(), logq.exp()
    logm = ((p + q) / 2).clamp_min(1e-30).log()
    return 0.5 * ((p * (logp - logm)).sum(-1) + (q * (logq - logm)).sum(-1))
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ex11_9_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false}
checks.check_js_divergence(js_divergence)

# %% nbgrader={"grade": true, "grade_id": "ex11_9_hidden", "locked": true, "points": 1, "schema_version": 3, "solution": false}
### BEGIN HIDDEN TESTS
# Another seed (extra leading axes and a one-hot distribution): NaN from 0 x log 0, or KL(P || Q) for the mixture,
# fails.
checks.check_js_divergence(js_divergence, seed=8)
### END HIDDEN TESTS

# %% [markdown]
# ### Exercise 11.10: the DoLa contrast
# **Difficulty:** ★★☆☆☆  **Importance:** ★★★★☆
#
# Implement `dola_contrast(final, premature, relative_top)`: `final` and `premature` are
# log-probabilities `[batch, d_vocab]`. Return a new tensor `[batch, d_vocab]` (the inputs left
# unchanged): `final - premature` for the tokens
# whose final-layer probability is at least `relative_top` times the largest final-layer probability
# of that row, and `-inf` for the others.
#
# <details><summary>Hint</summary>
#
# The filter compares each token with the best token *of its own row*: a maximum over the vocabulary
# axis that keeps its dimension. In log space a product with `relative_top` becomes a sum with its
# log; `torch.where` picks between the contrast and a tensor of `-inf`.
#
# </details>

# %% nbgrader={"grade": false, "grade_id": "ex11_10_solution", "locked": false, "schema_version": 3, "solution": true}
def dola_contrast(final: torch.Tensor, premature: torch.Tensor, relative_top: float = 0.1) -> torch.Tensor:
    """log p_final - log p_premature where p_final >= relative_top * max p_final, else -inf."""
    ### BEGIN SOLUTION
    keep = final.exp() >= relative_top * final.exp().max(-1, keepdim=True).values
    return torch.where(keep, final - premature, torch.full_like(final, float("-inf")))
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ex11_10_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false}
checks.check_dola_contrast(dola_contrast)

# %% nbgrader={"grade": true, "grade_id": "ex11_10_hidden", "locked": true, "points": 1, "schema_version": 3, "solution": false}
### BEGIN HIDDEN TESTS
# Another seed (a strict filter of 0.5 and none at all, relative_top 0): a filter on the premature layer, or
# per-batch instead of per-row, fails.
checks.check_dola_contrast(dola_contrast, seed=6)
### END HIDDEN TESTS

# %%
rare, answers = facts_batch.rare.cpu(), facts_batch.answers.cpu()
results = {}
for name, m in (("150-step snapshot", early), ("trained model", model)):
    with torch.no_grad():
        lp = steering.layer_logprobs(m, facts_batch.tokens).cpu()  # [n_layers + 1, 256, d_vocab]
    jsd = torch.stack([js_divergence(lp[-1], lp[c]) for c in range(lp.shape[0] - 1)])  # [candidates, 256]
    chosen = jsd.argmax(0)
    scores = dola_contrast(lp[-1], lp[chosen, torch.arange(len(answers))], 0.1)
    plain, contrast = lp[-1].argmax(-1) == answers, scores.argmax(-1) == answers
    results[name] = {"plain rare": plain[rare].float().mean().item(), "DoLa rare": contrast[rare].float().mean().item(),
                     "plain frequent": plain[~rare].float().mean().item(), "DoLa frequent": contrast[~rare].float().mean().item()}
    lens = [(lp[l].argmax(-1)[rare] == answers[rare]).float().mean().item() for l in range(lp.shape[0])]
    print(f"{name}: premature layers chosen {torch.bincount(chosen, minlength=lp.shape[0] - 1).tolist()}; "
          f"logit-lens accuracy on rare facts by layer {[round(a, 2) for a in lens]}")
    print("   ", {k: round(v, 3) for k, v in results[name].items()})
fig, ax = plt.subplots(figsize=(6, 3))
names = list(results["150-step snapshot"])
ax.bar(names, [results["150-step snapshot"][k] for k in names], color=["tab:blue", "tab:orange"] * 2)
ax.set(ylabel="accuracy", title="150-step snapshot: DoLa vs the last layer", ylim=(0, 1))
fig.tight_layout()

# %% [markdown]
# **Figure.** Accuracy of the 150-step snapshot on rare and frequent facts, with and without DoLa. Notice
# the trade: on rare facts the printed accuracy rises from 0.286 to 0.429, on frequent ones it falls from
# 0.724 to 0.689; on the fully trained model all four accuracies are 1.0.

# %% nbgrader={"grade": false, "grade_id": "fig11_dola", "locked": true, "schema_version": 3, "solution": false}
checks.check_dola_result(results["150-step snapshot"]["plain rare"], results["150-step snapshot"]["DoLa rare"])

# %% [markdown]
# On the half-trained snapshot the JSD rule picks the embedding layer every time (it is the farthest
# from the output), and the contrast raises accuracy on the **rare** facts (from 0.29 to 0.43) while
# costing a little on the frequent ones: subtracting what the early layer believes (the frequent
# objects) favours what the late layers added. On the fully trained model DoLa changes nothing: it
# cannot add knowledge, only re-rank what the last layer already considers plausible.

# %% [markdown] nbgrader={"grade": true, "grade_id": "written11_2", "locked": false, "points": 3, "schema_version": 3, "solution": true}
# **Written question.** Seed 000 of this course contrasts representation engineering (top-down) with
# mechanistic interpretability (bottom-up): "Though the mechanistic view of networks is vastly more
# precise, representation engineering has found more practical applications." Using what you did
# in this lesson (the reading vectors and their random baseline, steering and its off-target cost,
# ITI's probe-chosen heads, tracing and the edits), argue where each approach is the right tool, what
# each one missed here that the other caught, and how they could be combined.
#
# ### BEGIN SOLUTION
# Top-down tools were quick and worked without understanding the circuit: a mean-difference vector
# from 200 pairs read and steered sentiment at every layer, and ITI raised the truthful answer with
# two heads. That is their practical strength: a concept, contrastive data and one direction suffice,
# and they scale to models nobody has reverse-engineered. But they also misled: a random direction
# read sentiment almost as well (reading accuracy said little about the direction's meaning), the
# probe ranking of heads was nearly a tie (predictive is not causal), and steering had a narrow
# working range that only an off-target measurement revealed. Bottom-up tools answered *where* and
# *how*: tracing located the recall at MLP 0 of the last subject token with attention moving it to
# the end, which predicted that an edit at MLP 2 of the subject would do nothing; a rank-one edit at
# a specific site changed one fact and left 255 others alone, a precision no steering vector had.
# Yet the bottom-up story was incomplete too: the final-token MLP, weak in tracing, was an equally
# good edit site. Combined: use top-down directions to find candidate concepts and effects cheaply,
# then use interventions (patching, tracing) to check which components carry them causally, and
# choose interventions (heads, layers, rank-one edits) from that mechanism, always scored with
# baselines (random directions, random heads) and off-target costs.
# ### END SOLUTION

# %% nbgrader={"grade": false, "grade_id": "results", "locked": true, "schema_version": 3, "solution": false}
# The numbers this lesson measured, for the table that ends its page on the course site.
from mi_tutor.course.results import record

record("best reading accuracy of the mean-difference vector", max(accuracy["mean difference"]))
_iti = iti_curves[f"top {K} heads {top}"]
record("ITI at alpha 2: P(true object) with the top heads shifted, and without", f"{_iti[alphas.index(2.0)]:.3f} and {_iti[0]:.3f}")
record(f"causal tracing: share recovered by the MLP at layer {site[0]}, position {site[1]}", recovered["mlp"][site],
       digits=2)
_rome = edit_results["MLP 0, last subject token (traced)"]
record("ROME at the traced site: efficacy, paraphrase, specificity",
       f"{_rome['efficacy']:.2f}, {_rome['paraphrase']:.2f}, {_rome['specificity']:.2f}")
_many = scored["ROME, each fact alone"]["efficacy"]
record("ROME over 2 other facts: mean and worst efficacy", f"{float(_many.mean()):.2f} and {float(_many.min()):.2f}")
_dola = results["150-step snapshot"]
record("rare-fact accuracy of the 150-step snapshot, without and with DoLa",
       f"{_dola['plain rare']:.3f} and {_dola['DoLa rare']:.3f}")


# %% [markdown]
# ## Summary
#
# - **Reading vectors**: mean difference and PCA of paired differences agree (cosine 1.00) and read
#   the sentiment latent almost perfectly; a random direction reads it too in this model, so a
#   reading accuracy needs its baseline.
# - **Activation addition** moves the latent smoothly with the coefficient (coefficient 0 is exactly
#   the unsteered model); the off-target loss stays within a few hundredths of a nat for $\lvert c \rvert \le 0.25$ and
#   explodes at $\lvert c \rvert = 1$.
# - **ITI**: the top-2 probed heads triple the truthful answer after a rumour marker, random heads do
#   not; most heads probe well, so the probe does not say which are causal.
# - **Causal tracing** locates the recall at **MLP 0 of the last subject token**, with attention in
#   block 1 moving the attribute to the final token: the GPT-2 picture in 4 layers, thanks to a corpus
#   that gives the subject a reason to be enriched early.
# - **ROME** at the traced site: the lesson's two edits score 1.0 for efficacy, paraphrase and
#   specificity with a rank-one update; over many facts it is a distribution (most edits take, the
#   worst can fail), which is what a recipe must be judged by; MEMIT writes many facts at once. At a
#   later MLP of the subject it fails, and the final token's last MLP, weak in tracing, can be
#   edited too: tracing does not pick the only editable site.
# - **DoLa** helps a half-trained model on facts with rare objects, at a small cost on frequent ones,
#   and changes nothing once the facts are known.
#
# ## Further reading
#
# - A. Zou et al., [Representation Engineering: A Top-Down Approach to AI Transparency](https://arxiv.org/abs/2310.01405), 2023.
# - A. Turner et al., [Activation Addition: Steering Language Models Without Optimization](https://arxiv.org/abs/2308.10248), 2023.
# - K. Li et al., [Inference-Time Intervention: Eliciting Truthful Answers from a Language Model](https://arxiv.org/abs/2306.03341), NeurIPS 2023.
# - K. Meng, D. Bau, A. Andonian, Y. Belinkov, [Locating and Editing Factual Associations in GPT](https://arxiv.org/abs/2202.05262), NeurIPS 2022 (ROME), and K. Meng et al., [Mass-Editing Memory in a Transformer](https://arxiv.org/abs/2210.07229), ICLR 2023 (MEMIT).
# - P. Hase, M. Bansal, B. Kim, A. Ghandeharioun, [Does Localization Inform Editing?](https://arxiv.org/abs/2301.04213), NeurIPS 2023.
# - Y.-S. Chuang et al., [DoLa: Decoding by Contrasting Layers Improves Factuality in Large Language Models](https://arxiv.org/abs/2309.03883), ICLR 2024.
# - M. Geva et al., [Dissecting Recall of Factual Associations in Auto-Regressive Language Models](https://arxiv.org/abs/2304.14767), EMNLP 2023: subject enrichment and attribute extraction.
