"""The adaptation node: one-shot adaptation of the meta-trained policy on each new demo.

It loads the meta-trained checkpoint once, then for every episode announced on
``demo/recorded`` runs the inner loop on it (thesis Algorithm 9, test time), saves the
adapted policy as ``OUT/policy-vNNNN`` and announces ``{"path", "version", "demo"}`` on
``policy/adapted``; the policy node hot-swaps it. Versions keep increasing across
restarts (they continue from the newest directory in ``OUT``). The adaptation time goes
out on ``adaptation/latency_ms``. A demo that cannot be used is logged and skipped.
"""
from __future__ import annotations

import re
import time
from pathlib import Path

from rclpy.node import Node
from std_msgs.msg import Float64, String

from adaptation_node import qos
from adaptation_node.messages import MessageError, json_from_msg, json_msg
from adaptation_node.params import declare
from adaptation_node.runner import run_nodes
from episodes import EpisodeError
from meta_policy.adapt import MetaTrainedMIL, adapt, load_mil
from meta_policy.data import DemoError
from metalearn.checkpoint import CheckpointError

VERSION_DIR = re.compile(r"policy-v(\d+)$")


def latest_version(out_dir: Path) -> int:
    """The highest version among ``policy-vNNNN`` directories in ``out_dir`` (0 if none)."""
    versions = [int(m.group(1)) for p in out_dir.glob("policy-v*")
                if (m := VERSION_DIR.search(p.name))]
    return max(versions, default=0)


class AdaptationNode(Node):
    """Adapts the meta-trained policy to each recorded demo (see the module docstring)."""

    def __init__(self) -> None:
        super().__init__("adaptation")
        self.checkpoint = checkpoint = declare(self, "checkpoint", "checkpoints/mil-reach", "meta-trained checkpoint")
        self.out_dir = Path(declare(self, "out_dir", "adapted", "where adapted policies go"))
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self.version = latest_version(self.out_dir)
        self.model: MetaTrainedMIL | None = None
        try:
            self.model = load_mil(checkpoint)
        except (CheckpointError, OSError) as error:
            self.get_logger().error(f"checkpoint not loaded, demos will be skipped: {error}")
        self.adapted_pub = self.create_publisher(String, "policy/adapted", qos.LATCHED)
        self.latency_pub = self.create_publisher(Float64, "adaptation/latency_ms", qos.STATE)
        self.create_subscription(String, "demo/recorded", self.on_demo, qos.LATCHED)

    def on_demo(self, msg: String) -> None:
        try:
            demo = Path(json_from_msg(msg, ("path",))["path"])
        except MessageError as error:
            self.get_logger().error(f"demo/recorded skipped: {error}")
            return
        if self.model is None:
            self.get_logger().error(f"demo {demo} skipped: no checkpoint is loaded")
            return
        start = time.perf_counter()
        try:
            policy = adapt(self.model, demo, version=self.version + 1)
        except (DemoError, EpisodeError, OSError) as error:
            self.get_logger().error(f"demo {demo} skipped: {error}")
            return
        self.version += 1
        out = self.out_dir / f"policy-v{self.version:04d}"
        policy.save(out, ["oneshot", "adapt", "--checkpoint", self.checkpoint,
                          "--demo", str(demo), "--out", str(out)])
        latency_ms = (time.perf_counter() - start) * 1e3
        self.latency_pub.publish(Float64(data=latency_ms))
        self.adapted_pub.publish(json_msg({"path": str(out), "version": self.version,
                                           "demo": str(demo)}))
        self.get_logger().info(f"adapted v{self.version} on {demo} in {latency_ms:.1f} ms")


def main(args: list[str] | None = None) -> int:
    return run_nodes([AdaptationNode], args)


if __name__ == "__main__":
    raise SystemExit(main())
