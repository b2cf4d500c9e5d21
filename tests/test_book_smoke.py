"""The smoke build of every chapter, end to end, as the README's commands run it.

One build per session (profile ``smoke``, the ``smoke_book`` fixture of ``conftest.py``, shared
with ``test_claims.py``) into a temporary build folder; the tests then read the rendered HTML
and the results files. This is the slowest file of the suite (a minute or
two on two cores).
"""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from helpers import __version__
from helpers.book import build, claims

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = build.list_chapters(ROOT)


def _run(args, build_dir, **kwargs):
    env = dict(os.environ, HELPERS_CACHE_DIR=str(build_dir / "cache"),
               HELPERS_RESULTS_DIR=str(build_dir / "results"))
    return subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, **kwargs)


def _page(build_dir: Path, chapter) -> str:
    return (build_dir / "html" / f"{chapter.entry}.html").read_text()


def test_every_chapter_renders_without_cell_errors(smoke_book):
    build_dir, log = smoke_book
    for chapter in CHAPTERS:
        page = _page(build_dir, chapter)
        assert "Traceback" not in page, chapter.name
        assert "injected-parameters" not in page, chapter.name  # papermill's cell is not shown
        assert build.notebook_errors(build_dir / "executed" / f"{chapter.name}.ipynb") == []
        assert f"finished {chapter.name}" in log  # progress is reported per chapter
    assert (build_dir / "html" / "index.html").is_file()
    # the kernels' start-up noise goes to their logs, not to the build's progress output
    assert "without encryption" not in log
    assert (build_dir / "logs" / f"{CHAPTERS[0].name}.kernel.log").is_file()


def test_the_introduction_shows_the_summary_figure_from_the_ledger(smoke_book):
    build_dir, _ = smoke_book
    intro = (build_dir / "html" / "book" / "intro.html").read_text()
    images = re.findall(r"<img[^>]+src=\"([^\"]+)\"", intro)
    assert images, "the introduction has no figure"
    assert all((build_dir / "html" / "book" / src).resolve().is_file() for src in images)


def test_glued_numbers_and_figures_reach_the_page(smoke_book):
    build_dir, _ = smoke_book
    for chapter in CHAPTERS:
        page = _page(build_dir, chapter)
        figures = re.findall(r"<figure[^>]*>.*?<img[^>]+src=\"[^\"]+\".*?<figcaption>", page, re.S)
        assert figures, f"{chapter.name} has no captioned figure"
    page = _page(build_dir, CHAPTERS[0])
    results = json.loads((build_dir / "results" / "numerical_entropy.json").read_text())
    # a glued integer from the chapter appears verbatim in the prose
    assert str(results["results"]["corner_cells"]["value"]) in page


def test_every_chapter_writes_its_results_file(smoke_book):
    build_dir, _ = smoke_book
    files = sorted(path for path in (build_dir / "results").glob("*.json")
                   if not path.name.startswith("_"))
    assert len(files) == len(CHAPTERS)
    execution = json.loads((build_dir / "results" / build.EXECUTION_FILE).read_text())
    assert {c["name"] for c in execution["chapters"]} == {c.name for c in CHAPTERS}
    assert all(c["profile"] == "smoke" and c["seconds"] > 0 for c in execution["chapters"])
    for path in files:
        payload = json.loads(path.read_text())
        assert payload["profile"] == "smoke"
        assert payload["helpers_version"] == __version__
        assert {"parameters", "results", "seed", "dataset"} <= set(payload)
        assert payload["results"], path.name


def test_launch_buttons_and_download_point_at_the_committed_notebook(smoke_book):
    build_dir, _ = smoke_book
    url = build.repository_url(ROOT)
    org_repo = url.split("github.com/")[1]
    for chapter in CHAPTERS:
        page = _page(build_dir, chapter)
        colab = f"colab.research.google.com/github/{org_repo}/blob/main/{chapter.entry}.ipynb"
        assert colab in page
        assert "mybinder.org" in page
        assert f"{chapter.name}.ipynb" in page  # download of the executed notebook


def test_papermill_rerun_at_new_precisions_shows_on_the_rebuilt_page(smoke_book):
    build_dir, _ = smoke_book
    chapter = CHAPTERS[0]
    output = build_dir / "executed" / f"{chapter.name}.ipynb"
    rerun = _run([sys.executable, "-m", "papermill", str(chapter.notebook), str(output),
                  "-p", "profile", "smoke", "-p", "bits", "[1, 2, 3]"], build_dir)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    render = _run([sys.executable, "-m", "helpers.book.build", "--render-only",
                   "--build-dir", str(build_dir)], build_dir)
    assert render.returncode == 0, render.stdout + render.stderr
    assert "[1, 2, 3]" in _page(build_dir, chapter)
    assert build.pair_problems(chapter) == []  # the source was not touched


def test_a_bad_papermill_parameter_stops_the_chapter_with_a_clear_error(tmp_path):
    chapter = CHAPTERS[0]
    result = _run([sys.executable, "-m", "papermill", str(chapter.notebook),
                   str(tmp_path / "out.ipynb"), "-p", "profile", "smoke", "-p", "bits", "[0, 1]"],
                  tmp_path)
    assert result.returncode != 0
    assert "ParameterError" in result.stderr and "bits" in result.stderr


def test_rerun_command_changes_the_results_file_and_the_ledger(smoke_book):
    build_dir, _ = smoke_book
    results = build_dir / "results"
    before = json.loads((results / "curvature_threshold.json").read_text())
    ledger_before = json.loads((results / "claims_ledger.json").read_text())["written"]
    rerun = _run([sys.executable, "-m", "helpers.book.build", "rerun", "curvature_threshold",
                  "--bits", "1", "3", "--build-dir", str(build_dir)], build_dir)
    assert rerun.returncode == 0, rerun.stdout[-3000:] + rerun.stderr[-3000:]
    after = json.loads((results / "curvature_threshold.json").read_text())
    assert before["parameters"]["bits"] != after["parameters"]["bits"] == [1, 3]
    ledger = json.loads((results / "claims_ledger.json").read_text())
    assert ledger["written"] >= ledger_before and ledger["profile"] == "smoke"
    assert "[1, 3]" in _page(build_dir, CHAPTERS[3])
    bad = _run([sys.executable, "-m", "helpers.book.build", "rerun", "curvature_threshold",
                "--bits", "0", "--build-dir", str(build_dir)], build_dir)
    assert bad.returncode == 1 and "outside the supported range (> 0" in bad.stderr


def test_mathematics_is_typeset_by_a_mathjax_shipped_with_the_book(smoke_book):
    build_dir, _ = smoke_book
    page = _page(build_dir, CHAPTERS[1])
    assert 'src="../_static/mathjax/tex-chtml.js"' in page
    assert "cdn.jsdelivr.net" not in page  # nothing to fetch: it typesets offline
    assert (build_dir / "html" / "_static" / "mathjax" / "tex-chtml.js").is_file()


def _shown_results(notebook: Path):
    """The plain-text results of the cells a reader sees (not removed, output not removed)."""
    for cell in json.loads(notebook.read_text())["cells"]:
        tags = set(cell.get("metadata", {}).get("tags", []))
        if cell["cell_type"] != "code" or tags & {"remove-cell", "remove-output"}:
            continue
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if output.get("output_type") == "execute_result" and set(data) == {"text/plain"}:
                yield "".join(data["text/plain"])


def test_no_visible_cell_shows_a_stray_return_value(smoke_book):
    # a cell that ends with results.glue_values(...) once printed its dictionary on the page
    build_dir, _ = smoke_book
    for chapter in CHAPTERS:
        for text in _shown_results(build_dir / "executed" / f"{chapter.name}.ipynb"):
            assert not re.match(r"\{|np\.float|[-+\d.e]+$|'", text.strip()), (chapter.name, text)


def test_the_ledger_links_every_claim_to_an_existing_section(smoke_book):
    build_dir, _ = smoke_book
    html_dir = build_dir / "html" / "notebooks"
    ledger_page = (html_dir / "07_claims_ledger.html").read_text()
    links = re.findall(r'<td[^>]*><a href="(\d\d_[a-z_]+\.html)#([^"]+)">', ledger_page)
    assert len(links) == len(claims.CLAIMS), links  # one per claim and guideline
    for page, anchor in links:
        assert f'id="{anchor}"' in (html_dir / page).read_text(), (page, anchor)
    # the tables of both summary pages are laid out to the page width, details folded away
    stats_page = (html_dir / "08_execution_statistics.html").read_text()
    for text in (ledger_page, stats_page):
        assert "table-layout: fixed; width: 100%" in text and "<details><summary>" in text
