"""The ROS 2 layer of OneShot: the only package that imports rclpy.

Each module holds one node (camera, demo recorder, adaptation, policy, sim twin) as a
``rclpy.node.Node`` subclass with a ``main()``; ``messages`` converts between ROS
messages and arrays, ``qos`` names the profiles, ``bringup`` starts a graph from YAML.
The learners below this package never see ROS, so they are tested without it.
"""
