"""Process entry points for the nodes: init, spin, shut down.

``run_nodes`` is what every node module's ``main()`` calls. Nodes spin on a
SingleThreadedExecutor and keep their callbacks short; work that must not hold up the
others (the simulation loop, loading a policy) runs in a thread of its own. rclpy's
MultiThreadedExecutor was measured losing most of a 25 Hz demo here: once a callback
queued behind another, its spin loop re-dispatched the queued tasks in a hot loop that
starved the workers of the GIL. Ctrl-C or SIGTERM end a node cleanly (exit status 0).
"""
from __future__ import annotations

import sys
from typing import Callable, Sequence

import rclpy
from rclpy.executors import ExternalShutdownException, SingleThreadedExecutor
from rclpy.impl.implementation_singleton import rclpy_implementation
from rclpy.node import Node

from adaptation_node import dds

RCLError = rclpy_implementation.RCLError


def run_nodes(factories: Sequence[Callable[[], Node]], args: Sequence[str] | None = None) -> int:
    """Create the nodes (after ``rclpy.init(args)``) and spin them until shutdown.

    The exit status is the largest ``exit_code`` a node sets (0 when none does)."""
    dds.configure()
    rclpy.init(args=list(sys.argv if args is None else args))  # Ctrl-C/SIGTERM shut down
    nodes: list[Node] = []
    executor = SingleThreadedExecutor()
    try:
        for factory in factories:
            nodes.append(factory())
            executor.add_node(nodes[-1])
        executor.spin()
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    except RCLError:
        if rclpy.ok():  # a real failure; otherwise a signal shut the context mid-wait
            raise
    finally:
        for node in nodes:
            node.destroy_node()
        executor.shutdown()
        rclpy.try_shutdown()
    return max((getattr(node, "exit_code", 0) for node in nodes), default=0)
