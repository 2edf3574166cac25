"""The local stand-in for Cognito: one RSA signing key, tokens signed with it, and the check the
API Gateway JWT authorizer makes before the API function sees a request.

The key is made on first use and kept under `.local/` at the repository root (gitignored), so
tokens printed by `python -m prelabel_local.token` stay valid across gateway restarts.
`PRELABEL_LOCAL_DIR` moves that folder.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

LOCAL_ISSUER = "https://cognito-idp.local.prelabel/local-user-pool"
LOCAL_CLIENT_ID = "prelabel-local-client"
ORG_CLAIM = "custom:org_id"
KEY_FILE = "jwt-signing-key.pem"
ALGORITHM = "RS256"


def repo_root() -> Path:
    return Path(__file__).resolve().parents[3]


def default_key_dir() -> Path:
    return Path(os.environ.get("PRELABEL_LOCAL_DIR") or repo_root() / ".local")


@dataclass(frozen=True)
class SigningKey:
    private_key: rsa.RSAPrivateKey
    kid: str

    @property
    def public_key(self) -> rsa.RSAPublicKey:
        return self.private_key.public_key()


def _kid(public_key: rsa.RSAPublicKey) -> str:
    der = public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return base64.urlsafe_b64encode(hashlib.sha256(der).digest()[:16]).decode().rstrip("=")


def _wrap(private_key: rsa.RSAPrivateKey) -> SigningKey:
    return SigningKey(private_key, _kid(private_key.public_key()))


def generate_key() -> SigningKey:
    return _wrap(rsa.generate_private_key(public_exponent=65537, key_size=2048))


def _read(path: Path) -> SigningKey:
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise TypeError(f"{path}: not an RSA private key")
    return _wrap(key)


def load_or_create_key(directory: Path | None = None) -> SigningKey:
    """The stored key, or a new one stored first. Two processes starting together (the gateway
    and the token command) end up with the same key: the file appears at once, fully written,
    or not at all, and the first one to link it wins."""
    folder = directory or default_key_dir()
    path = folder / KEY_FILE
    if path.exists():
        return _read(path)
    folder.mkdir(parents=True, exist_ok=True)
    key = generate_key()
    pem = key.private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".key-")  # created 0600
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(pem)
        os.link(tmp, path)
    except FileExistsError:
        return _read(path)
    finally:
        os.unlink(tmp)
    return key


def issue_token(
    key: SigningKey,
    *,
    org_id: str,
    sub: str = "demo-user",
    ttl: int = 3600,
    issuer: str = LOCAL_ISSUER,
    audience: str = LOCAL_CLIENT_ID,
    now: int | None = None,
    extra: Mapping[str, Any] | None = None,
) -> str:
    """An ID token shaped like Cognito's: `aud` is the app client id, `token_use` is `id`."""
    issued = int(time.time()) if now is None else now
    claims: dict[str, Any] = {
        "sub": sub,
        "iss": issuer,
        "aud": audience,
        "token_use": "id",
        "auth_time": issued,
        "iat": issued,
        "exp": issued + ttl,
        "cognito:username": sub,
        ORG_CLAIM: org_id,
        **(extra or {}),
    }
    return jwt.encode(claims, key.private_key, algorithm=ALGORITHM, headers={"kid": key.kid})


class InvalidToken(Exception):
    """Anything the authorizer refuses; the gateway answers 401 without saying which check."""


def _gateway_claim(value: Any) -> str:
    # API Gateway hands claims to the function as strings: numbers as digits, lists as "[a b]".
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + " ".join(_gateway_claim(v) for v in value) + "]"
    if isinstance(value, dict):
        return json.dumps(value)
    return str(value)


@dataclass(frozen=True)
class JwtVerifier:
    """What the deployed JWT authorizer checks: a known `kid`, RS256, the issuer, `exp` (and
    `nbf`/`iat` when present), and `aud` in the audiences, or `client_id` when there is no `aud`."""

    keys: Mapping[str, rsa.RSAPublicKey]
    issuer: str = LOCAL_ISSUER
    audiences: tuple[str, ...] = (LOCAL_CLIENT_ID,)
    leeway_s: int = field(default=0)

    @classmethod
    def for_key(cls, key: SigningKey, **kwargs: Any) -> JwtVerifier:
        return cls({key.kid: key.public_key}, **kwargs)

    def verify(self, authorization: str | None) -> dict[str, str]:
        """Claims of a valid `Authorization` header value, as API Gateway passes them on."""
        if not authorization:
            raise InvalidToken("no token")
        scheme, _, rest = authorization.strip().partition(" ")
        token = rest.strip() if scheme.lower() == "bearer" else authorization.strip()
        try:
            header = jwt.get_unverified_header(token)
            public_key = self.keys.get(str(header.get("kid")))
            if public_key is None or header.get("alg") != ALGORITHM:
                raise InvalidToken("unknown key or algorithm")
            claims: dict[str, Any] = jwt.decode(
                token,
                public_key,
                algorithms=[ALGORITHM],
                issuer=self.issuer,
                leeway=self.leeway_s,
                options={"require": ["exp", "iss"], "verify_aud": False},
            )
        except jwt.PyJWTError as exc:
            raise InvalidToken(str(exc)) from exc
        aud = claims.get("aud")
        audiences = aud if isinstance(aud, list) else [aud] if aud is not None else []
        if aud is None:
            audiences = [claims.get("client_id")]
        if not any(a in self.audiences for a in audiences):
            raise InvalidToken("audience")
        return {name: _gateway_claim(value) for name, value in claims.items()}
