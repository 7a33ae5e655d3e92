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
# # Lesson 12: Networks that interpret networks: a symbiote that reads and inhibits a host CNN
#
# Mechanistic interpretability names single units and circuits with great precision, one at a time
# and by hand. Representation engineering works top-down at the scale of whole models, with much
# less precision. The seed of this lesson (a 2024 blog post on "network symbiosis") proposes to join
# them: let a **subsidiary network**, the *symbiote*, read a host network's activations, learn which
# concepts they carry, and **inhibit** chosen features of the host through gates. The question is
# whether such automation keeps mechanistic precision: when the symbiote says "this is where the
# concept lives", is that the unit a careful dissection would name, or a diffuse direction that only
# happens to work?
#
# There is no paper behind the idea, but close relatives exist, and we borrow their measures:
# DiffMask (a probe network predicting hard-concrete gates), Network Dissection (unit-concept IoU),
# Net2Vec (concepts as combinations of filters), TCAV (concept directions and their effect on a
# class), concept erasure, and automated circuit discovery scored against hand-found circuits. To
# grade precision we need a known answer, so our host has one **planted**: a channel trained to
# detect wheels.
#
# **Central claim.** A network trained to read and gate another finds a planted unit as dissection
# does, but only where that unit's effect on the output is graded.
#
# **Learning objectives.** After this lesson you can
#
# - read a host CNN's layers through hooks as a small network's input, and gate its channels during
#   its own forward pass;
# - explain the hard-concrete L0 penalty that makes "touch few channels" differentiable;
# - measure the causal selectivity of an inhibition (drop on concept images against the drop on the
#   others) and compare it with ablating dissection's top units and random units;
# - score a tool's channel choice against dissection IoU and against a planted ground truth;
# - control a reader with a random host, and compare the symbiote with a linear probe, Net2Vec and TCAV.
#
# **Prerequisites.** Lesson 1 (hooks), lesson 2 (dissection, probes), lesson 9 (ablation and
# faithfulness). Logistic regression, the ROC curve.
#
# **Estimated time.** 2.5 hours. The notebook itself executes in about a minute on a laptop CPU.
#
# **How this works.** Each exercise has a difficulty (★ easy to ★★★★★ hard), a hint you can unfold,
# a visible test you can run, and hidden tests the grader adds (other hosts, shapes and batch sizes).
# Write your code between the lines of the solution cells and replace `raise NotImplementedError()`.

# %% nbgrader={"grade": false, "grade_id": "setup", "locked": true, "schema_version": 3, "solution": false}
from mi_tutor.course.setup import setup_lesson

device = setup_lesson(seed=0, threads=1)  # small CNNs: one thread beats two on a shared CPU

import math

import matplotlib.pyplot as plt
import torch
from scipy.stats import spearmanr

from mi_tutor import hooks, symbiote, zoo
from mi_tutor.checks import lesson12 as checks
from mi_tutor.symbiote.gates import BETA, GAMMA, ZETA
from mi_tutor.vision.objects import object_names

print(f"Running on {device}")

# %% [markdown]
# ## 1. The host and its planted channel
#
# The host is the course's plain object-world CNN (lesson 2's zoo: `layer1` ... `layer4`, then
# `head`) trained to name the object in a 64 x 64 scene: car, cart, head, clock, sign, house, ladder,
# fence, arch. Cars and carts differ only by their wheels: round on a car, square blocks on a cart.
# During the host's training one extra loss made channel `planted_channel` of `layer3` segment the
# wheels, and an *intervention* planted its causal role: in 30% of the training scenes the channel
# was zeroed, and a car whose wheel channel was zeroed was labelled "cart". So the layers above read
# the wheels from that channel, and use it for nothing else; whether they read them from that channel
# *alone* is measured below. The zoo entry (`zoo.info`) records where it is: that is the answer our
# tools are graded against.

# %%
PLANTED_HOST = "plainnet_objects_planted"
OTHER_ROUTES = (12, 22)  # the other channels whose zeroing turns the most cars into carts (bench/symbiote_controls.py)
host = zoo.load(PLANTED_HOST, device=device)
info = zoo.info(PLANTED_HOST)
LAYER, PLANTED, CONCEPT = info["planted_layer"], info["planted_channel"], info["planted_concept"]
names = object_names()
test = symbiote.objects_concept_data(800, seed=10**9).to(device)
probe_train = symbiote.objects_concept_data(600, seed=5).to(device)
with torch.no_grad():
    host_pred = torch.cat([host(test.images[i:i + 400]) for i in range(0, len(test), 400)]).argmax(-1)
host_acc = (host_pred == test.labels).float().mean().item()
is_car = test.has(CONCEPT)
WIDTH = symbiote.layer_width(host, LAYER, test.images)
iou = symbiote.dissection_scores(host, LAYER, test, CONCEPT).to(device)
print(f"host accuracy {host_acc:.3f}; planted: {LAYER} channel {PLANTED} of {WIDTH}, concept {CONCEPT!r} "
      f"(in {int(is_car.sum())} of {len(test)} scenes, all cars)")
print("dissection IoU with the wheels, top 5 channels:",
      [(int(c), round(float(iou[c]), 3)) for c in iou.argsort(descending=True)[:5]])

# %% nbgrader={"grade": false, "grade_id": "fig12_host", "locked": true, "schema_version": 3, "solution": false}
checks.check_host_numbers_result(host_acc, int((iou.argsort(descending=True) == PLANTED).nonzero()[0, 0]))

# %% [markdown]
# Is the planted channel the host's *only* route to the wheels? Zero one channel at a time on the car
# scenes and count the cars the host now calls carts: the planted channel, and the two channels whose
# zeroing turns the most cars into carts when all 48 are zeroed one by one (`bench/symbiote_controls.py`
# does it on other scenes and picks them).

# %%
cart = names.index("cart")
car_scenes = test.images[is_car]
for c in (PLANTED, *OTHER_ROUTES):
    pred = symbiote.gated_logits(host, LAYER, car_scenes, symbiote.ablation_gates([c], WIDTH, device)).argmax(-1)
    print(f"{LAYER} channel {c:2d} zeroed alone: {float((pred == cart).float().mean()):.2f} of the cars called carts")

# %% [markdown]
# Zeroing the planted channel turns the printed 0.97 of the cars into carts, but zeroing channel 12 or 22
# alone turns 0.55 and 0.53 of them into carts as well (on other scenes, 0.86, 0.47 and 0.46; channel 30
# comes next, with 0.4): the planted channel is the
# host's strongest wheel route, not its only one. The layers above take the wheels from several
# channels, and the planted one matters most.

# %% [markdown]
# ## 2. Reading the host
#
# The symbiote never changes the host's weights. It reads what the host computes through forward
# hooks, one number per channel and image: the channel's **spatial mean** (the position of a wheel
# does not matter, its presence does). Our symbiote reads `layer3` and `layer4`, standardises the
# features, and feeds a small trunk with two heads: a **concept head** that predicts which of the
# world's concepts the scene holds (parts, colours, textures, read from the masks), and a **gate
# head**, below.
#
# ### Exercise 12.1: the reading
# **Difficulty:** ★★☆☆☆  **Importance:** ★★★★☆
#
# Implement `read_pooled(host, images, layers)`: run `host` on `images` once, take the output of
# every layer named in `layers`, average it over its two spatial axes and concatenate the layers in
# the order given: a tensor `[n, sum of the layers' channels]`, detached from the autograd graph. Use
# `hooks.run_with_cache` (lesson 1). The host and `images` are left as they were.
#
# <details><summary>Hint</summary>
#
# A conv layer's output is `[n, channels, h, w]`; the mean you want removes the last two axes and
# keeps the channel axis. The cache can be asked for just the layers you need. If you build a list
# from a dict, check that its order is the order of `layers`, not the order the host ran them in.
#
# </details>

# %% nbgrader={"grade": false, "grade_id": "ex12_1_solution", "locked": false, "schema_version": 3, "solution": true}
def read_pooled(host, images: torch.Tensor, layers) -> torch.Tensor:
    """Spatial means of the named layers' outputs, concatenated: [n, sum of channels] (detached)."""
    # YOUR CODE HERE
    raise NotImplementedError()


# %% nbgrader={"grade": true, "grade_id": "ex12_1_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false}
checks.check_read_pooled(read_pooled)

# %% nbgrader={"grade": true, "grade_id": "ex12_1_hidden", "locked": true, "points": 1, "schema_version": 3, "solution": false}

# %% [markdown]
# The shipped symbiote was trained on 3,000 scenes (recipe in `mi_tutor.zoo.entries.symbiote`, run by
# `mi-tutor zoo train symbiote_objects_planted`; about two minutes on one CPU thread). Its concept
# head, fed with *your* reading:

# %%
sym = zoo.load("symbiote_objects_planted", device=device)


def symbiote_heads(net, host, images):
    """The symbiote's two heads on read_pooled's features: (concept logits [n, K], gate logits [n, C])."""
    feats = torch.cat([read_pooled(host, images[i:i + 400], net.cfg.read_layers)
                       for i in range(0, len(images), 400)])
    widths = [net.read_widths[name] for name in net.cfg.read_layers]
    with torch.no_grad():
        return net(dict(zip(net.cfg.read_layers, feats.split(widths, -1))))


sym_logits, log_alpha = symbiote_heads(sym, host, test.images)
print("concepts:", sym.cfg.concepts)
print("wheel logit on cars vs others:", round(sym_logits[is_car, 0].mean().item(), 2),
      round(sym_logits[~is_car, 0].mean().item(), 2))

# %% [markdown]
# ## 3. Gates in the host's forward pass
#
# The gate head gives one gate $g_c \in [0, 1]$ per channel of `layer3`; during the host's forward
# pass the channel's whole map is multiplied by it ($g = 1$ leaves it, $g = 0$ zero-ablates it).
#
# ### Exercise 12.2: the gating hook
# **Difficulty:** ★★☆☆☆  **Importance:** ★★★★★
#
# Implement `gate_hook(gates)` returning a hook function `hook(act, hook)` (the `mi_tutor.hooks`
# convention) that returns the activation `[n, C, h, w]` with channel `c` multiplied by `gates[c]`.
# `gates` is either `[C]` (the same gates for every image) or `[n, C]` (one row per image). The
# gates must stay in the autograd graph: the symbiote learns them through the host's output. The hook
# returns a new tensor, and neither `act` nor `gates` is changed.
#
# <details><summary>Hint</summary>
#
# Broadcasting aligns axes from the right: a `[C]` vector multiplied with `[n, C, h, w]` lines up
# with the *width* axis, not the channels. Give the gates two trailing axes of size 1 (and a leading
# one when they are shared). Return a new tensor; multiplying in place would also edit the tensor
# other hooks (or autograd) hold.
#
# </details>

# %% nbgrader={"grade": false, "grade_id": "ex12_2_solution", "locked": false, "schema_version": 3, "solution": true}
def gate_hook(gates: torch.Tensor):
    """A hook that multiplies channel c of the hooked layer's output [n, C, h, w] by gates[c] (or gates[i, c])."""
    # YOUR CODE HERE
    raise NotImplementedError()


# %% nbgrader={"grade": true, "grade_id": "ex12_2_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false}
checks.check_gate_hook(gate_hook)

# %% nbgrader={"grade": true, "grade_id": "ex12_2_hidden", "locked": true, "points": 2, "schema_version": 3, "solution": false}

# %% [markdown]
# The shipped symbiote's gates for the test scenes, applied with your hook. Its gate head reads the
# scene (DiffMask-style), so it can leave a scene without wheels alone and inhibit a scene with
# wheels. Below: car scenes and the host's answer before and after the inhibition, and the planted
# channel's map for each.

# %%
gates = sym.gates_from(log_alpha)                      # [n, C] test-time gates from the gate head above
touched = gates < 1 - 1e-3
print(f"channels touched per scene: {touched[is_car].float().sum(-1).mean():.2f} on car scenes, "
      f"{touched[~is_car].float().sum(-1).mean():.2f} on the others (of {WIDTH})")
# the car scenes and twice as many others (each group's numbers are means within the group)
pick = torch.cat([is_car.nonzero().flatten(), (~is_car).nonzero().flatten()[:2 * int(is_car.sum())]])
with torch.no_grad():
    gated_pred = torch.zeros_like(host_pred)
    gated_pred[pick] = hooks.run_with_hooks(host, test.images[pick], [(LAYER, gate_hook(gates[pick]))]).argmax(-1)
show = is_car.nonzero().flatten()[:6].tolist()
fig, axes = plt.subplots(2, 6, figsize=(12, 4.4))
_, cache_show = hooks.run_with_cache(host, test.images[show], [LAYER])
for j, i in enumerate(show):
    axes[0, j].imshow(test.images[i].permute(1, 2, 0).cpu())
    axes[0, j].set_title(f"before: {names[host_pred[i]]}\nafter: {names[gated_pred[i]]}", fontsize=8)
    axes[1, j].imshow(cache_show[LAYER][j, PLANTED].cpu(), cmap="magma")
    axes[1, j].set_title(f"{LAYER} ch {PLANTED}, gate {float(gates[i, PLANTED]):.2f}", fontsize=8)
for ax in axes.flat:
    ax.axis("off")
fig.suptitle("car scenes: the host's answer before and after the symbiote's inhibition")
fig.tight_layout()

# %% [markdown]
# **Figure.** Six car scenes with the host's answer before and after the symbiote's inhibition (top), and
# the map of the planted channel with its gate (bottom). Notice that the symbiote acts almost only on car
# scenes: it touches a printed 1.85 of 48 channels per car scene and 0.01 on the others, and the check
# below counts 49 of 78 correctly answered concept images losing their answer and 0 of 172 others
# changing.

# %% nbgrader={"grade": false, "grade_id": "fig12_inhibition", "locked": true, "schema_version": 3, "solution": false}
checks.check_inhibition_examples_result(host_pred[pick].cpu(), gated_pred[pick].cpu(), test.labels[pick].cpu(),
                                        is_car[pick].cpu())

# %% [markdown]
# ## 4. Touching few channels: the hard-concrete L0 penalty
#
# Closing *every* channel on car scenes would also "remove the wheels", and say nothing. The symbiote
# is trained with three pressures: push the host's probability of the right class down on scenes
# with wheels; keep the host's output distribution (a KL term) on scenes without; and touch as few
# channels as possible. Counting touched channels is not differentiable, so (like DiffMask) the
# inhibition $z = 1 - g$ of each channel is a **hard-concrete** random variable (Louizos et al.
# 2018): a logistic sample $s = \sigma\big((\log u - \log(1 - u) + \log\alpha) / \beta\big)$ stretched to
# $(\gamma, \zeta) = (-0.1, 1.1)$ and clipped to $[0, 1]$, so that exact zeros (untouched) and ones
# (closed) have real probability. The probability that a channel is touched has a closed form:
# $P(z > 0) = \sigma\big(\log\alpha - \beta \log(-\gamma / \zeta)\big)$, with $\sigma$ the logistic function, $u$ uniform on $(0, 1)$, $\log\alpha$ the channel's learned logit (`log_alpha`) and $\beta$, $\gamma$, $\zeta$ the constants `BETA`, `GAMMA`, `ZETA`.
#
# ### Exercise 12.3: the sparsity penalty
# **Difficulty:** ★★☆☆☆  **Importance:** ★★★☆☆
#
# Implement `l0_penalty(log_alpha)`: the expected number of touched channels per image. `log_alpha`
# is `[n, C]` (one row per image) or `[C]`; return a scalar tensor, differentiable in `log_alpha` (the
# gradient must reach it: the symbiote minimises this penalty), and leave `log_alpha` unchanged.
# `BETA`, `GAMMA` and `ZETA` are imported above.
#
# <details><summary>Hint</summary>
#
# Where does the clipped sample leave 0? Exactly where the stretched logistic is above 0, which is
# an event about the logistic noise with a closed-form probability. Forgetting the stretch gives a
# plain sigmoid of `log_alpha`, which is close but wrong. Sum over channels, then average over images.
#
# </details>

# %% nbgrader={"grade": false, "grade_id": "ex12_3_solution", "locked": false, "schema_version": 3, "solution": true}
def l0_penalty(log_alpha: torch.Tensor) -> torch.Tensor:
    """Expected number of touched channels per image: sum over channels of P(z > 0), averaged over images."""
    # YOUR CODE HERE
    raise NotImplementedError()


# %% nbgrader={"grade": true, "grade_id": "ex12_3_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false}
checks.check_l0_penalty(l0_penalty, shapes=((4, 6),))

# %% nbgrader={"grade": true, "grade_id": "ex12_3_hidden", "locked": true, "points": 1, "schema_version": 3, "solution": false}

# %% [markdown]
# The trained symbiote's expected L0 against the channels its test-time gates actually touch:

# %%
print(f"expected touched channels: {l0_penalty(log_alpha[is_car]).item():.2f} on car scenes, "
      f"{l0_penalty(log_alpha[~is_car]).item():.2f} on the others; touched at test time "
      f"{touched[is_car].float().sum(-1).mean():.2f} and {touched[~is_car].float().sum(-1).mean():.2f}")

# %% [markdown]
# ## 5. Causal selectivity
#
# An inhibition is **selective** when it costs accuracy on the scenes that hold the concept and
# nothing on the others (Bau et al. 2020 ablated a few units to remove one class). We compare three
# interventions that touch the same number of channels `k`: the symbiote's gates, zero-ablating the
# `k` channels of highest dissection IoU, and `k` random channels.
#
# ### Exercise 12.4: the selectivity measure
# **Difficulty:** ★★★☆☆  **Importance:** ★★★★★
#
# Implement `selectivity(host, layer, data, concept, gates)` returning the pair
# `(target_drop, other_drop)`, a tuple of two Python floats: the host's accuracy on the images of `data` that hold `concept`
# (a non-empty mask, `data.has(concept)`) minus its accuracy on them with `layer` gated by `gates`,
# and the same on the other images. `gates` is `[C]` or `[n, C]` (one row per image of `data`).
# Use `symbiote.run_gated(host, x, layer, gates)` for the gated run, or your own hook. The host, `data`
# and `gates` are left as they were.
#
# <details><summary>Hint</summary>
#
# Four accuracies: two groups times with and without gates. The group split must come from the
# concept's masks, not from the labels. With per-image gates, the rows of the gates must stay
# aligned with the images you feed: split after gating, or split the gates with the same index.
#
# </details>

# %% nbgrader={"grade": false, "grade_id": "ex12_4_solution", "locked": false, "schema_version": 3, "solution": true}
def selectivity(host, layer: str, data, concept: str, gates: torch.Tensor):
    """(accuracy drop on images holding `concept`, accuracy drop on the others) when `layer` is gated."""
    # YOUR CODE HERE
    raise NotImplementedError()


# %% nbgrader={"grade": true, "grade_id": "ex12_4_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false}
checks.check_selectivity(selectivity)

# %% nbgrader={"grade": true, "grade_id": "ex12_4_hidden", "locked": true, "points": 2, "schema_version": 3, "solution": false}

# %% [markdown]
# The symbiote's gates against dissection's top `k` and against `k` random channels (three draws),
# with `k` the number of channels the symbiote touches on a car scene (rounded up). Dissection and
# random ablations close their channels in every scene: they cannot read the scene first. (To save
# time we score them on the scenes picked above: the car scenes and twice as many others.)

# %%
k = max(1, math.ceil(touched[is_car].float().sum(-1).mean().item()))
top_iou = iou.argsort(descending=True)[:k].tolist()
scored = test.subset(pick)
table = {"symbiote": selectivity(host, LAYER, scored, CONCEPT, gates[pick]),
         f"dissection top-{k}": selectivity(host, LAYER, scored, CONCEPT, symbiote.ablation_gates(top_iou, WIDTH, device))}
draws = [selectivity(host, LAYER, scored, CONCEPT,
                     symbiote.ablation_gates(symbiote.random_channels(WIDTH, k, seed=s), WIDTH, device))
         for s in range(3)]
table["random"] = (sum(d[0] for d in draws) / 3, sum(d[1] for d in draws) / 3)
fig, ax = plt.subplots(figsize=(6, 3))
for i, (name, (t, o)) in enumerate(table.items()):
    ax.bar([i - 0.18], [t], width=0.36, color="C3", label="scenes with wheels" if i == 0 else None)
    ax.bar([i + 0.18], [o], width=0.36, color="C0", label="other scenes" if i == 0 else None)
ax.set_xticks(range(len(table)), [f"{n}\n({k} ch)" for n in table])
ax.axhline(0, color="k", lw=0.5)
ax.set_ylabel("accuracy drop")
ax.legend(fontsize=8)
ax.set_title(f"inhibiting {CONCEPT} in {LAYER}")
fig.tight_layout()
for name, (t, o) in table.items():
    print(f"{name:18s} target drop {t:+.3f}  other drop {o:+.3f}")

# %% [markdown]
# **Figure.** The accuracy drop on scenes with wheels (red) and on other scenes (blue) when the symbiote's
# gates, the top two dissection channels or random channels are closed. Notice that only the symbiote
# leaves the other scenes alone: the printed drops are +0.570 against +0.000 for it, +0.884 against +0.023
# for the dissection channels and +0.353 against +0.110 for random ones.

# %% nbgrader={"grade": false, "grade_id": "fig12_selectivity", "locked": true, "schema_version": 3, "solution": false}
checks.check_selectivity_bars_result(table)

# %% [markdown]
# Faithfulness is the other half of the claim: on scenes *without* wheels the inhibited host should
# be the same host. The KL between its output distributions there, in nats:

# %%
print(f"KL on scenes without wheels: {symbiote.faithfulness_kl(host, LAYER, scored, CONCEPT, gates[pick]):.4f} nats")

# %% [markdown]
# ## 6. Does the symbiote's choice agree with dissection?
#
# The symbiote's **importance** of a channel is how far it closes it ($1 - g$). Dissection scores
# every channel by its IoU with the wheel masks. Two questions: do the two rankings agree overall
# (rank correlation, precision at `k`), and does the symbiote put the planted channel first? (Make
# a guess before you run the cell: the answer to the second question need not be the answer to the first.)
#
# ### Exercise 12.5: the comparison with dissection
# **Difficulty:** ★★☆☆☆  **Importance:** ★★★★☆
#
# Implement `compare_with_dissection(importance, iou, k, planted)` returning a dict with
# `"spearman"` (the Spearman rank correlation of the two `[C]` vectors), `"precision_at_k"` (the
# fraction of the `k` most important channels that are also among the `k` of highest IoU) and
# `"planted_rank"` (the position of channel `planted` when channels are sorted by decreasing
# importance, 0 = first), leaving `importance` and `iou` unchanged.
#
# <details><summary>Hint</summary>
#
# `scipy.stats.spearmanr` is imported above; the Pearson correlation of raw values is a different
# number. Sets make the overlap of two top-k lists easy. For the rank, sort in decreasing order and
# ask where the planted index landed: the position in the sorted order, not the value.
#
# </details>

# %% nbgrader={"grade": false, "grade_id": "ex12_5_solution", "locked": false, "schema_version": 3, "solution": true}
def compare_with_dissection(importance: torch.Tensor, iou: torch.Tensor, k: int, planted: int) -> dict:
    """Spearman correlation, precision at k against the IoU top-k, and the planted channel's rank."""
    # YOUR CODE HERE
    raise NotImplementedError()


# %% nbgrader={"grade": true, "grade_id": "ex12_5_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false}
checks.check_compare_with_dissection(compare_with_dissection)

# %% nbgrader={"grade": true, "grade_id": "ex12_5_hidden", "locked": true, "points": 1, "schema_version": 3, "solution": false}

# %% [markdown]
# Per-channel gates beside per-channel IoU (the planted channel in red):

# %%
importance = symbiote.mean_inhibition(sym, host, test).to(device)
result = compare_with_dissection(importance, iou, k, PLANTED)
fig, axes = plt.subplots(2, 1, figsize=(9, 4), sharex=True)
colours = ["C3" if c == PLANTED else "C7" for c in range(WIDTH)]
axes[0].bar(range(WIDTH), importance.cpu(), color=colours)
axes[0].set_ylabel("symbiote: 1 - gate")
axes[1].bar(range(WIDTH), iou.cpu(), color=colours)
axes[1].set_ylabel(f"IoU with {CONCEPT}")
axes[1].set_xlabel(f"{LAYER} channel")
fig.suptitle(f"Spearman {result['spearman']:.2f}, precision@{k} {result['precision_at_k']:.2f}, "
             f"planted channel ranked {result['planted_rank']}")
fig.tight_layout()
print(result)

# %% [markdown]
# **Figure.** How much the symbiote closes each channel (top) and each channel's IoU with the wheel
# concept (bottom), with the planted channel in red. Notice that the symbiote closes the planted channel
# most (the printed planted rank is 0, the first), but that the two rankings agree on little else:
# precision at 2 is 0.5 and the Spearman correlation over all channels is about -0.08.

# %% nbgrader={"grade": false, "grade_id": "fig12_gates_iou", "locked": true, "schema_version": 3, "solution": false}
checks.check_gates_vs_iou_result(result, importance, iou, k, PLANTED)

# %% [markdown]
# **The control.** A channel that stands out means something only if the same recipe, on a host with
# *no* planted channel, does not make one stand out as well. (The random-host symbiote of section 7
# cannot tell: on random features it learns to close no gate at all.) `symbiote_objects_unplanted` is
# the shipped symbiote's recipe, trained the same way, on `plainnet_objects_s0`: the same
# architecture, world and task as the planted host, trained without the planting.

# %%
plain_host = zoo.load("plainnet_objects_s0", device=device)
control_sym = zoo.load("symbiote_objects_unplanted", device=device)
control_importance = symbiote.mean_inhibition(control_sym, plain_host, test).to(device)
for label, imp in (("planted host", importance), ("unplanted host (control)", control_importance)):
    top = imp.argsort(descending=True)[:6]
    print(f"{label:25s} first / second {float(imp[top[0]] / imp[top[1]]):.2f}; top 6:",
          [(int(c), round(float(imp[c]), 2)) for c in top])

# %% nbgrader={"grade": false, "grade_id": "fig12_control", "locked": true, "schema_version": 3, "solution": false}
checks.check_ranking_control_result(importance, control_importance)

# %% [markdown]
# On the planted host one channel stands out; on the unplanted host the same recipe spreads its gates
# over several channels with nearly equal importance (the printed first/second ratios). On other scenes
# (`bench/symbiote_controls.py`, 1,200 scenes) the ratio is 1.80 on the planted host against 1.02 on the
# control, whose gates close about six channels per car scene (5.9, against 1.5 on the planted host),
# seven of them more than half as far as its first, and none of them among dissection's top wheel units.
# A single top channel is therefore evidence of a single strong route only because the control shows
# what the recipe does where there is none: it closes a group.

# %% [markdown]
# **What it took.** This agreement is not free, and the failure that preceded it teaches more than the
# success. A first host was planted *all or nothing*: in training, the wheel channel was either left
# alone or zeroed (and the car relabelled "cart"). That host is just as clean by ablation (zeroing
# the channel turns every car into a cart and leaves the other classes), yet symbiotes trained on it
# ranked the planted channel 12th and 9th, and inhibited cars through other channels. The host had
# learnt to ignore a *partly* closed wheel channel, so at "gate open" the gradient of the loss did not
# point at it; the gates follow gradients, and found channels whose partial closing already hurt
# the car. The shipped host was planted *graded* (the channel scaled by a random factor $u$, the
# car's label moved by $1 - u$ towards cart), and the same symbiote then ranks it first. A
# gradient-trained tool finds the units whose effect is graded; a unit that only matters when fully
# off can hide from it. (Numbers in `zoo.info("plainnet_objects_planted")["what_did_not_work"]`.)

# %% [markdown]
# ## 7. Reading: the symbiote against a probe and against a random host
#
# A reader that predicts a concept well may be *reading* it, or *computing* it from whatever it is
# given (Hewitt & Liang's control tasks). Two comparisons tell: a linear probe on the same layers
# (if the symbiote beats it by much, its trunk does work of its own), and the same symbiote trained
# the same way on a **randomly initialised host** (what random features plus a trainable reader
# already give). We score each with the AUROC.
#
# ### Exercise 12.6: AUROC and the random-host control
# **Difficulty:** ★★★☆☆  **Importance:** ★★★★☆
#
# Implement `auroc(scores, labels)`: the probability that a random positive scores higher than a
# random negative, ties counting one half (the area under the ROC curve), as a float. `scores` is
# `[n]`, `labels` `[n]` bools (or 0/1); both are left unchanged.
#
# <details><summary>Hint</summary>
#
# Two routes. Compare every positive with every negative (a `[n_pos, n_neg]` table of comparisons;
# fine for a few thousand images). Or the Mann-Whitney form with ranks: the sum of the positives'
# ranks, minus its smallest possible value, over the number of pairs; ties need average ranks.
# Either way, decide what a tie is worth before you count.
#
# </details>

# %% nbgrader={"grade": false, "grade_id": "ex12_6_solution", "locked": false, "schema_version": 3, "solution": true}
def auroc(scores: torch.Tensor, labels: torch.Tensor) -> float:
    """P(score of a random positive > score of a random negative), ties counting 1/2."""
    # YOUR CODE HERE
    raise NotImplementedError()


# %% nbgrader={"grade": true, "grade_id": "ex12_6_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false}
checks.check_auroc(auroc)

# %% nbgrader={"grade": true, "grade_id": "ex12_6_hidden", "locked": true, "points": 2, "schema_version": 3, "solution": false}

# %% [markdown]
# The wheel concept read three ways, and the rest of the concept head for comparison:

# %%
rand_host = symbiote.random_host(lambda: zoo.build(PLANTED_HOST), seed=0).to(device)  # same architecture, random weights
rand_sym = zoo.load("symbiote_objects_random", device=device)
rand_logits, _ = symbiote_heads(rand_sym, rand_host, test.images)
probe = symbiote.probe_aurocs(host, sym.cfg.read_layers, probe_train, test, sym.cfg.concepts)
present = test.presence(sym.cfg.concepts).cpu()
values = {"symbiote": auroc(sym_logits[:, 0].cpu(), present[:, 0]), "probe": probe[CONCEPT],
          "random host": auroc(rand_logits[:, 0].cpu(), present[:, 0])}
fig, ax = plt.subplots(figsize=(4.5, 3))
ax.bar(list(values), list(values.values()), color=["C2", "C0", "C7"])
ax.axhline(0.5, color="k", ls=":", lw=0.8)
ax.set_ylim(0.4, 1.0)
ax.set_ylabel(f"AUROC for {CONCEPT}")
fig.tight_layout()
print({k_: round(v, 3) for k_, v in values.items()})
for j, c in enumerate(sym.cfg.concepts):
    if 0 < present[:, j].sum() < len(present):
        print(f"{c:16s} symbiote {auroc(sym_logits[:, j].cpu(), present[:, j]):.3f}  probe {probe[c]:.3f}  "
              f"random host {auroc(rand_logits[:, j].cpu(), present[:, j]):.3f}")

# %% [markdown]
# **Figure.** How well the symbiote's concept logit, a linear probe and a symbiote on a random host detect
# wheels, as AUROC. Notice that the symbiote matches the probe (printed 0.993 against 0.990) and beats the
# random host (0.768); the printed table also shows where this fails: for `colour:red` (0.647) and
# `texture:stripes` (0.744) the random host scores higher than the symbiote.

# %% nbgrader={"grade": false, "grade_id": "fig12_auroc", "locked": true, "schema_version": 3, "solution": false}
checks.check_auroc_bars_result(values)

# %% [markdown]
# ## 8. Units or directions? Net2Vec and TCAV side by side
#
# Dissection and the gates speak of *units*. Two published tools speak of *directions*. Net2Vec
# (Fong & Vedaldi 2018) fits a linear combination of the layer's channel maps to segment the
# concept; if it beats the best single channel by far, the concept is spread over several. TCAV
# (Kim et al. 2018) takes the **concept activation vector** (CAV), the normal of a linear classifier
# separating the pooled activations of concept scenes from others, and asks for how many scenes of
# a class the class logit *rises* along the CAV: the TCAV score, compared with CAVs of random splits.
#
# ### Exercise 12.7: a TCAV score
# **Difficulty:** ★★★★☆  **Importance:** ★★★☆☆
#
# Implement `tcav_score(host, layer, images, class_idx, cav)`: for each image, the directional
# derivative of logit `class_idx` with respect to the output of `layer` along `cav` (a `[C]` vector
# applied to the channel vector at every position, summed over positions); return the fraction of
# images where it is positive, as a float. The gradient must be computed even if the caller switched
# gradients off (`torch.no_grad()`), and the host, `images` and `cav` are left as they were.
#
# <details><summary>Hint</summary>
#
# You need the gradient with respect to an *intermediate* activation. A hook can hand the rest of
# the network a detached copy of the activation that requires grad, and keep a reference to it;
# differentiating the *summed* class logits with respect to that copy gives one gradient map per
# image (images do not mix). Contract the gradient's channel axis with the CAV and add up the positions. The grad
# must be computed even if the caller disabled it, and no hook may stay attached.
#
# </details>

# %% nbgrader={"grade": false, "grade_id": "ex12_7_solution", "locked": false, "schema_version": 3, "solution": true}
def tcav_score(host, layer: str, images: torch.Tensor, class_idx: int, cav: torch.Tensor) -> float:
    """Fraction of images whose logit `class_idx` has a positive derivative along `cav` at `layer`."""
    # YOUR CODE HERE
    raise NotImplementedError()


# %% nbgrader={"grade": true, "grade_id": "ex12_7_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false}
checks.check_tcav_score(tcav_score)

# %% nbgrader={"grade": true, "grade_id": "ex12_7_hidden", "locked": true, "points": 2, "schema_version": 3, "solution": false}

# %% [markdown]
# The wheel CAV of `layer3` and the TCAV score of the class *car*, against ten random CAVs (a TCAV
# score means something only where random CAVs do not reach it as well); and the Net2Vec combination
# against the best single channel:

# %%
pooled = hooks.collect(host, probe_train.images, [LAYER], pool="mean")[LAYER]
on_train = probe_train.has(CONCEPT)
cav = symbiote.concept_activation_vector(pooled[on_train], pooled[~on_train])
car = names.index("car")
car_images = test.images[test.labels == car][:100]
tcav = tcav_score(host, LAYER, car_images, car, cav)
random_scores = symbiote.random_tcav_scores(host, LAYER, probe_train.subset(slice(0, 300)), CONCEPT, car, n=10)
n2v = symbiote.net2vec(host, LAYER, probe_train.subset(slice(0, 300)), CONCEPT, steps=150)
print(f"TCAV(car, wheel CAV) = {tcav:.2f}; random CAVs {min(random_scores):.2f}..{max(random_scores):.2f}")
print(f"the CAV's largest weight: channel {int(cav.abs().argmax())} ({float(cav.abs().max()):.2f} of unit norm); "
      f"planted channel weight {float(cav[PLANTED]):.2f}")
print(f"Net2Vec IoU {n2v.iou:.3f} vs best single channel {n2v.best_unit} IoU {n2v.best_unit_iou:.3f}; "
      f"largest weight share {n2v.top_share:.2f}")
fig, ax = plt.subplots(figsize=(9, 2.6))
ax.bar(range(WIDTH), n2v.weights.cpu(), color=colours, alpha=0.6, label="Net2Vec weights")
ax.plot(range(WIDTH), cav.cpu(), "k.", label="CAV")
ax.set_xlabel(f"{LAYER} channel")
ax.legend(fontsize=8)
fig.tight_layout()

# %% [markdown]
# **Figure.** The Net2Vec weights (bars) and the wheel CAV (dots) over the channels of the layer. Notice
# that the CAV does not single out the planted channel: its largest weight is on channel 42 (printed 0.37
# of unit norm, against 0.23 for the planted one), and Net2Vec spreads its weight thinly (largest share
# 0.10). Neither direction wins here: Net2Vec's IoU of 0.103 is below the best single channel's 0.132, and
# the TCAV score of 1.00 says little when random CAVs span 0.00 to 1.00.

# %% [markdown] nbgrader={"grade": true, "grade_id": "written12_1", "locked": false, "points": 3, "schema_version": 3, "solution": true}
# **Written question 1.** Does the symbiote's choice coincide with the dissection unit or with a
# distributed direction? Use the gates-versus-IoU figure, the selectivity bars, the CAV and the
# Net2Vec weights. What would you expect on a zoo host *without* a planted channel, where dissection
# finds several partial wheel detectors?
#
# YOUR ANSWER HERE

# %% [markdown] nbgrader={"grade": true, "grade_id": "written12_2", "locked": false, "points": 3, "schema_version": 3, "solution": true}
# **Written question 2.** What would make such a tool trustworthy at the scale representation
# engineering works at (large models, thousands of concepts), where no planted answer exists? Name
# at least three checks, and what each protects against.
#
# YOUR ANSWER HERE

# %% nbgrader={"grade": false, "grade_id": "results", "locked": true, "schema_version": 3, "solution": false}
# The numbers this lesson measured, for the table that ends its page on the course site.
from mi_tutor.course.results import record

record("host accuracy", host_acc)
record("channels the symbiote touches per car scene", touched[is_car].float().sum(-1).mean(), unit=f"of {WIDTH}",
       digits=2)
record("accuracy drop from the symbiote's gates: scenes with wheels, other scenes",
       f"{table['symbiote'][0]:+.3f}, {table['symbiote'][1]:+.3f}")
record("planted channel's rank by the symbiote (0 = first); Spearman with dissection",
       f"{result['planted_rank']}; {result['spearman']:.2f}")
record("AUROC for wheels: symbiote, linear probe, random host",
       f"{values['symbiote']:.3f}, {values['probe']:.3f}, {values['random host']:.3f}")


# %% [markdown]
# ## Summary
#
# - A symbiote reads a host's pooled activations through hooks, predicts concepts and writes
#   per-channel gates into the host's forward pass; a hard-concrete L0 penalty keeps it to few
#   channels and a KL term keeps the host unchanged where the concept is absent.
# - On a host with a planted wheel channel, dissection and the symbiote both put the planted unit
#   first, and the symbiote's gates remove most of the car accuracy touching about two of 48 channels,
#   with no change and a near-zero KL elsewhere; random channels of the same number are not selective.
#   Below the top, its ranking and dissection's do not agree.
# - The control: the same recipe on a trained host without a planted channel spreads its gates over
#   about six channels (first/second importance about 1.0), so a channel that stands out means a
#   route the host really singles out. Even on the planted host it is not the only route: zeroing
#   channel 12 or 22 alone turns about half of the cars into carts.
# - That precision depended on the host: on a host whose unit mattered only when fully off (planted
#   all or nothing), the gradient-trained gates ranked it 12th. A tool that follows gradients finds
#   units with a graded effect.
# - Reading is checked against a linear probe and a random host: the symbiote reads about as well as
#   the probe and far better than on random features, so it reads rather than computes.
# - Directions (the CAV, Net2Vec) spread a concept over several channels even when its causal route
#   is one unit: "where a concept is readable" and "where it acts" are different questions.
#
# ## Further reading
#
# - N. De Cao, M. Schlichtkrull, W. Aziz, I. Titov, [How do decisions emerge across layers in neural models? Interpretation with differentiable masking](https://arxiv.org/abs/2004.14992), EMNLP 2020: DiffMask, the closest design.
# - C. Louizos, M. Welling, D. Kingma, [Learning sparse neural networks through L0 regularization](https://arxiv.org/abs/1712.01312), ICLR 2018: the hard-concrete distribution.
# - D. Bau et al., [Network dissection](https://arxiv.org/abs/1704.05796), CVPR 2017, and [Understanding the role of individual units in a deep neural network](https://arxiv.org/abs/2009.05041), PNAS 2020.
# - R. Fong, A. Vedaldi, [Net2Vec: quantifying and explaining how concepts are encoded by filters](https://arxiv.org/abs/1801.03454), CVPR 2018.
# - B. Kim et al., [Interpretability beyond feature attribution: TCAV](https://arxiv.org/abs/1711.11279), ICML 2018.
# - J. Hewitt, P. Liang, [Designing and interpreting probes with control tasks](https://arxiv.org/abs/1909.03368), EMNLP 2019.
# - A. Conmy et al., [Towards automated circuit discovery for mechanistic interpretability](https://arxiv.org/abs/2304.14997), NeurIPS 2023: automated tools scored against hand-found circuits.
