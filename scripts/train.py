"""Train the Rasa model only when its inputs changed (content hash), and point var/models/current at it.

    python -m scripts.train [--force]

Inputs: bot/config.yml, bot/domain/, bot/data/, the generated BANKING77 data in var/bot/data/, the
custom components in bot/bankbot_nlu/ and the bot's requirements. Prints the model path last.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MODELS = ROOT / "var" / "models"
GENERATED_DATA = ROOT / "var" / "bot" / "data"
BOT_PYTHON = ROOT / ".venv-bot" / "bin" / "python"


def inputs() -> list[Path]:
    roots = [ROOT / "bot/config.yml", ROOT / "bot/domain", ROOT / "bot/data", GENERATED_DATA,
             ROOT / "bot/bankbot_nlu", ROOT / "requirements/bot.txt", ROOT / "requirements/bot-nodeps.txt"]
    files: list[Path] = []
    for root in roots:
        if root.is_file():
            files.append(root)
        elif root.is_dir():
            files.extend(p for p in root.rglob("*") if p.is_file() and p.suffix in {".yml", ".yaml", ".py", ".json"})
    return sorted(files)


def content_hash(files: list[Path]) -> str:
    digest = hashlib.sha256()
    for path in files:
        digest.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def build_data() -> None:
    script = ROOT / "bot" / "build_data.py"
    if script.exists():
        subprocess.run([str(BOT_PYTHON), str(script)], cwd=ROOT, check=True)  # noqa: S603


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--force", action="store_true")
    args = parser.parse_args(argv)
    build_data()
    digest = content_hash(inputs())
    model = MODELS / f"bankbot-{digest}.tar.gz"
    current = MODELS / "current.tar.gz"
    if model.exists() and not args.force:
        print(f"model up to date ({model.name})", file=sys.stderr)
    else:
        MODELS.mkdir(parents=True, exist_ok=True)
        data = [str(ROOT / "bot/data")] + ([str(GENERATED_DATA)] if GENERATED_DATA.exists() else [])
        env = {**os.environ, "PYTHONPATH": f"{ROOT}:{ROOT / 'bot'}", "RASA_TELEMETRY_ENABLED": "false",
               "TF_CPP_MIN_LOG_LEVEL": "2", "HF_HUB_OFFLINE": "1"}
        started = time.monotonic()
        subprocess.run([str(ROOT / ".venv-bot/bin/rasa"), "train", "--config", "bot/config.yml",  # noqa: S603
                        "--domain", "bot/domain", "--data", *data, "--out", str(MODELS),
                        "--fixed-model-name", model.name.removesuffix(".tar.gz")],
                       cwd=ROOT, env=env, check=True)
        print(f"trained {model.name} in {time.monotonic() - started:.0f} s", file=sys.stderr)
    tmp = current.with_suffix(".tmp")
    tmp.unlink(missing_ok=True)
    tmp.symlink_to(model.name)
    tmp.replace(current)
    print(model)


if __name__ == "__main__":
    main()
