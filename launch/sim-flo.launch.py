"""``ros2 launch oneshot sim-flo.launch.py``: FLO's planner node pushing the arrangement twin.

The graph of ``sim-flo.yaml`` through ``oneshot.launch.py``, so the YAML stays the single
source of truth (the same graph as ``oneshot up sim-flo``).
"""
from pathlib import Path

from launch import LaunchDescription
from launch.actions import IncludeLaunchDescription
from launch.launch_description_sources import PythonLaunchDescriptionSource


def generate_launch_description():
    graph = PythonLaunchDescriptionSource(str(Path(__file__).with_name("oneshot.launch.py")))
    return LaunchDescription([IncludeLaunchDescription(graph,
                                                       launch_arguments={"config": "sim-flo"}.items())])
