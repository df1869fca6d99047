"""Shared test setup: no entry-point plugins, fresh fake models per test."""

from __future__ import annotations

import os
import sys

import pytest

from models.registry import forget_models


def pytest_configure(config):
    sys._called_from_test = True  # models.plugins skips entry points under tests
    # Fake-model pipeline workers are forked from a fork server too, as local models' are in a
    # real run (a spawned worker's imports cost about a second each); the spawn path keeps its
    # own tests (tests/runlog/test_pipeline_worker.py, test_forkserver.py set it "off").
    os.environ.setdefault("AUTORESEARCH_FORKSERVER", "always")


@pytest.fixture(autouse=True)
def _fresh_models():
    forget_models()
    yield
    forget_models()
