"""Fixtures shared by several test files."""

import pytest


@pytest.fixture
def one_torch_thread():
    """Small networks: one torch thread, so that a busy 2-core machine does not stall OpenMP."""
    torch = pytest.importorskip("torch")
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)
