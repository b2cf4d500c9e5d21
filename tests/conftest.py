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


@pytest.fixture(scope="session")
def tiny_suite(tmp_path_factory):
    """A tiny CNN-MNIST (with its smooth variant) and Transformer-Tiny, trained once."""
    pytest.importorskip("torch")
    from helpers.nets.suite import ModelSpec, SuiteProfile, train_suite

    profile = SuiteProfile(
        name="tiny-test", description="tiny models for the measurement tests",
        specs=(ModelSpec("cnn-mnist", "digits", 80, 40, epochs=1, width=0.125),
               ModelSpec("transformer-tiny", "topics", 60, 30, epochs=1, width=0.125,
                         model_kwargs={"n_layers": 1})))
    return train_suite(profile, spectral_norm=False, include_smooth=True, log=None,
                       cache_dir=tmp_path_factory.mktemp("cache"))
