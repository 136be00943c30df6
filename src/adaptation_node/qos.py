"""The QoS profiles of the graph (ARCHITECTURE.md, ROS 2 graph).

Image publishers are reliable and shallow (``IMAGES``), so a subscriber may choose: the
policy takes the sensor-data profile (best effort: a late frame is worth nothing, never
wait for one), the recorder asks for reliable delivery and gets every frame. Commands
and states are reliable and shallow; announcements (a recorded demo, an adapted policy)
are reliable and transient-local, so a node that starts later still gets the last one.
"""
from __future__ import annotations

from rclpy.qos import (
    DurabilityPolicy,
    HistoryPolicy,
    QoSProfile,
    ReliabilityPolicy,
    qos_profile_sensor_data,
)

SENSOR = qos_profile_sensor_data
IMAGES = QoSProfile(depth=5, reliability=ReliabilityPolicy.RELIABLE,
                    history=HistoryPolicy.KEEP_LAST)
COMMAND = QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE,
                     history=HistoryPolicy.KEEP_LAST)
STATE = QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE,
                   history=HistoryPolicy.KEEP_LAST)
LATCHED = QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE,
                     history=HistoryPolicy.KEEP_LAST,
                     durability=DurabilityPolicy.TRANSIENT_LOCAL)
