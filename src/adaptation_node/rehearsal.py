"""The twin rehearsal: the robot workflow, driven through the graph as an operator would.

It records one demonstration (``/demo_recorder/start``, ``sim/demonstrate``, wait for
the episode, ``/demo_recorder/stop``; the twin's ``demonstrator`` says whether a
teleoperator drives the arm or a person pushes in front of the camera, as in
``launch/sim-push.yaml``), waits until the policy node runs the policy adapted on it
(``policy/active``), then resets the twin ``episodes`` times and counts the successes
reported on ``sim/episode``. The result (JSON, with whether the demonstrator itself
succeeded) goes out on ``rehearsal/result`` and the node exits, which ends an
``oneshot up`` graph configured to stop with it.
Only services and topics are used, so it exercises exactly what runs on a robot.

``demos_only: N`` (N > 0) records N demonstrations the same way and stops there, with no
adaptation or trials: the way to collect demos to meta-train on
(``launch/sim-push-demos.yaml``). Its result lists the episodes and, for each, whether the
scripted demonstrator succeeded and the target's final distance (failed demos are kept:
filter on ``success`` before training).

``trials_only: true`` skips the demo and the adaptation, for a controller that needs
neither (the mpc node, ``launch/sim-gbac.yaml``; the planner node, ``launch/sim-flo.yaml``):
once a command on ``cmd/joint`` or ``cmd/ee_twist`` shows the controller is up, it resets
the twin ``episodes`` times and reports each episode's success, final distance, late and
held steps (see ``sim_twin``) and, where the twin reports one (the arm twin), its return.
"""
from __future__ import annotations

import json
import queue
import threading
import time
from typing import Any

import rclpy
from rclpy.callback_groups import ReentrantCallbackGroup
from rclpy.node import Node
from geometry_msgs.msg import TwistStamped
from std_msgs.msg import Float64MultiArray, String
from std_srvs.srv import Trigger

from adaptation_node import qos
from adaptation_node.messages import MessageError, json_from_msg, json_msg
from adaptation_node.params import declare
from adaptation_node.probe import call_service
from adaptation_node.runner import run_nodes


class RehearsalError(RuntimeError):
    """A step of the rehearsal failed or timed out; the message names the step."""


class RehearsalNode(Node):
    """Record, adapt, deploy on the twin; report the success rate (module docstring)."""

    def __init__(self) -> None:
        super().__init__("rehearsal")
        self.episodes = declare(self, "episodes", 5, "trials after adaptation", 1, 1000)
        self.timeout_s = declare(self, "timeout_s", 60.0, "limit for each step", 1.0, 3600.0)
        self.demos_only = declare(self, "demos_only", 0,
                                  "record this many demos and stop (0: the whole rehearsal)",
                                  0, 1000)
        self.trials_only = declare(self, "trials_only", False,
                                   "no demo or adaptation: reset and report trials only")
        group = ReentrantCallbackGroup()
        self.triggers = {name: self.create_client(Trigger, name, callback_group=group)
                        for name in ("/demo_recorder/start", "/demo_recorder/stop",
                                     "sim/demonstrate", "sim/reset")}
        self.events: dict[str, queue.Queue] = {"sim/episode": queue.Queue(),
                                               "policy/active": queue.Queue()}
        for topic in self.events:
            self.create_subscription(String, topic, self._queue_into(topic), qos.LATCHED,
                                     callback_group=group)
        self.commanding = threading.Event()   # trials only: a controller is up
        if self.trials_only:
            for kind, topic in ((Float64MultiArray, "cmd/joint"), (TwistStamped, "cmd/ee_twist")):
                self.create_subscription(kind, topic, lambda _: self.commanding.set(),
                                         qos.COMMAND, callback_group=group)
        self.result_pub = self.create_publisher(String, "rehearsal/result", qos.LATCHED)
        self.outcome: dict[str, Any] | None = None
        self.exit_code = 0
        threading.Thread(target=self._run, daemon=True).start()

    def _queue_into(self, topic: str):
        def callback(msg: String) -> None:
            try:
                self.events[topic].put(json_from_msg(msg))
            except MessageError as error:
                self.get_logger().error(f"{topic} skipped: {error}")
        return callback

    # -- the workflow ---------------------------------------------------------------------

    def _run(self) -> None:
        try:
            self.outcome = self.rehearse()
        except RehearsalError as error:
            self.outcome = {"error": str(error)}
            self.exit_code = 1
            self.get_logger().error(f"rehearsal failed: {error}")
        self.result_pub.publish(json_msg(self.outcome))
        self.get_logger().info(f"rehearsal result: {json.dumps(self.outcome)}")
        rclpy.try_shutdown()

    def rehearse(self) -> dict[str, Any]:
        needed = ["sim/reset"] if self.trials_only else list(self.triggers)
        for name in needed:  # the graph is up ...
            if not self.triggers[name].wait_for_service(timeout_sec=self.timeout_s):
                raise RehearsalError(f"service {name} did not appear in {self.timeout_s} s")
        self._drain()  # ... so what the latched topics replay has arrived
        if self.trials_only:
            if not self.commanding.wait(self.timeout_s):
                raise RehearsalError(f"no command for {self.timeout_s} s")
            return self.trials()
        if self.demos_only:
            return self.record_demos(self.demos_only)
        demo, report = self.record_demo()
        active = self.wait_for("policy/active", lambda e: True)
        return {"demo": demo, "demo_success": bool(report["success"]),
                "policy_version": active["version"], **self.trials()}

    def trials(self) -> dict[str, Any]:
        """``episodes`` resets of the twin, each run to its end, and what they scored."""
        results = []
        for _ in range(self.episodes):
            self.call("sim/reset")
            results.append(self.wait_for("sim/episode", lambda e: not e.get("demonstration")))
        successes = sum(bool(r["success"]) for r in results)
        summary = {"episodes": len(results), "successes": successes,
                   "success_rate": successes / len(results),
                   "success": [bool(r["success"]) for r in results],
                   "final_distances": [r["final_distance"] for r in results]}
        for key, name in (("return", "returns"), ("late_steps", "late_steps"),
                          ("held_steps", "held_steps")):
            if all(key in r for r in results):
                summary[name] = [r[key] for r in results]
        return summary

    def record_demo(self) -> tuple[str, dict[str, Any]]:
        """One demo through the recorder: its episode and the twin's report."""
        self.start_recording()
        self.call("sim/demonstrate")
        report = self.wait_for("sim/episode", lambda e: e.get("demonstration"))
        return self.call("/demo_recorder/stop"), report

    def record_demos(self, count: int) -> dict[str, Any]:
        """``count`` demos, the whole run when ``demos_only`` is set."""
        demos, reports = zip(*(self.record_demo() for _ in range(count)))
        return {"demos": list(demos), "success": [bool(r["success"]) for r in reports],
                "final_distances": [r["final_distance"] for r in reports]}

    def start_recording(self) -> None:
        """Start the recorder once the camera and joint streams reach it."""
        deadline = time.monotonic() + self.timeout_s
        while True:
            try:
                self.call("/demo_recorder/start")
                return
            except RehearsalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    def _drain(self) -> None:
        """Forget announcements from before the rehearsal (latched topics replay them)."""
        for events in self.events.values():
            while not events.empty():
                events.get_nowait()

    def call(self, name: str) -> str:
        try:
            response = call_service(self.triggers[name], Trigger.Request(), self.timeout_s)
        except TimeoutError as error:
            raise RehearsalError(str(error)) from None
        if not response.success:
            raise RehearsalError(f"{name} refused: {response.message}")
        return response.message

    def wait_for(self, topic: str, accept) -> dict[str, Any]:
        while True:
            try:
                event = self.events[topic].get(timeout=self.timeout_s)
            except queue.Empty:
                raise RehearsalError(f"nothing on {topic} for {self.timeout_s} s") from None
            if accept(event):
                return event


def main(args: list[str] | None = None) -> int:
    return run_nodes([RehearsalNode], args)


if __name__ == "__main__":
    raise SystemExit(main())
