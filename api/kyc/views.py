"""/v1/kyc (the customer's status) and /v1/webhooks/kyc (the identity provider's signed callbacks)."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field, ValidationError

from api.deps import CustomerIdDep, SessionDep, SettingsDep
from api.kyc import service
from api.problems import Problem
from api.sagas.webhooks import provider_event
from api.webhooks.signing import verify

router = APIRouter(prefix="/v1", tags=["kyc"])

KYC_ADVICE = {
    "verified": "Your identity is verified.",
    "pending": "We're checking your documents; this usually takes under 24 hours.",
    "rejected": "We couldn't verify your identity. Upload a clear photo of a valid ID in the app to try again.",
    "not_started": "Verify your identity in the app: a photo ID and a selfie take about 2 minutes.",
}


class KycOut(BaseModel):
    status: str
    advice: str


class KycEvent(BaseModel):
    event_id: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.:-]+$")
    username: str = Field(min_length=1, max_length=64)
    status: Literal["verified", "pending", "rejected"]


@router.get("/kyc", response_model=KycOut)
def kyc_status(customer_id: CustomerIdDep, session: SessionDep) -> KycOut:
    status = service.status_of(session, customer_id)
    return KycOut(status=status, advice=KYC_ADVICE[status])


@router.post("/webhooks/kyc", status_code=200)
async def kyc_webhook(request: Request, settings: SettingsDep, session: SessionDep) -> dict[str, Any]:
    body = await request.body()
    # Verify before parsing: an unsigned body is never even read as JSON.
    verify(settings.kyc_webhook_secret, settings.webhook_tolerance_seconds, request.headers.get("x-timestamp"),
           request.headers.get("x-signature"), body)
    if b'"type"' in body:  # the provider's event envelope (docs/providers.md): an applicant's saga waits for it
        return await provider_event("kyc", body)
    try:
        event = KycEvent.model_validate_json(body)
    except ValidationError as exc:
        raise Problem(422, "validation_error", "The KYC event is not valid",
                      errors=[{"loc": list(map(str, e["loc"])), "msg": e["msg"]} for e in exc.errors()]) from exc
    applied = service.apply_event(session, "kyc", event.event_id, event.username, event.status)
    session.commit()
    return {"event_id": event.event_id, "applied": applied}
