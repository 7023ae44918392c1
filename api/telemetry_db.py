"""Metrics read from the database at scrape time: what the saga workers do, without a port of their own.

    bankbot_sagas{kind,status}            sagas by kind and status (terminal ones only ever grow)
    bankbot_saga_workers_alive            saga workers whose lease is current (api/sagas/leases.py)
    bankbot_saga_workers_known            saga workers that ever registered (the deployment's count)
    bankbot_handoffs_overdue_waiting      waiting handoffs past their claim time, now
    bankbot_handoffs_overdue              handoffs ever marked overdue (a counter in all but name)

Why not counters in the workers: they are separate processes on other machines in a deployment
(compose gives them no metrics volume), DBOS may run a step again after a crash, and a worker that
is down cannot report that it is down. The tables are the record; counting them is exact and survives
restarts. Four small queries per scrape (each under a statement timeout) on the internal listener only.
A failing query leaves its metrics out of that scrape instead of failing /metrics.
"""

from __future__ import annotations

from collections.abc import Iterator

import structlog
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from api.db import engine_for

log = structlog.get_logger(__name__)
NAMES = ("bankbot_sagas", "bankbot_saga_workers_alive", "bankbot_saga_workers_known",
         "bankbot_handoffs_overdue_waiting", "bankbot_handoffs_overdue")

SAGAS = text("SELECT kind, status, count(*) FROM sagas GROUP BY kind, status")
WORKERS = text("SELECT count(*) FILTER (WHERE lease_until > now()), count(*) FROM saga_workers")
HANDOFFS = text("SELECT count(*) FILTER (WHERE status = 'waiting'), count(*) FROM handoffs "
                "WHERE overdue_at IS NOT NULL")


class DatabaseCollector(Collector):
    def __init__(self, database_url: str, timeout_ms: int = 2000) -> None:
        self.database_url, self.timeout_ms = database_url, timeout_ms

    def collect(self) -> Iterator[GaugeMetricFamily]:
        try:
            with engine_for(self.database_url).connect() as conn:
                conn.execute(text(f"SET LOCAL statement_timeout = {int(self.timeout_ms)}"))
                sagas = conn.execute(SAGAS).all()
                alive, known = conn.execute(WORKERS).one()
                overdue_waiting, overdue = conn.execute(HANDOFFS).one()
        except SQLAlchemyError as exc:
            log.warning("metrics_database_unavailable", error=type(exc).__name__)
            return
        family = GaugeMetricFamily("bankbot_sagas", "Sagas by kind and status", labels=["kind", "status"])
        for kind, status, count in sagas:
            family.add_metric([kind, status], count)
        yield family
        yield GaugeMetricFamily("bankbot_saga_workers_alive", "Saga workers with a current lease", value=alive)
        yield GaugeMetricFamily("bankbot_saga_workers_known", "Saga workers that ever registered", value=known)
        yield GaugeMetricFamily("bankbot_handoffs_overdue_waiting", "Waiting handoffs past their claim time",
                              value=overdue_waiting)
        yield GaugeMetricFamily("bankbot_handoffs_overdue", "Handoffs ever marked overdue", value=overdue)
