"""Shared test setup: no entry-point plugins, fresh fake models per test."""

from __future__ import annotations

import sys

import pytest

from models.registry import forget_models


def pytest_configure(config):
    sys._called_from_test = True  # models.plugins skips entry points under tests


@pytest.fixture(autouse=True)
def _fresh_models():
    forget_models()
    yield
    forget_models()
