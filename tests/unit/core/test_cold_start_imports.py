"""What the API function loads at its cold start (benchmarks/api_latency.py times it): the
routes and their schemas, not the adapters, the AWS SDK or the heavier use cases, which load
on the first request that needs them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
# Loaded on first use only: the DynamoDB and S3 adapters with pynamodb and botocore, the
# quality report and calibration, the export writers behind the export and review-sample links.
LAZY = [
    "pynamodb.connection",
    "botocore.client",
    "prelabel.adapters.dynamodb.tasks",
    "prelabel.quality.report",
    "prelabel.quality.calibration",
    "prelabel.services.exports",
    "prelabel.services.review_samples",
]


def loaded_after(statement: str, cwd: Path) -> set[str]:
    code = f"{statement}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True, check=True
    ).stdout
    return set(json.loads(out.splitlines()[-1]))


def test_the_api_functions_import_leaves_adapters_and_heavy_use_cases_for_later() -> None:
    # Given the API function's module, imported as Lambda's runtime imports it
    # When a fresh interpreter imports it
    loaded = loaded_after("import app", ROOT / "functions" / "api")
    # Then its routes are there, and none of what loads on first use
    assert "prelabel.api.routes.quality" in loaded
    assert "prelabel.api.routes.review_samples" in loaded
    assert [m for m in LAZY if m in loaded] == []


def test_a_name_of_the_quality_package_loads_its_own_module_only() -> None:
    # Given the quality package, whose names load on first use
    # When one module's name is used (what the pre-label ports need)
    loaded = loaded_after(
        "from prelabel.quality import DEFAULT_TARGET_PRECISION as t; assert t == 0.9", ROOT
    )
    # Then that module is loaded and the report's and calibration's are not
    assert "prelabel.quality.bounds" in loaded
    assert "prelabel.quality.report" not in loaded
    assert "prelabel.quality.calibration" not in loaded
