"""`oneshot bench ros`: how the ROS 2 graph performs between processes on this machine.

A benchmark, not a test: it starts real node processes, measures over DDS and writes
JSON. Two parts:

- image transport: the twin publishes 640x480 RGB at 30 Hz (reliable); a subscriber in
  this process measures latency (receive time - header stamp) and drops (gaps between
  consecutive stamps of more than 1.5 frame periods);
- closed loop: the twin at 10 Hz and the policy node with an adapted shipped policy; for
  each command, the latency from the stamp of the newest frame before it; a frame that no
  command answered before the next frame is a missed control tick. The twin is reset
  every few seconds so the arm keeps moving. The resident memory of both node processes
  is read after a warm-up and at the end (``--control-seconds 600`` is the 10-minute run).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from bisect import bisect_right
from pathlib import Path

import numpy as np

from adaptation_node import qos
from adaptation_node.bringup import BASE_ENV, Graph, NodeSpec, RunningGraph
from adaptation_node.messages import stamp_ns
from adaptation_node.probe import Probe

WARMUP_S = 20.0
RESET_EVERY_S = 3.0
DEFAULT_DOMAIN = 97


def resident_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for process {pid}")


def start(nodes: list[NodeSpec], domain: int, folder: Path) -> RunningGraph:
    env = {**os.environ, **BASE_ENV, "ROS_DOMAIN_ID": str(domain), "OMP_NUM_THREADS": "1",
           "ROS_AUTOMATIC_DISCOVERY_RANGE": "LOCALHOST"}
    return RunningGraph(Graph(Path("bench-ros"), nodes, {}, None), env, folder)


def wait_for(received: list, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not received:
        if time.monotonic() > deadline:
            raise TimeoutError(f"no {what} within {seconds} s")
        time.sleep(0.05)


def record_stamped(probe: Probe, msg_type: type, topic: str, profile) -> list[tuple[int, int]]:
    """(receive time, header stamp) in ns of every message on ``topic``."""
    received: list[tuple[int, int]] = []
    probe.node.create_subscription(
        msg_type, topic, lambda msg: received.append((time.time_ns(), stamp_ns(msg))), profile)
    return received


def image_transport(domain: int, seconds: float, folder: Path) -> dict:
    from sensor_msgs.msg import Image

    rate, width, height = 30.0, 640, 480
    graph = start([NodeSpec("sim_twin", {"rate_hz": rate, "image_width": width,
                                         "image_height": height})], domain, folder)
    probe = Probe(domain, "bench_images")
    try:
        frames = record_stamped(probe, Image, "image_raw", qos.IMAGES)
        wait_for(frames, 60.0, "image")
        time.sleep(2.0)
        first = len(frames)
        time.sleep(seconds)
        window = np.array(frames[first:], dtype=np.int64)
    finally:
        probe.close()
        graph.stop()
    latency_ms = (window[:, 0] - window[:, 1]) / 1e6
    gaps = np.diff(window[:, 1]) * rate / 1e9
    return {"image_size": [width, height], "image_rate_hz": rate, "image_frames": len(window),
            "image_mean_ms": float(latency_ms.mean()),
            "image_p99_ms": float(np.percentile(latency_ms, 99)),
            "image_drops": int(np.sum(np.maximum(np.round(gaps) - 1, 0)))}


def adapted_policy(folder: Path, checkpoint: Path) -> Path:
    """The shipped checkpoint adapted on one expert demo of a held-out colour."""
    from meta_policy.adapt import adapt, load_mil
    from oneshot.evaluate import record_demo
    from sim.colours import task_colour
    from sim.reach import ReachEnv

    env = ReachEnv(split="heldout")
    task = {"family": "reach", "colour": list(task_colour("heldout", 0))}
    demo = record_demo(env, task, np.random.default_rng(0), folder / "demo")
    env.close()
    return adapt(load_mil(checkpoint), demo).save(folder / "policy", ["oneshot", "bench", "ros"])


def closed_loop(domain: int, seconds: float, folder: Path, checkpoint: Path) -> dict:
    from sensor_msgs.msg import Image
    from std_msgs.msg import Float64MultiArray
    from std_srvs.srv import Trigger

    rate = 10.0
    policy = adapted_policy(folder, checkpoint)
    graph = start([NodeSpec("sim_twin", {"rate_hz": rate}),
                   NodeSpec("policy", {"rate_hz": rate, "policy": str(policy)})], domain, folder)
    probe = Probe(domain, "bench_loop")
    try:
        frames = record_stamped(probe, Image, "image_raw", qos.IMAGES)
        commands: list[tuple[int, bool]] = []  # (receive time, whether it moves the arm)
        probe.node.create_subscription(
            Float64MultiArray, "cmd/joint",
            lambda msg: commands.append((time.time_ns(), any(msg.data))), qos.COMMAND)
        reset = probe.node.create_client(Trigger, "sim/reset")
        wait_for(frames, 60.0, "image")
        time.sleep(WARMUP_S)
        memory_start = {name: resident_kib(p.pid) for name, p in graph.processes.items()}
        first_frame, first_command = len(frames), len(commands)
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            reset.call_async(Trigger.Request())
            time.sleep(min(RESET_EVERY_S, max(0.0, end - time.monotonic())))
        memory_end = {name: resident_kib(p.pid) for name, p in graph.processes.items()}
        window = np.array(frames[first_frame:], dtype=np.int64)
        command_times = [when for when, moving in commands[first_command:] if moving]
    finally:
        probe.close()
        graph.stop()
    return {"control_rate_hz": rate, "control_seconds": seconds,
            **command_latency(window, command_times),
            "memory_growth": {name: (memory_end[name] - memory_start[name]) / memory_start[name]
                              for name in memory_start}}


def command_latency(frames: np.ndarray, command_times: list[int]) -> dict:
    """Latency of each command from the newest frame received before it, and the frames
    no command answered before the next frame arrived (missed ticks)."""
    received = frames[:, 0].tolist()
    latencies, answered = [], set()
    for when in command_times:
        index = bisect_right(received, when) - 1
        if index >= 0 and index not in answered:
            answered.add(index)
            latencies.append((when - frames[index, 1]) / 1e6)
    ticks = len(frames) - 1  # the last frame's answer may fall after the window
    missed = sum(1 for i in range(ticks) if i not in answered)
    latencies = np.array(latencies)
    return {"ticks": ticks, "missed_ticks": missed, "missed_tick_fraction": missed / ticks,
            "command_mean_ms": float(latencies.mean()),
            "command_p99_ms": float(np.percentile(latencies, 99))}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="oneshot bench ros", description=__doc__.splitlines()[0])
    parser.add_argument("--json", required=True, type=Path)
    parser.add_argument("--image-seconds", type=float, default=20.0)
    parser.add_argument("--control-seconds", type=float, default=60.0,
                        help="closed-loop run after a warm-up (600 for the 10-minute soak)")
    parser.add_argument("--checkpoint", type=Path, default=Path("checkpoints/mil-reach"))
    parser.add_argument("--domain-id", type=int, default=DEFAULT_DOMAIN)
    args = parser.parse_args(argv)
    os.environ.update(ROS_AUTOMATIC_DISCOVERY_RANGE="LOCALHOST")  # before any rclpy.init
    with tempfile.TemporaryDirectory(prefix="oneshot-bench-ros-") as tmp:
        folder = Path(tmp)
        result = {**image_transport(args.domain_id, args.image_seconds, folder),
                  **closed_loop(args.domain_id, args.control_seconds, folder, args.checkpoint)}
    result["machine"] = {"cpus": os.cpu_count(), "platform": platform.platform()}
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({k: v for k, v in result.items() if k != "machine"}, indent=2))
    return 0
