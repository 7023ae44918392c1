"""An external transfer's saga as the transfer API sees it: started after the transfer commits, and read
back as steps for GET /v1/transfers/{id}."""

from __future__ import annotations

from typing import Any

import structlog
from sqlalchemy import text
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from api.sagas import client
from api.transfers.models import Transfer


async def start_transfer_saga(transfer_id: str) -> None:
    """Enqueue the payment saga; if this fails, the workers' sweeper enqueues it within seconds."""
    try:
        await run_in_threadpool(client.enqueue, "transfer_out", f"transfer_out:{transfer_id}", transfer_id)
    except Exception as exc:  # the transfer is committed and answered; the sweeper has it
        structlog.get_logger(__name__).warning("transfer_saga_enqueue_failed", transfer_id=transfer_id,
                                               error=type(exc).__name__)


def saga_steps(session: Session, transfer: Transfer) -> list[dict[str, Any]]:
    """Created, then each recorded step of its sagas (payment, return) in order."""
    steps: list[dict[str, Any]] = [{"name": "created", "status": "done", "at": transfer.created_at}]
    if transfer.to_account_id is not None:  # between own accounts: posted at once
        return [*steps, {"name": "completed", "status": "done", "at": transfer.created_at}]
    rows = session.execute(text(
        "SELECT st.name, st.status, st.at, st.error FROM saga_steps st JOIN sagas s ON s.id = st.saga_id "
        "WHERE s.subject_id = :subject AND s.kind IN ('transfer_out', 'transfer_return') "
        "ORDER BY st.at, s.kind DESC, st.seq LIMIT 100"), {"subject": str(transfer.id)}).all()
    for name, status, at, error in rows:
        if name == "started":
            continue
        steps.append({"name": name, "status": status, "at": at, **({"error": error} if error else {})})
    return steps
