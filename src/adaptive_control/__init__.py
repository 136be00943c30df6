"""GBAC / RBAC online adaptation of a dynamics model inside MPC (thesis ch. 6; SPEC section 3).

Torch only, no rclpy: the ROS layer (adaptation_node) wraps what lives here.
"""
