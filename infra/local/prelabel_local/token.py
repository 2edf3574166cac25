"""Print a JWT for the local gateway, signed with the local key (made on first use).

    python -m prelabel_local.token --org demo-org [--sub demo-user] [--ttl 3600]

Use it as `Authorization: Bearer <token>`; the organization comes from its `custom:org_id`.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from prelabel_local.jwt_keys import LOCAL_CLIENT_ID, LOCAL_ISSUER, issue_token, load_or_create_key


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m prelabel_local.token")
    # Each option's dest is the issue_token keyword it sets.
    parser.add_argument(
        "--org", dest="org_id", required=True, help="organization id put in custom:org_id"
    )
    parser.add_argument("--sub", default="demo-user", help="the user (sub claim)")
    parser.add_argument("--ttl", type=int, default=3600, help="seconds until the token expires")
    parser.add_argument("--issuer", default=LOCAL_ISSUER)
    parser.add_argument("--audience", default=LOCAL_CLIENT_ID, help="app client id (aud)")
    parser.add_argument("--key-dir", type=Path, default=None, help="default: <repo>/.local")
    claims = vars(parser.parse_args(argv))
    key = load_or_create_key(claims.pop("key_dir"))
    sys.stdout.write(issue_token(key, **claims) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
