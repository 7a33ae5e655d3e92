"""Plausible mistakes in lesson 6, for the fake cohort's "wrong" student."""

REPLACEMENTS = {
    # Plain L1 penalty, not weighted by the decoder norms.
    "ex6_3_solution": '''def sae_loss(x, x_hat, f, W_dec, l1_coeff):
    mse = ((x - x_hat) ** 2).sum(-1).mean()
    l1 = f.sum(-1).mean()
    return mse + l1_coeff * l1, mse, l1
''',
    # Variance measured around zero instead of around the mean.
    "ex6_6_solution": '''def fraction_variance_explained(x, x_hat):
    return 1 - ((x - x_hat) ** 2).sum() / (x ** 2).sum()
''',
}
