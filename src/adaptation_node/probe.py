"""Talking to a running graph from plain Python: record topics, call services.

A ``Probe`` is an rclpy node in its own context, spun by a SingleThreadedExecutor in a
background thread, so the calling code stays ordinary sequential Python. The ROS
benchmark and the tests use it; ``call_service`` also serves nodes that wait for a
service answer from a worker thread (the rehearsal).
"""
from __future__ import annotations

import threading
import time
from typing import Any

import rclpy
from rclpy.client import Client
from rclpy.executors import SingleThreadedExecutor

from adaptation_node import dds


def call_service(client: Client, request: Any, timeout: float) -> Any:
    """Call and wait for the answer (the client's node must be spinning elsewhere);
    TimeoutError when the service is absent or silent for ``timeout`` s."""
    if not client.wait_for_service(timeout_sec=timeout):
        raise TimeoutError(f"service {client.srv_name} did not appear in {timeout} s")
    done = threading.Event()
    future = client.call_async(request)
    future.add_done_callback(lambda _: done.set())
    if not done.wait(timeout):
        raise TimeoutError(f"service {client.srv_name} did not answer in {timeout} s")
    return future.result()


class Probe:
    """An rclpy node for scripts and tests (see the module docstring)."""

    def __init__(self, domain_id: int | None = None, name: str = "probe") -> None:
        dds.configure()
        self.context = rclpy.Context()
        rclpy.init(context=self.context, domain_id=domain_id)
        self.node = rclpy.create_node(name, context=self.context)
        self.executor = SingleThreadedExecutor(context=self.context)
        self.executor.add_node(self.node)
        self.thread = threading.Thread(target=self.executor.spin, daemon=True)
        self.thread.start()

    def record(self, msg_type: type, topic: str, qos) -> list[tuple[float, Any]]:
        """A list that fills with (monotonic receive time, message) for ``topic``."""
        received: list[tuple[float, Any]] = []
        self.node.create_subscription(msg_type, topic,
                                      lambda msg: received.append((time.monotonic(), msg)), qos)
        return received

    def call(self, srv_type: type, name: str, request: Any, timeout: float = 20.0) -> Any:
        return call_service(self.node.create_client(srv_type, name), request, timeout)

    def close(self) -> None:
        self.executor.shutdown()
        self.node.destroy_node()
        self.context.try_shutdown()
