# The two commands of the README. Both set up on first use and are quick on a second run.
VENV ?= .venv
BIN := $(VENV)/bin
export MUJOCO_GL ?= egl
export PYOPENGL_PLATFORM ?= egl

.PHONY: setup demo test

$(VENV)/.installed: pyproject.toml scripts/setup.sh
	bash scripts/setup.sh $(VENV)
	touch $@

setup: $(VENV)/.installed

demo: setup
	$(BIN)/oneshot demo --out runs/demo

test: setup
	$(BIN)/python -m pytest
