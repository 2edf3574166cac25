"""The local gateway over real HTTP: the JWT checks of the deployed authorizer, organization
scoping end to end, binary bodies, and static files."""

from __future__ import annotations

import http.client
import io
import time
import zipfile
from typing import Any

import jwt
import pytest
import requests

from prelabel_local import harness
from prelabel_local.jwt_keys import SigningKey, generate_key, issue_token

CONFIG = [{"id": "veh", "name": "Vehicle", "geometry": "bbox"}]
UNAUTHORIZED = {"code": "UNAUTHORIZED", "message": "Unauthorized", "field": None}


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def orgs(make_org) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    return make_org("org-a"), make_org("org-b")


def _bad_tokens(key: SigningKey) -> dict[str, str]:
    other = generate_key()
    now = int(time.time())
    forged_kid = jwt.encode(
        {"custom:org_id": "org-a", "iss": "x", "exp": now + 60},
        other.private_key,
        algorithm="RS256",
        headers={"kid": key.kid},
    )
    unsigned = jwt.encode({"custom:org_id": "org-a", "exp": now + 60}, None, algorithm="none")
    return {
        "other key": issue_token(other, org_id="org-a"),
        "other key, our kid": forged_kid,
        "expired": issue_token(key, org_id="org-a", now=now - 7200, ttl=3600),
        "wrong audience": issue_token(key, org_id="org-a", audience="someone-else"),
        "wrong issuer": issue_token(key, org_id="org-a", issuer="https://evil.example"),
        "alg none": unsigned,
        "garbage": "not-a-jwt",
    }


def test_no_token_is_refused_like_api_gateway(gateway: str, orgs: tuple[str, str]) -> None:
    # When the API is called without an Authorization header
    reply = requests.get(f"{gateway}/api/projects", timeout=10)
    # Then the gateway answers 401 in the API's error shape, before the function runs
    assert reply.status_code == 401
    assert reply.json() == UNAUTHORIZED


@pytest.mark.parametrize(
    "case",
    [
        "other key",
        "other key, our kid",
        "expired",
        "wrong audience",
        "wrong issuer",
        "alg none",
        "garbage",
    ],
)
def test_bad_tokens_are_refused(
    gateway: str, signing_key: SigningKey, orgs: tuple[str, str], case: str
) -> None:
    # Given a token that the deployed authorizer would refuse
    token = _bad_tokens(signing_key)[case]
    # When it is used to create a project
    reply = requests.post(
        f"{gateway}/api/projects",
        json={"name": "x", "label_config": CONFIG},
        headers=_auth(token),
        timeout=10,
    )
    # Then 401, and nothing was created for the organization it names
    assert reply.status_code == 401, case
    assert reply.json() == UNAUTHORIZED
    good = _auth(issue_token(signing_key, org_id="org-a"))
    assert requests.get(f"{gateway}/api/projects", headers=good, timeout=10).json() == []


def test_organizations_see_only_their_own_projects(
    gateway: str, signing_key: SigningKey, orgs: tuple[str, str]
) -> None:
    # Given valid tokens of org A and org B
    a = _auth(issue_token(signing_key, org_id="org-a", sub="alice"))
    b = _auth(issue_token(signing_key, org_id="org-b", sub="bob"))
    # When A creates a project and reads it back
    created = requests.post(
        f"{gateway}/api/projects",
        json={"name": "A's streets", "label_config": CONFIG},
        headers=a,
        timeout=10,
    )
    assert created.status_code == 201, created.text
    pid = created.json()["project_id"]
    read = requests.get(f"{gateway}/api/projects/{pid}", headers=a, timeout=10)
    # Then A sees it
    assert read.status_code == 200 and read.json()["name"] == "A's streets"
    # When B reads A's project, and lists its own
    stolen = requests.get(f"{gateway}/api/projects/{pid}", headers=b, timeout=10)
    listed = requests.get(f"{gateway}/api/projects", headers=b, timeout=10)
    # Then A's project does not exist for B, and nothing of A is in B's list
    assert stolen.status_code == 404
    assert "A's streets" not in stolen.text
    assert listed.status_code == 200 and listed.json() == []
    # And a body naming A's organization does not move B's request into it
    forged = requests.post(
        f"{gateway}/api/projects",
        json={"name": "x", "label_config": CONFIG, "org_id": "org-a"},
        headers=b,
        timeout=10,
    )
    assert forged.status_code == 422


def test_job_answers_and_query_strings_pass_through(
    gateway: str, signing_key: SigningKey, orgs: tuple[str, str]
) -> None:
    # Given a project of org A
    a = _auth(issue_token(signing_key, org_id="org-a"))
    pid = requests.post(
        f"{gateway}/api/projects",
        json={"name": "P", "label_config": CONFIG},
        headers=a,
        timeout=10,
    ).json()["project_id"]
    export = f"{gateway}/api/projects/{pid}/export"
    # When its YOLO export is asked for through the gateway
    started = requests.get(export, params={"format": "yolo"}, headers=a, timeout=10)
    # Then the answer is the export job (202), and its id in the query string finds the file
    assert started.status_code == 202, started.text
    job_id = started.json()["job_id"]

    def link() -> dict[str, Any] | None:
        reply = requests.get(
            export, params={"format": "yolo", "job_id": job_id}, headers=a, timeout=10
        )
        return reply.json() if reply.status_code == 200 else None

    ready = harness.wait_until(link, what="the export through the gateway")
    # And the link downloads the zip itself
    file = requests.get(ready["url"], timeout=10)
    assert file.headers["Content-Type"] == "application/zip"
    names = zipfile.ZipFile(io.BytesIO(file.content)).namelist()
    assert "classes.txt" in names


def test_static_files_are_served_outside_the_api_prefix(
    gateway: str, orgs: tuple[str, str]
) -> None:
    # When the page and a script are requested without a token
    page = requests.get(f"{gateway}/", timeout=10)
    script = requests.get(f"{gateway}/app.js", timeout=10)
    # Then they are served with their content types
    assert page.status_code == 200 and page.text == "<h1>Prelabel</h1>"
    assert page.headers["Content-Type"] == "text/html"
    assert script.status_code == 200 and "javascript" in script.headers["Content-Type"]
    # And nothing outside the folder can be reached, nor a missing file (sent raw, since
    # requests would remove the dot segments before sending)
    host, port = gateway.removeprefix("http://").split(":")
    for path in ("/../secret.txt", "/%2e%2e/secret.txt", "/..%2fsecret.txt", "/missing.html"):
        conn = http.client.HTTPConnection(host, int(port), timeout=10)
        conn.request("GET", path)
        raw = conn.getresponse()
        text = raw.read().decode()
        conn.close()
        assert raw.status == 404, path
        assert "outside" not in text
