"""Every action class the action server registers has at least one test here (`covers` marker)."""

from __future__ import annotations

import ast
import importlib
import pkgutil
from pathlib import Path

import pytest
from rasa_sdk import Action

import actions


def action_classes() -> set[type[Action]]:
    """Every Action subclass defined in actions/ (rasa_sdk registers each one it can instantiate)."""
    for module in pkgutil.walk_packages(actions.__path__, "actions."):
        importlib.import_module(module.name)
    found, todo = set(), [Action]
    while todo:
        for sub in todo.pop().__subclasses__():
            todo.append(sub)
            if sub.__module__.startswith("actions."):
                found.add(sub)
    return found


def test_the_action_list_is_complete() -> None:
    names = {cls().name() for cls in action_classes()}
    assert len(names) == len(action_classes()) >= 23
    assert {"action_freeze_card", "action_unfreeze_card", "validate_transfer_form"} <= names


def test_every_action_class_has_a_test(request: pytest.FixtureRequest) -> None:
    here = Path(__file__).parent
    collected = {Path(str(item.path)).name for item in request.session.items}
    if not {p.name for p in here.glob("test_*.py")} <= collected:
        pytest.skip("only part of actions_tests was collected")
    covered = {cls for item in request.session.items for mark in item.iter_markers("covers") for cls in mark.args}
    missing = sorted(cls.__qualname__ for cls in action_classes() - covered)
    assert not missing, f"action classes without a test: {missing}"


def _fixed_sentences(path: Path) -> list[str]:
    """`utter_message(text=...)` calls whose text is written out (a literal or an f-string) in `path`."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "utter_message":
            for keyword in node.keywords:
                if keyword.arg == "text" and isinstance(keyword.value, ast.Constant | ast.JoinedStr | ast.IfExp):
                    found.append(f"{path.name}:{node.lineno}")
    return found


def test_customer_wording_lives_in_the_domain() -> None:
    """A sentence the customer reads is a response in bot/domain; actions pass values, or compose lists."""
    sources = sorted(Path(actions.__file__).parent.rglob("*.py"))
    assert len(sources) > 10
    assert [line for path in sources for line in _fixed_sentences(path)] == []
