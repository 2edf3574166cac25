"""The quality report's AP50 against pycocotools' COCOeval on the same boxes: YOLOX-Nano at a
0.01 floor on coco-mini-train's 80 photos, COCO's non-crowd labels as the reviewed boxes."""

from __future__ import annotations

import pytest

from prelabel.quality import ALL, scope_report
from prelabel_local.coco_quality import CocoSet, Detected, cocoeval_ap50, quality_figures

TOLERANCE = 0.005


def test_per_class_and_mean_ap50_agree_with_cocoeval_within_0_005(
    coco_mini: CocoSet, detected: list[Detected]
) -> None:
    # Given the model's boxes on the 80 photos (down to 0.01) and COCO's labels
    assert len(coco_mini.images) == 80
    assert sum(len(d.boxes) for d in detected) > 1000
    # When COCOeval and prelabel.quality both evaluate them
    theirs = cocoeval_ap50(coco_mini, detected)
    ours = quality_figures(coco_mini, detected)
    report = scope_report(ALL, ours.tally)
    rows = {r.class_key: r for r in report.classes}
    # Then the same classes have an AP (every class with a reviewed box)
    graded = {k for k, r in rows.items() if r.reviewed}
    assert graded == set(theirs)
    assert len(graded) >= 50
    # And every class's reported AP50 is within 0.005 of COCOeval's, and COCOeval's lies in
    # the range the score bins allow
    for cls, ap in theirs.items():
        ap50 = rows[cls].ap50
        assert ap50.value == pytest.approx(ap, abs=TOLERANCE), cls
        assert ap50.low is not None and ap50.high is not None
        assert ap50.low - 1e-9 <= ap <= ap50.high + 1e-9, cls
    # And the exact ranking reproduces COCOeval to rounding: the matching rule is the same
    for cls, ap in theirs.items():
        assert ours.exact_ap50[cls] == pytest.approx(ap, abs=1e-9), cls
    # And the mean over classes agrees too
    mean_theirs = sum(theirs.values()) / len(theirs)
    assert report.map50.value == pytest.approx(mean_theirs, abs=TOLERANCE)


def test_binned_ap50_is_within_its_stated_bound_of_the_exact_ranking(
    coco_mini: CocoSet, detected: list[Detected]
) -> None:
    # Given the same boxes through prelabel.quality
    ours = quality_figures(coco_mini, detected)
    report = scope_report(ALL, ours.tally)
    # When each class's binned AP50 is set beside the AP of the exact ranking
    gaps = []
    for row in report.classes:
        if not row.reviewed:
            continue
        bound = row.ap50.error_bound
        assert row.ap50.value is not None and bound is not None
        gap = abs(row.ap50.value - ours.exact_ap50[row.class_key])
        # Then the gap never exceeds the bound the report states, and the bound is small
        assert gap <= bound + 1e-12, row.class_key
        assert bound <= TOLERANCE, row.class_key
        gaps.append(gap)
    assert max(gaps) <= TOLERANCE


def test_counts_add_up_per_class(coco_mini: CocoSet, detected: list[Detected]) -> None:
    # Given the report on the 80 photos
    report = scope_report(ALL, quality_figures(coco_mini, detected).tally)
    reviewed = sum(len(i.reviewed) for i in coco_mini.images)
    # Then every reviewed box is either found or missed, every evaluated box is a true
    # positive, an extra or a wrong-class box, and each wrong-class box pairs with a miss
    assert sum(r.reviewed for r in report.classes) == reviewed == 731
    for r in report.classes:
        assert r.true_positives + r.misses == r.reviewed
        assert r.true_positives + r.extra + r.wrong_class == r.predicted
        assert sum(r.confused_with.values()) == r.wrong_class
    assert sum(r.wrong_class for r in report.classes) <= sum(r.misses for r in report.classes)
    assert report.tasks == 80
