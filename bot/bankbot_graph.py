"""Rasa 3.6's prediction graph run in order, without dask's scheduler on every message.

Rasa runs its model as a graph: each message goes through `DaskGraphRunner.run` once for the NLU and once per
predicted action for the policies. Each run works out the part of the graph the targets need, builds a dask
graph and hands it to dask's synchronous scheduler, which orders the tasks, tracks their states and runs each
through an executor. Under chat load that machinery, outside the components themselves, was 9.5 % of Rasa's
CPU (py-spy, 3 December 2026, docs/benchmarks.md): more than the intent classifier.

Here each runner works out once per set of targets the nodes those need, in an order where every node comes
after the nodes it needs, and runs them one after the other with the same arguments dask would pass: each
need is the output (a `(node name, value)` pair) of the node or input of that name, or the name itself when
there is none (the component then warns or fails as it does under dask). Inputs are checked as Rasa checks
them, the result is the same dict, and a RuntimeError becomes GraphRunError as in Rasa. The nodes of our
prediction graph read their inputs and return new values (the NLU chain is a chain; the policies read the
tracker side by side), so the order among independent nodes changes nothing.

Installed when bankbot_channel is loaded (credentials.yml: `rasa run`, not training). A method missing in
another Rasa version is left alone and named in a warning, so Rasa still starts.
"""

from __future__ import annotations

import logging
from typing import Any

logger = logging.getLogger(__name__)
_installed = False
_PLANS = "_bankbot_plans"  # on a runner: targets -> [(node name, names of what it needs)], in run order


def plan(schema: Any, targets: list[str]) -> list[tuple[str, tuple[str, ...]]]:
    """The nodes of `schema` that `targets` need, each after everything it needs, with its needs in the
    order of its schema node (the order of dask's task arguments)."""
    minimal = schema.minimal_graph_schema(targets)
    order: list[tuple[str, tuple[str, ...]]] = []
    placed: set[str] = set()
    visiting: set[str] = set()

    def place(name: str) -> None:
        if name in placed or name not in minimal.nodes:  # an input placeholder, or already placed
            return
        if name in visiting:
            raise ValueError(f"the graph has a cycle through '{name}'")
        visiting.add(name)
        needs = tuple(minimal.nodes[name].needs.values())
        for need in needs:
            place(need)
        visiting.discard(name)
        placed.add(name)
        order.append((name, needs))

    for name in minimal.nodes:
        place(name)
    return order


def run(self: Any, inputs: dict[str, Any] | None = None, targets: list[str] | None = None) -> dict[str, Any]:
    """As DaskGraphRunner.run (same inputs check, node calls, result and errors), without dask."""
    from rasa.engine.exceptions import GraphRunError

    run_targets = targets if targets else self._graph_schema.target_names
    plans: dict[tuple[str, ...], list[tuple[str, tuple[str, ...]]]] = self.__dict__.setdefault(_PLANS, {})
    key = tuple(run_targets)
    if key not in plans:
        plans[key] = plan(self._graph_schema, list(run_targets))
    steps = plans[key]
    values: dict[str, Any] = {}
    node_names = {name for name, _ in steps}
    for input_name, input_value in (inputs or {}).items():
        if isinstance(input_value, str) and input_value in node_names | set(values):
            raise GraphRunError(
                f"Input value '{input_value}' clashes with a node name. Make sure "
                f"that none of the input names passed to the `run` method are the "
                f"same as node names in the graph schema."
            )
        values[input_name] = (input_name, input_value)
    logger.debug(f"Running graph with inputs: {inputs}, targets: {targets} and {self._execution_context}.")
    try:
        for name, needs in steps:
            values[name] = self._instantiated_nodes[name](*(values.get(need, need) for need in needs))
        return dict(values[target] for target in run_targets)
    except RuntimeError as e:
        raise GraphRunError("Error running runner.") from e


def install() -> None:
    """Patch once per process."""
    global _installed
    if _installed:
        return
    _installed = True
    from rasa.engine.runner.dask import DaskGraphRunner

    if "run" not in DaskGraphRunner.__dict__ or "_instantiate_nodes" not in DaskGraphRunner.__dict__:
        logger.warning("DaskGraphRunner.run not found: the graph runs through dask as in Rasa")
        return
    DaskGraphRunner.run = run
