"""Callers on several threads at once (the page's polling through the local gateway while a
test or a benchmark calls the API in-process) are answered as Lambda answers them: one request
at a time per function instance, each with its own caller's organization."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from prelabel.container import Container
from tests.integration.core.api_client import call

CALLS_PER_ORG = 60


def test_concurrent_callers_of_two_orgs_each_get_their_own_answer(
    ports: Container, make_org
) -> None:
    # Given two organizations with a project each
    names = {"conc-a": "Streets of A", "conc-b": "Fields of B"}
    for org, name in names.items():
        make_org(org)
        made = call("POST", "/projects", org, {"name": name, "label_config": []})
        assert made.status == 201, made.body

    def projects_seen(org: str) -> tuple[str, int, list[str]]:
        reply = call("GET", "/projects", org)
        seen = [p["name"] for p in reply.body] if reply.status == 200 else []
        return org, reply.status, seen

    # When both organizations' users list their projects from 4 threads at once
    callers = [org for _ in range(CALLS_PER_ORG) for org in names]
    with ThreadPoolExecutor(max_workers=4) as pool:
        replies = list(pool.map(projects_seen, callers))
    # Then every call answered 200 with its own organization's project, and nothing else
    wrong = [r for r in replies if r[1] != 200 or r[2] != [names[r[0]]]]
    assert wrong == [], f"{len(wrong)} of {len(replies)} calls answered wrongly: {wrong[:3]}"
