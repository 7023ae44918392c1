"""bot/build_data.py: deterministic Rasa YAML from a BANKING77-style CSV, rewritten only on change."""

from pathlib import Path

import pytest
import yaml

import build_data

CSV = (
    "text,category\n"
    "I am still waiting on my card?,card_arrival\n"
    '"How do I top up, please?",top_up_failed\n'
    "I am still waiting on my card?,card_arrival\n"
    "  my   card   has not arrived ,card_arrival\n"
)


def test_writes_rasa_yaml_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "train.csv").write_text(CSV, encoding="utf-8")
    monkeypatch.setenv("BANKING77_DIR", str(tmp_path))
    out = tmp_path / "out" / "banking77.yml"
    assert build_data.main(["--out", str(out)]) == 0
    doc = yaml.safe_load(out.read_text(encoding="utf-8"))
    assert doc["version"] == "3.1"
    intents = {item["intent"]: item["examples"] for item in doc["nlu"]}
    assert list(intents) == ["card_arrival", "top_up_failed"]
    assert intents["card_arrival"].splitlines() == ["- I am still waiting on my card?", "- my card has not arrived"]
    assert intents["top_up_failed"].splitlines() == ["- How do I top up, please?"]
    mtime = out.stat().st_mtime_ns
    assert build_data.main(["--out", str(out)]) == 0
    assert out.stat().st_mtime_ns == mtime  # unchanged content: not rewritten


def test_offline_without_dataset_fails_clearly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BANKING77_DIR", str(tmp_path / "missing"))
    monkeypatch.setattr(build_data, "DEFAULT_DIR", tmp_path / "also-missing")
    monkeypatch.setattr(build_data, "FALLBACK_DIR", tmp_path / "download")

    def offline(*args: object, **kwargs: object) -> None:
        raise build_data.urllib.error.URLError("no network")

    monkeypatch.setattr(build_data.urllib.request, "urlopen", offline)
    with pytest.raises(SystemExit) as exc:
        build_data.main(["--out", str(tmp_path / "out.yml")])
    assert "BANKING77_DIR" in str(exc.value.code) and "no network" in str(exc.value.code)
    assert not (tmp_path / "out.yml").exists()
