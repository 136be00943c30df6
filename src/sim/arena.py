"""Geometry of the planar reach arena, shared by the environment, the expert and scenes.

The arm's base sits at the arena centre, the origin. ``assets/reach.xml`` builds the same
numbers into the model; a test checks that the two agree.
"""

ARENA_HALF_SIZE = 0.3          # the arena is 0.6 x 0.6 m, as in the MIL reaching task
LINK_LENGTHS = (0.15, 0.12)    # upper arm, forearm (m): reach annulus [0.03, 0.27]
TARGET_RADIUS = 0.03           # flat discs, drawn just above the floor
TARGET_RING = (0.10, 0.25)     # targets are placed in this annulus around the base (m)
MIN_TARGET_SEPARATION = 0.10   # centre-to-centre distance between any two targets (m)
SUCCESS_DISTANCE = 0.05        # the end effector must come this close to the target ...
SUCCESS_WINDOW = 10            # ... within this many final steps of an episode
