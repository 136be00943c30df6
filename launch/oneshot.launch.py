"""``ros2 launch oneshot oneshot.launch.py config:=sim-reach``: the graph of a YAML config.

The same YAML that ``oneshot up`` runs (launch/*.yaml): each node of the config becomes a
``launch_ros`` Node of package ``oneshot`` with its parameters, remappings and the
config's environment. Kept thin on purpose: the config is the single source of truth.
"""
from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument, OpaqueFunction, SetEnvironmentVariable
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import Node

from adaptation_node.bringup import load_graph


def graph_actions(context):
    graph = load_graph(LaunchConfiguration("config").perform(context))
    actions = [SetEnvironmentVariable(name, value) for name, value in graph.env.items()]
    actions += [Node(package="oneshot", executable=spec.name, name=spec.name, output="screen",
                     parameters=[spec.parameters], remappings=list(spec.remappings.items()))
                for spec in graph.nodes]
    return actions


def generate_launch_description():
    return LaunchDescription([
        DeclareLaunchArgument("config", default_value="sim-reach",
                              description="a config name in launch/ or a YAML path"),
        OpaqueFunction(function=graph_actions),
    ])
