"""HTTP client for the core, acting for one conversation's customer.

The action server holds no standing right to any customer's data. Each customer message reaches Rasa
with a grant in its metadata (issued by the core when it forwarded the message) and the short-lived
service token that grant would be traded for, sealed by the core for the holder of the action server's
client secret (api/grants/sealing.py). The client opens the sealed token locally; only when none comes or it
cannot be opened does it trade the grant, with the client secret, at core-internal. An action run without
either (a forged call to Rasa, a tracker without the core's metadata) gets no token.
"""

from __future__ import annotations

import asyncio
import time
import weakref
from dataclasses import dataclass
from typing import Any

import httpx

import bankbot_correlation
from actions import telemetry
from actions.settings import ActionSettings, load
from api.grants import sealing

TOKEN_REUSE_SECONDS = 60  # tokens live 2 minutes; renew well before


class CoreUnavailable(Exception):
    """The core did not answer, or answered with a server error: tell the customer to retry."""


class NoGrant(CoreUnavailable):
    """The message being handled carries no grant from the core: nothing may be asked for this customer."""


@dataclass
class CoreError(Exception):
    """The core refused the request with a problem+json body the action can explain."""

    status: int
    code: str
    title: str
    body: dict[str, Any]


_tokens: dict[str, tuple[str, float]] = {}
_QUERY_NAMES = {"start": "from", "end": "to"}  # `from` is a Python keyword, so callers say start/end


# One pooled client per event loop (the action server has one; tests may have several): connections to
# the core are kept alive between actions instead of opened for every call.
_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, httpx.AsyncClient] = weakref.WeakKeyDictionary()
POOL_LIMITS = httpx.Limits(max_connections=64, max_keepalive_connections=16)


def pooled_client(settings: ActionSettings) -> httpx.AsyncClient:
    """This event loop's client for the core, with the settings' timeout."""
    loop = asyncio.get_running_loop()
    client = _clients.get(loop)
    if client is None or client.is_closed:
        client = httpx.AsyncClient(timeout=settings.timeout_seconds, limits=POOL_LIMITS)
        _clients[loop] = client
    return client


def _correlated(headers: dict[str, str]) -> dict[str, str]:
    """`headers` plus the turn's request id (bound by actions/server.py): the core logs under the same id."""
    request_id = bankbot_correlation.current.get()
    return {**headers, "X-Request-ID": request_id} if request_id else headers


async def _timed(client: httpx.AsyncClient, method: str, url: str, path: str, **kwargs: Any) -> httpx.Response:
    """One call to the core, timed into action_core_call_seconds{path} (failures included: they cost too)."""
    started = time.perf_counter()
    try:
        return await client.request(method, url, **kwargs)
    finally:
        telemetry.CORE_CALL.observe(telemetry.path_template(path), time.perf_counter() - started)


def _query(params: dict[str, Any]) -> dict[str, Any]:
    """Keyword arguments to the core's query string, leaving out what was not given."""
    return {_QUERY_NAMES.get(k, k): v for k, v in params.items() if v is not None}


class CoreClient:
    def __init__(self, conversation_id: str, grant: str | None, settings: ActionSettings | None = None, *,
                 sealed_token: object = None) -> None:
        self.conversation_id = conversation_id
        self.grant = grant
        self.settings = settings or load()
        # The service token the core sealed for us with the message (api/grants/sealing.py): no trade needed.
        self._sealed_token = sealing.open_sealed(client_secret=self.settings.client_secret,
                                                 conversation_id=conversation_id, sealed=sealed_token, now=time.time())
        # Reads of one action may run side by side (asyncio.gather): they trade the grant once, not once each
        # (a grant allows a few trades only, api/grants/).
        self._token_lock = asyncio.Lock()

    async def _fetch_token(self, client: httpx.AsyncClient) -> str:
        if self._sealed_token is not None:
            return self._sealed_token
        async with self._token_lock:
            return await self._trade_grant(client)

    async def _trade_grant(self, client: httpx.AsyncClient) -> str:
        if not self.grant:
            raise NoGrant(self.conversation_id)
        cache_key = f"{self.conversation_id}|{self.grant}"  # a token per message: a later one must trade anew
        cached = _tokens.get(cache_key)
        if cached and cached[1] > time.monotonic():
            return cached[0]
        path = "/v1/auth/service-token"
        response = await _timed(client, "POST", f"{self.settings.core_internal_url}{path}", path, json={
            "client_id": self.settings.client_id, "client_secret": self.settings.client_secret,
            "grant": self.grant, "conversation_id": self.conversation_id}, headers=_correlated({}))
        body = self._checked(response)
        token = body["access_token"]
        if len(_tokens) > 10_000:  # bounded: conversations come and go
            _tokens.clear()
        _tokens[cache_key] = (token, time.monotonic() + TOKEN_REUSE_SECONDS)
        return token

    @staticmethod
    def _checked(response: httpx.Response) -> Any:
        if response.status_code >= 500:
            raise CoreUnavailable(f"core answered {response.status_code}")
        if response.status_code >= 400:
            try:
                body = response.json()
            except ValueError:
                body = {}
            raise CoreError(response.status_code, str(body.get("code", "error")), str(body.get("title", "")), body)
        return response.json()

    async def request(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            client = pooled_client(self.settings)
            token = await self._fetch_token(client)
            headers = _correlated({"Authorization": f"Bearer {token}", **kwargs.pop("headers", {})})
            response = await _timed(client, method, f"{self.settings.core_url}{path}", path, headers=headers,
                                    **kwargs)
            return self._checked(response)
        except httpx.HTTPError as exc:
            raise CoreUnavailable(type(exc).__name__) from exc

    async def accounts(self) -> list[dict[str, Any]]:
        body = await self.request("GET", "/v1/accounts")
        return body if isinstance(body, list) else body.get("items", [])

    # --- typed calls (the core's /v1 contract) ------------------------------------------------
    async def me(self) -> dict[str, Any]:
        return await self.request("GET", "/v1/me")

    async def cards(self) -> list[dict[str, Any]]:
        return await self.request("GET", "/v1/cards")

    async def set_card_frozen(self, card_id: str, frozen: bool) -> dict[str, Any]:
        return await self.request("POST", f"/v1/cards/{card_id}/{'freeze' if frozen else 'unfreeze'}")

    async def authorizations(self, status: str | None = None, limit: int = 20,
                             kind: str | None = None) -> list[dict[str, Any]]:
        params: dict[str, Any] = {"limit": limit, **({"status": status} if status else {}),
                                  **({"kind": kind} if kind else {})}
        return await self.request("GET", "/v1/authorizations", params=params)

    async def report_candidates(self, kind: str, limit: int) -> list[dict[str, Any]]:
        """The payments a fraud report of `kind` may be about; the core decides which those are."""
        return await self.request("GET", "/v1/fraud-reports/candidates", params={"kind": kind, "limit": limit})

    async def transfers(self, status: str | None = None, limit: int = 20) -> list[dict[str, Any]]:
        params: dict[str, Any] = {"limit": limit, **({"status": status} if status else {})}
        return await self.request("GET", "/v1/transfers", params=params)

    async def transfer(self, transfer_id: str) -> dict[str, Any]:
        """One transfer with its saga's steps (created, sent, settled / rejected / returned / dead_lettered)."""
        return await self.request("GET", f"/v1/transfers/{transfer_id}")

    async def create_transfer(self, body: dict[str, Any], idempotency_key: str) -> dict[str, Any]:
        return await self.request("POST", "/v1/transfers", json=body, headers={"Idempotency-Key": idempotency_key})

    async def state_transfer(self, body: dict[str, Any]) -> dict[str, Any]:
        """Tell the core this transfer was just stated to the customer; its confirmation id for the execution."""
        return await self.request("POST", "/v1/transfers/confirmations", json=body)

    async def payees(self) -> list[dict[str, Any]]:
        return await self.request("GET", "/v1/payees")

    async def spending(self, **params: Any) -> dict[str, Any]:
        return await self.request("GET", "/v1/insights/spending", params=_query(params))

    async def transactions(self, **params: Any) -> dict[str, Any]:
        return await self.request("GET", "/v1/transactions", params=_query(params))

    async def kyc(self) -> dict[str, Any]:
        return await self.request("GET", "/v1/kyc")

    async def report_fraud(self, body: dict[str, Any]) -> dict[str, Any]:
        return await self.request("POST", "/v1/fraud-reports", json=body)

    async def open_handoff(self, reason: str) -> dict[str, Any]:
        """A handoff to a support agent for this conversation (the open one if there is one already)."""
        return await self.request("POST", "/v1/handoffs", json={"conversation_id": self.conversation_id,
                                                                "reason": reason})
