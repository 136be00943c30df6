"""Process entry points for the nodes: init, spin, shut down.

``run_nodes`` is what every node module's ``main()`` calls. Nodes spin on a
SingleThreadedExecutor and keep their callbacks short; work that must not hold up the
others (the simulation loop, loading a policy) runs in a thread of its own. rclpy's
MultiThreadedExecutor was measured losing most of a 25 Hz demo here: once a callback
queued behind another, its spin loop re-dispatched the queued tasks in a hot loop that
starved the workers of the GIL. Ctrl-C or SIGTERM end a node cleanly (exit status 0);
SIGUSR1 prints every thread's stack to stderr, to see where a stuck node waits.
"""
from __future__ import annotations

import faulthandler
import signal
import sys
from typing import Callable, Sequence

import rclpy
from rclpy.executors import ExternalShutdownException, SingleThreadedExecutor
from rclpy.impl.implementation_singleton import rclpy_implementation
from rclpy.node import Node

from adaptation_node import dds

RCLError = rclpy_implementation.RCLError
# The executor's wait can miss the wake-up of a signal's shutdown (a node under test sat in
# it for 10 s after SIGTERM about once in 20 stops), so it never waits longer than this.
WAKE_S = 0.5


def run_nodes(factories: Sequence[Callable[[], Node]], args: Sequence[str] | None = None) -> int:
    """Create the nodes (after ``rclpy.init(args)``) and spin them until shutdown.

    The exit status is the largest ``exit_code`` a node sets (0 when none does)."""
    dds.configure()
    faulthandler.register(signal.SIGUSR1, all_threads=True)
    rclpy.init(args=list(sys.argv if args is None else args))  # Ctrl-C/SIGTERM shut down
    nodes: list[Node] = []
    executor = SingleThreadedExecutor()
    try:
        for factory in factories:
            nodes.append(factory())
            executor.add_node(nodes[-1])
        while rclpy.ok():
            executor.spin_once(timeout_sec=WAKE_S)
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
