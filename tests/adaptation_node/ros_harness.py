"""The ROS test harness: node processes, a fake arm to feed them, and waiting.

Nodes under test run as real processes (``python -m adaptation_node.X``) and talk to the
test over DDS, through the test's own node (``adaptation_node.probe.Probe``). The
fixtures that use these are in conftest.py.
"""
from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np
import yaml
from builtin_interfaces.msg import Time
from sensor_msgs.msg import Image, JointState

from adaptation_node import qos
from adaptation_node.messages import image_msg, joint_state_msg
from sim.reach import JOINT_NAMES


class NodeProcess:
    """One node running in its own process; its output goes to a log file."""

    def __init__(self, module: str, parameters: dict[str, Any], env: dict[str, str],
                 log: Path) -> None:
        args = [arg for name, value in parameters.items()
                for arg in ("-p", f"{name}:={_ros_value(value)}")]
        self.log = log
        self.output = log.open("w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", module, "--ros-args", *args],
            env=env, stdout=self.output, stderr=subprocess.STDOUT)

    def text(self) -> str:
        return self.log.read_text()

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 10.0) -> int:
        if self.alive():
            self.process.send_signal(sig)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.send_signal(signal.SIGUSR1)  # runner.run_nodes: dump every stack
            time.sleep(1.0)
            self.process.kill()
            self.process.wait()
            raise AssertionError(f"{self.log.stem} ignored signal {sig} for {timeout} s; "
                                 f"its log:\n{self.text()[-6000:]}")
        finally:
            self.output.close()


def _ros_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f"'{value}'"
    return repr(value)


def start_recording(probe, timeout: float = 30.0) -> str:
    """Call the recorder's ~/start until the streams reach it; the MCAP path."""
    from std_srvs.srv import Trigger

    deadline = time.monotonic() + timeout
    while True:
        response = probe.call(Trigger, "/demo_recorder/start", Trigger.Request())
        if response.success:
            return response.message
        if time.monotonic() > deadline:
            raise AssertionError(f"the recorder did not start: {response.message}")
        time.sleep(0.2)


def run_up(config: dict, path: Path, domain: int, seconds: int) -> dict:
    """Write ``config`` to ``path``, run ``oneshot up`` on it for at most ``seconds`` in its
    own processes, and return the rehearsal's result (the run must succeed)."""
    path.write_text(yaml.safe_dump(config))
    run = subprocess.run([sys.executable, "-m", "oneshot.cli", "up", str(path),
                          "--domain-id", str(domain), "--for", str(seconds)],
                         capture_output=True, text=True, timeout=seconds + 60)
    output = run.stdout + run.stderr
    assert run.returncode == 0, output[-3000:]
    return json.loads(output.split("rehearsal result: ", 1)[1].splitlines()[0])


def wait_until(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.02)


class FakeArm:
    """Publishes camera frames and joint states at 50 Hz until stopped: ``frame`` (or a
    fixed random one), or ``frame_at(step)`` for frames that change."""

    def __init__(self, probe, frame: Image | None = None, joints: JointState | None = None,
                 frame_at: Callable[[int], Image] | None = None):
        self.images = probe.node.create_publisher(Image, "image_raw", qos.IMAGES)
        self.joint_pub = probe.node.create_publisher(JointState, "joint_states", qos.STATE)
        rng = np.random.default_rng(1)
        fixed = frame or image_msg(rng.integers(0, 255, (64, 64, 3), dtype=np.uint8), Time())
        self.frame_at = frame_at or (lambda step: fixed)
        self.joints = joints or joint_state_msg(JOINT_NAMES, [0.3, -0.2], [0.0, 0.0], Time())
        self.last_sent = 0.0
        self.running = threading.Event()
        self.running.set()
        self.thread = threading.Thread(target=self.loop, daemon=True)
        self.thread.start()

    def loop(self) -> None:
        step = 0
        while self.running.is_set():
            self.joint_pub.publish(self.joints)
            self.images.publish(self.frame_at(step))
            step += 1
            self.last_sent = time.monotonic()
            time.sleep(0.02)

    def stop(self) -> float:
        self.running.clear()
        self.thread.join()
        return self.last_sent
