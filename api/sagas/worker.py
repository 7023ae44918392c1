"""A saga worker: `python -m api.sagas.worker --executor-id worker-1`.

Runs the sagas of the queue (DBOS), renews its lease and recovers the workflows of workers whose lease
expired (api/sagas/leases.py), relays the outbox and sweeps pending transfers without a saga
(api/sagas/relay.py). Give every worker a stable executor id: started again under the same id, DBOS
recovers the workflows it was running when it died.
"""

from __future__ import annotations

import argparse
import os
import signal
import threading
import time

import psycopg
import structlog
from dbos import DBOS

from api.config import get_settings
from api.handoffs import service as handoffs
from api.logging_setup import configure
from api.notifications import consumer as notifications
from api.redis_client import redis_for
from api.sagas import engine, leases, relay

log = structlog.get_logger("api.sagas.worker")
WATCH_SECONDS = 0.25  # how often a worker looks for dead ones: one cheap query and a try-lock per candidate


def run(executor_id: str, stop: threading.Event) -> None:
    """Launch DBOS and do the periodic jobs until `stop` is set."""
    settings = get_settings()
    import api.sagas.flows  # noqa: F401 - registers the workflows before launch

    # Liveness first: while this connection lives, the others know this worker does (api/sagas/leases.py).
    # If another worker is recovering this executor's workflows from a previous life, this waits for it.
    liveness = psycopg.connect(settings.database_url, autocommit=True)
    leases.hold_liveness(liveness, executor_id=executor_id, wait_seconds=settings.saga_lease_seconds * 10)
    DBOS(config=engine.config(settings, executor_id=executor_id))
    engine.datasource()  # DBOS registers datasources before launch
    DBOS.launch()
    DBOS.register_queue(engine.QUEUE, worker_concurrency=settings.saga_worker_concurrency,
                        polling_interval_sec=0.2, on_conflict="always_update")
    # The lease has a thread of its own: a slow provider in the jobs below must never let it lapse (the
    # other workers would recover this one's sagas while it still runs them) or delay a recovery.
    # It outlives the jobs: until DBOS has finished or given up the workflows in hand, this worker is alive.
    stopped = threading.Event()
    watchdog = threading.Thread(target=keep_lease, args=(liveness, executor_id, stop, stopped), name="saga-lease",
                                daemon=True)
    watchdog.start()
    # News for customers (the outbox, relayed to the `notifications` stream below) is told as it comes.
    notifier = threading.Thread(target=notifications.run, args=(executor_id, stop), name="notifications",
                                daemon=True)
    notifier.start()
    log.info("saga_worker_started", executor_id=executor_id, version=settings.saga_app_version)
    redis_client = redis_for(settings.redis_url)
    with psycopg.connect(settings.database_url, autocommit=True) as conn:
        while not stop.is_set():
            relay.relay_outbox(conn, redis_client)
            relay.sweep_pending_transfers(conn, older_than_seconds=settings.saga_sweep_seconds)
            relay.import_statement(conn)
            relay.poll_returns(conn, window_seconds=settings.saga_return_window_seconds,
                               every_seconds=settings.saga_return_poll_seconds)
            handoffs.expire_overdue(settings=settings)  # idempotent, safe with several workers
            stop.wait(settings.saga_sweep_seconds)
    notifier.join(timeout=5)
    DBOS.destroy(workflow_completion_timeout_sec=5)
    stopped.set()
    watchdog.join(timeout=10)
    log.info("saga_worker_stopped", executor_id=executor_id)


def keep_lease(conn: psycopg.Connection, executor_id: str, stop: threading.Event, stopped: threading.Event) -> None:
    """Renew this worker's lease until `stopped`; until `stop`, recover the workflows of workers that died or
    whose lease expired."""
    settings = get_settings()
    lease = settings.saga_lease_seconds
    renew_every = lease / 4
    renewed_at = float("-inf")
    try:
        while not stopped.is_set():
            renew_due = time.monotonic() - renewed_at >= renew_every
            if renew_due:
                leases.renew(conn, executor_id=executor_id, lease_seconds=lease)
                renewed_at = time.monotonic()
            if not stop.is_set():  # once stopping, DBOS is going away: the others take over what is left
                if renew_due:
                    for stuck in leases.claim_expired(conn, executor_id=executor_id, lease_seconds=lease):
                        _recover(stuck, why="lease_expired")
                for dead in leases.try_take_dead(conn, executor_id=executor_id):
                    try:
                        _recover(dead, why="connection_closed")
                    finally:
                        leases.give_back(conn, executor_id=dead)
            stopped.wait(WATCH_SECONDS)
        leases.release(conn, executor_id=executor_id)
    except psycopg.Error:
        # Without its liveness connection this worker can no longer show it is alive, and the others will
        # soon run its workflows: it stops at once rather than run them twice (its supervisor restarts it,
        # and DBOS recovers its workflows under the same executor id).
        log.exception("saga_worker_lost_liveness", executor_id=executor_id)
        os._exit(75)
    finally:
        conn.close()


def _recover(dead: str, *, why: str) -> None:
    handles = DBOS._recover_pending_workflows([dead])
    if handles:
        log.warning("saga_worker_recovered", dead_executor=dead, workflows=len(handles), why=why)


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
