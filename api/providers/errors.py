"""What a provider call can end in besides an answer: the taxonomy the sagas decide on.

- ProviderRejected: a definitive no. Nothing happened (or the object was refused at creation); don't retry.
- ProviderAmbiguous: the outcome is unknown (timeout after sending, dropped connection, 5xx, unreadable body)
  and asking the provider by idempotency key did not settle it. Retry later with the SAME key, or reconcile.
- ProviderUnavailable: certainly no effect (refused before sending, 429, 503). Safe to retry later.
- ProviderNotFound: the object (or the one the call refers to) does not exist.
- ProviderAuthError: the provider refused our credentials (401/403): a configuration fault, not a refusal
  of the operation, so a saga must not compensate on it as if the customer's request had been declined.
"""

from __future__ import annotations


class ProviderError(Exception):
    """Base of every provider failure; `provider` is rails, cards, crypto or kyc."""

    def __init__(self, message: str, *, provider: str = "", status: int | None = None) -> None:
        super().__init__(message)
        self.provider = provider
        self.status = status


class ProviderRejected(ProviderError):
    """The provider said no: nothing to retry. `code` is the provider's, `reason` a plain sentence."""

    def __init__(self, code: str, reason: str, *, provider: str = "", status: int | None = None,
                 object_id: str | None = None) -> None:
        super().__init__(f"{provider or 'provider'} rejected: {code} ({reason})", provider=provider, status=status)
        self.code = code
        self.reason = reason
        # Set when the provider created the object in a refused state (a declined authorization has an id).
        self.object_id = object_id


class ProviderAmbiguous(ProviderError):
    """The call may or may not have taken effect; the same idempotency key is the only safe retry."""

    def __init__(self, message: str, *, provider: str = "", status: int | None = None,
                 idempotency_key: str | None = None, no_effect_found: bool = False) -> None:
        super().__init__(message, provider=provider, status=status)
        self.idempotency_key = idempotency_key
        # The provider, asked by key, had no effect for it: the same POST may be sent again with that key.
        self.no_effect_found = no_effect_found


class ProviderUnavailable(ProviderError):
    """The provider could not be reached or asked us to wait; the call certainly had no effect."""

    def __init__(self, message: str, *, provider: str = "", status: int | None = None,
                 retry_after: float | None = None) -> None:
        super().__init__(message, provider=provider, status=status)
        self.retry_after = retry_after


class ProviderNotFound(ProviderError):
    """No such object at the provider (404 not_found)."""


class ProviderAuthError(ProviderError):
    """The provider refused our API key (401/403); retrying cannot help, fix the configuration."""
