"""Plausible mistakes in lesson 7, for the fake cohort's "wrong" student."""

REPLACEMENTS = {
    # Forgets to centre the features: the uncentred alignment is not CKA.
    "ex7_2_solution": '''def linear_cka(X, Y):
    num = torch.linalg.matrix_norm(Y.T @ X) ** 2
    den = torch.linalg.matrix_norm(X.T @ X) * torch.linalg.matrix_norm(Y.T @ Y)
    return float(num / den)
''',
    # Keeps each example as its own neighbour: the score is inflated by 1/k.
    "ex7_6_solution": '''def mutual_knn(X, Y, k=10):
    def neighbours(F):
        F = nn.functional.normalize(F, dim=1)
        return (F @ F.T).topk(k, dim=1).indices
    a, b = neighbours(X), neighbours(Y)
    shared = [len(set(a[i].tolist()) & set(b[i].tolist())) for i in range(len(X))]
    return sum(shared) / (k * len(X))
''',
}
