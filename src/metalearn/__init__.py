"""MAML core shared by the learners: inner loop, layers, checkpoint I/O (SPEC section 0)."""
