"""colcon (ament_python) packaging of OneShot for a machine with ROS 2 installed.

It installs the repository's Python packages (../../../src) with one executable per node,
where ``ros2 run oneshot NODE`` and ``ros2 launch`` look for them, plus the launch files
and graph configs. The learners' own dependencies (torch, mujoco, ...) come from
``pip install -e .`` at the repository root, as the README's robot section says.
"""
import sys
from pathlib import Path

from setuptools import find_packages, setup

REPO = Path(__file__).resolve().parents[3]
SRC = REPO / "src"
sys.path.insert(0, str(SRC))
from adaptation_node.bringup import MODULES  # noqa: E402  (the node -> module table)

setup(
    name="oneshot",
    version="0.1.0",
    package_dir={"": str(SRC)},
    packages=find_packages(str(SRC)),
    data_files=[
        ("share/ament_index/resource_index/packages", ["resource/oneshot"]),
        ("share/oneshot", ["package.xml"]),
        ("share/oneshot/launch", [str(p) for p in (REPO / "launch").iterdir()]),
    ],
    install_requires=["setuptools"],
    entry_points={"console_scripts": [f"{name} = {module}:main" for name, module in MODULES.items()]},
)
