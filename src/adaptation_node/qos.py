"""The QoS profiles of the graph (ARCHITECTURE.md, ROS 2 graph).

Image publishers are reliable (``IMAGES``), so a subscriber may choose: the policy takes
the sensor-data profile (best effort: a late frame is worth nothing, never wait for one),
the recorder asks for reliable delivery with a deep queue (``RECORD``) and gets every
frame. Commands and states are reliable too. A reliable keep-last publisher drops a
sample a slow reader has not yet acknowledged once ``depth`` newer ones are sent, so
these publishers keep ``BACKLOG`` samples: a recorder that falls that far behind (about
1.7 s of a 30 Hz camera) still loses nothing. Announcements (a recorded demo, an adapted
policy) are reliable and transient-local, so a node that starts later still gets the
last one.
"""
from __future__ import annotations

from rclpy.qos import (
    DurabilityPolicy,
    HistoryPolicy,
    QoSProfile,
    ReliabilityPolicy,
    qos_profile_sensor_data,
)

BACKLOG = 50


def _reliable(depth: int) -> QoSProfile:
    return QoSProfile(depth=depth, reliability=ReliabilityPolicy.RELIABLE,
                      history=HistoryPolicy.KEEP_LAST)


SENSOR = qos_profile_sensor_data
IMAGES = _reliable(BACKLOG)
COMMAND = _reliable(BACKLOG)
STATE = _reliable(BACKLOG)
RECORD = _reliable(4 * BACKLOG)
LATCHED = QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE,
                     history=HistoryPolicy.KEEP_LAST,
                     durability=DurabilityPolicy.TRANSIENT_LOCAL)
