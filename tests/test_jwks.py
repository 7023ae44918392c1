"""Verification against an identity provider's JWKS (a real HTTP server on loopback)."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from api.auth.security import InvalidToken, decode_token
from api.config import Settings

KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
OTHER = rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def jwks_url() -> Iterator[str]:
    public = json.loads(RSAAlgorithm.to_jwk(KEY.public_key()))
    body = json.dumps({"keys": [{**public, "kid": "idp-1", "use": "sig", "alg": "RS256"}]}).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/jwks.json"
    server.shutdown()


def _token(key, kid: str = "idp-1", **claims) -> str:
    now = datetime.now(UTC)
    payload = {"iss": "https://idp.example", "aud": "bankbot", "sub": str(uuid.uuid4()), "iat": now,
               "exp": now + timedelta(minutes=5), "roles": ["customer"], "preferred_username": "alice", **claims}
    return jwt.encode(payload, key, algorithm="RS256", headers={"kid": kid})


def test_tokens_signed_by_the_identity_provider_verify(jwks_url: str) -> None:
    settings = Settings(jwt_jwks_url=jwks_url, jwt_issuer="https://idp.example")
    principal = decode_token(settings, _token(KEY))
    assert principal.username == "alice" and principal.roles == {"customer"}


def test_other_keys_issuers_and_hs256_are_refused(jwks_url: str) -> None:
    settings = Settings(jwt_jwks_url=jwks_url, jwt_issuer="https://idp.example")
    with pytest.raises(InvalidToken):
        decode_token(settings, _token(OTHER))
    with pytest.raises(InvalidToken):
        decode_token(settings, _token(KEY, iss="https://evil.example"))
    # Algorithm confusion: an HS256 token "signed" with the public key must not pass.
    with pytest.raises(InvalidToken):
        decode_token(settings, jwt.encode({"sub": "x"}, settings.jwt_secret, algorithm="HS256",
                                          headers={"kid": "idp-1"}))
