"""The GitHub Actions workflows: valid against GitHub's schema, and thin over make targets.

The workflows only call what a reader can run on a laptop (``make ...`` or ``.ci/run``), so no
logic lives only in YAML; the README and CONTRIBUTING.md describe those targets.
"""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
WORKFLOWS = ROOT / ".github" / "workflows"
FILES = [WORKFLOWS / "tests.yml", WORKFLOWS / "book.yml"]
#: ``make target`` with optional ``NAME=value`` assignments, or the CI entry point.
ALLOWED_RUN = re.compile(r"^(make [a-z][a-z-]*( [A-Z_]+=[^\s;&|]+)*|\.ci/run)$")


def _load(path: Path) -> dict:
    workflow = yaml.safe_load(path.read_text())
    # YAML 1.1 reads the key `on` as True
    workflow["on"] = workflow.pop(True, workflow.get("on"))
    return workflow


def _steps(workflow: dict):
    for job in workflow["jobs"].values():
        yield from job.get("steps", [])


def _make_targets() -> set[str]:
    text = (ROOT / "Makefile").read_text()
    return set(re.findall(r"^([a-z][a-z-]*):", text, flags=re.MULTILINE))


def _check_jsonschema() -> str | None:
    beside = Path(sys.executable).parent / "check-jsonschema"
    return str(beside) if beside.exists() else shutil.which("check-jsonschema")


def test_both_workflows_are_valid_against_the_github_workflow_schema():
    executable = _check_jsonschema()
    if executable is None:
        pytest.skip("check-jsonschema is not installed (it is in requirements.txt: make setup)")
    # the schema ships with check-jsonschema, so this runs offline
    done = subprocess.run([executable, "--builtin-schema", "vendor.github-workflows",
                           *map(str, FILES)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


def test_every_run_line_is_a_make_target_or_the_ci_script():
    targets = _make_targets()
    for path in FILES:
        for step in _steps(_load(path)):
            for line in str(step.get("run", "")).splitlines():
                line = line.strip()
                if not line or line.startswith("#"):
                    continue
                assert ALLOWED_RUN.match(line), f"{path.name}: {line!r} is not a make target"
                if line.startswith("make "):
                    assert line.split()[1] in targets, f"{path.name}: no target in {line!r}"


def test_tests_workflow_runs_the_ci_script_on_push_and_pull_request():
    workflow = _load(WORKFLOWS / "tests.yml")
    assert {"push", "pull_request"} <= set(workflow["on"])
    runs = [step.get("run") for step in _steps(workflow)]
    assert ".ci/run" in runs
    setup = next(step for step in _steps(workflow)
                 if step.get("uses", "").startswith("actions/setup-python"))
    assert setup["with"]["cache"] == "pip"


def test_book_workflow_publishes_the_full_book_to_pages_and_keeps_its_cache():
    workflow = _load(WORKFLOWS / "book.yml")
    assert workflow["on"]["push"]["branches"] == ["main"] and "workflow_dispatch" in workflow["on"]
    assert workflow["permissions"]["pages"] == "write"
    assert workflow["permissions"]["id-token"] == "write"
    for job in workflow["jobs"].values():
        assert 0 < job["timeout-minutes"] < 360  # GitHub stops a job at 6 hours
    steps = list(_steps(workflow))
    uses = [step.get("uses", "").split("@")[0] for step in steps]
    assert {"actions/upload-pages-artifact", "actions/deploy-pages",
            "actions/cache/restore", "actions/cache/save"} <= set(uses)
    save = next(s for s in steps if s.get("uses", "").startswith("actions/cache/save"))
    assert save["if"] == "always()"  # a failed build still leaves its networks for the next
    restore = next(s for s in steps if s.get("uses", "").startswith("actions/cache/restore"))
    assert "hashFiles(" in restore["with"]["key"] and save["with"]["key"] == restore["with"]["key"]
    upload = next(s for s in steps if s.get("uses", "").startswith("actions/upload-pages"))
    assert upload["with"]["path"] == "_build/html"
    runs = [step.get("run") for step in steps if step.get("run")]
    assert any(run.startswith("make data") for run in runs)
    assert any(run.startswith("make publish") for run in runs)
    deploy = workflow["jobs"]["deploy"]
    assert deploy["environment"]["name"] == "github-pages" and deploy["needs"] == "build"


def test_publish_builds_the_full_profile_into_the_uploaded_folder():
    done = subprocess.run(["make", "-n", "publish", "DATA_DIR=data", f"STAMP={ROOT / 'Makefile'}"],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "helpers.book.build --profile full --data-dir data" in done.stdout
    assert "_build/html/index.html" in done.stdout
    # the same steps on another profile, as a laptop runs them offline
    done = subprocess.run(["make", "-n", "publish", "PROFILE=default",
                           f"STAMP={ROOT / 'Makefile'}"],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert re.search(r"helpers.book.build --profile default *\n", done.stdout), done.stdout


def test_readme_is_a_short_guide():
    text = (ROOT / "README.md").read_text()
    assert len(text.splitlines()) <= 220
    cells = [cell for line in text.splitlines() if line.startswith("|")
             for cell in line.strip("|").split("|")]
    assert cells and max(len(cell) for cell in cells) <= 400
    assert "CONTRIBUTING.md" in text and (ROOT / "CONTRIBUTING.md").exists()
