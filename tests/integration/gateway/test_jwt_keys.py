"""The local signing key and the token command."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from prelabel_local import token as token_cli
from prelabel_local.jwt_keys import KEY_FILE, InvalidToken, JwtVerifier, load_or_create_key


def test_key_is_made_once_and_kept_private(tmp_path: Path) -> None:
    # Given an empty folder; When the key is asked for twice
    first = load_or_create_key(tmp_path)
    second = load_or_create_key(tmp_path)
    # Then the same key comes back, stored readable by its owner only
    assert first.kid == second.kid
    mode = stat.S_IMODE((tmp_path / KEY_FILE).stat().st_mode)
    assert mode == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == [KEY_FILE]


def test_token_command_prints_a_token_the_gateway_accepts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # When the token command runs for a demo user of a demo organization
    rc = token_cli.main(["--org", "demo-org", "--sub", "demo-user", "--key-dir", str(tmp_path)])
    token = capsys.readouterr().out.strip()
    # Then its token verifies against the stored key, with the claims the API reads
    assert rc == 0
    claims = JwtVerifier.for_key(load_or_create_key(tmp_path)).verify(f"Bearer {token}")
    assert claims["custom:org_id"] == "demo-org"
    assert claims["sub"] == "demo-user"
    assert claims["token_use"] == "id"
    # And claims reach the function as strings, as API Gateway passes them
    assert claims["exp"].isdigit()


def test_expired_token_from_the_command_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a token that expired a second before it was issued
    token_cli.main(["--org", "o", "--ttl", "-1", "--key-dir", str(tmp_path)])
    token = capsys.readouterr().out.strip()
    # When it is verified; Then it is refused
    with pytest.raises(InvalidToken):
        JwtVerifier.for_key(load_or_create_key(tmp_path)).verify(token)
