"""Fixtures for ROS tests: a fresh ROS_DOMAIN_ID per test, node processes, a probe node."""
from __future__ import annotations

import itertools
import os
import signal
from typing import Any

import pytest

from adaptation_node import dds
from adaptation_node.probe import Probe
from ros_harness import NodeProcess

# The test's own participants use the nodes' transport and find them on this host only,
# which is much faster than multicast discovery (set before any rclpy.init).
DDS_ENV = {**dds.ENV, "ROS_AUTOMATIC_DISCOVERY_RANGE": "LOCALHOST"}
for _name, _value in DDS_ENV.items():
    os.environ.setdefault(_name, _value)

# Only domain ids 0-101 are safe on Linux: higher ones map (7400 + 250 d) into the
# ephemeral port range, where other sockets take the ports and DDS traffic is lost. Each
# pytest run cycles through a block of ten ids chosen by its process id, so runs side by
# side do not share a domain; a test's nodes are gone before its id comes round again.
_DOMAINS = itertools.cycle(range(10 + (os.getpid() % 8) * 10, 20 + (os.getpid() % 8) * 10))


@pytest.fixture
def ros_domain() -> int:
    return next(_DOMAINS)


@pytest.fixture
def ros_env(ros_domain: int) -> dict[str, str]:
    """The environment of node processes: the test's domain, large-data transport."""
    return {**os.environ, **DDS_ENV, "ROS_DOMAIN_ID": str(ros_domain), "MUJOCO_GL": "egl",
            "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}


@pytest.fixture
def start_node(ros_env, tmp_path):
    """``start_node(module, **parameters) -> NodeProcess``; all are stopped at teardown."""
    started: list[NodeProcess] = []

    def start(module: str, **parameters: Any) -> NodeProcess:
        name = module.rsplit(".", 1)[-1]
        node = NodeProcess(module, parameters, ros_env, tmp_path / f"{name}-{len(started)}.log")
        started.append(node)
        return node

    yield start
    for node in started:
        if node.alive():
            node.stop(signal.SIGKILL)


@pytest.fixture
def probe(ros_domain):
    node = Probe(ros_domain)
    yield node
    node.close()
