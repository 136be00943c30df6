"""Declared node parameters: a description and a range for each, validated by rclpy.

An out-of-range value given at start-up is logged and replaced by the default, so a bad
launch file leaves a running node; ``ros2 param set`` with a bad value is refused by
rclpy with the range in the reason, and the node keeps its old value.
"""
from __future__ import annotations

from typing import Any

from rcl_interfaces.msg import FloatingPointRange, IntegerRange, ParameterDescriptor
from rclpy.exceptions import InvalidParameterValueException
from rclpy.node import Node


def declare(node: Node, name: str, default: Any, description: str,
            low: float | None = None, high: float | None = None) -> Any:
    """Declare ``name`` (typed by ``default``) and return its value."""
    descriptor = ParameterDescriptor(description=description)
    if low is not None and high is not None:
        if isinstance(default, bool) or not isinstance(default, (int, float)):
            raise TypeError(f"parameter {name}: a range needs a numeric default")
        if isinstance(default, int):
            descriptor.integer_range = [IntegerRange(from_value=int(low), to_value=int(high), step=0)]
        else:
            descriptor.floating_point_range = [
                FloatingPointRange(from_value=float(low), to_value=float(high), step=0.0)]
    try:
        return node.declare_parameter(name, default, descriptor).value
    except InvalidParameterValueException as error:
        node.get_logger().error(f"parameter {name}: {error}; using the default {default!r}")
        return node.declare_parameter(name, default, descriptor,
                                      ignore_override=True).value
