"""MP4 writing and side-by-side composition."""

import av
import numpy as np

from sim.video import side_by_side, write_mp4


def test_write_mp4_round_trips_frame_count_and_even_size(tmp_path):
    frames = [np.full((33, 47, 3), 10 * i, dtype=np.uint8) for i in range(12)]
    path = write_mp4(tmp_path / "clip.mp4", frames, fps=50)
    with av.open(str(path)) as container:
        decoded = [frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)]
    assert len(decoded) == 12
    assert decoded[0].shape == (34, 48, 3)
    assert abs(int(decoded[5][10, 10, 0]) - 50) <= 3  # content survives encoding


def test_side_by_side_upscales_pads_and_holds_the_last_frame():
    left = [np.full((4, 4, 3), i, dtype=np.uint8) for i in range(3)]
    right = [np.full((2, 3, 3), 100 + i, dtype=np.uint8) for i in range(5)]
    combined = side_by_side(left, right, scale=2, gap=1)
    assert len(combined) == 5
    assert combined[0].shape == (8, 8 + 1 + 6, 3)
    assert combined[4][0, 0, 0] == 2           # left held at its last frame
    assert combined[4][0, 9, 0] == 104         # right side after the 1-pixel gap
    assert combined[4][7, 9, 0] == 0           # right side padded below its 4 rows
    assert np.all(combined[1][:, :8] == 1)     # nearest-neighbour upscale, no blending
