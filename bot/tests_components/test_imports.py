"""bankbot_imports.py: a module that is not installed fails to import at once, as it did, without a search."""

from __future__ import annotations

import importlib.machinery
import sys

import pytest

import bankbot_imports


def _on_path(name: str) -> bool:
    return importlib.machinery.PathFinder.find_spec(name) is not None  # whatever sys.modules says


@pytest.mark.skipif(_on_path("sniffio"), reason="sniffio is installed here")
def test_an_absent_sniffio_is_remembered_and_httpcore_still_sees_asyncio() -> None:
    bankbot_imports.install()
    assert "sniffio" in sys.modules and sys.modules["sniffio"] is None
    with pytest.raises(ImportError):
        import sniffio  # noqa: F401
    from httpcore._synchronization import current_async_library

    assert current_async_library() == "asyncio"


def test_an_installed_module_is_left_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bankbot_imports, "ABSENT", ("colorsys",))
    monkeypatch.delitem(sys.modules, "colorsys", raising=False)
    bankbot_imports.install()
    assert "colorsys" not in sys.modules  # found on sys.path: not marked absent
    import colorsys

    assert colorsys.rgb_to_hsv(0, 0, 0) == (0, 0, 0)
