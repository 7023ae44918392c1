"""Provider adapters: one process-wide client per provider, built from the settings on first use.

Saga steps (threads) and sync routes share these; `close_all()` closes their pools at shutdown and lets
tests start again from fresh settings.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from api.config import Settings, get_settings
from api.providers.cards import CardProcessorClient
from api.providers.crypto import CryptoGatewayClient
from api.providers.errors import (
    ProviderAmbiguous,
    ProviderAuthError,
    ProviderError,
    ProviderNotFound,
    ProviderRejected,
    ProviderUnavailable,
)
from api.providers.http import ProviderHttp
from api.providers.kyc import KycClient
from api.providers.rails import RailsClient

__all__ = [
    "CardProcessorClient", "CryptoGatewayClient", "KycClient", "ProviderAmbiguous", "ProviderAuthError",
    "ProviderError", "ProviderNotFound", "ProviderRejected", "ProviderUnavailable", "RailsClient", "card_client",
    "close_all", "crypto_client", "http_for", "kyc_client", "rails_client",
]


# provider name -> (client class, the settings field of its base URL)
_KINDS: dict[str, tuple[Callable[[ProviderHttp], Any], str]] = {
    "rails": (RailsClient, "rails_api_url"),
    "cards": (CardProcessorClient, "cards_api_url"),
    "crypto": (CryptoGatewayClient, "crypto_api_url"),
    "kyc": (KycClient, "kyc_api_url"),
}
_clients: dict[str, Any] = {}
_lock = threading.Lock()


def http_for(provider: str, settings: Settings, **options: Any) -> ProviderHttp:
    """The pooled HTTP client of one provider from settings; `options` override ProviderHttp's defaults."""
    return ProviderHttp(provider=provider, base_url=getattr(settings, _KINDS[provider][1]),
                        api_key=settings.provider_api_key, timeout_seconds=settings.provider_timeout_seconds,
                        max_attempts=settings.provider_max_attempts, **options)


def _shared(provider: str) -> Any:
    # Double-checked under a lock: two threads racing on first use must not build two pools and leak one.
    client = _clients.get(provider)
    if client is None:
        with _lock:
            client = _clients.get(provider)
            if client is None:
                client = _clients[provider] = _KINDS[provider][0](http_for(provider, get_settings()))
    return client


def rails_client() -> RailsClient:
    """The process-wide bank rails client."""
    return _shared("rails")


def card_client() -> CardProcessorClient:
    """The process-wide card processor client."""
    return _shared("cards")


def crypto_client() -> CryptoGatewayClient:
    """The process-wide crypto gateway client."""
    return _shared("crypto")


def kyc_client() -> KycClient:
    """The process-wide KYC client."""
    return _shared("kyc")


def close_all() -> None:
    """Close every shared client's connections; the next accessor call builds a new one from the settings."""
    with _lock:
        clients = list(_clients.values())
        _clients.clear()
    for client in clients:
        client.close()
