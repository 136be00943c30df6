"""FLO: few-shot goal classifiers (thesis ch. 8.2). From K pictures of success, adapt a
meta-trained classifier (CAML) into a goal classifier; turn its predictions into rewards
and cascade goals. No ROS here: nothing in this package imports rclpy."""
