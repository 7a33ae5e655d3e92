"""Plausible mistakes in lesson 5, for the fake cohort's "wrong" student."""

REPLACEMENTS = {
    # Forgets the final ReLU of the toy model: the output can go negative.
    "ex5_2_solution": '''def toy_forward(W, b, x):
    hidden = torch.einsum("bif,ifh->bih", x, W)
    return torch.einsum("bih,ifh->bif", hidden, W) + b
''',
    # Normalises both factors of the interference sum (cosines squared instead of W_j_hat . W_k).
    "ex5_4_solution": '''def feature_dimensionality(W):
    norms = W.norm(dim=-1, keepdim=True)
    W_hat = W / norms.clamp_min(1e-6)
    overlaps = ((W_hat @ W_hat.mT) ** 2).sum(-1)
    return norms.squeeze(-1) ** 2 / overlaps.clamp_min(1e-12)
''',
}
