#!/usr/bin/env bash
# Create the virtual environment and install OneShot with everything it needs.
# Idempotent: a second run only checks. Usage: scripts/setup.sh VENV_DIR
set -euo pipefail
venv="${1:-.venv}"

# Debian libraries: MuJoCo's headless (EGL) renderer; libusb for pyrealsense2.
missing=()
for pkg in libegl1 libgl1-mesa-dri libusb-1.0-0; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing Debian packages: ${missing[*]}"
  sudo_cmd=""; [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${missing[@]}"
fi

[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/python" -m pip install -q --disable-pip-version-check --upgrade pip
# torch first and pinned, so no dependency can pull a CUDA build in.
"$venv/bin/python" -m pip install -q --disable-pip-version-check "torch==2.13.0"
"$venv/bin/python" -m pip install -q --disable-pip-version-check -e ".[test,ros]"
