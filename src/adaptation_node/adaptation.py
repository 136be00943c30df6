"""The adaptation node: one-shot adaptation of the meta-trained policy on each new demo.

It loads the meta-trained checkpoint once, then for every episode announced on
``demo/recorded`` runs the inner loop on it (thesis Algorithm 9, test time), saves the
adapted policy as ``OUT/policy-vNNNN`` and announces ``{"path", "version", "demo"}`` on
``policy/adapted``; the policy node hot-swaps it. Versions keep increasing across
restarts (they continue from the newest directory in ``OUT``). The adaptation time goes
out on ``adaptation/latency_ms``. A demo that cannot be used is logged and skipped,
and the node waits for the next one.

The checkpoint's ``kind`` picks the method, so one graph config serves both:

- ``mil``: MIL adapts on a robot demo (frames, state and actions); a human video has no
  actions and is refused (``meta_policy.data.load_demo``).
- ``daml``: DAML adapts on a video of a person doing the task (thesis Algorithm 11): the
  announced path is anything ``meta_policy.video.load_video`` reads (an episode, human or
  robot, of which only the frames count; an mp4; a ROS 2 log). A video that is too short,
  of another size than the policy's camera or all black is refused with the reason.

With ``flo_checkpoint`` set, every demo also gives a goal (thesis ch. 8.2: a goal
classifier inferred from K pictures of success, L4648-L4696; the end of a demonstration
shows the task done): the demo episode's last K frames (K as the FLO checkpoint was
meta-trained), resized to the classifier's input, go through FLO's inner step; the goal
is saved as ``OUT/goal-vNNNN`` and announced as ``{"path", "version", "demo",
"latency_ms"}`` on ``goal/adapted``, where the planner node takes it. Either part runs
without the other: ``checkpoint`` may fail to load while goals are inferred.
"""
from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Callable

import numpy as np
from PIL import Image
from rclpy.node import Node
from std_msgs.msg import Float64, String

from adaptation_node import qos
from adaptation_node.messages import MessageError, json_from_msg, json_msg
from adaptation_node.params import declare
from adaptation_node.runner import run_nodes
from episodes import EpisodeError, read_episode
from goal_classifier.goal import Goal, GoalImageError, MetaTrainedFLO, infer_goal, load_flo
import meta_policy.adapt as mil
import meta_policy.daml_adapt as daml
from meta_policy.data import DemoError
from meta_policy.video import VideoError
from metalearn.checkpoint import CheckpointError, load_kind

VERSION_DIR = re.compile(r"(?:policy|goal)-v(\d+)$")

MetaTrained = mil.MetaTrainedMIL | daml.MetaTrainedDAML
Adapted = mil.AdaptedPolicy | daml.AdaptedDAML
# A checkpoint kind -> how to load it; every kind the node can adapt is listed here.
LOADERS: dict[str, Callable[[str], MetaTrained]] = {"mil": mil.load_mil, "daml": daml.load_daml}
# What a demo can be refused for, by either method (VideoError and DemoError name the
# file and the reason; OSError: it vanished or cannot be read).
UNUSABLE_DEMO = (DemoError, VideoError, EpisodeError, OSError)


def latest_version(out_dir: Path, prefix: str = "policy") -> int:
    """The highest version among ``{prefix}-vNNNN`` directories in ``out_dir`` (0 if none)."""
    versions = [int(m.group(1)) for p in out_dir.glob(f"{prefix}-v*")
                if (m := VERSION_DIR.search(p.name))]
    return max(versions, default=0)


def last_frames(demo: Path, count: int, size: tuple[int, int]) -> np.ndarray:
    """The demo episode's last ``count`` frames, resized to ``size`` = (width, height) by
    averaging the pixels each one covers; EpisodeError or GoalImageError if it has fewer."""
    frames = read_episode(demo).frames
    if len(frames) < count:
        raise GoalImageError(f"{demo}: {len(frames)} frames, a goal needs the last {count}")
    return np.stack([np.asarray(Image.fromarray(np.asarray(frame)).resize(
        size, Image.Resampling.BOX)) for frame in frames[-count:]])


def goal_of_demo(flo: MetaTrainedFLO, demo: Path) -> Goal:
    """FLO's goal classifier inferred from the end of ``demo`` (module docstring)."""
    return infer_goal(flo, last_frames(demo, flo.cfg.k, tuple(flo.cfg.image_size)))


def load_meta_trained(path: str) -> tuple[str, MetaTrained]:
    """The checkpoint at ``path`` and its kind, loaded by the loader of that kind.

    A kind the node cannot adapt (an already adapted policy, a baseline) is a
    CheckpointError naming the kinds it can."""
    _, config, _ = load_kind(path, *LOADERS)
    kind = config["kind"]
    return kind, LOADERS[kind](path)


def adapt_on(model: MetaTrained, demo: Path, version: int) -> Adapted:
    """One-shot adaptation of ``model`` on ``demo`` with its own method's ``adapt``."""
    if isinstance(model, daml.MetaTrainedDAML):
        return daml.adapt(model, demo, version=version)
    return mil.adapt(model, demo, version=version)


class AdaptationNode(Node):
    """Adapts the meta-trained policy to each recorded demo (see the module docstring)."""

    def __init__(self) -> None:
        super().__init__("adaptation")
        self.checkpoint = checkpoint = declare(self, "checkpoint", "checkpoints/mil-reach", "meta-trained checkpoint")
        self.out_dir = Path(declare(self, "out_dir", "adapted", "where adapted policies go"))
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self.version = latest_version(self.out_dir)
        self.kind: str | None = None
        self.model: MetaTrained | None = None
        try:
            self.kind, self.model = load_meta_trained(checkpoint)
            self.get_logger().info(f"{self.kind} checkpoint {checkpoint} loaded")
        except (CheckpointError, OSError) as error:
            self.get_logger().error(f"checkpoint not loaded, no policy will be adapted: "
                                    f"{error}")
        self.flo = self._load_flo(declare(self, "flo_checkpoint", "", "FLO checkpoint: infer "
                                          "a goal from each demo's last frames (empty: off)"))
        self.goal_version = latest_version(self.out_dir, "goal")
        self.adapted_pub = self.create_publisher(String, "policy/adapted", qos.LATCHED)
        self.goal_pub = self.create_publisher(String, "goal/adapted", qos.LATCHED)
        self.latency_pub = self.create_publisher(Float64, "adaptation/latency_ms", qos.STATE)
        self.create_subscription(String, "demo/recorded", self.on_demo, qos.LATCHED)

    def _load_flo(self, checkpoint: str) -> MetaTrainedFLO | None:
        if not checkpoint:
            return None
        try:
            flo = load_flo(checkpoint)
        except (CheckpointError, OSError) as error:
            self.get_logger().error(f"FLO checkpoint not loaded, no goals: {error}")
            return None
        self.get_logger().info(f"FLO checkpoint {checkpoint} loaded: goals from the last "
                               f"{flo.cfg.k} frames of each demo")
        return flo

    def on_demo(self, msg: String) -> None:
        try:
            demo = Path(json_from_msg(msg, ("path",))["path"])
        except MessageError as error:
            self.get_logger().error(f"demo/recorded skipped: {error}")
            return
        if self.model is None and self.flo is None:
            self.get_logger().error(f"demo {demo} skipped: no checkpoint is loaded")
            return
        if self.model is not None:
            self.adapt_policy(demo)
        if self.flo is not None:
            self.infer_goal(demo)

    def adapt_policy(self, demo: Path) -> None:
        """Adapt the policy on ``demo``, save it and announce it."""
        start = time.perf_counter()
        try:
            policy = adapt_on(self.model, demo, self.version + 1)
        except UNUSABLE_DEMO as error:
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
        self.get_logger().info(f"adapted v{self.version} ({self.kind}) on {demo} "
                               f"in {latency_ms:.1f} ms")

    def infer_goal(self, demo: Path) -> None:
        """Infer the goal classifier from the end of ``demo``, save it and announce it."""
        start = time.perf_counter()
        try:
            goal = goal_of_demo(self.flo, demo)
        except (GoalImageError, EpisodeError, OSError) as error:
            self.get_logger().error(f"no goal from demo {demo}: {error}")
            return
        self.goal_version += 1
        out = self.out_dir / f"goal-v{self.goal_version:04d}"
        goal.source["demo"] = str(demo)
        goal.save(out, ["python", "-m", "adaptation_node.adaptation", "--ros-args", "-p",
                        f"flo_checkpoint:={self.flo.path}", "-p", f"out_dir:={self.out_dir}"])
        latency_ms = (time.perf_counter() - start) * 1e3
        self.goal_pub.publish(json_msg({"path": str(out), "version": self.goal_version,
                                        "demo": str(demo), "latency_ms": latency_ms}))
        self.get_logger().info(f"goal v{self.goal_version} from the end of {demo} "
                               f"in {latency_ms:.1f} ms")


def main(args: list[str] | None = None) -> int:
    return run_nodes([AdaptationNode], args)


if __name__ == "__main__":
    raise SystemExit(main())
