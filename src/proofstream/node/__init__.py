"""The composition root: the one place that knows every adapter.

- ``wiring``: start-up, from settings and a project folder to every part composed over its ports;
- ``running``: the :class:`Node` that runs them (gateway, pipeline and prover threads) and stops them.

Only the entry points that start a node import it: the CLI, the demo and the simulation ``project run`` drives
(``tests/architecture`` keeps that rule).
"""

from proofstream.node.running import Node

__all__ = ["Node"]
