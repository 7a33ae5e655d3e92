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


def _census_rows(edge_first: int = 8, gaps=(69.3, 184.7, 81.2, 195.1), curve: int = 5):
    """Two trained and two untrained nets whose best curve-family gaps are ``gaps`` (the lesson's ranges)."""
    rows = []
    for net, gap in zip(("plainnet_s0", "vgg_s0", "plainnet_random", "vgg_random"), gaps):
        for i in range(1, 5):
            rows.append(U.CensusRow(net, f"layer{i}", 24, curve if i == 3 else 1, 0.5, gap if i == 3 else 300.0,
                                    edge_first if i == 1 else -1, 4 if i == 1 else -1))
    return rows


CONTROLS = ("plainnet_random", "vgg_random")


def test_lesson07_census_check_tests_the_claim():
    """The lesson's census passes. The old check (``edge_units >= 0``) could not fail; this one fails on a census
    with a full family, on one whose trained nets are clearly better than the untrained ones (what the lesson
    used to claim), on ranges the lesson does not state, on a missing control and on a malformed table."""
    from mi_tutor.checks import lesson07 as C
    from mi_tutor.checks.core import CheckFailure

    C.check_census_result(_census_rows(), CONTROLS)
    with pytest.raises(CheckFailure, match="full curve family"):
        C.check_census_result(_census_rows(gaps=(30.0, 184.7, 81.2, 195.1)), CONTROLS)
    with pytest.raises(CheckFailure, match="do not overlap|the lesson states"):
        # trained families clearly better than untrained ones: "curve families in every trained net"
        C.check_census_result(_census_rows(gaps=(50.0, 60.0, 190.0, 200.0)), CONTROLS,
                              stated={"trained": (50.0, 60.0), "untrained": (190.0, 200.0)})
    with pytest.raises(CheckFailure, match="the lesson states"):
        C.check_census_result(_census_rows(gaps=(90.0, 184.7, 81.2, 195.1)), CONTROLS)
    with pytest.raises(CheckFailure, match="no orientation-tuned unit"):
        C.check_census_result(_census_rows(edge_first=0), CONTROLS)
    with pytest.raises(CheckFailure, match="untrained controls"):
        C.check_census_result(_census_rows(), ())
    broken = _census_rows()
    broken[1].edge_units = 3
    with pytest.raises(CheckFailure, match="first row"):
        C.check_census_result(broken, CONTROLS)


def test_lesson07_controls_in_the_result_checks():
    """Each result check tests the claim against its control: a result no better than the control fails."""
    from mi_tutor.checks import lesson07 as C
    from mi_tutor.checks.core import CheckFailure

    C.check_identification_result(1.0, control=0.67)
    with pytest.raises(CheckFailure, match="untrained"):
        C.check_identification_result(1.0, control=1.0)
    stated = {"layer1": 0.771, "layer2": 0.738, "layer3": 0.694, "layer4": 0.752}
    lesson_control = {"layer1": 0.796, "layer2": 0.705, "layer3": 0.661, "layer4": 0.610}
    C.check_matching_by_layer_result(stated, control=lesson_control)
    with pytest.raises(CheckFailure, match="gain over two untrained nets"):
        # matched against a trained net instead of the second untrained one: a much larger "gain"
        C.check_matching_by_layer_result(stated, control={"layer1": 0.525, "layer2": 0.247, "layer3": 0.324,
                                                          "layer4": 0.182})
    with pytest.raises(CheckFailure, match="mostly in the last layer"):
        C.check_matching_by_layer_result(stated, control=lesson_control, atol=0.2)
    table = {("layer1", "layer1"): 0.24, ("layer2", "layer2"): 0.38, ("layer3", "layer3"): 0.62,
             ("layer4", "layer4"): 0.84, ("layer2", "layer3"): 0.25}
    control = {("layer1", "layer1"): 0.20, ("layer2", "layer2"): 0.16, ("layer3", "layer3"): 0.13,
               ("layer4", "layer4"): 0.12}
    C.check_stitching_table_result(table, chance=1 / 9, target=0.86, control=control)
    with pytest.raises(CheckFailure, match="reaches 90%"):
        # "stitching works at every depth": least squares at layer3 as good as at layer4
        C.check_stitching_table_result({**table, ("layer3", "layer3"): 0.83}, chance=1 / 9, target=0.86)
    with pytest.raises(CheckFailure, match="reaches 90%"):
        C.check_stitching_table_result({**table, ("layer4", "layer4"): 0.70}, chance=1 / 9, target=0.86)
    with pytest.raises(CheckFailure, match="untrained net does as well"):
        C.check_stitching_table_result(table, chance=1 / 9, target=0.86,
                                       control={**control, ("layer3", "layer3"): 0.65})
    C.check_alignment_result(0.270, 0.025, 0.003, bag_of_words=0.267)
    with pytest.raises(CheckFailure, match="bag of words"):
        # the caption model far above word counts: the lesson states it is not
        C.check_alignment_result(0.40, 0.025, 0.003, bag_of_words=0.267)


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
