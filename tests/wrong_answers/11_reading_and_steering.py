"""Plausible mistakes in lesson 11, for the fake cohort's "wrong" student."""

REPLACEMENTS = {
    # Recentres the paired differences without RepE's flips: the mean difference (the concept) is removed.
    "ex11_2_solution": '''def pca_direction(pos_acts, neg_acts):
    diffs = pos_acts - neg_acts
    _, _, vh = torch.linalg.svd(diffs - diffs.mean(0), full_matrices=False)
    v = vh[0]
    return -v if (diffs @ v).mean() < 0 else v
''',
    # Ignores the key covariance: u = k* (the least change in Frobenius norm, not ROME's update).
    "ex11_8_solution": '''def rank_one_update(W_out, C, key, value):
    return W_out + torch.outer(key, value - key @ W_out) / (key @ key)
''',
    # Applies the plausibility filter to log-probabilities as if they were probabilities.
    "ex11_10_solution": '''def dola_contrast(final, premature, relative_top=0.1):
    keep = final >= relative_top * final.max(-1, keepdim=True).values
    return torch.where(keep, final - premature, torch.full_like(final, float("-inf")))
''',
}
