"""Circuits in vision: curve detectors in the course's own CNNs (lesson 4).

Seven lines of evidence that a unit is a curve detector, each a small tool:

* :mod:`mi_tutor.vision.stimuli` (re-exported here) - synthetic arcs over orientation x
  curvature, lines and angles, with cosmetic variation (stroke width, colour, background);
* :mod:`mi_tutor.vision.tuning` (re-exported here) - tuning maps, radial tuning curves, preferred orientations,
  curve-vs-line selectivity, the search for a family that tiles the circle;
* :mod:`.rotation` - rotated dataset examples and the hand-off between family members;
* :mod:`.weights` - kernels between layers, expanded weights, tangent
  alignment of positive weight, equivariance of the weights between families;
* :mod:`.handbuilt` - a curve detector written by hand from the network's own
  edge units, and the correlation of its tuning with a learned detector's;
* :mod:`.stages` - the stages of a zoo CNN and the weights between two of them (``stage_entry``);
* :mod:`.next_layer` - how the next stage uses them: circles from curves, objects from parts,
  one pose-invariant unit from a left- and a right-facing one (the selection rules);
* :mod:`.polysemantic` - units that fire on two unrelated concepts;
* :mod:`mi_tutor.vision.pretrained` - the optional path: ImageNet GoogLeNet (`zoo.load("googlenet_imagenet")`), mixed3b;
* :mod:`.plots` - the lesson's figures (each returns its data);
* :mod:`.census` - the strict curve-detector rule on every unit of a stage, arcs scaled by the
  world's scenes, beside untrained twins (``curve_census``);
* :mod:`.findings` - every finding measured on a zoo net, for the zoo's records (``measure_findings``),
  with the probes the lesson shares (``probe_tuning``, ``STIMULUS_STYLE``).

Examples:
    >>> import torch
    >>> from mi_tutor.circuits_vision import curve_grid, radial_tuning
    >>> grid = curve_grid(8, [0.0, 3.0])
    >>> radial_tuning(torch.rand(2, 2, 8)).shape
    torch.Size([2, 8])
"""

from .handbuilt import (
    EdgeUnits,
    HandBuiltConfig,
    HandBuiltCurveDetector,
    axial_preference,
    build_curve_detectors,
    find_edge_units,
    handbuilt_curve_weights,
    tuning_correlation,
)
from .polysemantic import (PolysemanticUnit, concept_overlap, concept_scores, find_polysemantic, kinds_share_part,
                           object_concept_masks)
from ..vision.stimuli import (
    StimulusGrid,
    StimulusStyle,
    cosmetic_variants,
    curve_grid,
    render_angles,
    render_curves,
    render_lines,
)
from .rotation import (Handoff, center_examples, center_on_peaks, handoff, rotate_images, rotation_responses,
                       shift_images)
from ..vision.tuning import (
    STRICT_RULE,
    CurveFamily,
    angle_difference,
    curve_line_selectivity,
    find_curve_family,
    max_circular_gap,
    orientation_coverage,
    orientation_selectivity,
    preferred_orientation,
    radial_tuning,
    strict_curve_detectors,
    tuning_grid,
    tuning_map,
    unit_responses,
)
from .next_layer import (
    CompositionUnits,
    PoseUnits,
    circle_alignment,
    circle_template,
    composition_rows,
    find_composition_units,
    find_pose_units,
    object_selectivity,
    part_contrast,
    part_scores,
    pose_index,
)
from .stages import next_stage, receptive_field_centre, stage_entry, stage_names, tap_spacing
from .findings import CURVATURES, PROBE_STYLES, STIMULUS_STYLE, probe_tuning
from .census import FULL_FAMILY, CurveCensus, activation_percentile, curve_census, scene_percentile
from .weights import (
    arc_normal_field,
    conv_weights,
    equivariance_score,
    expanded_weights,
    shuffled_tangent_alignment,
    tangent_alignment,
)

__all__ = [
    "EdgeUnits",
    "HandBuiltConfig",
    "HandBuiltCurveDetector",
    "axial_preference",
    "build_curve_detectors",
    "find_edge_units",
    "handbuilt_curve_weights",
    "tuning_correlation",
    "PolysemanticUnit",
    "concept_overlap",
    "concept_scores",
    "find_polysemantic",
    "kinds_share_part",
    "object_concept_masks",
    "StimulusGrid",
    "StimulusStyle",
    "cosmetic_variants",
    "curve_grid",
    "render_angles",
    "render_curves",
    "render_lines",
    "CurveFamily",
    "Handoff",
    "angle_difference",
    "curve_line_selectivity",
    "find_curve_family",
    "handoff",
    "max_circular_gap",
    "orientation_coverage",
    "orientation_selectivity",
    "preferred_orientation",
    "radial_tuning",
    "center_examples",
    "center_on_peaks",
    "shift_images",
    "CompositionUnits",
    "PoseUnits",
    "circle_alignment",
    "circle_template",
    "composition_rows",
    "find_composition_units",
    "find_pose_units",
    "object_selectivity",
    "part_contrast",
    "part_scores",
    "pose_index",
    "rotate_images",
    "rotation_responses",
    "tuning_grid",
    "tuning_map",
    "unit_responses",
    "arc_normal_field",
    "conv_weights",
    "equivariance_score",
    "expanded_weights",
    "shuffled_tangent_alignment",
    "tangent_alignment",
    "next_stage",
    "receptive_field_centre",
    "stage_entry",
    "stage_names",
    "tap_spacing",
    "CURVATURES",
    "PROBE_STYLES",
    "STIMULUS_STYLE",
    "probe_tuning",
    "STRICT_RULE",
    "strict_curve_detectors",
    "FULL_FAMILY",
    "CurveCensus",
    "activation_percentile",
    "curve_census",
    "scene_percentile",
]
