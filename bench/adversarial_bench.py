"""Worst-case time on adversarial input (issue 12): every pattern family, a whole redact(), the action parsers.

    make bench-adversarial        (python -m bench.adversarial_bench)

The corpus and the pattern collector are those of tests/privacy/test_linear_patterns.py: 2,000-character
texts made of long runs of spaces and tabs, repeated words and digits and alternations of separators, after
each keyword the rules are keyed on. For each family of patterns it prints the slowest pattern and its
worst pass (`finditer` over the whole text); then the worst and median whole redact() (with a customer's
deny list), and the worst call of each action-side parser. The address rule as it was before the fix
(commit a7d1a4a, rebuilt from git history) is timed in a child process with a time limit, beside the
current rule on the same input, so the before/after stands in one run. The last line holds the key
figures as name=value pairs.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from datetime import UTC, datetime

from api.config import REPO_ROOT
from tests.privacy.adversarial import SAMPLE_KNOWN, WINDOWED, collect_patterns, corpus

OLD_ADDRESS_COMMIT = "a7d1a4a"  # the fix; its parent holds the backtracking rule
OLD_RULE_LIMIT_SECONDS = 60.0
SPACES = (50, 100, 200)


def _timed(fn, *args, **kwargs) -> float:
    started = time.perf_counter()
    fn(*args, **kwargs)
    return time.perf_counter() - started


def pattern_families(texts: list[str]) -> dict[str, tuple[float, str]]:
    """The slowest pattern of each family; the windowed ones (see WINDOWED) on texts of their window's length."""
    worst: dict[str, tuple[float, str]] = defaultdict(lambda: (0.0, ""))
    for found in collect_patterns():
        family, inputs = found.family, texts
        if found.name in WINDOWED:
            family, inputs = f"{found.family}.windowed", corpus(WINDOWED[found.name])
        t = max(_timed(found.run, text) for text in inputs)
        if t > worst[family][0]:
            worst[family] = (t, found.name)
    return dict(worst)


def redaction(texts: list[str]) -> tuple[float, float, str]:
    from api.privacy import KnownPII, redact, warm_up

    warm_up()
    known = KnownPII(**SAMPLE_KNOWN)
    redact("warm up the deny list", known=known)
    times = [(_timed(redact, text, known=known), text) for text in texts]
    worst, text = max(times)
    return worst, statistics.median(t for t, _ in times), text[:40]


def parsers(texts: list[str]) -> dict[str, float]:
    sys.path.insert(0, str(REPO_ROOT / "bot"))  # actions/__init__ imports bankbot_logging
    from actions.understanding.amounts import parse_amount
    from actions.understanding.categories import (
        find_accounts,
        find_card_last4,
        find_category,
        find_merchant,
        find_recipient,
    )
    from actions.understanding.periods import resolve_period
    from actions.understanding.transfer_request import is_affirmative_text, is_negative_text

    now = datetime(2026, 12, 2, 12, tzinfo=UTC)
    merchants = ["Tesco", "Starbucks", "Boots", "Pret A Manger", "Amazon", "Uber"]
    payees = ["Bob Jones", "Anna Berg", "Landlord Lettings Ltd"]
    calls = {
        "parse_amount": lambda t: parse_amount(t, "GBP"),
        "find_category": find_category,
        "find_merchant": lambda t: find_merchant(t, merchants),
        "find_recipient": lambda t: find_recipient(t, payees),
        "find_accounts": find_accounts,
        "find_card_last4": find_card_last4,
        "resolve_period": lambda t: resolve_period(t, now, "Europe/London"),
        "yes_no": lambda t: (is_affirmative_text(t), is_negative_text(t)),
    }
    out = {}
    for name, call in calls.items():
        out[name] = max(_timed(call, text) for text in texts)
    return out


OLD_RULE_CHILD = """
import re, subprocess, sys, time, types
source = subprocess.run(["git", "show", sys.argv[1] + "^:api/privacy/patterns/personal.py"], capture_output=True,
                        text=True, check=True).stdout
module = types.ModuleType("old_personal")
exec(compile(source, "old_personal.py", "exec"), module.__dict__)
rule = next(r for r in module.RULES if r.name == "address after keyword")
text = "my address is 1" + " " * int(sys.argv[2]) + "x"
started = time.perf_counter()
sum(1 for _ in rule.pattern.finditer(text))
print(time.perf_counter() - started)
"""


def old_address_rule(spaces: int) -> float | None:
    """The pre-fix address rule on "my address is 1" + spaces + "x", in a child with a time limit."""
    try:
        result = subprocess.run([sys.executable, "-c", OLD_RULE_CHILD, OLD_ADDRESS_COMMIT, str(spaces)],
                                cwd=REPO_ROOT, capture_output=True, text=True, timeout=OLD_RULE_LIMIT_SECONDS,
                                env={**os.environ, "PYTHONPATH": str(REPO_ROOT)})
    except subprocess.TimeoutExpired:
        return None
    if result.returncode != 0:
        print(result.stderr[-500:], file=sys.stderr)
        return None
    return float(result.stdout.strip())


def new_address_rule(spaces: int) -> float:
    from api.privacy.patterns.personal import RULES

    rule = next(r for r in RULES if r.name == "address after keyword")
    text = "my address is 1" + " " * spaces + "x"
    return _timed(lambda: sum(1 for _ in rule.pattern.finditer(text)))


def main() -> None:
    texts = corpus()
    print(f"adversarial corpus: {len(texts)} texts of {len(texts[0])} characters; load average "
          f"{os.getloadavg()[0]:.2f} on {os.cpu_count()} cores\n")
    families = pattern_families(texts)
    print(f"{'pattern family':18} {'worst ms':>9}  slowest pattern")
    for family, (t, name) in sorted(families.items()):
        print(f"{family:18} {t * 1000:9.2f}  {name}")
    worst, median, text = redaction(texts)
    print(f"\nredact() with a deny list: worst {worst * 1000:.1f} ms ({text!r}...), median {median * 1000:.1f} ms")
    parser_times = parsers(texts)
    print("\naction parser       worst ms")
    for name, t in parser_times.items():
        print(f"{name:18} {t * 1000:9.2f}")
    print("\naddress-after-keyword rule on 'my address is 1' + N spaces + 'x' (old: before commit "
          f"{OLD_ADDRESS_COMMIT}, limit {OLD_RULE_LIMIT_SECONDS:.0f} s)")
    old = {n: old_address_rule(n) for n in SPACES}
    new = {n: new_address_rule(n) for n in (*SPACES, 2000)}
    for n in (*SPACES, 2000):
        before = old.get(n)
        shown = "not run" if n not in old else (f"> {OLD_RULE_LIMIT_SECONDS:.0f} s" if before is None
                                                else f"{before * 1000:.1f} ms")
        print(f"  N={n:5}: old {shown:>12}   new {new[n] * 1000:.3f} ms")
    pairs = {f"worst_{family.replace('.', '_')}_ms": f"{t * 1000:.2f}" for family, (t, _) in sorted(families.items())}
    pairs |= {"redact_worst_ms": f"{worst * 1000:.1f}", "redact_median_ms": f"{median * 1000:.1f}"}
    pairs |= {f"{name}_worst_ms": f"{t * 1000:.2f}" for name, t in parser_times.items()}
    largest = max(n for n in SPACES if old[n] is not None) if any(v is not None for v in old.values()) else None
    if largest is not None:
        pairs |= {f"old_address_{largest}sp_ms": f"{old[largest] * 1000:.0f}",
                  f"new_address_{largest}sp_ms": f"{new[largest] * 1000:.3f}"}
    pairs |= {"new_address_2000sp_ms": f"{new[2000] * 1000:.3f}", "load": f"{os.getloadavg()[0]:.2f}"}
    print("\n" + " ".join(f"{k}={v}" for k, v in pairs.items()))


if __name__ == "__main__":
    main()
