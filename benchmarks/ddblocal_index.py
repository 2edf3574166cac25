"""DynamoDB Local's own cost of a Query on a sparse index, by the size of its partition.

Run: .venv/bin/python benchmarks/ddblocal_index.py [--sizes 3125 31250 156250] [--samples 40]

Why: at 1M tasks the review page (`GET .../tasks?order=review`) took 2.66x its 1k time on
DynamoDB Local with the same 20 requests and items (docs/scale.md). The page queries the
sparse keys-only index `review-queue`, one partition per shard. This separates DynamoDB Local
from the product: a table shaped like the pre-labels (a partition of N items of ~200 bytes, one
in five carrying the index's sort key), and per N the p50 of a Query of 15 entries on the index,
of 15 items of the table's own partition, and of a GetItem. On DynamoDB a Query costs what it
reads; if DynamoDB Local's index query grows with N while the table query and GetItem do not,
the review page's rise is DynamoDB Local's, not the requests'.

Prints a table; asserts nothing.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from _common import ROOT, median_ms

from prelabel_local.dynamodb_local import start
from prelabel_local.state import local_client

TABLE = "index-cost"
INDEX = "sparse"
QUEUED_EVERY = 5  # as the scale benchmark's review queue: a fifth of the pre-labels
PAGE = 15


def _table(client: Any) -> None:
    client.create_table(
        TableName=TABLE,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[
            {"AttributeName": a, "AttributeType": "S"} for a in ("pk", "sk", "q")
        ],
        KeySchema=[
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": INDEX,
                "KeySchema": [
                    {"AttributeName": "pk", "KeyType": "HASH"},
                    {"AttributeName": "q", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "KEYS_ONLY"},
            }
        ],
    )


def _fill(client: Any, pk: str, n: int) -> None:
    def chunk(first: int) -> None:
        puts = []
        for i in range(first, min(first + 25, n)):
            item = {"pk": {"S": pk}, "sk": {"S": f"t_{i:08d}"}, "labels": {"S": "x" * 200}}
            if i % QUEUED_EVERY == 0:
                item["q"] = {"S": f"{(i * 7919) % 100_000:06d}t_{i:08d}"}
            puts.append({"PutRequest": {"Item": item}})
        client.batch_write_item(RequestItems={TABLE: puts})

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(chunk, range(0, n, 25)))


def _p50(call: Callable[[], Any], samples: int) -> float:
    call()  # the first call warms the connection
    return median_ms(call, samples)


def measure(client: Any, n: int, samples: int) -> tuple[float, float, float, float]:
    pk = f"part-{n}"
    started = time.perf_counter()
    _fill(client, pk, n)
    filled = time.perf_counter() - started
    key = {":p": {"S": pk}}

    def on_index() -> Any:
        return client.query(
            TableName=TABLE,
            IndexName=INDEX,
            KeyConditionExpression="pk = :p",
            ExpressionAttributeValues=key,
            Limit=PAGE,
        )

    def on_table() -> Any:
        return client.query(
            TableName=TABLE,
            KeyConditionExpression="pk = :p",
            ExpressionAttributeValues=key,
            Limit=PAGE,
        )

    def get() -> Any:
        return client.get_item(TableName=TABLE, Key={"pk": {"S": pk}, "sk": {"S": "t_00000005"}})

    return filled, _p50(on_index, samples), _p50(on_table, samples), _p50(get, samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[3_125, 31_250, 156_250])
    parser.add_argument("--samples", type=int, default=40)
    args = parser.parse_args()
    ddb = start(ROOT)
    try:
        client = local_client("dynamodb", ddb.endpoint)
        _table(client)
        print(
            f"| items in the partition | in the index | filled in | index Query of {PAGE} p50 "
            f"| table Query of {PAGE} p50 | GetItem p50 |"
        )
        print("| ---: | ---: | ---: | ---: | ---: | ---: |")
        for n in args.sizes:
            filled, index, table, get = measure(client, n, args.samples)
            print(
                f"| {n:,} | {-(-n // QUEUED_EVERY):,} | {filled:.0f} s | {index:.1f} ms "
                f"| {table:.1f} ms | {get:.1f} ms |",
                flush=True,
            )
    finally:
        ddb.stop()


if __name__ == "__main__":
    main()
