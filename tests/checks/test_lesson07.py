"""Lesson 7's checks accept the reference and reject plausible mistakes with a message that names them."""

from __future__ import annotations

import pytest
import torch

from mi_tutor import universality as U


def _rejects(check, fn, pattern):
    from mi_tutor.checks.core import CheckFailure

    with pytest.raises(CheckFailure, match=pattern):
        check(fn)


def test_lesson07_checks_accept_reference_and_reject_mistakes():
    from mi_tutor.checks import lesson07 as C

    C.check_cka_from_grams(U.cka_from_grams)
    _rejects(C.check_cka_from_grams, lambda K, L: float((K * L).sum() / (K.norm() * L.norm())), "UNcentred")
    C.check_linear_cka(U.linear_cka)
    _rejects(C.check_linear_cka, lambda X, Y: U.cka_from_grams(U.gram_linear(X), U.gram_linear(Y)), "Gram form")
    C.check_debiased_cka(U.debiased_cka)
    _rejects(C.check_debiased_cka, U.linear_cka, "biased")

    def hungarian(A, B):
        m = U.match_units(A, B)
        return m.cols, m.correlations

    def semi(A, B):
        m = U.semi_match(A, B)
        return m.cols, m.correlations

    C.check_match_units(hungarian)
    _rejects(C.check_match_units, semi, "semi-matching")
    C.check_correspondence_map(lambda a, b, sim: U.correspondence_map(a, b, sim).values)
    _rejects(C.check_correspondence_map, lambda a, b, sim: U.correspondence_map(b, a, sim).values, "rows must be")
    C.check_mutual_knn(U.mutual_knn_alignment)
    _rejects(C.check_mutual_knn, lambda X, Y, k: C._knn_variant(X, Y, k, exclude_self=False), "own nearest")
    _rejects(C.check_mutual_knn, lambda X, Y, k: C._knn_variant(X, Y, k, normalize=False), "normalised")

    def stitched(a, b, la, lb, stitch, x):
        net = U.StitchedNet(a, b, la, lb, image_size=x.shape[-1])
        net.stitch = stitch
        return net(x)

    C.check_stitch_forward(stitched)
    _rejects(C.check_stitch_forward, lambda a, b, la, lb, stitch, x: b(x), "not replaced")


def test_lesson07_contract_mistakes_are_caught():
    """Issue 27's slip-throughs: a stitch run under no_grad, rows normalised in place."""
    from torch import nn

    from mi_tutor.checks import lesson07 as C

    def stitched_no_grad(a, b, la, lb, stitch, x):      # the gradient never reaches `stitch`
        net = U.StitchedNet(a, b, la, lb, image_size=x.shape[-1])
        net.stitch = stitch
        with torch.no_grad():
            return net(x)

    _rejects(C.check_stitch_forward, stitched_no_grad, r"(?s)no gradient: was it computed under `torch.no_grad\(\)`.*called stitching A.layer1")

    def knn_in_place(X, Y, k):                            # F /= F.norm(...) on the caller's features
        X /= X.norm(dim=1, keepdim=True)
        Y /= Y.norm(dim=1, keepdim=True)
        return U.mutual_knn_alignment(X, Y, k)

    _rejects(C.check_mutual_knn, knn_in_place,
             r"changed its argument `X` in place \(`X /= X.norm\(dim=1, keepdim=True\)`\).*`X = X / X.norm")

    def cka_centres_in_place(X, Y):
        X -= X.mean(0)
        return U.linear_cka(X, Y)

    _rejects(C.check_linear_cka, cka_centres_in_place, "changed its argument `X` in place")
    _rejects(C.check_cka_from_grams, lambda K, L: U.cka_from_grams(K.fill_diagonal_(0), L),
             "changed its argument `K` in place")
    del nn


def _census_rows(edge_first: int = 8, curve: int = 5):
    rows = []
    for net in ("plainnet_s0", "plainnet_random"):
        for i in range(1, 5):
            rows.append(U.CensusRow(net, f"layer{i}", 24, curve if i == 3 else 1, 0.5, 180.0,
                                    edge_first if i == 1 else -1, 4 if i == 1 else -1))
    return rows


def test_lesson07_census_check_tests_the_claim():
    from mi_tutor.checks import lesson07 as C
    from mi_tutor.checks.core import CheckFailure

    C.check_census_result(_census_rows())
    with pytest.raises(CheckFailure, match="no edge detector"):
        C.check_census_result(_census_rows(edge_first=0))
    with pytest.raises(CheckFailure, match="largest curve family has 1 members"):
        C.check_census_result(_census_rows(curve=1))
    broken = _census_rows()
    broken[1].edge_units = 3
    with pytest.raises(CheckFailure, match="first row"):
        C.check_census_result(broken)


def test_lesson07_matching_by_layer_check_tests_the_claim():
    """The lesson's numbers pass; the higher correlations of semi-matching (each row's maximum) or of uncentred
    cosines, and a profile without the dip in the middle, used to pass a range test and now fail (issue 27)."""
    from mi_tutor.checks import lesson07 as C
    from mi_tutor.checks.core import CheckFailure

    C.check_matching_by_layer_result({"layer1": 0.771, "layer2": 0.738, "layer3": 0.694, "layer4": 0.752})
    for wrong in ({"layer1": 0.81, "layer2": 0.79, "layer3": 0.75, "layer4": 0.80},     # semi-matching
                  {"layer1": 0.97, "layer2": 0.95, "layer3": 0.93, "layer4": 0.96}):    # cosine, not Pearson
        with pytest.raises(CheckFailure, match="Exercise 7.5"):
            C.check_matching_by_layer_result(wrong)
    with pytest.raises(CheckFailure, match="worst in a middle layer"):
        C.check_matching_by_layer_result({"layer1": 0.70, "layer2": 0.72, "layer3": 0.72, "layer4": 0.75},
                                         stated={"layer1": 0.70, "layer2": 0.72, "layer3": 0.72, "layer4": 0.75})
    with pytest.raises(CheckFailure, match="one value per layer"):
        C.check_matching_by_layer_result({"layer1": 0.77, "layer4": 0.75})
