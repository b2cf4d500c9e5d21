"""A chapter runs top to bottom as it would in Colab: in a fresh virtual environment that holds
only what Colab preinstalls, through the notebook's own install cell.

The install cell installs the package named by ``HELPERS_INSTALL_FROM`` (here a wheel built
from this checkout) in place of the GitHub URL it uses in Colab; everything else the chapter
needs must come from that install. The slowest test of the suite (a few minutes: it installs
torch into the new environment from the pip cache).
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from helpers.book import build

ROOT = Path(__file__).resolve().parents[1]
#: What Colab has preinstalled that the book uses (and the kernel it runs on).
COLAB_PACKAGES = ("torch", "torchvision", "numpy", "scipy", "scikit-learn", "matplotlib",
                  "seaborn", "pandas", "ipykernel")
CHAPTER = "notebooks/01_numerical_entropy"


def _run(args, **kwargs):
    result = subprocess.run([str(a) for a in args], capture_output=True, text=True, **kwargs)
    assert result.returncode == 0, (f"{args[:4]} failed:\n{result.stdout[-3000:]}\n"
                                    f"{result.stderr[-3000:]}")
    return result


@pytest.fixture
def colab_venv(tmp_path):
    """Path for the simulated Colab environment, removed afterwards: it holds its own torch,
    several GB that would otherwise stay in pytest's kept temporary folders."""
    venv = tmp_path / "colab"
    yield venv
    shutil.rmtree(venv, ignore_errors=True)


@pytest.mark.slow
def test_a_chapter_runs_in_a_colab_like_environment(tmp_path, colab_venv):
    venv = colab_venv
    wheels = tmp_path / "wheels"
    _run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", wheels, ROOT])
    (wheel,) = wheels.glob("infoprec_helpers-*.whl")
    _run([sys.executable, "-m", "venv", venv])
    python = venv / "bin" / "python"
    _run([python, "-m", "pip", "install", "-q", *COLAB_PACKAGES])
    before = _run([python, "-c", "import importlib.util as u; print(u.find_spec('helpers'))"])
    assert before.stdout.strip() == "None"  # the package is not there before the chapter runs
    jupyter = tmp_path / "jupyter"
    _run([python, "-m", "ipykernel", "install", "--prefix", jupyter, "--name", "colab-sim"])
    env = dict(os.environ, JUPYTER_PATH=str(jupyter / "share" / "jupyter"),
               HELPERS_INSTALL_FROM=str(wheel), HELPERS_RESULTS_DIR=str(tmp_path / "results"),
               HELPERS_CACHE_DIR=str(tmp_path / "cache"), MPLBACKEND="agg")
    executed = tmp_path / "executed.ipynb"
    _run([sys.executable, "-m", "papermill", ROOT / f"{CHAPTER}.ipynb", executed,
          "-k", "colab-sim", "-p", "profile", "smoke", "--cwd", tmp_path], env=env)
    assert build.notebook_errors(executed) == []
    notebook = nbformat.read(executed, as_version=4)
    assert notebook.metadata["papermill"]["parameters"]["profile"] == "smoke"
    assert (tmp_path / "results" / "numerical_entropy.json").is_file()
    after = _run([python, "-c", "import helpers, torch; print(helpers.__file__)"])
    assert str(venv) in after.stdout  # the chapter's own install cell put it there
