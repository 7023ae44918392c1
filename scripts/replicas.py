"""The stack with N cores, Rasa servers and action servers behind a local balancer (`stack up --replicas N`).

The stack's usual ports become the balancer's: the core's and its internal listener's, Rasa's and the
action server's (scripts/balancer.py, one process, round robin per request). Replica i (1..N) listens
REPLICA_PORT_STEP * i above each of them. Every replica talks to the others only through the balancer:
the core to Rasa, Rasa to the action servers and to the transcript ingest, the action servers to the
core. So consecutive turns of one conversation land on different Rasa servers, whose Redis tracker and
lock stores are shared, and their action calls on different action servers and cores: what
`tests/replicas/` checks. One sandbox and the saga workers (they scale by claiming work in the
database, docs/sagas.md) are not replicated.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys

from scripts.stack import ROOT, Service, single_services

REPLICA_PORT_STEP = 20
REPLICATED = ("core", "core-internal", "core-ingest", "actions", "rasa")


def services(args: argparse.Namespace, secret_values: dict[str, str] | None = None) -> list[Service]:
    core_lb, internal_lb = f"http://127.0.0.1:{args.core_port}", f"http://127.0.0.1:{args.core_port + 1}"
    ingest_lb = f"http://127.0.0.1:{args.core_port + 2}"
    rasa_lb, actions_lb = f"http://127.0.0.1:{args.rasa_port}", f"http://127.0.0.1:{args.actions_port}"
    # Whatever a replica would have called on its own ports goes to the balancer instead.
    through_balancer = {"RASA_URL": rasa_lb, "PUBLIC_BASE_URL": core_lb, "CORE_URL": core_lb,
                        "CORE_INTERNAL_URL": internal_lb, "ACTION_SERVER_URL": f"{actions_lb}/webhook",
                        "TRANSCRIPT_INGEST_URL": f"{ingest_lb}/v1/transcripts/events",
                        "SANDBOX_WEBHOOK_BASE_URL": core_lb}
    upstreams: dict[int, list[str]] = {args.core_port: [], args.core_port + 1: [], args.core_port + 2: [],
                                       args.rasa_port: [], args.actions_port: []}
    out: list[Service] = []
    for i in range(1, args.replicas + 1):
        shift = REPLICA_PORT_STEP * i
        replica = argparse.Namespace(**{**vars(args), "core_port": args.core_port + shift,
                                        "rasa_port": args.rasa_port + shift, "actions_port": args.actions_port + shift})
        for service in single_services(replica, secret_values):
            if service.name not in REPLICATED and i > 1:
                continue  # one sandbox, one set of saga workers
            env = {k: through_balancer.get(k, v) for k, v in service.env.items()}
            if service.name in REPLICATED:
                front = {"core": args.core_port, "core-internal": args.core_port + 1,
                         "core-ingest": args.core_port + 2, "rasa": args.rasa_port,
                         "actions": args.actions_port}[service.name]
                upstreams[front].append(f"http://127.0.0.1:{service.port}")
                service = dataclasses.replace(service, name=f"{service.name}-{i}")
            out.append(dataclasses.replace(service, env=env))
    listen = [f"--listen={port}={','.join(urls)}" for port, urls in upstreams.items()]
    out.append(Service("balancer", args.core_port, [str(ROOT / ".venv/bin/python"), "-m", "scripts.balancer", *listen],
                       "/_balancer", {"PYTHONPATH": str(ROOT)}))
    ports = [s.port for s in out if s.port is not None] + [args.core_port + 1, args.core_port + 2, args.rasa_port,
                                                                 args.actions_port]
    if len(ports) != len(set(ports)):
        sys.exit(f"--replicas {args.replicas}: the replicas' ports (each {REPLICA_PORT_STEP} apart) collide: "
                 f"{sorted(ports)}; choose other --core-port / --rasa-port / --actions-port")
    return out
