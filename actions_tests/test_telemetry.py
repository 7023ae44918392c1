"""The action server's metrics, in process (no stack needed): labels stay bounded and the exposition is
Prometheus' text format. That a turn's id rides on the actions' calls to the core, and that actions are
timed on a live server, is tested end to end (tests/e2e/test_correlation.py)."""

from __future__ import annotations

from actions import telemetry


def test_labels_are_bounded() -> None:
    assert telemetry.path_template("/v1/cards/3f2c5d7e-1111-2222-3333-444455556666/freeze") == "/v1/cards/{id}/freeze"
    assert telemetry.path_template("/v1/transfers/123?x=1") == "/v1/transfers/{id}"
    assert telemetry.path_template("/v1/insights/spending") == "/v1/insights/spending"
    assert telemetry.action_label("action_check_balance") == "action_check_balance"
    assert telemetry.action_label("what's my balance? 4111 1111 1111 1111") == "other"
    assert telemetry.action_label(None) == "other"


def test_exposition_is_prometheus_text() -> None:
    histogram = telemetry.Histogram("test_seconds", "a test", "path", buckets=(0.1, 1.0))
    for seconds in (0.05, 0.1, 0.5, 3.0):
        histogram.observe("/v1/x", seconds)
    assert histogram.exposition() == [
        "# HELP test_seconds a test", "# TYPE test_seconds histogram",
        'test_seconds_bucket{path="/v1/x",le="0.1"} 2',  # le is inclusive
        'test_seconds_bucket{path="/v1/x",le="1.0"} 3',
        'test_seconds_bucket{path="/v1/x",le="+Inf"} 4',
        'test_seconds_sum{path="/v1/x"} 3.65',
        'test_seconds_count{path="/v1/x"} 4']
