"""Fixtures shared by several test files."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


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


@pytest.fixture(scope="session")
def smoke_book(tmp_path_factory):
    """The whole book built once per session with profile ``smoke``: ``(build_dir, log)``.

    Its results folder is also copied, as the build left it, to ``smoke_results`` beside the
    build folder: some tests rerun a chapter with other parameters, and the claims tests must
    read the results of the build itself.
    """
    build_dir = tmp_path_factory.mktemp("smoke") / "_build"
    env = dict(os.environ, HELPERS_CACHE_DIR=str(build_dir / "cache"),
               HELPERS_RESULTS_DIR=str(build_dir / "results"))
    result = subprocess.run([sys.executable, "-m", "helpers.book.build", "--profile", "smoke",
                             "--build-dir", str(build_dir)], cwd=ROOT, env=env,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    shutil.copytree(build_dir / "results", build_dir.parent / "smoke_results")
    return build_dir, result.stdout + result.stderr


@pytest.fixture(scope="session")
def smoke_results(smoke_book):
    """The results folder of the smoke book as its build wrote it (see ``smoke_book``)."""
    return smoke_book[0].parent / "smoke_results"
