"""`make lint` over what CloudFormation receives: the transformed template, for each parameter set.

    python -m prelabel_local.template_lint --out build/transformed [--checkov PATH]

Writes `<set>.json` per parameter set, lints each with cfn-lint under that set's values, then
runs checkov over all of them once. A checkov failure must be listed, with its reason, in
infra/checkov-skips.yaml; a listed skip that no longer fails is reported too, so the list
never keeps a stale excuse.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from cfnlint.api import lint_file
from cfnlint.config import ManualArgs
from cfnlint.context.parameters import ParameterSet

from prelabel_local.sam_transform import (
    PARAMETER_SETS,
    ROOT,
    load_sam_template,
    parameter_values,
    transformed_template,
)

SKIPS_FILE = ROOT / "infra" / "checkov-skips.yaml"
# W2001 (unused parameter) is checked on template.yaml itself: the transform consumes some
# parameters (CorsConfiguration's origins), so the output has parameters nothing references.
TRANSFORMED_IGNORES = ["W2001"]


def write_transformed(out: Path) -> dict[str, Path]:
    out.mkdir(parents=True, exist_ok=True)
    files = {}
    for name, overrides in PARAMETER_SETS.items():
        template, _ = transformed_template(overrides)
        path = out / f"{name}.json"
        path.write_text(json.dumps(template, indent=1, sort_keys=True))
        files[name] = path
    return files


def cfn_lint_problems(files: dict[str, Path]) -> list[str]:
    problems = []
    source = load_sam_template()
    for name, path in files.items():
        config = ManualArgs(
            regions=["us-east-1"],
            ignore_checks=TRANSFORMED_IGNORES,
            parameters=[ParameterSet(parameters=parameter_values(source, PARAMETER_SETS[name]))],
        )
        for match in lint_file(path, config=config):
            problems.append(f"{path.name}:{match.linenumber} {match.rule.id} {match.message}")
    return problems


@dataclass(frozen=True)
class Skip:
    reason: str
    resources: frozenset[str]


def load_skips(path: Path = SKIPS_FILE) -> dict[str, Skip]:
    raw: dict[str, Any] = yaml.safe_load(path.read_text()) or {}
    skips = {}
    for check_id, entry in raw.items():
        reason = str(entry.get("reason") or "").strip()
        resources = entry.get("resources") or []
        if not reason or not resources:
            raise ValueError(f"{path.name}: {check_id} needs a reason and the resources it covers")
        skips[check_id] = Skip(reason, frozenset(resources))
    return skips


def checkov_failures(checkov: str, files: dict[str, Path]) -> set[tuple[str, str]]:
    """(check id, logical id) of every failed check, over all parameter sets."""
    args = [checkov, "--framework", "cloudformation", "--output", "json", "--quiet"]
    # --skip-download: no network (checkov otherwise fetches guideline links at start).
    args.append("--skip-download")
    for path in files.values():
        args += ["--file", str(path)]
    run = subprocess.run(args, capture_output=True, text=True, check=False)
    if run.returncode not in (0, 1):  # 1 = some check failed; anything else is checkov failing
        raise RuntimeError(f"checkov exited {run.returncode}: {run.stderr[-2000:]}")
    reports = json.loads(run.stdout)
    failures = set()
    for report in reports if isinstance(reports, list) else [reports]:
        if report["summary"].get("parsing_errors"):
            raise RuntimeError(f"checkov could not parse a template: {report['summary']}")
        for failed in report["results"]["failed_checks"]:
            logical_id = failed["resource"].rsplit(".", 1)[-1]
            failures.add((failed["check_id"], logical_id))
    return failures


def unexplained(failures: set[tuple[str, str]], skips: dict[str, Skip]) -> list[str]:
    """Failures nobody gave a reason for, and listed skips that no longer fail."""
    problems = [
        f"checkov {check} fails on {resource}: fix it or list it with a reason in {SKIPS_FILE.name}"
        for check, resource in sorted(failures)
        if resource not in skips.get(check, Skip("", frozenset())).resources
    ]
    for check, skip in sorted(skips.items()):
        for resource in sorted(skip.resources - {r for c, r in failures if c == check}):
            problems.append(f"{SKIPS_FILE.name}: {check} no longer fails on {resource}: remove it")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "transformed")
    parser.add_argument("--checkov", help="checkov executable (left out: cfn-lint only)")
    args = parser.parse_args(argv)
    files = write_transformed(args.out)
    problems = cfn_lint_problems(files)
    if args.checkov:
        skips = load_skips()
        problems += unexplained(checkov_failures(args.checkov, files), skips)
        print(f"checkov: {sum(len(s.resources) for s in skips.values())} listed skips")
    for problem in problems:
        print(problem, file=sys.stderr)
    print(f"transformed template ({', '.join(files)}): {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
