"""Tallies merge: slices added apart and merged (through their stored form) equal one pass."""

from __future__ import annotations

import json
import random
from itertools import pairwise
from typing import Any

import pytest

from prelabel.quality import (
    ALL,
    QualityAccumulator,
    Scope,
    ScopeKind,
    TallyFormatError,
    TaskEvidence,
    scope_report,
)
from tests.unit.quality.builders import box, pred, rev

CLASSES = ("car", "person", "dog")


def _random_task(rng: random.Random, i: int) -> TaskEvidence:
    reviewed = [rev(rng.choice(CLASSES), box(rng.uniform(0, 200), rng.uniform(0, 200), 30, 30))]
    reviewed += [rev(rng.choice(CLASSES), box(rng.uniform(0, 200), 300, 30, 30)) for _ in range(3)]
    predicted = []
    for r in reviewed:
        for _ in range(rng.randrange(0, 3)):
            b = r.box
            shift = rng.uniform(-8, 8)
            predicted.append(
                pred(
                    rng.choice(CLASSES),
                    round(rng.random(), 4),
                    box(b.x1 + shift, b.y1 + shift, 30, 30),
                )
            )
    return TaskEvidence(predicted, reviewed, f"model-{i % 2}", f"run-{i % 3}")


def test_slices_merged_through_their_stored_form_equal_one_pass() -> None:
    # Given 600 random tasks (3 classes, 2 model versions, 3 runs)
    rng = random.Random(21)
    tasks = [_random_task(rng, i) for i in range(600)]
    one_pass = QualityAccumulator(by_run=True)
    for t in tasks:
        one_pass.add_task(t)
    # When they are added in 4 uneven slices, each stored as JSON and read back, then merged
    cuts = [0, 17, 250, 251, 600]
    merged = QualityAccumulator(by_run=True)
    for start, end in pairwise(cuts):
        part = QualityAccumulator(by_run=True)
        for t in tasks[start:end]:
            part.add_task(t)
        merged.merge(QualityAccumulator.from_dict(json.loads(json.dumps(part.to_dict()))))
    # Then the tallies and every report are the same as one pass over all tasks
    assert merged == one_pass
    for scope, tally in one_pass.scopes.items():
        assert scope_report(scope, merged.scopes[scope]) == scope_report(scope, tally)
    # And the scopes are all, each model version and each run, counting the right tasks
    keys = {s.key: t.tasks for s, t in merged.scopes.items()}
    assert keys == {
        "all": 600,
        "model:model-0": 300,
        "model:model-1": 300,
        "run:run-0": 200,
        "run:run-1": 200,
        "run:run-2": 200,
    }


def test_runs_are_tallied_only_when_asked() -> None:
    # Given one task
    t = TaskEvidence([pred("car", 0.9, box(0, 0))], [rev("car", box(0, 0))], "yolox 1", "run-a")
    # When it is added to an accumulator without per-run tallies
    acc = QualityAccumulator()
    acc.add_task(t)
    # Then only the all and model scopes exist
    assert set(acc.scopes) == {ALL, Scope(ScopeKind.MODEL, "yolox 1")}
    assert Scope.parse("model:yolox 1") == Scope(ScopeKind.MODEL, "yolox 1")


def _stored() -> dict[str, Any]:
    acc = QualityAccumulator()
    acc.add_task(TaskEvidence([pred("car", 0.9, box(0, 0))], [rev("car", box(0, 0))], "m"))
    return acc.to_dict()


def _car(doc: dict[str, Any]) -> dict[str, Any]:
    car: dict[str, Any] = doc["scopes"]["all"]["classes"]["car"]
    return car


@pytest.mark.parametrize(
    ("spoil", "words"),
    [
        (lambda d: d.update(version=2), "version: 2"),
        (lambda d: _car(d).update(bins=[[1000, 1, 0]]), "bins: 1000"),
        (lambda d: _car(d).update(bins=[[5, 1, 0], [5, 1, 0]]), "bins: 5"),
        (lambda d: _car(d).update(reviewed=-1), "-1 is not a count"),
        (lambda d: _car(d).update(reviewed=True), "True is not a count"),
        (lambda d: _car(d).update(min_score=3), "min_score: 3"),
        (lambda d: d["scopes"].update({"team:x": d["scopes"]["all"]}), "scope: 'team:x'"),
        (lambda d: _car(d).pop("bins"), "not a class tally"),
    ],
)
def test_a_stored_tally_in_another_shape_is_refused_with_what_is_wrong(
    spoil: Any, words: str
) -> None:
    # Given a stored accumulator spoiled in one place
    doc = _stored()
    spoil(doc)
    # When it is read back
    with pytest.raises(TallyFormatError) as err:
        QualityAccumulator.from_dict(doc)
    # Then the error says what is wrong
    assert words in str(err.value)


def test_the_stored_form_holds_only_bins_with_boxes() -> None:
    # Given one class with 3 boxes in 2 score bins
    acc = QualityAccumulator()
    reviewed = [rev("car", box(0, 0)), rev("car", box(50, 0))]
    predicted = [
        pred("car", 0.9004, box(0, 0)),
        pred("car", 0.9001, box(50, 0)),
        pred("car", 0.2, box(200, 0)),
    ]
    acc.add_task(TaskEvidence(predicted, reviewed, "m"))
    # When it is stored
    car = _car(acc.to_dict())
    # Then two [bin, tp, fp] entries hold everything
    assert car["bins"] == [[200, 0, 1], [900, 2, 0]]
