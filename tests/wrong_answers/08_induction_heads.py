"""Plausible mistakes in lesson 8, for the fake cohort's "wrong" student."""

REPLACEMENTS = {
    # Forgets the 1/sqrt(d_head) scaling: rows still sum to 1 and stay causal, the values are off.
    "ex8_1_solution": '''def attention_pattern(q, k):
    n = q.shape[1]
    scores = torch.einsum("bqhd,bkhd->bhqk", q, k)
    future = torch.triu(torch.ones(n, n, dtype=torch.bool, device=q.device), diagonal=1)
    return scores.masked_fill(future, float("-inf")).softmax(dim=-1)
''',
    # Scores attention to the earlier copy of the same token (duplicate-token) instead of the token after it.
    "ex8_3_solution": '''def induction_score(pattern, seq_len):
    return pattern.diagonal(offset=-seq_len, dim1=-2, dim2=-1)[..., -seq_len:].mean(dim=(0, -1))
''',
    # Zeroes a position instead of a head: hook_z is [batch, pos, head, d_head].
    "ex8_10_solution": '''def run_with_head_ablated(model, tokens, layer, head):
    def ablate(z, hook):
        z = z.clone()
        z[:, head] = 0.0
        return z
    with torch.no_grad():
        return model.run_with_hooks(tokens, fwd_hooks=[(f"blocks.{layer}.attn.hook_z", ablate)])
''',
}
