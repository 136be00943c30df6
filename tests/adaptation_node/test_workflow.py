"""The real-robot workflow of the README, rehearsed with the twin standing in for the arm:
demos recorded through the ROS graph -> ``oneshot convert`` -> a short ``oneshot train``
-> ``oneshot adapt`` -> the policy node drives the twin."""
from __future__ import annotations

import json
import time

import numpy as np
from std_msgs.msg import Float64MultiArray, String
from std_srvs.srv import Trigger

from adaptation_node import qos
from episodes import Dataset
from oneshot.cli import main as oneshot
from sim.colours import task_colour

from ros_harness import start_recording, wait_until

COLOURS = [task_colour("train", index) for index in (0, 1)]


def record_demos(start_node, probe, out, colour, seed: int, count: int) -> None:
    """``count`` teleoperated demos of one colour, through a fresh twin and recorder."""
    task = json.dumps({"family": "reach", "colour": list(colour)})
    twin = start_node("adaptation_node.sim_twin", rate_hz=25.0, seed=seed,
                      colour=",".join(str(c) for c in colour))
    recorder = start_node("adaptation_node.recorder", out_dir=str(out), task=task)
    episodes = probe.record(String, "sim/episode", qos.LATCHED)
    for number in range(1, count + 1):
        start_recording(probe)
        probe.call(Trigger, "sim/demonstrate", Trigger.Request())
        wait_until(lambda: any(json.loads(m.data)["episode"] == number for _, m in episodes),
                   30, f"demo {number}")
        assert probe.call(Trigger, "/demo_recorder/stop", Trigger.Request()).success
    assert twin.stop() == 0 and recorder.stop() == 0


def test_record_convert_train_adapt_and_deploy_on_the_twin(start_node, probe, tmp_path):
    logs = tmp_path / "logs"
    for index, colour in enumerate(COLOURS):
        record_demos(start_node, probe, logs, colour, seed=index, count=2)

    data, checkpoint, adapted = tmp_path / "data", tmp_path / "ckpt", tmp_path / "adapted"
    assert oneshot(["convert", "--mcap", *map(str, sorted(logs.glob("*.mcap"))),
                    "--out", str(data), "--dataset"]) == 0
    dataset = Dataset(data)
    assert len(dataset.task_ids) == 2 and len(dataset) == 4
    assert [t["colour"] for t in dataset.tasks] == [list(c) for c in COLOURS]
    assert oneshot(["train", "mil", "--data", str(data), "--out", str(checkpoint),
                    "--iterations", "10", "--meta-batch", "2"]) == 0
    demo = dataset.episodes_of(0)[0].path
    assert oneshot(["adapt", "--checkpoint", str(checkpoint), "--demo", str(demo),
                    "--out", str(adapted)]) == 0

    commands = probe.record(Float64MultiArray, "cmd/joint", qos.COMMAND)
    episodes = probe.record(String, "sim/episode", qos.LATCHED)
    start_node("adaptation_node.sim_twin", rate_hz=25.0, seed=7,
               colour=",".join(str(c) for c in COLOURS[0]))
    start_node("adaptation_node.policy_node", policy=str(adapted), rate_hz=30.0)
    wait_until(lambda: any(np.any(msg.data) for _, msg in commands), 30, "the policy to act")
    started = time.monotonic()
    probe.call(Trigger, "sim/reset", Trigger.Request())
    wait_until(lambda: episodes, 30, "the deployed episode to end")
    ended, message = episodes[-1]
    result = json.loads(message.data)
    assert not result["demonstration"] and result["final_distance"] > 0
    moving = [msg for t, msg in commands if started < t < ended and np.any(msg.data)]
    assert len(moving) >= 45  # the policy node answered (almost) every one of the 50 frames
