"""The evaluation protocol: confidence intervals, and demos from other scenes than trials."""
import numpy as np
import pytest

from oneshot.evaluate import EvalConfig, evaluate, wilson_interval


def test_wilson_interval_contains_the_rate_and_narrows_with_trials():
    lo, hi = wilson_interval(80, 100)
    assert lo < 0.8 < hi
    lo2, hi2 = wilson_interval(800, 1000)
    assert lo < lo2 < 0.8 < hi2 < hi
    assert wilson_interval(0, 50)[0] == 0.0 and wilson_interval(50, 50)[1] == 1.0


class FirstFrameSpy:
    """A method that remembers each demo's first frame and each trial's first frame."""

    name = "spy"
    image_size = (32, 32)

    def __init__(self):
        self.demo_frames, self.trial_frames = [], []

    def condition(self, demo):
        self.demo_frames.append(np.array(demo.frames[0]))
        spy = self

        class Still:
            started = False

            def act(self, image, state):
                if not self.started:
                    spy.trial_frames.append((len(spy.demo_frames) - 1, image.copy()))
                    self.started = True
                return np.zeros(2, np.float32)

        return _Fresh(Still)


class _Fresh:
    """Gives each trial a fresh actor, so each trial's first frame is captured."""

    def __init__(self, factory):
        self.factory, self.current, self.steps = factory, None, 0

    def act(self, image, state):
        if self.steps % 50 == 0:
            self.current = self.factory()
        self.steps += 1
        return self.current.act(image, state)


def test_trials_use_other_positions_than_the_demo_and_a_still_arm_fails():
    spy = FirstFrameSpy()
    result = evaluate(spy, EvalConfig(trials=6, trials_per_task=3, seed=3))
    assert result["trials"] == 6 and result["tasks"] == 2
    assert result["success_rate"] == 0.0  # the arm never moves
    assert len(spy.trial_frames) == 6
    for task, frame in spy.trial_frames:
        assert not np.array_equal(frame, spy.demo_frames[task])


def test_unknown_suite_is_refused():
    with pytest.raises(ValueError, match="unknown suite"):
        evaluate(FirstFrameSpy(), EvalConfig(suite="reach-mars", trials=1))
