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
# # Lesson 8: Transformer circuits: induction heads
#
# Language models get better at predicting a document the further they read into it. A large part
# of that improvement comes from one small, well-understood circuit: the **induction head**. When
# the current token `A` appeared earlier in the context, followed by `B`, an induction head looks
# back at that `B` and makes the model predict `B` again: $\dots A\, B \dots A \to B$. Two heads in two
# different layers cooperate to do this, which makes it the simplest circuit in a transformer that
# needs more than one layer, and the perfect first circuit to take apart completely.
#
# In this lesson we reverse-engineer induction in tiny attention-only transformers from the course's
# model zoo. We find the heads by what they attend to, confirm that they help the loss exactly where
# the circuit predicts, watch them appear suddenly during training, and then read the mechanism off
# the weights themselves: the QK and OV circuits and the way two heads compose.
#
# **Central claim.** In a 2-layer attention-only transformer a previous-token head and induction heads
# compose through the keys, appear together in a phase change, and can be read from the weights.
#
# **Learning objectives.** After this lesson you can
#
# - describe an attention-only transformer as a sum of paths through the residual stream, and say
#   what 0-, 1- and 2-layer models can compute;
# - compute attention patterns and score heads as previous-token, duplicate-token and induction heads;
# - use the per-token loss and the in-context-learning score to show what a circuit buys the model;
# - observe the induction "phase change" across training checkpoints;
# - read a head's QK and OV circuits as (factored) matrices, measure copying with eigenvalues,
#   and detect K-composition between heads of different layers;
# - attribute a prediction to individual heads with direct logit attribution, and show with an
#   ablation that a head DLA barely credits is necessary for the circuit.
#
# **Prerequisites.** Lesson 1 (hooks and activations). Self-attention (queries, keys, values,
# softmax, causal mask) at the level of any transformer tutorial. Eigenvalues and the Frobenius norm.
#
# **Estimated time.** 2.5-3 hours. The notebook itself executes in about a minute on a laptop CPU.
#
# **How this works.** Each exercise has a difficulty (★ easy to ★★★★★ hard), a hint you can unfold,
# a visible test you can run, and hidden tests the grader adds (other seeds and shapes). Write your
# code between the lines of the solution cells and replace `raise NotImplementedError()`. Every exercise
# returns a new result and leaves its arguments (tensors, the model and its weights) as they were; the
# tests check that too.

# %% nbgrader={"grade": false, "grade_id": "setup", "locked": true, "schema_version": 3, "solution": false}
from mi_tutor.course.setup import setup_lesson

device = setup_lesson(seed=0)

import math

import matplotlib.pyplot as plt
import torch

from mi_tutor import circuits_transformer as ct
from mi_tutor import zoo
from mi_tutor.checks import lesson08 as checks
from mi_tutor.circuits_transformer import FactoredMatrix
from mi_tutor.circuits_transformer.plots import (
    plot_attention_patterns,
    plot_composition_scores,
    plot_head_scores,
    plot_ov_circuit,
    plot_per_token_loss,
    plot_phase_change,
)
from mi_tutor.transformer import repeated_random_tokens

print(f"Running on {device}")

# %% [markdown]
# ## 1. Two tiny transformers and their hook points
#
# The zoo holds two **attention-only** transformers: no MLPs, no LayerNorm, just token and position
# embeddings, attention layers that add their output to the residual stream, and an unembedding.
# Both have a residual stream of 64 dimensions, four heads of 16 dimensions per layer, a vocabulary
# of 64 tokens (token 0 is the beginning-of-sequence token `BOS`) and a context of 64 positions.
# `attn_only_1l` has one layer, `attn_only_2l` two. They were trained with the same recipe (see
# `mi_tutor/zoo/entries/transformers.py`) on sequences of uniform random tokens in which two random
# spans of 4-24 tokens are repeated later on. The only way to beat chance on such data is to notice
# a repeat and continue it.
#
# Without MLPs and LayerNorm the model is linear except for the attention softmax, so the logits are
# a **sum of paths**: the direct path $W_E W_U$ (a bigram table: all a 0-layer model can learn), one
# path through each head, and, in the 2-layer model, paths through a layer-0 head *and* a layer-1
# head. Keep this picture in mind: the whole lesson is about one such two-head path.

# %%
model_2l = zoo.load("attn_only_2l", device=device)
model_1l = zoo.load("attn_only_1l", device=device)
cfg = model_2l.cfg
print(cfg)
print("W_Q", tuple(model_2l.W_Q.shape), " W_O", tuple(model_2l.W_O.shape), " W_E", tuple(model_2l.W_E.shape))

# %% [markdown]
# Every activation has a name, the same as in TransformerLens (the site's page *TransformerLens
# names* maps them to TransformerLens 3's bridge names). `run_with_cache` returns the logits and a
# cache of every activation; `cache["pattern", 1]` is shorthand for
# `cache["blocks.1.attn.hook_pattern"]`. A mistyped name raises an error that lists the near matches.
#
# Our test data is **repeated random tokens**: `[BOS] + r + r` with `r` a random segment of 30
# tokens. The first copy of `r` is pure noise; the second copy is perfectly predictable for a model
# that can look back.

# %%
SEQ_LEN = 30
tokens = repeated_random_tokens(batch=32, seq_len=SEQ_LEN, d_vocab=cfg.d_vocab, seed=0, device=device)
logits, cache = model_2l.run_with_cache(tokens)
print("tokens", tuple(tokens.shape), " logits", tuple(logits.shape))
print("pattern of layer 1:", tuple(cache["pattern", 1].shape), "= [batch, head, query_pos, key_pos]")
print(model_2l.hook_names()[:8], "...")
try:
    cache["blocks.1.attn.hook_patern"]
except KeyError as err:
    print("KeyError:", str(err)[:110], "...")

# %% [markdown]
# ### Exercise 8.1: the attention pattern
# **Difficulty:** ★★☆☆☆  **Importance:** ★★★★☆
#
# Implement `attention_pattern(q, k)`: given queries and keys `[batch, pos, head, d_head]`, return
# the causal attention pattern `[batch, head, query_pos, key_pos]`. The score of query $i$ and key
# $j$ is $q_i \cdot k_j / \sqrt{d_\text{head}}$; keys after the query ($j > i$) are masked out; a softmax over
# the keys turns each row into a probability distribution.
#
# <details><summary>Hint</summary>
#
# Every query-key dot product at once is one `einsum` over `d_head` that keeps batch and head and
# puts the query axis before the key axis. For the causal mask ask which entries are *strictly* above
# the diagonal, and give them a score that the softmax turns into exactly zero: a score of 0 still
# gets attention. Build the mask on the inputs' device.
#
# </details>

# %% nbgrader={"grade": false, "grade_id": "ex8_1_solution", "locked": false, "schema_version": 3, "solution": true}
def attention_pattern(q: torch.Tensor, k: torch.Tensor) -> torch.Tensor:
    """Causal attention pattern: q, k [batch, pos, head, d_head] -> [batch, head, query_pos, key_pos]."""
    ### BEGIN SOLUTION
    n, d_head = q.shape[1], q.shape[-1]
    scores = torch.einsum("bqhd,bkhd->bhqk", q, k) / math.sqrt(d_head)
    future = torch.triu(torch.ones(n, n, dtype=torch.bool, device=q.device), diagonal=1)
    return scores.masked_fill(future, float("-inf")).softmax(dim=-1)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ex8_1_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false}
checks.check_attention_pattern(attention_pattern)

# %% nbgrader={"grade": true, "grade_id": "ex8_1_hidden", "locked": true, "points": 2, "schema_version": 3, "solution": false}
### BEGIN HIDDEN TESTS
# Other shapes (a single position, a batch of 1), and q, k must come back unchanged (no in-place edit).
checks.check_attention_pattern(attention_pattern, seed=11, batch=3, pos=9, heads=2, d_head=8)
checks.check_attention_pattern(attention_pattern, seed=12, batch=1, pos=1, heads=4, d_head=3)
### END HIDDEN TESTS

# %% [markdown]
# Your function recomputes what the model's hook `hook_pattern` recorded: the queries and keys are
# in the cache too (`cache["q", 0]`, `cache["k", 0]`).

# %%
same = torch.allclose(attention_pattern(cache["q", 0], cache["k", 0]), cache["pattern", 0], atol=1e-5)
print("your pattern equals the model's layer-0 pattern:", same)

# %% [markdown]
# ## 2. What the heads look at
#
# Here are the attention patterns of both layers of the 2-layer model on one sequence (the second
# copy of `r` starts at position 31). Look for two shapes: a line just below the diagonal (each token
# attends to the token before it) and, in the second half, a line `SEQ_LEN - 1` positions below the
# diagonal (each token attends to the token *after* its earlier copy).

# %%
fig, shown_0 = plot_attention_patterns(cache["pattern", 0][0], title="attn_only_2l, layer 0")
fig, shown_1 = plot_attention_patterns(cache["pattern", 1][0], title="attn_only_2l, layer 1")

# %% [markdown]
# **Figure.** The attention patterns of every head of `attn_only_2l` on one sequence made of a random half
# followed by its exact repeat, layer 0 first, then layer 1. Look for two stripes: one head of layer 0
# attends to the position just before the query, and the heads of layer 1 attend, in the second copy, to a
# diagonal set back by the sequence length. The cell prints no number; the scores below measure both
# stripes.

# %% [markdown]
# To find such heads without staring at pictures, we **score** them. On `[BOS] + r + r` with token
# `r[i]` at positions $1 + i$ and $1 + L + i$, with $L$ = `SEQ_LEN`:
#
# - the **previous-token score** is the average attention from each position $q$ to $q - 1$;
# - the **duplicate-token score** is the average attention from a token of the second copy to the
#   same token in the first copy, key $q - L$;
# - the **induction score** is the average attention from a token of the second copy to the token
#   *after* its first occurrence, key $q - L + 1$.
#
# Scores are averaged over the batch and the scored queries; a head above 0.4 gets the label.

# %% [markdown]
# ### Exercise 8.2: previous-token score
# **Difficulty:** ★☆☆☆☆  **Importance:** ★★★☆☆
#
# Implement `previous_token_score(pattern)`: `pattern` is `[batch, head, query_pos, key_pos]`;
# return a tensor `[head]`, the mean of `pattern[:, h, q, q - 1]` over the batch and the queries
# $q = 1, \dots, \text{pos} - 1$.
#
# <details><summary>Hint</summary>
#
# The entries $(q, q - 1)$ form one diagonal of each `[query, key]` matrix, just below the main
# one; PyTorch can pull a diagonal out of the last two axes into a new last axis. Then average over
# everything except the head.
#
# </details>

# %% nbgrader={"grade": false, "grade_id": "ex8_2_solution", "locked": false, "schema_version": 3, "solution": true}
def previous_token_score(pattern: torch.Tensor) -> torch.Tensor:
    """Mean attention to the previous token: pattern [batch, head, q, k] -> [head]."""
    ### BEGIN SOLUTION
    return pattern.diagonal(offset=-1, dim1=-2, dim2=-1).mean(dim=(0, -1))
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ex8_2_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false}
checks.check_previous_token_score(previous_token_score)

# %% nbgrader={"grade": true, "grade_id": "ex8_2_hidden", "locked": true, "points": 1, "schema_version": 3, "solution": false}
### BEGIN HIDDEN TESTS
# A batch of 1 (an average that keeps the batch axis fails), 6 heads, and a sequence of 4.
checks.check_previous_token_score(previous_token_score, seed=21, batch=1, heads=2, n=15)
checks.check_previous_token_score(previous_token_score, seed=22, batch=5, heads=6, n=4)
### END HIDDEN TESTS

# %% [markdown]
# ### Exercise 8.3: induction score
# **Difficulty:** ★★☆☆☆  **Importance:** ★★★★☆
#
# Implement `induction_score(pattern, seq_len)` for patterns computed on `[BOS] + r + r`, shape
# `[batch, head, 1 + 2 seq_len, 1 + 2 seq_len]`. Return a tensor `[head]`: the mean of
# `pattern[:, h, q, q - seq_len + 1]` over the batch and the queries of the second copy,
# $q = \text{seq_len} + 1, \dots, 2\,\text{seq_len}$.
#
# <details><summary>Hint</summary>
#
# The entries `(q, q - seq_len + 1)` lie on the diagonal with `offset = 1 - seq_len`. That diagonal
# starts at query `seq_len - 1`; keep only its last `seq_len` entries, which belong to the second copy.
#
# </details>

# %% nbgrader={"grade": false, "grade_id": "ex8_3_solution", "locked": false, "schema_version": 3, "solution": true}
def induction_score(pattern: torch.Tensor, seq_len: int) -> torch.Tensor:
    """Mean attention to the token after the earlier copy: [batch, head, q, k] -> [head]."""
    ### BEGIN SOLUTION
    return pattern.diagonal(offset=1 - seq_len, dim1=-2, dim2=-1)[..., -seq_len:].mean(dim=(0, -1))
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ex8_3_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false}
checks.check_induction_score(induction_score)

# %% nbgrader={"grade": true, "grade_id": "ex8_3_hidden", "locked": true, "points": 2, "schema_version": 3, "solution": false}
### BEGIN HIDDEN TESTS
# Other seq_len than the visible test (a hard-coded offset fails), including seq_len = 2 and one head.
checks.check_induction_score(induction_score, seed=31, batch=2, heads=3, seq_len=9)
checks.check_induction_score(induction_score, seed=32, batch=4, heads=1, seq_len=2)
### END HIDDEN TESTS

# %% [markdown]
# Now **your** two score functions score every head of both models (the duplicate-token score comes
# from the library, `ct.duplicate_token_score`). We score on **fresh** tokens (another seed) so
# nothing depends on the sequences above. If a heatmap below looks wrong, the mistake is in your
# exercise, and the locked check under the figure will say which one.

# %%
fresh = repeated_random_tokens(batch=32, seq_len=SEQ_LEN, d_vocab=cfg.d_vocab, seed=1, device=device)


def score_heads(model, tokens, seq_len):
    """Your previous-token and induction scores (and the library's duplicate-token score) per head."""
    with torch.no_grad():
        _, head_cache = model.run_with_cache(tokens)
    patterns = [head_cache["pattern", layer] for layer in range(model.cfg.n_layers)]
    return {"previous_token": torch.stack([previous_token_score(p) for p in patterns]),
            "duplicate_token": torch.stack([ct.duplicate_token_score(p, seq_len) for p in patterns]),
            "induction": torch.stack([induction_score(p, seq_len) for p in patterns])}


scores_2l = score_heads(model_2l, fresh, SEQ_LEN)
scores_1l = score_heads(model_1l, fresh, SEQ_LEN)
fig, score_data_2l = plot_head_scores(scores_2l, title="attn_only_2l")
fig, score_data_1l = plot_head_scores(scores_1l, title="attn_only_1l")
for kind, s in score_data_2l.items():
    for layer, head in (s > 0.4).nonzero().tolist():
        print(f"L{layer}H{head}: {kind.replace('_', '-')} head (score {s[layer, head]:.2f})")
PREV_HEAD = int(score_data_2l["previous_token"][0].argmax())
IND_HEAD = int(score_data_2l["induction"][1].argmax())

# %% [markdown]
# **Figure.** The 2-layer model has one clear **previous-token head** in layer 0 and **induction heads** in
# layer 1 (all four heads of layer 1 learned the same job: with one task and four heads, redundancy
# is cheap). The 1-layer model has neither. The locked cell below checks the numbers behind the
# heatmaps, which your functions computed; it carries no points (Exercises 8.2 and 8.3 have their
# own tests), but if it fails, it sends you back to the exercise to fix.
# The printed scores: L0H3 scores 0.88 as a previous-token head, the four heads of layer 1 score 0.56 to
# 0.65 as induction heads, and the check puts the 1-layer model's best induction score at 0.04.

# %% nbgrader={"grade": false, "grade_id": "fig8_head_scores", "locked": true, "schema_version": 3, "solution": false}
checks.check_head_scores_result(score_data_2l, score_data_1l)

# %% [markdown]
# ## 3. What the circuit buys: the per-token loss
#
# Attention patterns tell us where a head looks, not whether it helps. The **per-token loss** does:
# the cross-entropy of predicting each next token, one number per position.

# %% [markdown]
# ### Exercise 8.4: per-token loss
# **Difficulty:** ★★☆☆☆  **Importance:** ★★★★☆
#
# Implement `per_token_loss(logits, tokens)`: `logits` is `[batch, pos, d_vocab]`, `tokens`
# `[batch, pos]`. The logits at position `p` predict `tokens[:, p + 1]`; return `[batch, pos - 1]`
# with entry $p$ equal to $-\log \operatorname{softmax}(\text{logits}_p)[t_{p+1}]$ (with $t$ = `tokens`).
# It is the loss language models are trained on, so keep it differentiable: the gradient of the result
# must reach `logits` (no `torch.no_grad()`, `.detach()` or `.item()` on the way).
#
# <details><summary>Hint</summary>
#
# Position $p$ predicts token $p + 1$: drop the last position of the logits and the first of the
# tokens, so the two line up. Use a log-softmax (not softmax then log: it underflows) and pick the
# target's entry per row by indexing along the vocabulary axis with the tokens.
#
# </details>

# %% nbgrader={"grade": false, "grade_id": "ex8_4_solution", "locked": false, "schema_version": 3, "solution": true}
def per_token_loss(logits: torch.Tensor, tokens: torch.Tensor) -> torch.Tensor:
    """Next-token cross-entropy at every position: [batch, pos, d_vocab], [batch, pos] -> [batch, pos - 1]."""
    ### BEGIN SOLUTION
    logprobs = logits[:, :-1].log_softmax(dim=-1)
    return -logprobs.gather(-1, tokens[:, 1:, None])[..., 0]
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ex8_4_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false}
checks.check_per_token_loss(per_token_loss)

# %% nbgrader={"grade": true, "grade_id": "ex8_4_hidden", "locked": true, "points": 1, "schema_version": 3, "solution": false}
### BEGIN HIDDEN TESTS
# Large logits (softmax then log underflows to inf), a batch of 1, and pos = 2 (one prediction per row).
checks.check_per_token_loss(per_token_loss, seed=41, batch=1, pos=12, d_vocab=5)
checks.check_per_token_loss(per_token_loss, seed=42, batch=6, pos=2, d_vocab=30)
checks.check_per_token_loss(per_token_loss, seed=43, batch=2, pos=6, d_vocab=9, scale=200.0)
### END HIDDEN TESTS

# %% [markdown]
# On the fresh repeated tokens, the first copy costs about $\log 63 \approx 4.14$ nats per token for
# both models: nothing can predict random tokens. On the second copy the 2-layer model's loss
# collapses. The 1-layer model also improves a little: its heads learned to *copy* tokens that
# appeared anywhere in the context (a skip-trigram), which helps a bit because a repeated token is
# more likely than an unseen one, but it cannot tell which earlier token comes next.

# The curves below come from your `per_token_loss`.

# %%
with torch.no_grad():
    losses = {name: per_token_loss(m(fresh), fresh) for name, m in
              [("attn_only_1l", model_1l), ("attn_only_2l", model_2l)]}
fig, loss_data = plot_per_token_loss(losses, split=SEQ_LEN, title="loss on [BOS] + r + r")

# %% [markdown]
# **Figure.** The loss of each position of $[\text{BOS}] + r + r$ for the 1-layer and the 2-layer model,
# with the start of the repeat marked. Notice that only the 2-layer model's loss drops once the repeat
# begins; the check below prints 4.19 nats on the first copy and 0.87 nats on the repeat.

# %% nbgrader={"grade": false, "grade_id": "fig8_loss", "locked": true, "schema_version": 3, "solution": false}
checks.check_repeated_loss_result(loss_data["attn_only_2l"], SEQ_LEN)

# %% [markdown]
# ## 4. Hooks instead of caches
#
# Caching every activation is convenient but wasteful: to score heads we only need the patterns.
# A hook function `fn(activation, hook)` runs during the forward pass; `hook.name` says where
# (e.g. `"blocks.1.attn.hook_pattern"`) and `hook.layer()` in which layer (here 1).
# `model.run_with_hooks(tokens, fwd_hooks=[(name, fn)])` attaches hooks for one forward pass and
# removes them afterwards; `name` may also be a predicate `lambda name: ...` that selects several
# hook points at once.

# %% [markdown]
# ### Exercise 8.5: head scores with a hook
# **Difficulty:** ★★★☆☆  **Importance:** ★★★☆☆
#
# Implement `scores_with_hooks(model, tokens, seq_len, score_fn)` returning a `[n_layers, n_heads]`
# tensor: row `layer` is `score_fn(pattern, seq_len)` for that layer's attention pattern, computed
# inside a hook on every layer's `hook_pattern` (do not use `run_with_cache`). `score_fn` is any
# function like your `induction_score`; the test passes the library's, the phase-change experiment
# below passes yours. Leave no hook attached when you return.
#
# <details><summary>Hint</summary>
#
# A hook that returns nothing leaves the forward pass unchanged, so it can just record. It
# receives every layer's pattern in turn: the hook's name tells you which layer it is. Let one
# function match all the pattern hooks (a name filter), and make sure the scores are created on the
# tokens' device.
#
# </details>

# %% nbgrader={"grade": false, "grade_id": "ex8_5_solution", "locked": false, "schema_version": 3, "solution": true}
def scores_with_hooks(model, tokens: torch.Tensor, seq_len: int, score_fn) -> torch.Tensor:
    """``score_fn(pattern, seq_len)`` of every layer, read by hooks on hook_pattern: -> [n_layers, n_heads]."""
    ### BEGIN SOLUTION
    scores = torch.zeros(model.cfg.n_layers, model.cfg.n_heads, device=tokens.device)

    def hook_fn(pattern, hook):
        layer = hook.layer()
        scores[layer] = score_fn(pattern, seq_len)

    with torch.no_grad():
        model.run_with_hooks(tokens, fwd_hooks=[(lambda name: name.endswith("hook_pattern"), hook_fn)])
    return scores
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ex8_5_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false}
checks.check_induction_scores_with_hooks(scores_with_hooks)

# %% nbgrader={"grade": true, "grade_id": "ex8_5_hidden", "locked": true, "points": 2, "schema_version": 3, "solution": false}
### BEGIN HIDDEN TESTS
# Another score function (a function that ignores score_fn fails), a 3-layer model, the course's model.
checks.check_induction_scores_with_hooks(scores_with_hooks, seed=51, batch=2, seq_len=5, score="duplicate")
checks.check_induction_scores_with_hooks(scores_with_hooks, seed=52, batch=3, seq_len=20, model=model_2l)
### END HIDDEN TESTS

# %% [markdown]
# ## 5. The phase change
#
# Olsson et al. (2022) found that induction heads do not grow slowly: they appear within a short
# window of training, and at the same moment the model's **in-context-learning score** jumps (the
# paper compares the loss at token 50 with the loss at token 500: how much the context helps).
# The zoo ships 21 snapshots of `attn_only_2l` taken every 50 steps of its 1000-step training. For
# each snapshot we measure the best induction score in layer 1, the best previous-token score in
# layer 0, and an in-context-learning score suited to our data: the loss on token `r[10]` in the
# first copy minus the loss on the *same* token in the second copy. Every number comes from your
# functions: `scores_with_hooks` with your `induction_score` and `previous_token_score`, and your
# `per_token_loss`.

# %%
run = zoo.snapshots("attn_only_2l", device=device)
steps, snapshots = run.steps, run.models
history = {"induction (L1 best)": [], "previous token (L0 best)": [], "ICL score (nats)": [], "loss on r + r": []}
early, late = 10, 10 + SEQ_LEN
with torch.no_grad():
    for snapshot in snapshots:
        ind = scores_with_hooks(snapshot, fresh, SEQ_LEN, induction_score)
        prev = scores_with_hooks(snapshot, fresh, SEQ_LEN, lambda pattern, n: previous_token_score(pattern))
        loss = per_token_loss(snapshot(fresh), fresh)
        history["induction (L1 best)"].append(ind[1].max().item())
        history["previous token (L0 best)"].append(prev[0].max().item())
        history["ICL score (nats)"].append(ct.in_context_learning_score(loss, early, late).item())
        history["loss on r + r"].append(loss.mean().item())
fig, phase = plot_phase_change(steps, history, title="attn_only_2l during training")

# %% [markdown]
# **Figure.** The best induction score of layer 1, the best previous-token score of layer 0, the
# in-context-learning score and the loss on $r + r$, over the training snapshots of `attn_only_2l`. Notice
# that the induction score and the in-context-learning score turn at the same moment; the check below
# places their joint jump at about step 600.

# %% nbgrader={"grade": false, "grade_id": "fig8_phase_change", "locked": true, "schema_version": 3, "solution": false}
checks.check_phase_change_result(phase["steps"].int().tolist(), phase["induction (L1 best)"], phase["ICL score (nats)"])

# %% [markdown]
# For several hundred steps nothing seems to happen: the loss sits near $\log 63$. Then, within about
# 150 steps, the previous-token head and the induction heads appear together, and the loss on
# repeated tokens falls off a cliff. Neither head is useful alone (a previous-token head predicts
# nothing by itself; an induction head has nothing to match without it), which is one explanation
# of why the change is so abrupt.

# %% [markdown]
# ## 6. Reading the weights: QK and OV circuits
#
# A head does two separate things. Its **QK circuit** $W_{QK} = W_Q W_K^\top$ `[d_model, d_model]` decides
# where it attends ($\text{score} = x_\text{query} W_{QK}\, x_\text{key}^\top$); its **OV circuit** $W_{OV} = W_V W_O$
# `[d_model, d_model]` decides what it writes once it attends ($\text{output} = x_\text{key} W_{OV}$). Both have
# rank at most `d_head`, so the library keeps them as a `FactoredMatrix`: the pair of factors,
# with cheap norms, SVDs and eigenvalues. `model.OV[layer, head]` is one head's OV circuit.
#
# Sandwiching the OV circuit between the embedding and the unembedding gives the **full OV circuit**
# $W_E W_{OV} W_U$ `[d_vocab, d_vocab]`: row `i` is how attending to token `i` changes every output
# logit (through this head alone). A head that copies has a large positive diagonal.

# %%
ov = model_2l.OV[1, IND_HEAD]
print(ov, " norm", round(ov.norm().item(), 2), " top singular values", ov.S[:4].detach().cpu().numpy().round(2))

# %% [markdown]
# ### Exercise 8.6: the full OV circuit
# **Difficulty:** ★★☆☆☆  **Importance:** ★★★★☆
#
# Implement `full_ov_circuit(model, layer, head)` returning $W_E W_V W_O W_U$ for that head, either
# as a `FactoredMatrix` or as a dense `[d_vocab, d_vocab]` tensor.
#
# <details><summary>Hint</summary>
#
# The OV circuit of one head sends an embedded token through that head's value and output
# matrices and then to the logits. Indexing the stacked weights by layer and head gives one head's
# `[d_model, d_head]` and `[d_head, d_model]` matrices. A `FactoredMatrix` of the two keeps the
# product low-rank, and it multiplies with ordinary tensors on either side.
#
# </details>

# %% nbgrader={"grade": false, "grade_id": "ex8_6_solution", "locked": false, "schema_version": 3, "solution": true}
def full_ov_circuit(model, layer: int, head: int):
    """W_E W_V W_O W_U of one head: a FactoredMatrix or tensor [d_vocab, d_vocab]."""
    ### BEGIN SOLUTION
    return model.W_E @ FactoredMatrix(model.W_V[layer, head], model.W_O[layer, head]) @ model.W_U
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ex8_6_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false}
checks.check_full_ov_circuit(full_ov_circuit)

# %% nbgrader={"grade": true, "grade_id": "ex8_6_hidden", "locked": true, "points": 1, "schema_version": 3, "solution": false}
### BEGIN HIDDEN TESTS
# Heads (2, 0) and (0, 2) of a 3-layer model (weights indexed [head, layer], or a fixed layer, fail), and the
# course's 2-layer model (64 tokens, 4 heads).
checks.check_full_ov_circuit(full_ov_circuit, seed=61, n_layers=3, heads=((2, 0), (0, 2)))
checks.check_full_ov_circuit(full_ov_circuit, seed=62, model=model_2l)
### END HIDDEN TESTS

# %% [markdown]
# ### Exercise 8.7: the copying score
# **Difficulty:** ★★☆☆☆  **Importance:** ★★★☆☆
#
# A matrix copies when its eigenvalues are positive: an eigenvector is mapped onto a positive
# multiple of itself. Elhage et al. summarise a full OV circuit by
# $\sum_i \lambda_i / \sum_i \lvert \lambda_i \rvert$ over the eigenvalues $\lambda_i$, which is 1 for a pure copier and -1 for a pure
# anti-copier. Implement `copying_score(matrix)` for a square tensor `[n, n]`, returning a real
# number: a 0-d real tensor (a Python float is accepted too).
#
# <details><summary>Hint</summary>
#
# A real matrix can have complex eigenvalues (in conjugate pairs). Their sum is real, the trace;
# keep only its real part, and normalise by the sum of the eigenvalues' absolute values.
#
# </details>

# %% nbgrader={"grade": false, "grade_id": "ex8_7_solution", "locked": false, "schema_version": 3, "solution": true}
def copying_score(matrix: torch.Tensor) -> torch.Tensor:
    """sum(eigenvalues) / sum(|eigenvalues|) of a square matrix [n, n] -> scalar in [-1, 1]."""
    ### BEGIN SOLUTION
    eig = torch.linalg.eigvals(matrix)
    return eig.sum().real / eig.abs().sum()
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ex8_7_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false}
checks.check_copying_score(copying_score)

# %% nbgrader={"grade": true, "grade_id": "ex8_7_hidden", "locked": true, "points": 1, "schema_version": 3, "solution": false}
### BEGIN HIDDEN TESTS
# A pure anti-copier (score -1) and a rotation (only complex eigenvalues), other sizes; the result must be real.
checks.check_copying_score(copying_score, seed=71, n=5, anti=True)
checks.check_copying_score(copying_score, seed=72, n=30)
### END HIDDEN TESTS

# %% [markdown]
# Now your two functions read the induction head. Its full OV circuit should be a bright diagonal:
# whatever token it attends to, it raises that token's logit. That is the "copying" half of
# induction. The table lists every head's copying score, from your `copying_score` applied to your
# `full_ov_circuit`.


# %%
def dense(matrix):
    """A dense tensor from a FactoredMatrix or a tensor."""
    return matrix.AB if isinstance(matrix, FactoredMatrix) else matrix


with torch.no_grad():
    ov_matrix = dense(full_ov_circuit(model_2l, 1, IND_HEAD))
    fig, ov_data = plot_ov_circuit(ov_matrix, title=f"full OV circuit of L1H{IND_HEAD}")
    copying = {name: torch.tensor([[float(copying_score(dense(full_ov_circuit(m, layer, h))))
                                    for h in range(m.cfg.n_heads)] for layer in range(m.cfg.n_layers)])
               for name, m in [("attn_only_2l", model_2l), ("attn_only_1l", model_1l)]}
for name, table in copying.items():
    print(name, "copying scores per layer:", table.round(decimals=2).tolist())
hits = (ov_data.argmax(-1) == torch.arange(len(ov_data))).float().mean().item()
print(f"the diagonal entry is its row's largest for {hits:.0%} of the tokens (chance: {1 / len(ov_data):.0%})")

# %% [markdown]
# **Figure.** The full OV circuit of induction head L1H0, token by token: which token's logit rises when
# the head attends to a given token. Notice the diagonal, which means the head copies what it attends to:
# the printed diagonal entry is its row's largest for 53% of the tokens against 2% by chance, and the
# copying scores of the four layer-1 heads are 0.99 to 1.0.

# %% nbgrader={"grade": false, "grade_id": "fig8_ov_circuit", "locked": true, "schema_version": 3, "solution": false}
checks.check_ov_circuit_result(ov_data, copying["attn_only_2l"][1], IND_HEAD)

# %% [markdown]
# ## 7. How the heads compose
#
# An induction head must attend to the token *after* the earlier copy of the current token. Its
# query at position `q` holds the current token `A`. The key it needs is at the position of `B`,
# and `B`'s own embedding says nothing about `A`. But the previous-token head in layer 0 has copied
# `A` (the token before `B`) into the residual stream at `B`'s position. If the induction head's
# *keys* read what the previous-token head wrote, then "query token = key's previous token" becomes
# a simple match. A later head reading an earlier head's output through its keys is called
# **K-composition** (through its queries: Q-composition; through its values: V-composition).
#
# We measure composition from the weights alone. For an earlier head A and a later head B,
#
# $$\text{K-composition} = \frac{\lVert W_{OV}^A (W_{QK}^B)^\top \rVert_F}{\lVert W_{OV}^A \rVert_F\, \lVert W_{QK}^B \rVert_F},$$
#
# and the same with $W_{QK}^B$ for Q- and $W_{OV}^B$ for V-composition. The score is in `[0, 1]`; since
# random matrices already score well above 0, we compare with the score of random low-rank matrices.

# %% [markdown]
# ### Exercise 8.8: composition score
# **Difficulty:** ★★☆☆☆  **Importance:** ★★★☆☆
#
# Implement `composition_score(W_A, W_B)` = $\lVert W_A W_B \rVert_F / (\lVert W_A \rVert_F\, \lVert W_B \rVert_F)$ for tensors
# `[..., m, r]` and `[..., r, n]`; leading (batch) axes are kept, so `[3, 16, 16]` inputs give `[3]`.
#
# <details><summary>Hint</summary>
#
# The Frobenius norm is the square root of the sum of squared entries of a matrix; here every
# norm is over the last two axes only, so leading axes stay. Batched matrix products with `@` keep
# leading axes too.
#
# </details>

# %% nbgrader={"grade": false, "grade_id": "ex8_8_solution", "locked": false, "schema_version": 3, "solution": true}
def composition_score(W_A: torch.Tensor, W_B: torch.Tensor) -> torch.Tensor:
    """|W_A W_B|_F / (|W_A|_F |W_B|_F) over the last two axes: -> [...]."""
    ### BEGIN SOLUTION
    norm = torch.linalg.matrix_norm
    return norm(W_A @ W_B) / (norm(W_A) * norm(W_B))
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ex8_8_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false}
checks.check_composition_score(composition_score)

# %% nbgrader={"grade": true, "grade_id": "ex8_8_hidden", "locked": true, "points": 1, "schema_version": 3, "solution": false}
### BEGIN HIDDEN TESTS
# Two leading axes (2, 3) (a norm over all axes fails), full-rank matrices, non-square W_A.
checks.check_composition_score(composition_score, seed=81, d_model=24, d_head=6, batch=(2, 3))
checks.check_composition_score(composition_score, seed=82, d_model=8, d_head=8)
### END HIDDEN TESTS

# Your `composition_score` computes the three maps below: every layer-0 head's OV circuit against
# every layer-1 head's QK circuit (its transpose for K-composition) or OV circuit. The baseline is
# the library's mean score of random rank-`d_head` matrices.

# %%
with torch.no_grad():
    ov_0 = model_2l.OV[0].AB[:, None]                                 # [head_0, 1, d_model, d_model]
    readers = {"q": model_2l.QK[1].AB, "k": model_2l.QK[1].AB.transpose(-2, -1), "v": model_2l.OV[1].AB}
    comp = {kind: composition_score(ov_0, reader[None]).cpu() for kind, reader in readers.items()}
baseline = ct.random_composition_baseline(cfg.d_model, cfg.d_head).item()
fig, comp_data = plot_composition_scores(comp, baseline, title="layer-0 head -> layer-1 head")

# %% [markdown]
# **Figure.** Q-, K- and V-composition scores from every layer-0 head into every layer-1 head, against the
# score of random matrices. Look for the row of the previous-token head L0H3 in the K map; the check below
# prints the number behind it, a K-composition of 0.232 into L1H0, 1.9 times the random baseline of 0.124.

# %% nbgrader={"grade": false, "grade_id": "fig8_composition", "locked": true, "schema_version": 3, "solution": false}
checks.check_composition_result(comp_data["k"], comp_data["baseline"].item(), PREV_HEAD, IND_HEAD)

# %% [markdown]
# The previous-token head's row stands out in the K-composition map, and only there: its output
# feeds the keys of every induction head. Q- and V-composition stay at or below the random baseline:
# the induction heads' queries and values read the current token itself, not what layer 0 wrote.

# %% [markdown]
# ## 8. Direct logit attribution
#
# Without LayerNorm the final residual stream is exactly a sum of pieces: the token embedding, the
# position embedding, the output of every head (`hook_result`, `[batch, pos, head, d_model]`) and
# the attention biases. The unembedding is linear, so each piece's share of the correct next
# token's logit is its output dotted with that token's column of `W_U`. This is **direct logit
# attribution**. It counts only the *direct* path to the logits: the previous-token head scores
# near zero although the induction heads could not work without it.

# %% [markdown]
# ### Exercise 8.9: logit attribution
# **Difficulty:** ★★★☆☆  **Importance:** ★★★★☆
#
# Implement `logit_attribution(components, W_U, tokens)`: `components` is
# `[component, batch, pos, d_model]`, `W_U` is `[d_model, d_vocab]`, `tokens` is `[batch, pos]`.
# Return `[batch, pos - 1, component]` where entry `[b, p, c]` is
# $$\text{components}[c, b, p] \cdot W_U[:, t_{b, p+1}], \qquad t = \texttt{tokens}.$$
#
# <details><summary>Hint</summary>
#
# The logit of the next token is a dot product with its unembedding column. Gather one column
# of `W_U` per (batch, position) from the *next* tokens, drop the last position of the components so
# the two line up, and contract over `d_model` keeping the component axis last.
#
# </details>

# %% nbgrader={"grade": false, "grade_id": "ex8_9_solution", "locked": false, "schema_version": 3, "solution": true}
def logit_attribution(components: torch.Tensor, W_U: torch.Tensor, tokens: torch.Tensor) -> torch.Tensor:
    """Direct contribution of each component to the next token's logit: -> [batch, pos - 1, component]."""
    ### BEGIN SOLUTION
    directions = W_U.T[tokens[:, 1:]]
    return torch.einsum("cbpd,bpd->bpc", components[:, :, :-1], directions)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ex8_9_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false}
checks.check_logit_attribution(logit_attribution)

# %% nbgrader={"grade": true, "grade_id": "ex8_9_hidden", "locked": true, "points": 2, "schema_version": 3, "solution": false}
### BEGIN HIDDEN TESTS
# One component, a batch of 1, vocabularies larger and smaller than d_model (axes mixed up fail).
checks.check_logit_attribution(logit_attribution, seed=91, n_comp=11, batch=3, pos=4, d_model=16, d_vocab=7)
checks.check_logit_attribution(logit_attribution, seed=92, n_comp=1, batch=1, pos=9, d_model=4, d_vocab=20)
### END HIDDEN TESTS

# %% [markdown]
# The library splits the cached residual stream into labelled components (`ct.decompose_resid`)
# and your `logit_attribution` scores them. On the repeated half, the induction heads supply almost
# all of the correct logit; on the random first half nobody does.

# %%
with torch.no_grad():
    _, fresh_cache = model_2l.run_with_cache(fresh)
    stack, labels = ct.decompose_resid(model_2l, fresh_cache)
    dla = logit_attribution(stack, model_2l.W_U, fresh)  # [batch, pos - 1, component]
first_half, second_half = dla[:, :SEQ_LEN].mean((0, 1)).cpu(), dla[:, SEQ_LEN:].mean((0, 1)).cpu()
fig, ax = plt.subplots(figsize=(7, 2.8))
x = torch.arange(len(labels))
ax.bar(x - 0.2, first_half, width=0.4, label="first copy")
ax.bar(x + 0.2, second_half, width=0.4, label="second copy")
ax.set_xticks(x.tolist(), labels, rotation=45, fontsize=8)
ax.set_ylabel("logit of the correct token")
ax.legend()
fig.tight_layout()
top = labels[int(second_half.argmax())]
print(f"largest direct contribution on the repeat: {top} ({second_half.max():.2f}); "
      f"previous-token head L0H{PREV_HEAD}: {second_half[labels.index(f'L0H{PREV_HEAD}')]:.2f}")

# %% [markdown]
# **Figure.** The direct contribution of each component to the logit of the correct token, on the first
# copy and on the repeat. Notice that the layer-1 heads dominate on the repeat while the previous-token
# head contributes nothing directly: the printed largest contribution is L1H0 with 1.51, and L0H3 gets
# 0.00.

# %% [markdown]
# ## 9. Ablation: the head that DLA does not see
#
# Direct logit attribution credits the heads that *write* the answer. The previous-token head writes
# almost nothing to the logits, yet the circuit story says the induction heads cannot work without
# it. An intervention settles it: remove the head's output (a **zero ablation** of its `hook_z`,
# `[batch, pos, head, d_head]`) and measure what the model loses on the repeated half.

# %% [markdown]
# ### Exercise 8.10: ablate one head
# **Difficulty:** ★★☆☆☆  **Importance:** ★★★★★
#
# Implement `run_with_head_ablated(model, tokens, layer, head)` returning the logits
# `[batch, pos, d_vocab]` of `model` on `tokens` when the output of head `head` of layer `layer`
# is set to zero at every position, and nothing else changes. Use a hook on
# `blocks.{layer}.attn.hook_z` and leave no hook attached and the model's weights as they were.
#
# <details><summary>Hint</summary>
#
# A hook that returns a tensor replaces the activation, so return the edited one. Read the shape of
# `hook_z` carefully: which axis is the head? Zeroing along the wrong axis removes a *position* and
# still changes the logits, so a changed loss alone does not prove the hook is right. Register the hook
# for this one forward pass only.
#
# </details>

# %% nbgrader={"grade": false, "grade_id": "ex8_10_solution", "locked": false, "schema_version": 3, "solution": true}
def run_with_head_ablated(model, tokens: torch.Tensor, layer: int, head: int) -> torch.Tensor:
    """Logits [batch, pos, d_vocab] with head ``head`` of layer ``layer`` zero-ablated."""
    ### BEGIN SOLUTION
    def ablate(z, hook):
        z = z.clone()
        z[:, :, head] = 0.0
        return z

    with torch.no_grad():
        return model.run_with_hooks(tokens, fwd_hooks=[(f"blocks.{layer}.attn.hook_z", ablate)])
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ex8_10_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false}
checks.check_run_with_head_ablated(run_with_head_ablated)

# %% nbgrader={"grade": true, "grade_id": "ex8_10_hidden", "locked": true, "points": 2, "schema_version": 3, "solution": false}
### BEGIN HIDDEN TESTS
# A 3-layer model and heads of the last and a middle layer (a fixed layer 0 fails), head 0, other sizes.
checks.check_run_with_head_ablated(run_with_head_ablated, seed=101, batch=2, seq_len=9, n_layers=3,
                                   heads=((2, 0), (1, 2)))
### END HIDDEN TESTS

# %% [markdown]
# Your ablation, with your `per_token_loss`, on every head of layer 0:

# %%
with torch.no_grad():
    clean_repeat = per_token_loss(model_2l(fresh), fresh)[:, SEQ_LEN:].mean().item()
    ablated_repeat = torch.tensor([per_token_loss(run_with_head_ablated(model_2l, fresh, 0, h), fresh)[:, SEQ_LEN:]
                                   .mean().item() for h in range(cfg.n_heads)])
fig, ax = plt.subplots(figsize=(5, 2.6))
ax.bar([f"L0H{h}" for h in range(cfg.n_heads)], ablated_repeat.tolist(), color="tab:red")
ax.axhline(clean_repeat, color="k", ls="--", label="no ablation")
ax.axhline(math.log(cfg.d_vocab - 1), color="gray", ls=":", label="chance (log 63)")
ax.set_ylabel("loss on the repeat (nats)")
ax.set_title("zero-ablating one layer-0 head")
ax.legend(fontsize=8)
fig.tight_layout()
print(f"clean: {clean_repeat:.2f} nats; ablated:", [round(v, 2) for v in ablated_repeat.tolist()])

# %% [markdown]
# **Figure.** The loss on the repeat when each layer-0 head in turn is zero-ablated, against the clean
# loss and chance. Notice the single tall bar: the printed losses are 0.93, 0.88 and 0.86 nats for three
# of the heads, close to the clean 0.87, but 3.93 nats for L0H3, the previous-token head.

# %% nbgrader={"grade": false, "grade_id": "fig8_ablation", "locked": true, "schema_version": 3, "solution": false}
checks.check_head_ablation_result(ablated_repeat, clean_repeat, PREV_HEAD)

# %% [markdown]
# Removing the previous-token head sends the loss on the repeat back to about chance, while any other
# layer-0 head costs almost nothing: a head with almost no direct effect carries the whole circuit,
# because its effect is *indirect*, through the keys of the layer-1 heads (K-composition, section 7).

# %% [markdown] nbgrader={"grade": true, "grade_id": "written8_1", "locked": false, "points": 3, "schema_version": 3, "solution": true}
# **Written question.** The 1-layer model improves a little on the second copy of `r`, yet has no
# induction head. (a) What can a single layer of attention heads compute that helps here, and why
# can it not implement "attend to the token after the previous occurrence of the current token"?
# (b) Direct logit attribution gives the previous-token head almost no credit, yet ablating it
# (Exercise 8.10) undoes induction. Explain how both results can be true, and describe a further
# intervention that would show that the layer-1 heads read its output through their *keys*.
#
# ### BEGIN SOLUTION
# (a) A 1-layer attention-only model is a sum of a bigram term ($W_E W_U$) and "skip-trigram"
# terms: a head's QK circuit compares the current token with the tokens at other positions, and
# its OV circuit moves the attended token's embedding to the logits. Our 1-layer heads attend to
# earlier tokens broadly and copy them (copying scores near 1), so tokens already seen become more
# likely, which lowers the loss a little on a repeat. Induction needs the key at position `j` to
# contain information about token $j - 1$; in one layer the keys are built from the embeddings of
# position `j` only (token and position), so the query "my token" cannot be matched against "the
# token before you". Information must first be moved one position to the right by another head,
# which needs a second layer (K-composition).
# (b) DLA measures only the direct path from a head's output to the logits. The previous-token head
# writes "the token before me" into the residual stream, which the unembedding barely reads, but
# the layer-1 heads read it when they build their keys: its effect is indirect. Zero-ablating it
# removes that input, so the layer-1 heads can no longer find the token after the earlier copy and
# the loss on the repeat returns to about $\log 63$. To show the route is the keys: run layer 1 with
# the ablated head's output removed only from the input of the layer-1 *keys* (patch the clean
# residual into queries and values, the ablated one into `hook_k`'s input), or recompute the
# layer-1 patterns with clean queries and ablated keys; the induction scores should collapse as in
# the full ablation, while removing it only from queries or values should change little.
# ### END SOLUTION

# %% nbgrader={"grade": false, "grade_id": "results", "locked": true, "schema_version": 3, "solution": false}
# The numbers this lesson measured, for the table that ends its page on the course site.
from mi_tutor.course.results import record

record(f"previous-token score of L0H{PREV_HEAD}", score_data_2l["previous_token"][0, PREV_HEAD], digits=2)
record(f"induction score of L1H{IND_HEAD}; best of the 1-layer model",
       f"{float(score_data_2l['induction'][1, IND_HEAD]):.2f}; {float(score_data_1l['induction'].max()):.2f}")
record("loss on the first copy and on the repeat (chance log 63 = 4.14)",
       f"{float(loss_data['attn_only_2l'][:SEQ_LEN].mean()):.2f} and {float(loss_data['attn_only_2l'][SEQ_LEN:].mean()):.2f}",
       unit="nats")
record(f"copying score of L1H{IND_HEAD}'s full OV circuit", copying["attn_only_2l"][1][IND_HEAD], digits=2)
record(f"K-composition L0H{PREV_HEAD} to L1H{IND_HEAD}; random baseline",
       f"{float(comp_data['k'][PREV_HEAD, IND_HEAD]):.3f}; {float(comp_data['baseline']):.3f}")
record(f"loss on the repeat with L0H{PREV_HEAD} ablated (clean {clean_repeat:.2f})", ablated_repeat[PREV_HEAD],
       unit="nats", digits=2)


# %% [markdown]
# ## Summary
#
# - An attention-only transformer is a sum of paths; a 0-layer model is a bigram table, a 1-layer
#   model adds skip-trigrams, and only with two layers can heads compose.
# - An **induction head** attends from the current token to the token after its earlier copy and
#   copies it. Scores computed from attention patterns on repeated random tokens find it; in our
#   2-layer model a previous-token head in layer 0 and induction heads in layer 1 score above 0.4,
#   and the 1-layer model has none.
# - The per-token loss shows what the circuit is for: the repeated half of a sequence becomes
#   almost free. Over training, the induction heads and the in-context-learning score appear
#   together, in a sudden phase change.
# - The weights tell the same story: the induction head's full OV circuit copies (copying score
#   near 1), and its QK circuit reads the previous-token head's output through K-composition, far
#   above the random baseline.
# - Direct logit attribution credits the heads that write the answer, not the heads that make that
#   possible; an intervention shows the latter: zero-ablating the previous-token head sends the loss
#   on the repeat back to chance. Lesson 9 develops interventions further.
#
# ## Further reading
#
# - N. Elhage et al., [A Mathematical Framework for Transformer Circuits](https://transformer-ct.pub/2021/framework/index.html), 2021: paths, QK/OV circuits, composition, induction heads in 2-layer models.
# - C. Olsson et al., [In-context Learning and Induction Heads](https://transformer-ct.pub/2022/in-context-learning-and-induction-heads/index.html), 2022: the phase change and six lines of evidence.
# - Anthropic, [Transformer Circuits exercises](https://transformer-ct.pub/2021/exercises/index.html): build induction heads by hand.
# - N. Nanda, [TransformerLens](https://github.com/TransformerLensOrg/TransformerLens): the library whose names our transformer borrows; its head detector and `FactoredMatrix`.
