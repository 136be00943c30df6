"""``oneshot up CONFIG``: start a graph of nodes from a YAML file, each in its own process.

This is the embedded stand-in for ``ros2 launch`` (whose ``launch`` package is not on
PyPI); ``launch/oneshot.launch.py`` reads the same YAML on a machine with ROS 2. A config:

    env: {MUJOCO_GL: egl}            # extra environment for every node
    until: rehearsal                 # optional: the graph ends when this node exits
    nodes:
      sim_twin:
        parameters: {rate_hz: 20.0}
        remappings: {cmd/joint: /effort_controller/commands}

Each node runs as ``python -m MODULE --ros-args --params-file FILE -r FROM:=TO``. The
graph stops (SIGTERM to every node, then SIGKILL after a grace period) on Ctrl-C,
SIGTERM, ``--for`` seconds, the ``until`` node's exit, or any node dying on its own.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from adaptation_node import dds

MODULES = {
    "camera": "adaptation_node.camera",
    "sim_twin": "adaptation_node.sim_twin",
    "demo_recorder": "adaptation_node.recorder",
    "adaptation": "adaptation_node.adaptation",
    "policy": "adaptation_node.policy_node",
    "mpc": "adaptation_node.mpc_node",
    "planner": "adaptation_node.planner_node",
    "rehearsal": "adaptation_node.rehearsal",
}
CONFIG_DIR = Path(__file__).resolve().parents[2] / "launch"
BASE_ENV = {**dds.ENV, "MUJOCO_GL": "egl"}
GRACE_S = 5.0


class ConfigError(ValueError):
    """A graph config that cannot be started; the message names the file and the key."""


@dataclass
class NodeSpec:
    name: str
    parameters: dict[str, Any] = field(default_factory=dict)
    remappings: dict[str, str] = field(default_factory=dict)

    def command(self, params_file: Path) -> list[str]:
        remaps = [arg for source, target in self.remappings.items()
                  for arg in ("-r", f"{source}:={target}")]
        return [sys.executable, "-m", MODULES[self.name], "--ros-args",
                "--params-file", str(params_file), *remaps]


@dataclass
class Graph:
    source: Path
    nodes: list[NodeSpec]
    env: dict[str, str]
    until: str | None


def config_path(name_or_path: str) -> Path:
    """A YAML path as given, or a config name (``sim-reach``) from the launch/ folder."""
    path = Path(name_or_path)
    if path.suffix in (".yaml", ".yml"):
        return path
    return CONFIG_DIR / f"{name_or_path}.yaml"


def load_graph(name_or_path: str) -> Graph:
    path = config_path(name_or_path)
    try:
        raw = yaml.safe_load(path.read_text())
    except OSError as error:
        known = sorted(p.stem for p in CONFIG_DIR.glob("*.yaml"))
        raise ConfigError(f"{path}: {error.strerror}; configs in {CONFIG_DIR}: {known}") from None
    except yaml.YAMLError as error:
        raise ConfigError(f"{path}: not valid YAML ({error})") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("nodes"), dict) or not raw["nodes"]:
        raise ConfigError(f"{path}: needs a 'nodes' mapping of node name -> settings")
    nodes = [_node_spec(path, name, settings or {}) for name, settings in raw["nodes"].items()]
    until = raw.get("until")
    if until is not None and until not in raw["nodes"]:
        raise ConfigError(f"{path}: 'until: {until}' names no node of the graph")
    env = {str(k): str(v) for k, v in (raw.get("env") or {}).items()}
    return Graph(path, nodes, env, until)


def _node_spec(path: Path, name: str, settings: dict) -> NodeSpec:
    if name not in MODULES:
        raise ConfigError(f"{path}: unknown node {name!r}; known: {sorted(MODULES)}")
    unknown = set(settings) - {"parameters", "remappings"}
    if unknown:
        raise ConfigError(f"{path}: node {name}: unknown keys {sorted(unknown)}")
    return NodeSpec(name, dict(settings.get("parameters") or {}),
                    {str(k): str(v) for k, v in (settings.get("remappings") or {}).items()})


def write_params(spec: NodeSpec, folder: Path) -> Path:
    """The node's parameters as a ROS 2 parameter file."""
    path = folder / f"{spec.name}.yaml"
    path.write_text(yaml.safe_dump({"/**": {"ros__parameters": spec.parameters}}))
    return path


class RunningGraph:
    """The node processes of a started graph."""

    def __init__(self, graph: Graph, env: dict[str, str], folder: Path) -> None:
        self.graph = graph
        self.processes: dict[str, subprocess.Popen] = {}
        for spec in graph.nodes:
            command = spec.command(write_params(spec, folder))
            self.processes[spec.name] = subprocess.Popen(command, env=env)

    def exited(self) -> dict[str, int]:
        return {name: p.returncode for name, p in self.processes.items() if p.poll() is not None}

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + GRACE_S
        for process in self.processes.values():
            try:
                process.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def up(name_or_path: str, seconds: float | None = None, domain_id: int | None = None) -> int:
    """Run the graph until it ends (see the module docstring); return the exit status:
    the ``until`` node's, 0 for a stop on request or time, 1 when a node died."""
    graph = load_graph(name_or_path)
    env = {**os.environ, **BASE_ENV, **graph.env}
    if domain_id is not None:
        env["ROS_DOMAIN_ID"] = str(domain_id)
    _free_stale_segments()
    stop_requested = []
    signal.signal(signal.SIGTERM, lambda *_: stop_requested.append(True))
    deadline = time.monotonic() + seconds if seconds else float("inf")
    with tempfile.TemporaryDirectory(prefix="oneshot-up-") as folder:
        running = RunningGraph(graph, env, Path(folder))
        print(f"oneshot up {graph.source}: {', '.join(running.processes)}", flush=True)
        try:
            status = _supervise(running, deadline, stop_requested)
        except KeyboardInterrupt:
            status = 0
        finally:
            running.stop()
            _free_stale_segments()
    return status


def _free_stale_segments() -> None:
    """Free the shared memory of nodes killed before or by this run (``dds``)."""
    freed = dds.remove_stale_segments()
    if freed:
        print(f"oneshot up: freed {freed / 2**20:.0f} MiB of shared memory left by killed "
              f"nodes", flush=True)


def _supervise(running: RunningGraph, deadline: float, stop_requested: list) -> int:
    while time.monotonic() < deadline and not stop_requested:
        exited = running.exited()
        if running.graph.until in exited:
            return exited[running.graph.until]
        if exited:
            name, code = next(iter(exited.items()))
            print(f"oneshot up: node {name} exited with status {code}; stopping the graph",
                  file=sys.stderr, flush=True)
            return 1
        time.sleep(0.1)
    return 0
