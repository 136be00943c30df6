"""The planner node: FLO's goal classifiers and planner on a pushing robot through ROS.

Thesis ch. 8.2: a goal is a success classifier inferred from K pictures of it (L4648-L4696);
its probability is a reward only from the second consecutive frame above a threshold
(L4697-L4711); compound tasks cascade sub-goals, moving on when one fires (L4712-L4728);
and a planner reaches a goal by model-predictive control with CEM, scoring the predicted
frames of candidate actions with the classifier (L4781-L4790).

Goals: the ``goals`` parameter lists sub-goals, in order, comma-separated; each is a goal
written by ``oneshot goal infer`` (or by the adaptation node) or a folder of K positive
images, inferred here with the FLO ``checkpoint``. A goal announced on ``goal/adapted``
(``{"path"}``, as the adaptation node sends after a demo) replaces the cascade with that one
goal. In simulation ``goal_from_task`` infers the goal from K pictures of the task's
arrangement rendered by the twin, as a person would photograph the goal.

Every ``image_raw`` frame is scored by the current sub-goal; ``goal/probability``
(std_msgs/Float64) carries the probability and ``goal/reached`` (std_msgs/String, JSON:
sub-goal index and count, goal, probabilities and stamps of the frames that fired, done)
announces each sub-goal the reward rule accepts. The cascade starts afresh when a tracked
object jumps further than ``NEW_SCENE_M`` between two readings (a new scene was laid out).

On each new camera frame (at most ``rate_hz`` times a second; a planned action is 0.1 s
of pushing, so the twin should step once a frame) a thread of its own synchronises the predictive model, the MuJoCo arrangement twin of the
``task``, with what a tracker reports (``object_pose/first``, ``object_pose/second``:
positions and yaws; ``joint_states``: the rod's ``pusher_x``, ``pusher_y`` and, when given,
the arm's joints), plans with CEM on ``FLOCost`` (1 - p on the predicted frames) and sends
the first action as a rod velocity on ``cmd/ee_twist``, clamped to ``max_speed``. While no
goal is left, it sends zeros. ``cost: oracle`` plans on the task's true relation instead
(``OracleCost`` on the predicted object positions, thesis L4773-L4777; simulation only,
where the relation is known): the same graph with a perfect objective, which tells the
classifier's failures from the rest of the loop's; goals are still judged by the classifier. ``planner/latency_ms`` and ``planner/cost`` (the plan's
predicted cost) go out every plan.

Safety, as the mpc node's: a watchdog (every 50 ms, on the executor, so a plan in progress
does not hold it up) publishes zero twists while any input is older than ``stale_s`` and
while ``estop`` (std_srvs/SetBool) is engaged; a plan finished after that is dropped.
Images of another encoding or size than the classifier's and poses with non-finite values
are logged and skipped (they do not count as fresh input).
"""
from __future__ import annotations

import dataclasses
import math
import threading
import time
from collections import deque
from pathlib import Path

import numpy as np
from geometry_msgs.msg import PoseStamped, TwistStamped
from rclpy.node import Node
from sensor_msgs.msg import Image, JointState
from std_msgs.msg import Float64, String

from adaptation_node import qos
from adaptation_node.estop import EStop
from adaptation_node.messages import (
    MessageError,
    frame_from_msg,
    joints_from_msg,
    json_from_msg,
    json_msg,
    position_from_msg,
    stamp_ns,
    twist_msg,
    yaw_from_msg,
)
from adaptation_node.params import declare
from adaptation_node.robots import PR2_JOINTS
from adaptation_node.runner import RCLError, run_nodes
from adaptation_node.safety import CommandLimits, Watchdog
from adaptation_node.twins import ARRANGE_POSES, PUSHER_JOINTS, PUSHER_SPEED, task_of
from goal_classifier.cascade import Cascade
from goal_classifier.goal import (
    Goal,
    GoalImageError,
    MetaTrainedFLO,
    infer_goal,
    load_flo,
    load_goal,
    read_images,
)
from goal_classifier.plan_costs import Cost, FLOCost, OracleCost
from goal_classifier.planner import CEMConfig, plan
from goal_classifier.predictive import SUBSTEPS, TwinModel, TwinState
from metalearn.checkpoint import CheckpointError
from sim.arrange import ArrangeTask, ArrangeTwin, Configuration
from sim.arrange_pusher import place_pusher
from sim.colours import SPLITS

WATCHDOG_PERIOD_S = 0.05
INPUTS = ("image_raw", "joint_states", *ARRANGE_POSES)
NEW_SCENE_M = 0.05       # a tracked object that jumps further between readings: a new scene
NEW_SCENE_HOLD_S = 1.0   # jumps this soon after a new scene belong to it (the other object's)
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
COSTS = ("flo", "oracle")
UNUSABLE_GOAL = (GoalImageError, CheckpointError, OSError)


class SubGoal:
    """One goal of the cascade as its scorer: P(success) of a frame, the last one kept."""

    def __init__(self, goal: Goal, source: str) -> None:
        self.goal, self.source = goal, source
        self.last = math.nan

    def __call__(self, frame: np.ndarray) -> float:
        self.last = float(self.goal.score(frame[None])[0])
        return self.last


def goal_from(path: Path, flo: MetaTrainedFLO) -> Goal:
    """The goal at ``path``: a saved goal for ``flo``'s image size, or a folder of positive
    images inferred with ``flo``; GoalImageError if it is neither or cannot be used."""
    if (path / "config.json").is_file():
        goal = load_goal(path)
        if tuple(goal.net.cfg.image_size) != tuple(flo.cfg.image_size):
            raise GoalImageError(f"{path} scores {goal.net.cfg.image_size} images; the "
                                 f"camera is checked against {flo.cfg.image_size}")
        return goal
    if not path.is_dir():
        raise GoalImageError(f"{path} is neither a saved goal nor a folder of images")
    images = sorted(p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    return infer_goal(flo, read_images(images))


def task_positives(task: ArrangeTask, flo: MetaTrainedFLO, seed: int) -> np.ndarray:
    """K pictures of ``task`` done (uint8 [K, H, W, 3]), the arm and distractors at random,
    as a person would photograph the goal arrangement."""
    twin = ArrangeTwin(task, tuple(flo.cfg.image_size))
    rng = np.random.default_rng(seed)
    try:
        images = []
        for _ in range(flo.cfg.k):
            twin.sample_example(True, rng)
            images.append(twin.render())
        return np.stack(images)
    finally:
        twin.close()


class Tracker:
    """The newest tracked scene: object positions (x, y) and yaws, rod and arm joints."""

    def __init__(self) -> None:
        self.objects: dict[str, np.ndarray] = {}    # topic -> (x, y, yaw)
        self.pusher = np.zeros(2)
        self.arm: np.ndarray | None = None

    def update_object(self, topic: str, pose: np.ndarray) -> bool:
        """Keep ``pose``; whether it jumped further than NEW_SCENE_M from the last one."""
        last = self.objects.get(topic)
        self.objects[topic] = pose
        return last is not None and float(np.linalg.norm(pose[:2] - last[:2])) > NEW_SCENE_M


class PlannerNode(Node):
    """Score frames, cascade sub-goals, plan and push (see the module docstring)."""

    def __init__(self) -> None:
        super().__init__("planner")
        self._declare_control()
        self.task = self._task()
        self.flo = self._load_flo(declare(self, "checkpoint", "checkpoints/flo-arrange",
                                          "FLO checkpoint (oneshot train flo)"))
        self.cost = self._cost()
        self.goal_from_task = declare(self, "goal_from_task", False, "sim only: infer the "
                                      "goal from K pictures of the task rendered by the twin")
        self.tracker = Tracker()
        self.scene_at = -math.inf            # when the last new scene was seen
        self.lock = threading.Lock()         # the cascade and the tracker
        self.send_lock = threading.Lock()    # a plan's command vs the stop command
        self.cascade: Cascade | None = None
        self.stamps: deque[int] = deque(maxlen=self.consecutive)
        self.probabilities: deque[float] = deque(maxlen=self.consecutive)
        self.new_frame = threading.Event()   # a frame came since the last plan
        self._make_publishers()
        self._subscribe()
        self.estop = EStop(self, self.stop)
        self.start_cascade(self._goals(declare(self, "goals", "", "sub-goals in order, "
                                               "comma-separated: saved goals or folders of K "
                                               "positive images")))
        self.create_timer(WATCHDOG_PERIOD_S, self.guard)
        self.stopping = threading.Event()
        self.loop = threading.Thread(target=self.run_loop, name="planner", daemon=True)
        self.loop.start()

    # -- set-up -------------------------------------------------------------------------

    def _declare_control(self) -> None:
        """The loop's rate, safety, reward rule and planner sizes."""
        self.rate_hz = declare(self, "rate_hz", 10.0, "most plans a second (one a camera "
                               "frame; an action is 0.1 s of pushing)", 0.1, 50.0)
        stale_s = declare(self, "stale_s", 0.2, "inputs older than this stop the rod", 0.01, 5.0)
        self.watchdog = Watchdog(INPUTS, stale_s)
        max_speed = declare(self, "max_speed", PUSHER_SPEED, "command box: largest rod speed "
                            "per axis (m/s)", 0.001, 2.0)
        self.limits = CommandLimits([-max_speed] * 2, [max_speed] * 2)
        self.twist_frame = declare(self, "twist_frame", "world", "frame of the commanded twist")
        self.threshold = declare(self, "threshold", 0.5, "a frame counts as success above "
                                 "this probability", 0.0, 0.999)
        self.consecutive = declare(self, "consecutive", 2, "frames in a row above the "
                                   "threshold that reach a sub-goal", 1, 100)
        self.cem = self._cem_config()
        self.seed = declare(self, "seed", 0, "seed of the planner's sampling and of the "
                            "goal pictures of goal_from_task", 0, 2 ** 31 - 1)

    def _task(self) -> ArrangeTask:
        """The task whose scene the predictive twin shows (as the twin's parameters give it)."""
        split = declare(self, "split", "heldout", f"split of the task, one of {SPLITS}")
        if split not in SPLITS:
            self.get_logger().error(f"split {split!r} is not one of {SPLITS}; using 'heldout'")
            split = "heldout"
        task_seed = declare(self, "task_seed", 0, "seed that draws the task when 'task' is "
                            "empty (as the twin's seed does)", 0, 2 ** 31 - 1)
        return task_of(self, split, task_seed)

    def _cost(self) -> str:
        cost = declare(self, "cost", "flo", f"planning cost, one of {list(COSTS)} "
                       "(oracle: the task's true relation, simulation only)")
        if cost not in COSTS:
            self.get_logger().error(f"cost {cost!r} is not one of {list(COSTS)}; using 'flo'")
            return "flo"
        return cost

    def _cem_config(self) -> CEMConfig:
        """CEM's sizes from the parameters; the defaults where they do not fit together."""
        values = dict(
            horizon=declare(self, "horizon", 3, "CEM horizon (actions)", 1, 50),
            samples=declare(self, "samples", 32, "CEM candidates a round", 1, 10_000),
            elites=declare(self, "elites", 6, "CEM elites a round (at most samples)", 1, 10_000),
            iterations=declare(self, "iterations", 3, "CEM rounds a plan", 1, 50),
            max_step=declare(self, "max_step", 0.03, "largest planned rod move per axis and "
                             "action (m)", 0.001, 0.2))
        try:
            return CEMConfig(**values)
        except ValueError as error:
            self.get_logger().error(f"CEM parameters: {error}; using {CEMConfig()}")
            return CEMConfig()

    def _load_flo(self, checkpoint: str) -> MetaTrainedFLO:
        try:
            return load_flo(checkpoint)
        except (CheckpointError, OSError) as error:
            self.get_logger().fatal(f"no goal classifier to plan with: {error}")
            raise SystemExit(1) from None

    def _goals(self, text: str) -> list[SubGoal]:
        """The ``goals`` parameter's sub-goals; one that cannot be used is logged and left out."""
        goals = []
        for entry in filter(None, (e.strip() for e in text.split(","))):
            try:
                goals.append(SubGoal(goal_from(Path(entry), self.flo), entry))
            except UNUSABLE_GOAL as error:
                self.get_logger().error(f"goal {entry} left out: {error}")
        return goals

    def _make_publishers(self) -> None:
        self.command_pub = self.create_publisher(TwistStamped, "cmd/ee_twist", qos.COMMAND)
        self.reached_pub = self.create_publisher(String, "goal/reached", qos.LATCHED)
        self.probability_pub = self.create_publisher(Float64, "goal/probability", qos.STATE)
        self.latency_pub = self.create_publisher(Float64, "planner/latency_ms", qos.STATE)
        self.cost_pub = self.create_publisher(Float64, "planner/cost", qos.STATE)

    def _subscribe(self) -> None:
        self.create_subscription(Image, "image_raw", self.on_image, qos.IMAGES)
        self.create_subscription(JointState, "joint_states", self.on_joints, qos.STATE)
        for topic in ARRANGE_POSES:
            self.create_subscription(PoseStamped, topic, self._pose_of(topic), qos.STATE)
        self.create_subscription(String, "goal/adapted", self.on_goal, qos.LATCHED)

    # -- goals ----------------------------------------------------------------------------

    def start_cascade(self, goals: list[SubGoal]) -> None:
        """Work on ``goals`` from the first; none: hold the rod still."""
        with self.lock:
            self.cascade = Cascade(goals, self.threshold, self.consecutive) if goals else None
            self.stamps.clear()
            self.probabilities.clear()
        names = [g.source for g in goals]
        self.get_logger().info(f"goals {names}" if goals else "no goal: holding still")

    def restart(self) -> None:
        """The same goals again from the first (a new scene)."""
        goals = self.cascade.goals if self.cascade is not None else []
        self.get_logger().info("new scene: the cascade starts again")
        self.start_cascade(goals)

    def on_goal(self, msg: String) -> None:
        try:
            path = json_from_msg(msg, ("path",))["path"]
            goal = SubGoal(goal_from(Path(path), self.flo), path)
        except (MessageError, *UNUSABLE_GOAL) as error:
            self.get_logger().error(f"goal/adapted skipped: {error}")
            return
        self.start_cascade([goal])

    def current(self) -> SubGoal | None:
        with self.lock:
            cascade = self.cascade
            return None if cascade is None or cascade.done else cascade.current

    # -- inputs ---------------------------------------------------------------------------

    def on_image(self, msg: Image) -> None:
        """Score the frame with the current sub-goal; announce the sub-goal if it fired."""
        try:
            frame = frame_from_msg(msg, tuple(self.flo.cfg.image_size))
        except MessageError as error:
            self.get_logger().error(f"image_raw skipped: {error}", throttle_duration_sec=1.0)
            return
        self.watchdog.feed("image_raw")
        self.new_frame.set()
        with self.lock:
            if self.cascade is None or self.cascade.done:
                return
            goal, index = self.cascade.current, self.cascade.index
            self.cascade.step(frame)
            self.stamps.append(stamp_ns(msg))
            self.probabilities.append(goal.last)
            fired = self.cascade.index > index
            report = self._reached(goal, index) if fired else None
        self.probability_pub.publish(Float64(data=goal.last))
        if report is not None:
            self.reached_pub.publish(json_msg(report))
            self.get_logger().info(f"sub-goal {index + 1} of {report['subgoals']} reached")

    def _reached(self, goal: SubGoal, index: int) -> dict:
        return {"subgoal": index, "subgoals": len(self.cascade.goals), "goal": goal.source,
                "probabilities": list(self.probabilities), "stamps": list(self.stamps),
                "done": self.cascade.done}

    def on_joints(self, msg: JointState) -> None:
        try:
            pusher = joints_from_msg(msg, PUSHER_JOINTS).position
            arm = (joints_from_msg(msg, PR2_JOINTS).position
                   if set(PR2_JOINTS) <= set(msg.name) else None)
        except MessageError as error:
            self.get_logger().error(f"joint_states skipped: {error}", throttle_duration_sec=1.0)
            return
        with self.lock:
            self.tracker.pusher, self.tracker.arm = pusher, arm
        self.watchdog.feed("joint_states")

    def _pose_of(self, topic: str):
        def callback(msg: PoseStamped) -> None:
            pose = np.array([*position_from_msg(msg)[:2], yaw_from_msg(msg)])
            if not np.isfinite(pose).all():
                self.get_logger().error(f"{topic} skipped: not finite ({pose.tolist()})",
                                        throttle_duration_sec=1.0)
                return
            with self.lock:
                jumped = self.tracker.update_object(topic, pose)
            self.watchdog.feed(topic)
            if jumped and time.monotonic() - self.scene_at > NEW_SCENE_HOLD_S:
                self.scene_at = time.monotonic()
                self.restart()
        return callback

    # -- planning -------------------------------------------------------------------------

    def run_loop(self) -> None:
        """The planning thread: it owns the predictive twin (and its GL context)."""
        twin = ArrangeTwin(self.task, tuple(self.flo.cfg.image_size), pusher=True)
        model, rng = TwinModel(twin), np.random.default_rng(self.seed)
        template = twin.sample_example(False, np.random.default_rng(self.seed))
        if self.goal_from_task:
            goal = infer_goal(self.flo, task_positives(self.task, self.flo, self.seed))
            task = self.task
            self.start_cascade([SubGoal(goal, f"{task.first} {task.relation} {task.second}")])
        period = 1.0 / self.rate_hz
        try:
            while not self.stopping.is_set() and self.context.ok():
                if not self.new_frame.wait(period):
                    continue                # no camera: the guard holds the rod
                self.new_frame.clear()
                started = time.monotonic()
                self.control_step(model, template, rng)
                self.stopping.wait(started + period - time.monotonic())
        except RCLError:
            if self.context.ok():
                raise
        finally:
            twin.close()

    def must_stop(self) -> bool:
        return self.estop.engaged or bool(self.watchdog.stale())

    def control_step(self, model: TwinModel, template: Configuration,
                     rng: np.random.Generator) -> None:
        """Plan towards the current sub-goal from the tracked scene; send the first action."""
        goal = self.current()
        if self.must_stop():
            return                      # the guard sends the stop command
        if goal is None:
            self.send(self.limits.zero)
            return
        started = time.perf_counter()
        actions, cost = plan(model, self.synchronise(model, template), self.objective(goal),
                             self.cem, rng)
        self.latency_pub.publish(Float64(data=(time.perf_counter() - started) * 1e3))
        self.cost_pub.publish(Float64(data=cost))
        step_s = SUBSTEPS * float(model.model.opt.timestep)
        self.send(self.limits.clamp(actions[0] / step_s))

    def objective(self, goal: SubGoal) -> Cost:
        """What CEM minimises: 1 - the sub-goal's probability, or the oracle's distance."""
        return OracleCost(self.task) if self.cost == "oracle" else FLOCost(goal.goal)

    def synchronise(self, model: TwinModel, template: Configuration) -> TwinState:
        """Pose the predictive twin as the tracker sees the scene: the pair where it stands,
        the arm's joints (the template's without them), the rod at its joints."""
        with self.lock:
            objects = np.stack([self.tracker.objects[topic] for topic in ARRANGE_POSES])
            pusher, arm = self.tracker.pusher, self.tracker.arm
        twin = model.twin
        twin.pose(dataclasses.replace(template, positions=objects[:, :2], yaws=objects[:, 2],
                                      arm=template.arm if arm is None else arm))
        place_pusher(twin.model, twin.data, pusher)
        return model.state()

    # -- commands -------------------------------------------------------------------------

    def send(self, command: np.ndarray) -> None:
        """Publish ``command`` unless the rod must stop by now."""
        with self.send_lock:
            if not self.must_stop():
                self.publish(command)

    def stop(self) -> None:
        with self.send_lock:
            self.publish(self.limits.zero)

    def guard(self) -> None:
        """The watchdog: while the rod must not move, keep sending the stop command."""
        if self.must_stop():
            self.stop()

    def publish(self, velocity: np.ndarray) -> None:
        values = np.concatenate([velocity, np.zeros(4)])
        self.command_pub.publish(twist_msg(values, self.get_clock().now().to_msg(),
                                           self.twist_frame))

    def destroy_node(self) -> None:
        self.stopping.set()
        self.loop.join(timeout=5.0)
        super().destroy_node()


def main(args: list[str] | None = None) -> int:
    return run_nodes([PlannerNode], args)


if __name__ == "__main__":
    raise SystemExit(main())
