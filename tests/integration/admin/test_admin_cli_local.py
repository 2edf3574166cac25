"""An operator at the local stack: `prelabel-admin --local ...` changes what the organization's
users then see through the API."""

from __future__ import annotations

from pathlib import Path

import boto3

from prelabel.container import container
from prelabel.domain.plans import Plan
from prelabel.services.organizations import MonthlyReset
from prelabel_local import harness
from prelabel_local.http_events import InProcessApi, call_api
from prelabel_local.jwt_keys import JwtVerifier, load_or_create_key
from tests.integration.admin.conftest import Ran

JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64  # listed by its suffix; never decoded here


def test_an_organization_created_by_the_operator_is_served(admin) -> None:  # type: ignore[no-untyped-def]
    # Given no organization "acme": its users are refused
    assert call_api("GET", "/limit", "acme").status == 403
    # When the operator creates it on TEAM_PRO and lists the organizations as JSON
    created: Ran = admin("org", "create", "acme", "--name", "Acme Corp", "--plan", "TEAM_PRO")
    listed: Ran = admin("org", "list", "--json")
    # Then the API serves acme's users with the plan's limit, and the list holds it
    assert created.status == 0, created.err
    assert "Acme Corp" in created.out and "0 used of 10,000" in created.out
    assert InProcessApi("acme").json("GET", "/limit")["remaining"] == 10_000
    assert [(o["org_id"], o["plan"], o["remaining"]) for o in listed.json()] == [
        ("acme", "TEAM_PRO", 10_000)
    ]


def test_limit_commands_change_what_the_api_reports(admin) -> None:  # type: ignore[no-untyped-def]
    # Given acme on TEAM that used 40 of its 1,000 this month
    admin("org", "create", "acme", "--name", "Acme", "--plan", "TEAM")
    container().ledger.charge("acme", 40)
    api = InProcessApi("acme")
    # When the operator takes 10 away, then sets 5 left, then tries a limit below what was used
    took = admin("limit", "add", "acme", "-10")
    after_add = api.json("GET", "/limit")
    left = admin("limit", "set-remaining", "acme", "5", "--json")
    below = admin("limit", "set-monthly", "acme", "39", "--json")
    # Then each change shows in the API, the 40 used stay, and the refusal names field and value
    assert (took.status, after_add["remaining"], after_add["monthly_limit"]) == (0, 950, 990)
    assert (left.json()["remaining"], left.json()["used"]) == (5, 40)
    assert api.json("GET", "/limit")["remaining"] == 5
    assert below.status == 1
    assert below.error()["field"] == "monthly_limit" and "39" in below.error()["message"]


def test_plan_change_lets_the_organization_start_pre_labeling(admin) -> None:  # type: ignore[no-untyped-def]
    # Given acme on TEAM (pre-labeling needs TEAM_PRO) with 300 of 1,000 used
    admin("org", "create", "acme", "--name", "Acme", "--plan", "TEAM")
    container().ledger.charge("acme", 300)
    # When the operator moves it to TEAM_PRO
    moved = admin("org", "set-plan", "acme", "TEAM_PRO")
    shown = admin("org", "show", "acme", "--json").json()
    # Then it has TEAM_PRO's 10,000 less the 300 used this month, and the API says TEAM_PRO
    assert moved.status == 0 and "TEAM_PRO" in moved.out
    assert (shown["plan"], shown["monthly_limit"], shown["remaining"]) == (
        "TEAM_PRO",
        10_000,
        9_700,
    )
    assert InProcessApi("acme").json("GET", "/limit")["plan"] == Plan.TEAM_PRO.value


def test_usage_by_month_after_the_monthly_reset(admin) -> None:  # type: ignore[no-untyped-def]
    # Given acme that used 1,234 units in its first period, then the reset of the next month
    admin("org", "create", "acme", "--name", "Acme", "--plan", "TEAM_PRO")
    c = container()
    period = c.orgs.get("acme").period
    c.ledger.charge("acme", 1_234)
    year, month = map(int, period.split("-"))
    following = f"{year + month // 12:04d}-{month % 12 + 1:02d}"
    MonthlyReset(c.orgs, c.ledger, c.settings.plan_limits).run(following)
    c.ledger.charge("acme", 6)
    # When the operator reads acme's usage
    usage = admin("org", "usage", "acme", "--json").json()
    text = admin("org", "usage", "acme").out
    # Then the new month is live and the closed one shows what it used
    assert usage == [
        {
            "period": following,
            "used": 6,
            "monthly_limit": 10_000,
            "remaining": 9_994,
            "current": True,
        },
        {
            "period": period,
            "used": 1_234,
            "monthly_limit": None,
            "remaining": None,
            "current": False,
        },
    ]
    assert f"{period}  1,234 used" in text


def test_grants_decide_where_the_organization_may_connect(  # type: ignore[no-untyped-def]
    admin, shared_bucket: str
) -> None:
    # Given acme, and a photo under team-a/ of a shared dataset bucket
    admin("org", "create", "acme", "--name", "Acme", "--plan", "TEAM_PRO")
    boto3.client("s3").put_object(Bucket=shared_bucket, Key="team-a/cat.jpg", Body=JPEG)
    api = InProcessApi("acme")
    project = api.json("POST", "/projects", {"name": "P", "label_config": []})["project_id"]
    body = {"bucket": shared_bucket, "prefix": "team-a/"}
    before = api.call("POST", f"/projects/{project}/datasets", body)
    # When the operator grants team-a/ of that bucket
    granted = admin("grant", "add", "acme", "--bucket", shared_bucket, "--prefix", "team-a")
    connected = api.call("POST", f"/projects/{project}/datasets", body)
    imported = harness.wait_for_dataset(api, project, connected.body["dataset_id"])
    listed = admin("grant", "list", "acme", "--json").json()
    removed = admin("grant", "remove", "acme", "--bucket", shared_bucket, "--prefix", "team-a/")
    # Then the connect is refused before and accepted after; the grant is listed, then revoked
    assert before.status == 403
    assert granted.status == 0 and f"s3://{shared_bucket}/team-a/" in granted.out
    assert connected.status == 202 and imported["task_count"] == 1
    assert listed == [
        {"bucket": shared_bucket, "prefix": "team-a/", "location": f"s3://{shared_bucket}/team-a/"}
    ]
    assert removed.status == 0 and "no longer reads" in removed.out
    assert admin("grant", "list", "acme", "--json").json() == []


def test_a_local_token_is_for_an_organization_that_exists(  # type: ignore[no-untyped-def]
    admin, state_file: Path
) -> None:
    # Given acme
    admin("org", "create", "acme", "--name", "Acme", "--plan", "TEAM")
    # When the operator prints a token for alice of acme, and one for an unknown organization
    token = admin("user", "token", "acme", "--user", "alice")
    ghost = admin("user", "token", "ghost")
    # Then the first carries acme and alice, signed with the stack's key; the second is refused
    claims = JwtVerifier.for_key(load_or_create_key(state_file.parent)).verify(token.out.strip())
    assert (claims["custom:org_id"], claims["sub"]) == ("acme", "alice")
    assert ghost.status == 1 and "'ghost'" in ghost.err


def test_refusals_say_what_is_wrong(admin, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    # Given acme
    admin("org", "create", "acme", "--name", "Acme", "--plan", "TEAM")
    # When the operator repeats it, uses a path as an id, grants the data bucket, asks the local
    # stack for Cognito users, or names a state file where no stack runs
    again = admin("org", "create", "acme", "--name", "Acme", "--plan", "TEAM")
    path_id = admin("org", "create", "a/b", "--name", "Slash", "--plan", "TEAM", "--json")
    data_bucket = container().settings.data_bucket or ""
    grant = admin("grant", "add", "acme", "--bucket", data_bucket, "--json")
    users = admin("user", "list", "acme")
    nowhere = admin("--state", str(tmp_path / "none.json"), "org", "list")
    # Then each is refused with its reason, and the first ones name their field
    assert again.status == 1 and "'acme' exists" in again.err
    assert (path_id.status, path_id.error()["field"]) == (1, "org_id")
    assert (grant.status, grant.error()["field"]) == (1, "bucket")
    assert users.status == 2 and "no user pool" in users.err
    assert nowhere.status == 2 and "no local stack is running" in nowhere.err
