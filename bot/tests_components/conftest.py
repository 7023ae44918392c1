import sys
from pathlib import Path

BOT = Path(__file__).resolve().parents[1]
if str(BOT) not in sys.path:  # bankbot_nlu and build_data live in bot/
    sys.path.insert(0, str(BOT))
