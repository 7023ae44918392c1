"""KYC: applicants and their review (docs/providers.md, /kyc)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import quote

from api.providers.http import Json, ProviderHttp
from api.providers.objects import ProviderObject, common

APPLICANTS = "/v1/applicants"

REASONS = {
    "DOC_UNREADABLE": "the identity document could not be read",
    "DOC_EXPIRED": "the identity document has expired",
    "SELFIE_MISMATCH": "the photo does not match the document",
}


def reason_text(code: str | None) -> str:
    return REASONS.get(code or "", f"verification refused ({code})" if code else "verification refused")


@dataclass(frozen=True, kw_only=True, slots=True)
class Applicant(ProviderObject):
    """`app_...`: `pending` -> `verified` or `rejected` (a review outcome, returned, not raised)."""

    external_ref: str
    level: str
    full_name: str | None = field(default=None, repr=False)  # personal data: kept out of logs

    @property
    def reason(self) -> str | None:
        return reason_text(self.reason_code) if self.reason_code else None


def to_applicant(data: Json) -> Applicant:
    return Applicant(**common(data), external_ref=str(data["external_ref"]), level=str(data["level"]),
                     full_name=data.get("full_name"))


class KycClient:
    """Create an applicant and read its review; the outcome arrives by webhook or by polling `applicant`."""

    def __init__(self, http: ProviderHttp) -> None:
        self.http = http

    def close(self) -> None:
        self.http.close()

    def create_applicant(self, *, idempotency_key: str, external_ref: str, full_name: str | None = None,
                         level: Literal["basic", "full"] = "basic") -> Applicant:
        """Open a review; the applicant is `pending` until the provider decides."""
        body: Json = {"external_ref": external_ref, "level": level}
        if full_name is not None:
            body["full_name"] = full_name
        return to_applicant(self.http.create(APPLICANTS, idempotency_key=idempotency_key, body=body,
                                          operation="kyc.create_applicant"))

    def applicant(self, applicant_id: str) -> Applicant:
        return to_applicant(self.http.get(f"{APPLICANTS}/{quote(applicant_id, safe='')}", operation="kyc.applicant"))

    def applicant_by_key(self, idempotency_key: str) -> Applicant | None:
        data = self.http.find_by_key(APPLICANTS, idempotency_key, operation="kyc.applicant_by_key")
        return None if data is None else to_applicant(data)
