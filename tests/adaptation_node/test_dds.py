"""Stale Fast DDS shared memory: what killed nodes leave in /dev/shm is found and freed,
what live participants use is kept."""
from __future__ import annotations

import fcntl
import os
import subprocess
import sys
import time
from pathlib import Path

from std_msgs.msg import Int64

from adaptation_node import dds

# A node that publishes a counter on /leak until it is killed.
NODE = """
import rclpy
from std_msgs.msg import Int64
rclpy.init()
node = rclpy.create_node("leaker")
publisher = node.create_publisher(Int64, "leak", 10)
count = Int64()
def tick():
    count.data += 1
    publisher.publish(count)
node.create_timer(0.05, tick)
rclpy.spin(node)
"""


def _segment(directory: Path, name: str, size: int = 1000) -> list[Path]:
    files = [directory / name, directory / f"{name}_el", directory / f"sem.{name}_mutex"]
    for path in files:
        path.write_bytes(b"\0" * size)
    return files


def test_only_segments_whose_lock_nobody_holds_are_stale(tmp_path: Path) -> None:
    dead = _segment(tmp_path, "fastdds_0123456789abcdef")
    live = _segment(tmp_path, "fastdds_port7411")
    (tmp_path / "unrelated").write_bytes(b"x")
    held = os.open(live[1], os.O_RDONLY)
    fcntl.flock(held, fcntl.LOCK_EX)
    try:
        assert dds.stale_segments(tmp_path) == sorted(dead[:2]) + [dead[2]]
        assert dds.remove_stale_segments(tmp_path) == 3000
    finally:
        os.close(held)
    assert not any(p.exists() for p in dead)
    assert all(p.exists() for p in live) and (tmp_path / "unrelated").exists()


def _held_segments(pid: int) -> set[Path]:
    """The segment lock files process ``pid`` holds open (not ports', which are shared)."""
    fds = Path(f"/proc/{pid}/fd")
    held = {Path(os.readlink(fd)) for fd in fds.iterdir() if fd.exists()}
    return {p for p in held if p.parent == dds.SHM_DIR and p.name.startswith("fastdds_")
            and p.name.endswith("_el") and "port" not in p.name}


def _wait_for_segments(nodes: list[subprocess.Popen], received: list) -> None:
    """Until the probe hears the nodes and each has its segment: Fast DDS makes a
    participant's segment when it first has data for another on this host."""
    deadline = time.monotonic() + 20
    while not (received and all(_held_segments(n.pid) for n in nodes)):
        assert time.monotonic() < deadline, "the nodes made no shared-memory segments"
        time.sleep(0.1)


def test_a_killed_nodes_segments_are_freed_and_a_live_ones_kept(ros_env, probe) -> None:
    received = probe.record(Int64, "leak", 10)
    killed, live = nodes = [subprocess.Popen([sys.executable, "-c", NODE], env=ros_env)
                            for _ in range(2)]
    try:
        _wait_for_segments(nodes, received)
        killed_segments, live_segments = _held_segments(killed.pid), _held_segments(live.pid)
        assert not (killed_segments | live_segments) & set(dds.stale_segments())
        killed.kill()
        killed.wait()
        stale = set(dds.stale_segments())
        assert killed_segments <= stale and not live_segments & stale
        assert dds.remove_stale_segments() >= 16 * 2**20    # fastdds.xml's segment size
        for lock in killed_segments:
            assert not lock.exists() and not lock.with_name(lock.name[:-3]).exists()
        assert all(lock.exists() for lock in live_segments)
    finally:
        for node in nodes:
            node.kill()
            node.wait()
        dds.remove_stale_segments()
