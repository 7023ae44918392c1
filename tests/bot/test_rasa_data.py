"""`rasa data validate` on the bot project, and the intent contract."""

from __future__ import annotations

import json
import os
import subprocess

import yaml

from api.config import REPO_ROOT

RASA = REPO_ROOT / ".venv-bot" / "bin" / "rasa"
OWN_INTENTS = {"check_balance", "spending_query", "search_transactions", "transfer_money", "freeze_card",
               "unfreeze_card", "request_human", "greet", "goodbye", "affirm", "deny", "thank_you",
               "bot_challenge", "out_of_scope"}


def test_rasa_data_validate() -> None:
    env = {**os.environ, "RASA_TELEMETRY_ENABLED": "false", "PYTHONPATH": f"{REPO_ROOT}:{REPO_ROOT / 'bot'}"}
    result = subprocess.run([str(RASA), "data", "validate", "--domain", "bot/domain", "--data", "bot/data",
                             "--config", "bot/config.yml"], cwd=REPO_ROOT, env=env, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


def test_domain_has_every_contract_intent() -> None:
    banking77_dir = os.environ.get("BANKING77_DIR", str(REPO_ROOT.parent / "shared/datasets/banking77"))
    categories = set(json.loads((REPO_ROOT.parent / banking77_dir / "categories.json").read_text()))
    intents: set[str] = set()
    for path in (REPO_ROOT / "bot" / "domain").glob("*.yml"):
        intents.update(str(i) if not isinstance(i, dict) else next(iter(i)) for i in
                       yaml.safe_load(path.read_text()).get("intents", []))
    assert len(categories) == 77
    assert categories | OWN_INTENTS <= intents
