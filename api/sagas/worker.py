"""A saga worker: `python -m api.sagas.worker --executor-id worker-1`.

Runs the sagas of the queue (DBOS), renews its lease and recovers the workflows of workers whose lease
expired (api/sagas/leases.py), relays the outbox and sweeps pending transfers without a saga
(api/sagas/relay.py). Give every worker a stable executor id: started again under the same id, DBOS
recovers the workflows it was running when it died.
"""

from __future__ import annotations

import argparse
import signal
import threading
import time

import psycopg
import structlog
from dbos import DBOS

from api.config import get_settings
from api.logging_setup import configure
from api.redis_client import redis_for
from api.sagas import engine, leases, relay

log = structlog.get_logger("api.sagas.worker")


def run(executor_id: str, stop: threading.Event) -> None:
    """Launch DBOS and do the periodic jobs until `stop` is set."""
    settings = get_settings()
    import api.sagas.flows  # noqa: F401 - registers the workflows before launch

    DBOS(config=engine.config(settings, executor_id=executor_id))
    engine.datasource()  # DBOS registers datasources before launch
    DBOS.launch()
    DBOS.register_queue(engine.QUEUE, worker_concurrency=settings.saga_worker_concurrency,
                        polling_interval_sec=0.2, on_conflict="always_update")
    redis_client = redis_for(settings.redis_url)
    tick = min(settings.saga_lease_seconds / 3, settings.saga_sweep_seconds)
    last_sweep = 0.0
    log.info("saga_worker_started", executor_id=executor_id, version=settings.saga_app_version)
    with psycopg.connect(settings.database_url, autocommit=True) as conn:
        while not stop.is_set():
            leases.renew(conn, executor_id=executor_id, lease_seconds=settings.saga_lease_seconds)
            for dead in leases.claim_expired(conn, executor_id=executor_id, lease_seconds=settings.saga_lease_seconds):
                handles = DBOS._recover_pending_workflows([dead])
                log.warning("saga_worker_recovered", dead_executor=dead, workflows=len(handles))
            relay.relay_outbox(conn, redis_client)
            if time.monotonic() - last_sweep >= settings.saga_sweep_seconds:
                relay.sweep_pending_transfers(conn, older_than_seconds=settings.saga_sweep_seconds)
                relay.import_statement(conn)
                relay.poll_returns(conn, window_seconds=settings.saga_return_window_seconds,
                                   every_seconds=settings.saga_return_poll_seconds)
                last_sweep = time.monotonic()
            stop.wait(tick)
        leases.release(conn, executor_id=executor_id)
    DBOS.destroy(workflow_completion_timeout_sec=5)
    log.info("saga_worker_stopped", executor_id=executor_id)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--executor-id", required=True, help="stable across restarts of this worker")
    args = parser.parse_args(argv)
    configure(get_settings().log_level)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    run(args.executor_id, stop)


if __name__ == "__main__":
    main()
