"""Chaos: sagas across the flows with random provider faults while saga workers are SIGKILLed and restarted.

    python -m bench.chaos [--sagas 400] [--kills 30] [--seed 7]      # `make chaos`

A supervisor kills a random worker at random moments; most come back at once under the same executor
id (DBOS recovers their workflows on start), some stay dead for longer than the lease, so the other
worker's watchdog recovers theirs. Afterwards, within a time bound, it checks: every saga terminal; the
ledger reconciles with zero drift; the money the ledger sent out (the clearing account) equals what the
sandbox recorded as paid out less what it delivered in; no provider effect twice for one saga; no
webhook event applied twice. Last line: `sagas=... terminal=... lost_cents=0 duplicate_effects=0
max_recovery_s=... sagas_per_s=...`.
"""

from __future__ import annotations

import argparse
import random
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import httpx
import psycopg

from bench.saga_stack import FAST, TERMINAL, SagaStack, counterparty, saga_stack

DEFAULT_PORT = 21500  # and 21600 (sandbox): below the ephemeral range, never taken by a client socket


@dataclass
class Kill:
    executor: str
    at_ms: int
    pending: list[str]
    back_at_once: bool = True  # restarted at once (it may recover itself) or left down beyond the lease
    recovered_s: float | None = None  # every workflow it was running is back on the queue or running again
    resumed_s: float | None = None  # ... and running again (a full queue makes this later than recovery)


@dataclass
class Report:
    sagas: int = 0
    terminal: int = 0
    by_status: dict[str, int] = field(default_factory=dict)
    lost_cents: int = 0
    duplicate_effects: int = 0
    duplicate_applications: int = 0
    drift: int = 0
    stuck_transfers: int = 0
    kills: int = 0
    max_recovery_s: float = 0.0
    max_resume_s: float = 0.0
    unrecovered_kills: int = 0
    recovery_s_back_at_once: list[float] = field(default_factory=list)
    recovery_s_left_down: list[float] = field(default_factory=list)
    seconds: float = 0.0
    problems: list[str] = field(default_factory=list)

    def line(self) -> str:
        return (f"sagas={self.sagas} terminal={self.terminal} lost_cents={self.lost_cents} "
                f"duplicate_effects={self.duplicate_effects} max_recovery_s={self.max_recovery_s:.2f} "
                f"sagas_per_s={self.sagas / max(self.seconds, 1e-9):.2f} kills={self.kills} "
                f"dead_lettered={self.by_status.get('dead_lettered', 0)} drift={self.drift} "
                f"duplicate_applications={self.duplicate_applications} stuck_transfers={self.stuck_transfers} "
                f"max_resume_s={self.max_resume_s:.2f}")


class Supervisor(threading.Thread):
    """Kills a random worker every so often; restarts it at once or after more than the lease."""

    def __init__(self, stack: SagaStack, *, kills: int, seed: int, lease_s: float) -> None:
        super().__init__(daemon=True)
        self.stack, self.target, self.random, self.lease_s = stack, kills, random.Random(seed), lease_s
        self.kills: list[Kill] = []
        self.stop = threading.Event()
        self.lock = threading.Lock()

    def run(self) -> None:
        while not self.stop.is_set() and len(self.kills) < self.target:
            # Random moments, but a kill must hit a worker in the middle of sagas: killing one that is still
            # starting up (a few seconds on 2 cores) or idle would test nothing.
            self.stop.wait(self.random.uniform(0.5, 2.0))
            # One worker dies at a time, as in production with several: the others must take its sagas over.
            alive = [name for name in sorted(self.stack.workers) if self.stack.workers[name].alive]
            busy = [name for name in alive if self._pending_on(name)]
            if len(alive) < len(self.stack.workers) or not busy or not self._all_renewing():
                continue
            name = self.random.choice(busy)
            back_at_once = self.random.random() < 0.7
            with self.lock:
                worker = self.stack.workers[name]
                if not worker.alive:
                    continue
                worker.kill()
                kill = Kill(name, int(time.time() * 1000), self._pending_on(name), back_at_once)
                if back_at_once:
                    worker.start()  # DBOS recovers its own workflows at launch
            self.kills.append(kill)
            if not back_at_once:  # gone for longer than the lease: the other worker's watchdog must recover them
                threading.Timer(self.lease_s * 2.5, self._restart, args=(name,)).start()

    def _restart(self, name: str) -> None:
        with self.lock:
            if not self.stack.workers[name].alive:
                self.stack.workers[name].start()

    def restart_all(self) -> None:
        with self.lock:
            for worker in self.stack.workers.values():
                if not worker.alive:
                    worker.start()

    def _all_renewing(self) -> bool:
        """Every worker has launched and renewed its lease within the last two seconds."""
        with psycopg.connect(self.stack.database_url) as conn:
            row = conn.execute("SELECT count(*) FROM saga_workers WHERE lease_until > now() + "
                               "make_interval(secs => %s) - interval '2 seconds'", (self.lease_s,)).fetchone()
        return row is not None and row[0] >= len(self.stack.workers)

    def _pending_on(self, executor: str) -> list[str]:
        with psycopg.connect(self.stack.database_url) as conn:
            rows = conn.execute("SELECT workflow_uuid FROM dbos.workflow_status WHERE status = 'PENDING' "
                                "AND executor_id = %s", (executor,)).fetchall()
        return [row[0] for row in rows]

    def watch(self, done: threading.Event) -> None:
        """For each kill, seconds until every workflow the dead worker was running is recovered (re-enqueued
        by DBOS, or already running or ended), and until each is running again somewhere. One thread and
        one connection for all kills (PostgreSQL's connections are shared with the stack under test)."""
        started_again = "(status = 'PENDING' AND started_at_epoch_ms > %(at)s)"
        with psycopg.connect(self.stack.database_url, autocommit=True) as conn:
            while not (done.is_set() and all(k.resumed_s is not None or not k.pending for k in self.kills)):
                for kill in [k for k in list(self.kills) if k.pending and k.resumed_s is None]:
                    if time.time() - kill.at_ms / 1000 > 120:
                        continue  # given up on: counted as not recovered
                    row = conn.execute(
                        "SELECT count(*) FILTER (WHERE status = 'PENDING' AND NOT " + started_again + "), "
                        "count(*) FILTER (WHERE status IN ('PENDING', 'ENQUEUED') AND NOT " + started_again + ") "
                        "FROM dbos.workflow_status WHERE workflow_uuid = ANY(%(ids)s)",
                        {"ids": kill.pending, "at": kill.at_ms}).fetchone()
                    assert row is not None
                    now = time.time() - kill.at_ms / 1000
                    if row[0] == 0 and kill.recovered_s is None:
                        kill.recovered_s = now
                    if row[1] == 0:
                        kill.resumed_s = now
                if done.is_set() and all(time.time() - k.at_ms / 1000 > 120 for k in self.kills
                                         if k.pending and k.resumed_s is None):
                    return
                time.sleep(0.1)


def submit(stack: SagaStack, *, sagas: int, seed: int, more: Any = lambda: False) -> dict[str, int]:
    """Start `sagas` sagas across the flows through the API and the sandbox, and more while `more()` says
    so (the supervisor needs sagas in flight for its kills); answer how many of each."""
    rng = random.Random(seed)
    started: Counter[str] = Counter()
    with stack.core() as core, stack.sandbox() as sandbox:
        people = {name: stack.login(core, name) for name in ("alice", "bob")}
        accounts = {name: {a["type"]: a for a in core.get("/v1/accounts", headers=h).json()}
                    for name, h in people.items()}
        n = -1
        while (n := n + 1) < sagas or more():
            name = rng.choice(sorted(people))
            draw = rng.random()
            if draw < 0.70:  # money out: some refused by the rails (13), some returned days later (66, 67)
                name = "alice"  # bob's identity check is pending in the demo data: he cannot send money yet
                cents = rng.choice([rng.randrange(100, 999), rng.randrange(1, 9) * 100 + 13,
                                    rng.randrange(1, 9) * 100 + 66, rng.randrange(1, 9) * 100 + 67])
                if cents % 100 in (13, 66, 67) and rng.random() < 0.6:
                    cents = cents - cents % 100 + rng.randrange(20, 60)
                response = _retrying(lambda name=name, cents=cents, n=n: core.post(
                    "/v1/transfers", headers={**people[name], "Idempotency-Key": str(uuid.uuid4())},
                    json={"from_account_id": accounts[name]["checking"]["id"], "counterparty": counterparty(n),
                          "amount": f"{cents // 100}.{cents % 100:02d}", "currency": "EUR"}))
                assert response.status_code == 201, response.text
                started["transfer_out"] += 1
            elif draw < 0.80:  # crypto: pulled from the customer's other bank, then sent; some fail (13)
                cents = rng.randrange(1, 30) * 100 + rng.choice([rng.randrange(20, 60), 13, 66])
                quote = _retrying(lambda cents=cents: core.post("/v1/crypto/quotes", headers=people["alice"], json={
                    "asset": "ETH", "amount": f"{cents // 100}.{cents % 100:02d}", "currency": "EUR"}))
                assert quote.status_code == 201, quote.text
                body = {"quote_id": quote.json()["quote_id"], "destination_address": "0x" + f"{n:040x}",
                        "pay_from": {"name": "Alice elsewhere", "iban": counterparty(n + 20_000)["iban"]}}
                key = str(uuid.uuid4())
                response = _retrying(lambda body=body, key=key: core.post(
                    "/v1/crypto/purchases", headers={**people["alice"], "Idempotency-Key": key}, json=body))
                assert response.status_code == 202, response.text
                started["crypto_purchase"] += 1
            elif draw < 0.93:  # money in: mostly for our accounts, a few for an account we don't have
                account = str(uuid.uuid4()) if rng.random() < 0.1 else accounts[name]["savings"]["id"]
                # Amounts ending in 13, 66 or 67 make the sandbox refuse or return a payment: the bench sends
                # those scenarios out on purpose (above), not as the refund of money it could not credit.
                cents = rng.randrange(1, 50) * 100 + rng.randrange(20, 60)
                body = {"amount_minor": cents, "currency": "EUR", "account_id": account, "debtor_name": f"Sender {n}",
                        "debtor_iban": counterparty(n + 10_000)["iban"]}
                response = _retrying(lambda body=body: sandbox.post("/sandbox/rails/incoming", json=body))
                assert response.status_code in (200, 201), response.text
                started["incoming_credit"] += 1
            else:
                response = _retrying(lambda name=name: core.post("/v1/kyc/applications", headers=people[name],
                                                                 json={"level": "full"}))
                assert response.status_code == 202, response.text
                started["kyc_check"] += 1
    return dict(started)


def fund_alice(stack: SagaStack, amount_minor: int = 2_000_000) -> None:
    """Money in for the customer who sends: a long run must not end in insufficient funds."""
    with stack.core() as core, stack.sandbox() as sandbox:
        alice = stack.login(core, "alice")
        checking = next(a for a in core.get("/v1/accounts", headers=alice).json() if a["type"] == "checking")
        answer = sandbox.post("/sandbox/rails/incoming", json={
            "amount_minor": amount_minor, "currency": "EUR", "account_id": checking["id"],
            "debtor_name": "Alice's employer", "debtor_iban": counterparty(99_999)["iban"]})
        assert answer.status_code in (200, 201), answer.text

        def credited() -> bool:
            now = next(a for a in core.get("/v1/accounts", headers=alice).json() if a["type"] == "checking")
            return int(Decimal(now["balance"]) * 100) >= int(Decimal(checking["balance"]) * 100) + amount_minor
        assert stack.wait_until(credited, timeout=60), "the top-up was not credited"


def _retrying(call: Any) -> httpx.Response:
    """The bench's own calls: a 5xx or 429 from the core or an injected sandbox fault is tried again."""
    for _ in range(10):
        try:
            response = call()
        except httpx.TransportError:
            continue
        if response.status_code < 500 and response.status_code != 429:
            return response
        time.sleep(0.2)
    return response


def open_sagas(stack: SagaStack) -> int:
    with psycopg.connect(stack.database_url) as conn:
        row = conn.execute("SELECT count(*) FROM sagas WHERE status <> ALL(%s)", (list(TERMINAL),)).fetchone()
    return int(row[0]) if row else 0


def unstarted_transfers(stack: SagaStack) -> int:
    with psycopg.connect(stack.database_url) as conn:
        row = conn.execute("SELECT count(*) FROM transfers t WHERE to_account_id IS NULL AND status = 'pending' "
                           "AND NOT EXISTS "
                           "(SELECT 1 FROM sagas s WHERE s.id = 'transfer_out:' || t.id::text)").fetchone()
    return int(row[0]) if row else 0


def _add(a: dict[str, Any], b: dict[str, Any]) -> dict[str, int]:
    return {k: int(a.get(k) or 0) + int(b.get(k) or 0) for k in set(a) | set(b)}


def clearing_balances(stack: SagaStack) -> dict[str, int]:
    """The bank's clearing account per currency: its balance moves by exactly what crosses the rails."""
    with psycopg.connect(stack.database_url) as conn:
        rows = conn.execute("SELECT currency, balance FROM ledger_accounts WHERE kind = 'external_clearing'").fetchall()
    return {currency: int(balance) for currency, balance in rows}


def verify(stack: SagaStack, report: Report, *, clearing_before: dict[str, int]) -> None:
    """The invariants, measured from the ledger's database and the sandbox's own records."""
    import ledger

    with psycopg.connect(stack.database_url) as conn:
        report.by_status = dict(conn.execute("SELECT status, count(*) FROM sagas GROUP BY status").fetchall())
        report.sagas = sum(report.by_status.values())
        report.terminal = sum(v for k, v in report.by_status.items() if k in TERMINAL)
        report.drift = len(ledger.reconcile(conn))
        report.stuck_transfers = conn.execute(
            "SELECT count(*) FROM transfers t WHERE t.to_account_id IS NULL AND t.status = 'pending' AND NOT EXISTS "
            "(SELECT 1 FROM sagas s WHERE s.id = 'transfer_out:' || t.id::text AND s.status = 'dead_lettered')"
        ).fetchone()[0]
        # The same step applied twice would show as a second settled/returned/credited step of one saga.
        report.duplicate_applications = conn.execute(
            "SELECT count(*) FROM (SELECT saga_id, name FROM saga_steps WHERE name IN ('settled', 'returned', "
            "'rejected', 'credited', 'verified', 'collected', 'confirmed', 'refunded', 'dropped') "
            "GROUP BY saga_id, name HAVING count(*) > 1) d").fetchone()[0]
    with psycopg.connect(stack.database_url + "_sandbox") as conn:
        paid_out = dict(conn.execute(
            "SELECT currency, sum(amount_minor) FROM sandbox.objects WHERE is_effect AND kind = 'credit_transfer' "
            "AND status = 'settled' GROUP BY currency").fetchall())
        # Out: rails credit transfers that settled (a returned one came back), crypto bought and kept (a
        # dropped one's money came back), each crypto transfer costing its fiat amount and the network fee.
        paid_out = _add(paid_out, dict(conn.execute(
            "SELECT currency, sum(amount_minor + (data->>'network_fee_minor')::bigint) FROM sandbox.objects "
            "WHERE is_effect AND kind = 'crypto_transfer' AND status = 'confirmed' GROUP BY currency").fetchall()))
        # In: money sent to our customers, and pulls collected from their other banks.
        paid_in = dict(conn.execute(
            "SELECT currency, sum(amount_minor) FROM sandbox.objects WHERE is_effect AND (kind = 'incoming_transfer' "
            "OR (kind = 'direct_debit' AND status = 'collected')) GROUP BY currency").fetchall())
        # One saga, one effect of each kind: keys are the saga id, or the saga id and a suffix after a dot.
        report.duplicate_effects = conn.execute(
            "SELECT count(*) FROM (SELECT split_part(idempotency_key, '.', 1), kind, "
            "split_part(idempotency_key, '.', 2) FROM sandbox.objects WHERE is_effect AND idempotency_key IS NOT NULL "
            "GROUP BY 1, 2, 3 HAVING count(*) > 1) d").fetchone()[0]
    # What the run moved through the clearing account (the demo data's own transfers are in its balance).
    clearing = {currency: balance - clearing_before.get(currency, 0)
                for currency, balance in clearing_balances(stack).items()}
    for currency in set(paid_out) | set(paid_in) | set(clearing):
        expected = int(paid_out.get(currency) or 0) - int(paid_in.get(currency) or 0)
        if int(clearing.get(currency) or 0) != expected:
            report.problems.append(f"{currency}: the ledger's clearing account moved {clearing.get(currency)}, "
                                   f"the sandbox paid out {paid_out.get(currency)} and in {paid_in.get(currency)}")
        # Incoming money for an account we don't have was sent back: the sandbox holds it as paid in and out.
        report.lost_cents += abs(int(clearing.get(currency) or 0) - expected)


def run(stack: SagaStack, *, sagas: int, kills: int, seed: int, fault_rate: float, webhook_rate: float,
        settle_timeout_s: float) -> Report:
    report = Report()
    lease_s = float(FAST["SAGA_LEASE_SECONDS"])
    with stack.sandbox() as sandbox:
        assert sandbox.post("/sandbox/faults", json={"rate": fault_rate, "seed": seed,
                                                     "webhook_rate": webhook_rate}).status_code in (200, 204)
    clearing_before = clearing_balances(stack)  # before the top-up: the sandbox counts it as money in
    fund_alice(stack)
    began = time.monotonic()
    supervisor = Supervisor(stack, kills=kills, seed=seed, lease_s=lease_s)
    supervisor.start()
    sagas_done = threading.Event()
    watcher = threading.Thread(target=supervisor.watch, args=(sagas_done,), daemon=True)
    watcher.start()
    # Sagas keep coming until the supervisor has made its kills; then every worker lives and the sagas finish.
    submit(stack, sagas=sagas, seed=seed, more=lambda: len(supervisor.kills) < kills and supervisor.is_alive())
    supervisor.stop.set()
    supervisor.join(timeout=30)
    supervisor.restart_all()
    deadline = time.monotonic() + settle_timeout_s
    stack.wait_until(lambda: unstarted_transfers(stack) == 0 and open_sagas(stack) == 0,
                     timeout=max(1.0, deadline - time.monotonic()))
    with stack.sandbox() as sandbox:  # returns fall due three days after settlement
        sandbox.post("/sandbox/clock/advance", json={"seconds": 4 * 86400})
    # Returned transfers and dropped crypto each need their undoing saga (from a webhook or the poll).
    with psycopg.connect(stack.database_url + "_sandbox") as conn:
        came_back = conn.execute("SELECT count(*) FROM sandbox.objects WHERE (kind = 'credit_transfer' AND "
                                 "status = 'returned') OR (kind = 'crypto_transfer' AND status = 'dropped')"
                                 ).fetchone()[0]
    with psycopg.connect(stack.database_url, autocommit=True) as conn:
        def undone() -> bool:
            row = conn.execute("SELECT count(*) FROM sagas WHERE kind IN ('transfer_return', 'crypto_dropped') "
                               "AND status = 'completed'").fetchone()
            return row is not None and row[0] >= came_back and open_sagas(stack) == 0
        stack.wait_until(undone, timeout=max(5.0, deadline - time.monotonic()))
    report.seconds = time.monotonic() - began
    sagas_done.set()
    watcher.join(timeout=130)
    report.kills = len(supervisor.kills)
    watched = [k for k in supervisor.kills if k.pending]
    report.unrecovered_kills = sum(1 for k in watched if k.recovered_s is None or k.resumed_s is None)
    report.max_recovery_s = max([k.recovered_s for k in watched if k.recovered_s is not None], default=0.0)
    report.max_resume_s = max([k.resumed_s for k in watched if k.resumed_s is not None], default=0.0)
    for kill in watched:
        if kill.recovered_s is not None:
            (report.recovery_s_back_at_once if kill.back_at_once else report.recovery_s_left_down).append(
                round(kill.recovered_s, 2))
    verify(stack, report, clearing_before=clearing_before)
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sagas", type=int, default=400)
    parser.add_argument("--kills", type=int, default=30)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--fault-rate", type=float, default=0.2)
    parser.add_argument("--webhook-rate", type=float, default=0.3)
    parser.add_argument("--timeout", type=float, default=600)
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    args = parser.parse_args()
    with saga_stack(port=args.port, workers=2) as stack:
        report = run(stack, sagas=args.sagas, kills=args.kills, seed=args.seed, fault_rate=args.fault_rate,
                     webhook_rate=args.webhook_rate, settle_timeout_s=args.timeout)
    for problem in report.problems:
        print("problem:", problem)
    print(f"by_status={report.by_status} unrecovered_kills={report.unrecovered_kills} "
          f"seconds={report.seconds:.1f}")
    print(f"recovery_s restarted at once: {sorted(report.recovery_s_back_at_once)}; "
          f"left down: {sorted(report.recovery_s_left_down)}")
    print(report.line())


if __name__ == "__main__":
    main()
