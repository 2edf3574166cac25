"""The tables' and the container's botocore sessions parse botocore's data files once."""

from __future__ import annotations

import pynamodb.connection.base
import pytest
from pynamodb.connection import Connection

from prelabel.adapters import botocore_sessions
from prelabel.adapters.dynamodb.models import bind_tables
from prelabel.container import client_factory
from prelabel.settings import Settings


def test_pynamodb_connections_and_container_clients_share_one_loader(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given the tables bound as a cold start binds them, with a function's credentials
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "unit")
    bind_tables(Settings(data_bucket="b", dynamodb_endpoint="http://127.0.0.1:9"))
    # When two pynamodb connections and a container client make their botocore sessions
    first = Connection(region="us-east-1", host="http://127.0.0.1:9")
    second = Connection(region="us-east-1", host="http://127.0.0.1:9")
    s3 = client_factory("s3", "us-east-1")()
    # Then each has a session of its own, reading one loader (parsed data made once)
    assert pynamodb.connection.base.get_session is botocore_sessions.session
    assert first.session is not second.session
    loaders = {id(c.session.get_component("data_loader")) for c in (first, second)}
    assert loaders == {id(botocore_sessions.session().get_component("data_loader"))}
    # And the clients still work as botocore's own (a DynamoDB and an S3 client)
    assert first.client.meta.service_model.service_name == "dynamodb"
    assert s3.meta.service_model.service_name == "s3"
