"""The ``estop`` service of the nodes that command the arm (policy, mpc).

std_srvs/SetBool: true engages the stop, false releases it. Engaging it sends the node's
stop command at once; while it is engaged the node's watchdog keeps sending it.
"""
from __future__ import annotations

from typing import Callable

from rclpy.node import Node
from std_srvs.srv import SetBool


class EStop:
    """Serves ``estop`` on ``node``; ``engaged`` says whether the arm must stay stopped."""

    def __init__(self, node: Node, stop: Callable[[], None]) -> None:
        self.node, self.stop = node, stop
        self.engaged = False
        node.create_service(SetBool, "estop", self.serve)

    def serve(self, request: SetBool.Request, response: SetBool.Response) -> SetBool.Response:
        self.engaged = bool(request.data)
        if self.engaged:
            self.stop()
        response.success = True
        response.message = "stopped" if self.engaged else "released"
        self.node.get_logger().warn(f"estop {response.message}")
        return response
