"""BANKING77 benchmark of the real Rasa NLU pipeline (bot/config.yml).

    PYTHONPATH=<repo>:<repo>/bot .venv-bot/bin/python bench/nlu_bench.py [--warm] [--limit N]

1. Trains an NLU model through Rasa's own training graph (what `rasa train nlu` runs) on every NLU
   file in bot/data/ and var/bot/data/ (BANKING77 train, written by bot/build_data.py), with the
   pipeline of bot/config.yml, into var/bench/, in a child process; the training time is that of
   the training call (not Python's and TensorFlow's imports). Rasa's graph cache is a fresh
   temporary directory, so nothing is skipped; the MiniLM embedding cache is cold too unless
   --warm (then var/cache/embeddings is used, as `make train` does).
2. Loads the model with rasa.core.agent.Agent in this (fresh) process, as the Rasa server does,
   and parses every test.csv query with Agent.parse_message, timing each call.
3. Prints accuracy and macro F1 (a prediction of one of our own intents counts as wrong), training
   wall time, parse latency p50/p95, the fallback rate at the configured FallbackClassifier
   threshold, the most frequent confusions, and a last line
   `banking77_accuracy=... train_seconds=... parse_p95_ms=...` (then a few more name=value pairs).

Accuracy is the classifier's: the top intent of intent_ranking that is not nlu_fallback (the
FallbackClassifier only re-labels low-confidence messages, it does not change the ranking).
Details go to var/bench/nlu_results.json.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import logging
import os
import subprocess
import sys
import tempfile
import time
import warnings
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FALLBACK_INTENT = "nlu_fallback"


def dataset_dir() -> Path:
    return Path(os.environ.get("BANKING77_DIR") or ROOT.parent / "shared" / "datasets" / "banking77")


def rel(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = (len(ordered) - 1) * q / 100.0
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def load1() -> float:
    try:
        return os.getloadavg()[0]
    except OSError:
        return float("nan")


def fallback_threshold(config_path: Path) -> float | None:
    import yaml

    config = yaml.safe_load(config_path.read_text(encoding="utf-8"))
    for component in config.get("pipeline") or []:
        if component.get("name") == "FallbackClassifier":
            return float(component.get("threshold", 0.3))
    return None


def train(config: Path, data: list[Path], domain: Path | None, out: Path, name: str) -> tuple[Path, float]:
    from rasa.model_training import _train_graph
    from rasa.shared.data import TrainingType
    from rasa.shared.importers.importer import TrainingDataImporter

    started = time.perf_counter()
    importer = TrainingDataImporter.load_nlu_importer_from_config(
        str(config), str(domain) if domain else None, training_data_paths=[str(p) for p in data]
    )
    result = _train_graph(
        importer, training_type=TrainingType.NLU, output_path=str(out), fixed_model_name=name, model_to_finetune=None
    )
    seconds = time.perf_counter() - started
    model = Path(result.model if hasattr(result, "model") else result)
    return model, seconds


def macro_f1(gold: list[str], pred: list[str], labels: list[str]) -> float:
    scores = []
    for label in labels:
        tp = sum(1 for g, p in zip(gold, pred, strict=True) if g == label and p == label)
        fp = sum(1 for g, p in zip(gold, pred, strict=True) if g != label and p == label)
        fn = sum(1 for g, p in zip(gold, pred, strict=True) if g == label and p != label)
        scores.append(0.0 if tp == 0 else 2 * tp / (2 * tp + fp + fn))
    return sum(scores) / len(scores)


def quiet_rasa() -> None:
    """Log levels as `rasa run` sets them: without this structlog prints every parse at debug
    level to stdout."""
    from rasa.utils.log_utils import configure_structlog

    logging.getLogger().setLevel(logging.WARNING)
    configure_structlog(logging.WARNING)
    logging.getLogger("bankbot_nlu").setLevel(logging.INFO)  # component timings


def train_child(args: argparse.Namespace) -> int:
    """--train-only: runs in a child process, so that parsing is then timed in a process that
    has only loaded the model, like the Rasa server (after training, Python's garbage collector
    walks the training data's millions of objects and adds 10-40 ms pauses to some parses)."""
    import rasa  # noqa: F401  (imports TensorFlow: kept out of the training time)

    quiet_rasa()
    data = [p for p in args.data if p.exists()]
    model, seconds = train(args.config, data, args.domain if args.domain.exists() else None, args.out, "nlu-bench")
    (args.out / "train.json").write_text(json.dumps({"model": str(model), "train_seconds": seconds}), encoding="utf-8")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", type=Path, default=ROOT / "bot" / "config.yml")
    parser.add_argument("--data", type=Path, nargs="+", default=[ROOT / "bot" / "data", ROOT / "var" / "bot" / "data"])
    parser.add_argument("--domain", type=Path, default=ROOT / "bot" / "domain")
    parser.add_argument("--test", type=Path, default=dataset_dir() / "test.csv")
    parser.add_argument("--out", type=Path, default=ROOT / "var" / "bench")
    parser.add_argument("--warm", action="store_true", help="use the on-disk MiniLM embedding cache")
    parser.add_argument("--limit", type=int, default=0, help="parse only the first N test queries")
    parser.add_argument("--model", type=Path, help="evaluate this trained model instead of training one")
    parser.add_argument("--train-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    warnings.filterwarnings("ignore")
    if args.train_only:
        return train_child(args)

    data = [p for p in args.data if p.exists()]
    if not (ROOT / "var" / "bot" / "data" / "banking77.yml").exists() and ROOT / "var" / "bot" / "data" in args.data:
        print("nlu_bench: var/bot/data/banking77.yml is missing: run bot/build_data.py first", file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)

    tmp = tempfile.TemporaryDirectory(prefix="nlu-bench-")
    os.environ["RASA_CACHE_DIRECTORY"] = str(Path(tmp.name) / "rasa-cache")
    if not args.warm:
        os.environ["BANKBOT_EMBED_CACHE"] = str(Path(tmp.name) / "embeddings")
    os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

    print(f"nlu_bench: config {rel(args.config)}, data {' '.join(rel(p) for p in data)}", flush=True)
    load_before = load1()
    if args.model:
        model, train_seconds = args.model, float("nan")
    else:
        result_file = args.out / "train.json"
        result_file.unlink(missing_ok=True)
        cmd = [sys.executable, str(Path(__file__).resolve()), "--train-only", "--config", str(args.config)]
        cmd += ["--data", *map(str, args.data), "--domain", str(args.domain), "--out", str(args.out)]
        subprocess.run(cmd, check=True, stdout=sys.stderr)
        trained = json.loads(result_file.read_text(encoding="utf-8"))
        model, train_seconds = Path(trained["model"]), float(trained["train_seconds"])
        print(f"trained {rel(model)} in {train_seconds:.1f} s")
    load_train = load1()

    import rasa  # noqa: F401
    from rasa.core.agent import Agent

    quiet_rasa()

    with open(args.test, newline="", encoding="utf-8") as fh:
        rows = [(r["text"], r["category"]) for r in csv.DictReader(fh)]
    banking77 = {c for _, c in rows}  # all 77 intents, before --limit
    if args.limit:
        rows = rows[: args.limit]
    labels = sorted({c for _, c in rows})

    started = time.perf_counter()
    agent = Agent.load(str(model))
    load_seconds = time.perf_counter() - started
    loop = asyncio.new_event_loop()
    for text in ("hello", "warm up the pipeline", "where is my card?"):
        loop.run_until_complete(agent.parse_message(text))

    threshold = fallback_threshold(args.config)
    latencies: list[float] = []
    pred: list[str] = []
    conf: list[float] = []
    fallback = 0
    for text, _ in rows:
        t0 = time.perf_counter()
        result = loop.run_until_complete(agent.parse_message(text))
        latencies.append((time.perf_counter() - t0) * 1000.0)
        ranking = [r for r in result.get("intent_ranking") or [] if r.get("name") != FALLBACK_INTENT]
        top = ranking[0] if ranking else (result.get("intent") or {})
        pred.append(top.get("name") or "")
        conf.append(float(top.get("confidence") or 0.0))
        fallback += (result.get("intent") or {}).get("name") == FALLBACK_INTENT
    loop.close()
    load_parse = load1()

    gold = [c for _, c in rows]
    n = len(rows)
    correct = [g == p for g, p in zip(gold, pred, strict=True)]
    accuracy = sum(correct) / n
    f1 = macro_f1(gold, pred, labels)
    p50, p95 = percentile(latencies, 50), percentile(latencies, 95)
    own = sum(1 for p in pred if p not in banking77)
    confusions = Counter((g, p) for g, p in zip(gold, pred, strict=True) if g != p).most_common(15)
    accepted = [c for c, x in zip(correct, conf, strict=True) if threshold is None or x >= threshold]

    print(f"test queries        {n}  ({len(labels)} intents)")
    print(f"accuracy            {accuracy:.4f}")
    print(f"macro F1            {f1:.4f}")
    print(f"training wall time  {train_seconds:.1f} s  (load average {load_before:.2f} before, {load_train:.2f} after)")
    print(f"model load          {load_seconds:.1f} s")
    print(f"parse latency       p50 {p50:.1f} ms, p95 {p95:.1f} ms  (load average {load_parse:.2f})")
    print(f"own intents chosen  {own}")
    if threshold is not None:
        acc_acc = sum(accepted) / len(accepted) if accepted else float("nan")
        print(
            f"fallback            {fallback / n:.1%} of queries below threshold {threshold}; "
            f"accuracy on the rest {acc_acc:.4f}"
        )
    print("most frequent confusions (gold -> predicted: count):")
    for (g, p), count in confusions:
        print(f"  {g} -> {p}: {count}")

    results = {
        "accuracy": accuracy,
        "macro_f1": f1,
        "train_seconds": train_seconds,
        "parse_p50_ms": p50,
        "parse_p95_ms": p95,
        "model_load_seconds": load_seconds,
        "fallback_threshold": threshold,
        "fallback_rate": fallback / n,
        "load_average": {"before_train": load_before, "after_train": load_train, "after_parse": load_parse},
        "embedding_cache": "warm" if args.warm else "cold",
        "confusions": [{"gold": g, "predicted": p, "count": c} for (g, p), c in confusions],
        "model": str(model),
        "config": str(args.config),
        "data": [str(p) for p in data],
    }
    (args.out / "nlu_results.json").write_text(json.dumps(results, indent=2), encoding="utf-8")
    tmp.cleanup()
    print(
        f"banking77_accuracy={accuracy:.4f} train_seconds={train_seconds:.1f} parse_p95_ms={p95:.2f} "
        f"macro_f1={f1:.4f} parse_p50_ms={p50:.2f} load1={load_parse:.2f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
