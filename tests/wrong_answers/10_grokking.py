"""Plausible mistakes in lesson 10, for the fake cohort's "wrong" student."""

REPLACEMENTS = {
    # Divides every row by sqrt(p / 2): the cos/sin rows are right but the constant row has norm sqrt 2.
    "ex10_1_solution": '''def fourier_basis(p):
    x = torch.arange(p, dtype=torch.float64)
    rows = [torch.ones(p, dtype=torch.float64)]
    for k in range(1, (p - 1) // 2 + 1):
        rows += [torch.cos(2 * math.pi * k * x / p), torch.sin(2 * math.pi * k * x / p)]
    return (torch.stack(rows) / math.sqrt(p / 2)).float()
''',
    # Forgets the bias correction: the restricted logits lose each answer's mean.
    "ex10_6_solution": '''def restricted_logits(logits, freqs, basis):
    out = torch.zeros_like(logits)
    for k in freqs:
        c, s = basis[2 * k - 1], basis[2 * k]
        for direction in [(torch.outer(c, c) - torch.outer(s, s)) / math.sqrt(2),
                          (torch.outer(s, c) + torch.outer(c, s)) / math.sqrt(2)]:
            coef = torch.einsum("ab,abc->c", direction, logits)
            out = out + torch.einsum("ab,c->abc", direction, coef)
    return out
''',
}
