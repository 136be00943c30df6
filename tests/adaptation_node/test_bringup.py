"""``oneshot up``: graph configs, and the whole one-shot loop on the reach twin over DDS."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from adaptation_node.bringup import CONFIG_DIR, ConfigError, load_graph
from adaptation_node.mcap_log import read_log
from adaptation_node.robots import profile
from episodes import read_episode

from ros_harness import run_up

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("name, checkpoint", [("sim-reach", "checkpoints/mil-reach"),
                                              ("sim-push", "checkpoints/daml-push-human")])
def test_the_sim_configs_are_the_whole_loop(name, checkpoint):
    graph = load_graph(name)
    assert [n.name for n in graph.nodes] == [
        "sim_twin", "demo_recorder", "adaptation", "policy", "rehearsal"]
    assert graph.until == "rehearsal" and graph.source == CONFIG_DIR / f"{name}.yaml"
    assert graph.nodes[2].parameters["checkpoint"] == checkpoint


def test_sim_push_adapts_on_a_persons_video_in_the_twin():
    twin, recorder = (spec.parameters for spec in load_graph("sim-push").nodes[:2])
    assert twin["demonstrator"] == recorder["demonstrator"] == "human"


@pytest.mark.parametrize("name", ["sim-reach", "sim-push", "sim-push-demos", "pr2", "sawyer",
                                  "sawyer-servo", "sawyer-gripper", "realsense", "usb"])
def test_every_shipped_config_loads_with_known_robots(name):
    for spec in load_graph(name).nodes:
        if "robot" in spec.parameters:
            profile(spec.parameters["robot"])  # raises for an unknown profile


@pytest.mark.parametrize("text, message", [
    ("nodes: {}", "needs a 'nodes' mapping"),
    ("nodes: {teleporter: {}}", "unknown node 'teleporter'"),
    ("nodes: {policy: {params: {}}}", "unknown keys \\['params'\\]"),
    ("until: camera\nnodes: {policy: {}}", "'until: camera' names no node"),
    ("nodes: [", "not valid YAML"),
])
def test_bad_configs_are_refused_naming_the_problem(tmp_path, text, message):
    path = tmp_path / "graph.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message):
        load_graph(str(path))


def test_a_missing_config_lists_the_known_ones():
    with pytest.raises(ConfigError, match="sim-reach"):
        load_graph("sim-nothing")


def test_up_runs_the_whole_loop_on_the_twin(tmp_path, ros_domain):
    """Recorder -> adaptation -> policy node driving the twin, as `oneshot up sim-reach`
    runs it, with its output folders moved under tmp_path."""
    config = yaml.safe_load((CONFIG_DIR / "sim-reach.yaml").read_text())
    nodes = config["nodes"]
    nodes["demo_recorder"]["parameters"]["out_dir"] = str(tmp_path / "demos")
    nodes["adaptation"]["parameters"].update(checkpoint=str(REPO / "checkpoints" / "mil-reach"),
                                             out_dir=str(tmp_path / "adapted"))
    nodes["rehearsal"]["parameters"].update(episodes=4, timeout_s=60.0)
    result = run_up(config, tmp_path / "sim-reach.yaml", ros_domain, 240)
    assert result["episodes"] == 4 and result["policy_version"] == 1
    assert result["successes"] >= 2, result  # the shipped policy, one-shot, on a held-out colour
    demo = read_episode(result["demo"])
    assert demo.length == 50 and demo.actions is not None
    log = read_log(next((tmp_path / "demos").glob("*.mcap")))
    assert not log.truncated and len(log.messages) >= 150  # 50 frames, states, commands
    assert (tmp_path / "adapted" / "policy-v0001" / "model.safetensors").is_file()


def test_every_node_module_has_a_main_and_the_launch_file_compiles():
    import importlib
    import py_compile

    from adaptation_node.bringup import MODULES

    for module in MODULES.values():
        assert callable(importlib.import_module(module).main), module
    py_compile.compile(str(REPO / "launch" / "oneshot.launch.py"), doraise=True)
    py_compile.compile(str(REPO / "ros2_ws" / "src" / "oneshot" / "setup.py"), doraise=True)
