"""Middleware settings every process of the graph shares: the Fast DDS profile in
``fastdds.xml`` (camera frames through a large shared-memory segment, UDP to other hosts).

``configure()`` puts them in this process's environment unless the user set them, and
must run before ``rclpy.init``; child processes inherit them. ``ENV`` is the same for
launching processes with an explicit environment.
"""
from __future__ import annotations

import os
from pathlib import Path

PROFILE = Path(__file__).with_name("fastdds.xml")
ENV = {"FASTDDS_DEFAULT_PROFILES_FILE": str(PROFILE)}


def configure() -> None:
    for name, value in ENV.items():
        os.environ.setdefault(name, value)
