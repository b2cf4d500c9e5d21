"""The build pipeline: chapter discovery, pair sync, the repository URL, failures and swaps."""

import json
import re
import shutil
import textwrap
from pathlib import Path

import nbformat
import pytest
import yaml

from helpers.book import build

ROOT = Path(__file__).resolve().parents[1]


def test_every_toc_chapter_is_a_synced_pair_without_outputs():
    chapters = build.list_chapters(ROOT)
    assert chapters, "the table of contents lists no chapter under notebooks/"
    for chapter in chapters:
        assert build.pair_problems(chapter) == []


def test_each_chapter_has_a_parameters_cell_with_bits_dataset_sizes_seed_and_profile():
    for chapter in build.list_chapters(ROOT):
        notebook = nbformat.read(chapter.notebook, as_version=4)
        cells = [c for c in notebook.cells if "parameters" in c.metadata.get("tags", [])]
        assert len(cells) == 1, chapter.name
        names = {line.split("=")[0].strip() for line in cells[0].source.splitlines()
                 if "=" in line and not line.startswith("#")}
        # the appendix measures a file the reader gives, which plays the part of the dataset
        data = "representation_path" if chapter.name == "09_your_own_representation" else "dataset"
        assert {"profile", "bits", data, "seed"} <= names, chapter.name
        assert any(name.startswith("n_") for name in names), chapter.name


def test_repository_url_is_written_once_and_stamped_into_every_setup_cell():
    url = build.repository_url(ROOT)
    assert url.startswith("https://")
    for chapter in build.list_chapters(ROOT):
        notebook = nbformat.read(chapter.notebook, as_version=4)
        setup = next(cell for cell in notebook.cells if cell.cell_type == "code")
        assert build.SETUP_TAG in setup.metadata.get("tags", []), chapter.name
        found = build.URL_PATTERN.findall(setup.source)
        assert found and all(match[1] == url for match in found), chapter.name
        assert "google.colab" in setup.source  # does nothing outside Colab
        code_lines = [line for line in setup.source.splitlines()
                      if not line.strip().startswith("#")]
        assert "torch" not in "\n".join(code_lines)  # installs no torch: Colab's stays


def test_stamp_rewrites_only_the_git_url():
    text = 'pip install "pkg @ git+https://github.com/old/repo" # keep https://example.org'
    stamped = build.stamp_repository_url(text, "https://github.com/new/book")
    assert "git+https://github.com/new/book" in stamped
    assert "https://example.org" in stamped


def test_chapters_come_from_the_toc_in_order(tmp_path):
    (tmp_path / "_config.yml").write_text("title: t\n")
    toc = {"format": "jb-book", "root": "book/intro", "parts": [
        {"caption": "a", "chapters": [{"file": "notebooks/02_b"}, {"file": "book/x"}]},
        {"caption": "b", "chapters": [{"file": "notebooks/01_a", "sections": [
            {"file": "notebooks/03_c"}]}]}]}
    (tmp_path / "_toc.yml").write_text(yaml.safe_dump(toc))
    names = [c.name for c in build.list_chapters(tmp_path)]
    assert names == ["02_b", "01_a", "03_c"]
    chosen = build.select_chapters(build.list_chapters(tmp_path), ["a", "03_c"])
    assert [c.name for c in chosen] == ["01_a", "03_c"]
    with pytest.raises(build.BuildError, match="no chapter called 'zzz'"):
        build.select_chapters(build.list_chapters(tmp_path), ["zzz"])


def _tiny_book(tmp_path: Path, code: str) -> Path:
    """A one-chapter book whose chapter runs ``code`` after its parameters cell."""
    root = tmp_path / "book_repo"
    (root / "book").mkdir(parents=True)
    (root / "notebooks").mkdir()
    shutil.copy(ROOT / "_config.yml", root / "_config.yml")
    (root / "book" / "intro.md").write_text("# Intro\n")
    (root / "book" / "references.bib").write_text("")
    toc = {"format": "jb-book", "root": "book/intro",
           "chapters": [{"file": "notebooks/01_tiny"}]}
    (root / "_toc.yml").write_text(yaml.safe_dump(toc))
    source = textwrap.dedent("""\
        ---
        jupytext:
          text_representation: {extension: .md, format_name: myst}
        kernelspec: {display_name: Python 3, language: python, name: python3}
        ---
        # Tiny

        ```{code-cell} ipython3
        :tags: [parameters]

        profile = "default"
        bits = None
        ```

        ```{code-cell} ipython3
        CODE
        ```
        """).replace("CODE", code)
    (root / "notebooks" / "01_tiny.md").write_text(source)
    build.sync_pairs(root)
    return root


def _second_chapter(root: Path, name: str, code: str) -> None:
    """Add a chapter (a copy of the tiny one with other code) to a tiny book."""
    source = (root / "notebooks" / "01_tiny.md").read_text()
    old_code = source.rsplit("```{code-cell} ipython3\n", 1)[1].split("```")[0]
    (root / "notebooks" / f"{name}.md").write_text(source.replace(old_code, code + "\n"))
    toc = yaml.safe_load((root / "_toc.yml").read_text())
    toc["chapters"].append({"file": f"notebooks/{name}"})
    (root / "_toc.yml").write_text(yaml.safe_dump(toc))
    build.sync_pairs(root)


def test_sync_then_edit_is_detected(tmp_path):
    root = _tiny_book(tmp_path, "x = 1")
    chapter = build.list_chapters(root)[0]
    assert build.pair_problems(chapter) == []
    chapter.source.write_text(chapter.source.read_text().replace("x = 1", "x = 2"))
    with pytest.raises(build.BuildError, match="helpers.book.build sync"):
        build.check_pairs([chapter])


def test_outputs_in_the_committed_notebook_are_refused(tmp_path):
    root = _tiny_book(tmp_path, "x = 1")
    chapter = build.list_chapters(root)[0]
    notebook = nbformat.read(chapter.notebook, as_version=4)
    notebook.cells[-1].outputs = [nbformat.v4.new_output("stream", text="1")]
    nbformat.write(notebook, chapter.notebook)
    assert any("outputs" in problem for problem in build.pair_problems(chapter))


def test_a_failing_chapter_stops_the_chapters_still_running(tmp_path):
    import time

    pid_file = tmp_path / "slow.pid"
    root = _tiny_book(tmp_path, 'import time\ntime.sleep(8)\nraise RuntimeError("planted")')
    _second_chapter(root, "02_slow", f"import os, time\nopen({str(pid_file)!r}, 'w')"
                    ".write(str(os.getpid()))\ntime.sleep(600)")
    started = time.perf_counter()
    with pytest.raises(build.BuildError, match="01_tiny failed"):
        build.execute_chapters(root, build.list_chapters(root), root / "_build",
                               profile="smoke", jobs=2, data_dir=None)
    # without stopping the pool, this would wait out the slow chapter's ten minutes
    assert time.perf_counter() - started < 300
    kernel = int(pid_file.read_text())
    # the slow chapter's kernel is ended with its worker
    assert _process_ends(kernel), f"the slow chapter's kernel {kernel} is still running"


def _process_ends(pid: int, seconds: float = 5.0) -> bool:
    """Whether process ``pid`` is gone within ``seconds`` (polled every 0.1 s)."""
    import os
    import time

    for _ in range(int(seconds / 0.1)):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.1)
    return False


def _build_with_a_sleeping_kernel(tmp_path, **popen):
    """Start a smoke build of a one-chapter book whose kernel sleeps; wait until it runs.

    Returns the build process and the ``(kernel pid, kernel's parent pid)`` it wrote.
    """
    import subprocess
    import sys
    import time

    pid_file = tmp_path / "kernel.pid"
    root = _tiny_book(tmp_path, f"import os, time\nopen({str(pid_file)!r}, 'w')"
                      ".write(f'{os.getpid()} {os.getppid()}')\ntime.sleep(600)")
    process = subprocess.Popen(
        [sys.executable, "-m", "helpers.book.build", "--profile", "smoke", "--no-train-stage"],
        cwd=root, **popen)
    for _ in range(1200):  # wait for the chapter's kernel to start
        if pid_file.exists() and pid_file.read_text():
            break
        time.sleep(0.1)
    kernel, parent = (int(n) for n in pid_file.read_text().split())
    return process, kernel, parent


def test_a_terminated_build_stops_its_chapters_and_says_how_to_resume(tmp_path):
    import os
    import signal
    import subprocess

    build_process, kernel, _ = _build_with_a_sleeping_kernel(
        tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    build_process.send_signal(signal.SIGTERM)
    _, err = build_process.communicate(timeout=120)
    assert build_process.returncode == 130 and "build interrupted" in err
    if not _process_ends(kernel):
        os.kill(kernel, signal.SIGKILL)
        pytest.fail("the chapter's kernel outlived the terminated build")


def test_failing_chapter_is_named_with_its_cell_and_old_html_survives(tmp_path):
    root = _tiny_book(tmp_path, 'raise RuntimeError("planted failure")')
    build_dir = root / "_build"
    old_page = build_dir / "html" / "index.html"
    old_page.parent.mkdir(parents=True)
    old_page.write_text("previous book")
    chapters = build.list_chapters(root)
    with pytest.raises(build.BuildError) as caught:
        build.execute_chapters(root, chapters, build_dir, profile="smoke", jobs=1, data_dir=None)
    message = str(caught.value)
    assert "01_tiny" in message and "RuntimeError: planted failure" in message
    assert "cell" in message
    assert (build_dir / "failed" / "01_tiny.ipynb").is_file()
    assert old_page.read_text() == "previous book"
    # the source notebook was not touched by execution
    assert build.pair_problems(chapters[0]) == []


def test_parameters_reach_the_chapter_and_the_executed_copy_lives_in_the_build_folder(tmp_path):
    code = "import json, os; json.dump({'profile': profile, 'bits': bits}, open('seen.json', 'w'))"
    root = _tiny_book(tmp_path, code)
    build_dir = root / "_build"
    chapters = build.list_chapters(root)
    build.execute_chapters(root, chapters, build_dir, profile="smoke", jobs=1, data_dir=None,
                           parameters={"bits": "[1, 2, 3]"})
    assert json.loads((root / "seen.json").read_text()) == {"profile": "smoke", "bits": "[1, 2, 3]"}
    assert (build_dir / "executed" / "01_tiny.ipynb").is_file()
    assert build.notebook_errors(build_dir / "executed" / "01_tiny.ipynb") == []


def test_render_refuses_an_executed_notebook_with_errors(tmp_path):
    root = _tiny_book(tmp_path, "x = 1")
    build_dir = root / "_build"
    executed = build_dir / "executed"
    executed.mkdir(parents=True)
    notebook = nbformat.read(root / "notebooks" / "01_tiny.ipynb", as_version=4)
    notebook.cells[-1].outputs = [nbformat.v4.new_output("error", ename="ValueError",
                                                         evalue="bad", traceback=[])]
    nbformat.write(notebook, executed / "01_tiny.ipynb")
    with pytest.raises(build.BuildError, match="ValueError: bad"):
        build.render(root, build.list_chapters(root), build_dir)


def test_missing_root_gives_a_clear_error(tmp_path):
    with pytest.raises(build.BuildError, match="repository root"):
        build.find_root(tmp_path)


def test_training_stage_runs_once_for_chapters_that_use_the_suite(tmp_path, monkeypatch,
                                                                    capsys):
    from helpers.nets import suite as suite_module

    plain = build.list_chapters(_tiny_book(tmp_path / "a", "x = 1"))[0]
    user = build.list_chapters(_tiny_book(tmp_path / "b", "x = 1"))[0]
    _with_front_matter(user, "{suite: true}")
    assert not build.uses_suite(plain) and build.uses_suite(user)
    calls = []

    def fake_train_suite(profile, **kwargs):
        calls.append((profile, kwargs))
        return suite_module.Suite([], profile=suite_module.suite_profile(profile))

    monkeypatch.setattr(suite_module, "train_suite", fake_train_suite)
    monkeypatch.setenv("HELPERS_CACHE_DIR", str(tmp_path / "cache"))
    summary = build.train_stage(tmp_path / "_build", profile="smoke", data_dir=None)
    assert summary["seconds"] >= 0 and summary["networks"] == [] and len(calls) == 1
    profile, kwargs = calls[0]
    assert profile == "smoke" and kwargs["include_smooth"] is True
    assert kwargs["cache_dir"] == str(tmp_path / "cache")
    assert "training stage finished" in capsys.readouterr().out
    kwargs["log"]("cache hit for the weights of cnn-mnist")
    kwargs["log"]("resuming resnet8 on cifar10 after epoch 6 of 32")
    assert capsys.readouterr().out == "  resuming resnet8 on cifar10 after epoch 6 of 32\n"


def test_an_interrupted_build_says_how_to_resume(tmp_path, monkeypatch, capsys):
    root = _tiny_book(tmp_path, "x = 1")

    def interrupt(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(build, "execute_chapters", interrupt)
    monkeypatch.chdir(root)
    assert build.main(["--profile", "smoke", "--no-train-stage"]) == 130
    err = capsys.readouterr().err
    assert "build interrupted" in err and "Run the same command again to resume" in err
    assert "Traceback" not in err


def test_unknown_parameters_are_refused_before_anything_runs(tmp_path):
    root = _tiny_book(tmp_path, "x = 1")
    chapters = build.list_chapters(root)
    assert build.chapter_parameters(chapters[0]) == {"profile", "bits"}
    build.check_parameters(chapters, {"bits": "[1, 2]"})
    with pytest.raises(build.BuildError, match="has no parameter nonexistent; its parameters "
                                               "are bits, profile"):
        build.check_parameters(chapters, {"nonexistent": "3", "bits": "[1]"})


def test_every_real_chapter_exposes_bits_and_seed():
    for chapter in build.list_chapters(ROOT):
        assert {"profile", "bits", "seed", "dataset"} <= build.chapter_parameters(chapter)


def test_execution_record_keeps_earlier_chapters_and_the_environment(tmp_path):
    build_dir = tmp_path / "_build"
    first = build.write_execution_record(build_dir, profile="smoke", data_dir=None,
                                         parameters={}, timings={"01_a": 3.2, "02_b": 5.0},
                                         training=None, started="now")
    build.write_execution_record(build_dir, profile="default", data_dir=None,
                                 parameters={"bits": "[1]"}, timings={"02_b": 7.0},
                                 training={"seconds": 1.0, "networks": [], "skipped": []},
                                 started="later")
    record = json.loads(first.read_text())
    chapters = {c["name"]: c for c in record["chapters"]}
    assert chapters["01_a"]["profile"] == "smoke" and chapters["01_a"]["seconds"] == 3.2
    assert chapters["02_b"]["profile"] == "default" and chapters["02_b"]["seconds"] == 7.0
    assert record["packages"]["helpers"] and record["machine"]["cpu_count"] >= 1
    assert record["training_stage"]["seconds"] == 1.0


def test_chapters_start_longest_first_from_the_last_record_of_their_profile(tmp_path):
    chapters = [build.Chapter(f"notebooks/{name}", tmp_path)
                for name in ("01_a", "02_b", "03_c", "04_d", "05_e")]
    order = build.longest_first(chapters, {"01_a": 50.0, "02_b": 140.0, "03_c": 559.0,
                                           "05_e": 140.0})
    # no record (04_d) first, then longest first; the tie keeps the file order
    assert [c.name for c in order] == ["04_d", "03_c", "02_b", "05_e", "01_a"]
    assert build.longest_first(chapters, {}) == chapters
    build_dir = tmp_path / "_build"
    assert build.recorded_seconds(build_dir, "full") == {}  # no record yet
    build.write_execution_record(build_dir, profile="full", data_dir=None, parameters={},
                                 timings={"01_a": 3.0, "02_b": 9.0}, training=None,
                                 started="now")
    build.write_execution_record(build_dir, profile="smoke", data_dir=None, parameters={},
                                 timings={"02_b": 0.5}, training=None, started="later")
    assert build.recorded_seconds(build_dir, "full") == {"01_a": 3.0}  # 02_b ran as smoke
    assert build.recorded_seconds(build_dir, "smoke") == {"02_b": 0.5}


def test_a_chapter_others_wait_for_starts_with_the_time_of_its_chain(tmp_path):
    chapters = [build.Chapter(f"notebooks/{name}", tmp_path)
                for name in ("01_a", "02_b", "03_c", "04_d", "05_e")]
    seconds = {"01_a": 50.0, "02_b": 400.0, "03_c": 559.0, "04_d": 100.0, "05_e": 300.0}
    # 05_e waits for 04_d: the chain 04_d then 05_e counts 400 s, and on a tie with 02_b the
    # chapter others wait for goes first
    order = build.longest_first(chapters, seconds, {"05_e": {"04_d"}})
    assert [c.name for c in order] == ["03_c", "04_d", "02_b", "05_e", "01_a"]
    # a chain longer than every other chapter starts first
    order = build.longest_first(chapters, {**seconds, "05_e": 500.0}, {"05_e": {"04_d"}})
    assert [c.name for c in order][:2] == ["04_d", "03_c"]
    # cold (no record): the chapter others wait for starts first, then the file order
    order = build.longest_first(chapters, {}, {"05_e": {"04_d"}, "03_c": {"05_e"}})
    assert [c.name for c in order] == ["04_d", "05_e", "01_a", "02_b", "03_c"]


def _with_front_matter(chapter, entry: str) -> None:
    """Add ``entry`` (YAML) under ``helpers_build`` in a chapter's front matter and sync."""
    source = chapter.source.read_text().replace(
        "kernelspec:", f"helpers_build: {entry}\nkernelspec:", 1)
    chapter.source.write_text(source)
    build.sync_pairs(chapter.root)


def test_order_constraints_come_from_the_front_matter_and_are_checked(tmp_path):
    root = _tiny_book(tmp_path, "x = 1")
    _second_chapter(root, "02_reuses", "y = 2")
    _second_chapter(root, "03_alone", "z = 3")
    first, second, third = build.list_chapters(root)
    _with_front_matter(second, "{after: [01_tiny]}")
    assert build.chapter_order_constraints([first, second, third]) == {
        "01_tiny": set(), "02_reuses": {"01_tiny"}, "03_alone": set()}
    # a chapter run without the one it waits for starts at once
    assert build.chapter_order_constraints([second]) == {"02_reuses": set()}
    _with_front_matter(third, "{after: 01_tiyn}")
    with pytest.raises(build.BuildError, match=r"03_alone starts after \['01_tiyn'\], which "
                                               "the book does not have"):
        build.chapter_order_constraints([first, second, third])
    third.source.write_text(third.source.read_text().replace("01_tiyn", "7"))
    build.sync_pairs(root)
    with pytest.raises(build.BuildError, match="03_alone: `after` must be a chapter name or a "
                                               "list of them, got 7"):
        build.chapter_order_constraints([first, second, third])
    third.source.write_text(third.source.read_text().replace("{after: 7}", "{after: 02_reuses}"))
    _with_front_matter(first, "{after: [03_alone]}")
    with pytest.raises(build.BuildError, match="cycle .*01_tiny -> 03_alone -> 02_reuses -> "
                                               "01_tiny"):
        build.chapter_order_constraints([first, second, third])


def test_the_book_runs_chapter_5_after_chapter_4_and_nothing_else_waits():
    after = build.chapter_order_constraints(build.list_chapters(ROOT))
    assert after.pop("05_lipschitz_regularization") == {"04_curvature_threshold"}
    assert all(not names for names in after.values())


def test_a_chapter_starts_only_after_the_chapter_it_waits_for(tmp_path):
    marker = tmp_path / "first_finished"
    root = _tiny_book(tmp_path, f"import time, pathlib\ntime.sleep(3)\n"
                                f"pathlib.Path({str(marker)!r}).write_text('done')")
    _second_chapter(root, "02_reuses", f"import pathlib\n"
                                       f"assert pathlib.Path({str(marker)!r}).is_file()")
    chapters = build.list_chapters(root)
    _with_front_matter(chapters[1], "{after: [01_tiny]}")
    # two workers: without the constraint both would start at once and 02 would fail
    timings = build.execute_chapters(root, chapters, root / "_build", profile="smoke", jobs=2,
                                     data_dir=None)
    assert set(timings) == {"01_tiny", "02_reuses"}


def test_stage_last_chapters_are_recognised(tmp_path):
    root = _tiny_book(tmp_path, "x = 1")
    chapter = build.list_chapters(root)[0]
    assert build.chapter_stage(chapter) == "main"
    source = chapter.source.read_text().replace(
        "kernelspec:", "helpers_build: {stage: last}\nkernelspec:", 1)
    chapter.source.write_text(source)
    build.sync_pairs(root)
    assert build.chapter_stage(chapter) == "last"


@pytest.mark.parametrize("chapter,bits,params,message", [
    ("zzz", ["3"], {}, "no chapter called 'zzz'"),
    (None, ["3"], {}, "rerun needs a chapter"),
    ("01_tiny", ["0"], {}, r"--bits entry=0 is outside the supported range \(> 0 and <= 52\)"),
    ("01_tiny", ["-2"], {}, "entry=-2 is outside the supported range"),
    ("01_tiny", ["three"], {}, "takes numbers of bits, got 'three'"),
    ("01_tiny", [], {}, "at least one precision"),
    ("01_tiny", None, {}, "needs new parameters"),
    ("01_tiny", ["3"], {"nonexistent": "3"}, "has no parameter nonexistent"),
])
def test_rerun_refuses_bad_arguments_before_anything_runs(tmp_path, monkeypatch, chapter, bits,
                                                          params, message):
    root = _tiny_book(tmp_path, "x = 1")
    ran = []
    monkeypatch.setattr(build, "execute_chapters", lambda *a, **k: ran.append(a) or {})
    with pytest.raises(build.BuildError, match=message):
        build.rerun(root, build.list_chapters(root), root / "_build", chapter=chapter,
                    bits=bits, parameters=params, profile=None, data_dir=None, jobs=1)
    assert ran == []


def test_rerun_runs_the_chapter_then_the_readers_then_renders(tmp_path, monkeypatch):
    root = _tiny_book(tmp_path, "x = 1")
    chapters = build.list_chapters(root)
    reader = build.Chapter("notebooks/02_reader", root)  # a stand-in for the claims ledger
    monkeypatch.setattr(build, "chapter_stage",
                        lambda c: "last" if c.name == "02_reader" else "main")
    build.write_execution_record(root / "_build", profile="smoke", data_dir=None,
                                 parameters={}, timings={"01_tiny": 1.0}, training=None,
                                 started="then")
    calls = []

    def execute(root_, selected, build_dir, **kwargs):
        calls.append(([c.name for c in selected], kwargs))
        return {c.name: 0.5 for c in selected}

    monkeypatch.setattr(build, "execute_chapters", execute)
    monkeypatch.setattr(build, "render", lambda *a, **k: calls.append("render"))
    timings = build.rerun(root, [*chapters, reader], root / "_build", chapter="tiny",
                          bits=["3", "5.5"], parameters={}, profile=None, data_dir=None, jobs=1)
    assert calls[0][0] == ["01_tiny"] and calls[0][1]["profile"] == "smoke"  # the book's profile
    assert calls[0][1]["parameters"] == {"bits": "[3, 5.5]"}
    assert calls[1][0] == ["02_reader"] and calls[2] == "render"
    assert timings == {"01_tiny": 0.5, "02_reader": 0.5}


def test_a_failed_build_leaves_the_previous_notebooks_and_results(tmp_path):
    build_dir = tmp_path / "_build"
    (build_dir / "executed").mkdir(parents=True)
    (build_dir / "results").mkdir()
    (build_dir / "executed" / "01_a.ipynb").write_text("old notebook")
    (build_dir / "results" / "a.json").write_text("old results")
    with pytest.raises(RuntimeError, match="chapter 2 broke"):
        with build.build_transaction(build_dir) as staging:
            assert (staging / "results" / "a.json").read_text() == "old results"
            (staging / "executed" / "01_a.ipynb").write_text("new notebook")
            (staging / "results" / "a.json").write_text("new results")
            raise RuntimeError("chapter 2 broke")
    assert (build_dir / "executed" / "01_a.ipynb").read_text() == "old notebook"
    assert (build_dir / "results" / "a.json").read_text() == "old results"
    assert (build_dir / "failed" / "last-build" / "results" / "a.json").is_file()
    with build.build_transaction(build_dir) as staging:
        (staging / "executed" / "01_a.ipynb").write_text("new notebook")
        (staging / "results" / "b.json").write_text("b")
    assert (build_dir / "executed" / "01_a.ipynb").read_text() == "new notebook"
    assert sorted(p.name for p in (build_dir / "results").iterdir()) == ["a.json", "b.json"]
    assert not (build_dir / "staging").exists()


def _executed_copy(root, build_dir, name, profile, data_dir=None):
    import nbformat

    source = root / "notebooks" / "01_tiny.ipynb"
    target = build_dir / "executed" / f"{name}.ipynb"
    target.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nbformat.read(source, as_version=4), target)
    build.stamp_execution(target, profile=profile, data_dir=data_dir, parameters={})
    return build.Chapter(f"notebooks/{name}", root)


def test_render_refuses_chapters_from_different_profiles_and_names_them(tmp_path):
    root = _tiny_book(tmp_path, "x = 1")
    build_dir = root / "_build"
    a = _executed_copy(root, build_dir, "01_a", "default")
    b = _executed_copy(root, build_dir, "02_b", "default")
    c = _executed_copy(root, build_dir, "03_c", "full", "/data")
    assert build.check_one_profile([a, b], build_dir) == ("default", None)
    with pytest.raises(build.BuildError, match=r"profile 'full', data /data: 03_c.*re-execute "
                                               r"03_c with .*--profile default"):
        build.check_one_profile([a, b, c], build_dir)


def test_every_staged_page_says_how_it_was_executed(tmp_path):
    import nbformat

    root = _tiny_book(tmp_path, "x = 1")
    build_dir = root / "_build"
    chapter = _executed_copy(root, build_dir, "01_tiny", "full", "/data/dir")
    stage = build._stage(root, [chapter], build_dir)
    staged = nbformat.read(stage / "notebooks" / "01_tiny.ipynb", as_version=4)
    notes = [cell.source for cell in staged.cells if "was executed with" in cell.source]
    assert notes and "`full` profile" in notes[0] and "/data/dir" in notes[0]


def test_notebooks_from_before_data_was_recorded_follow_their_profile(tmp_path):
    import nbformat

    root = _tiny_book(tmp_path, "x = 1")
    build_dir = root / "_build"
    old = _executed_copy(root, build_dir, "01_old", "full")
    notebook = nbformat.read(build_dir / "executed" / "01_old.ipynb", as_version=4)
    del notebook.metadata["helpers_build"]
    notebook.metadata["papermill"] = {"parameters": {"profile": "full"}}
    nbformat.write(notebook, build_dir / "executed" / "01_old.ipynb")
    new = _executed_copy(root, build_dir, "02_new", "full", "/data")
    assert build.check_one_profile([old, new], build_dir) == ("full", "/data")
    other = _executed_copy(root, build_dir, "03_other", "default")
    with pytest.raises(build.BuildError, match="profile 'default'"):
        build.check_one_profile([old, new, other], build_dir)


def test_only_the_front_matter_says_whether_a_chapter_uses_the_suite(tmp_path):
    calls = build.list_chapters(_tiny_book(tmp_path / "a", "suite = train_suite('smoke')"))[0]
    assert not build.uses_suite(calls)  # the build does not read the code
    declared = build.list_chapters(_tiny_book(tmp_path / "b", "x = 1"))[0]
    _with_front_matter(declared, "{suite: true, after: []}")
    assert build.uses_suite(declared)
    refused = build.list_chapters(_tiny_book(tmp_path / "c", "x = 1"))[0]
    _with_front_matter(refused, "{suite: false}")
    assert not build.uses_suite(refused)


@pytest.mark.parametrize("entry,message", [
    ("{suite: yes please}", "01_tiny: `suite` must be true or false, got 'yes please'"),
    ("{suite: 1}", "`suite` must be true or false, got 1"),
    ("{suites: true}", r"01_tiny: unknown key\(s\) \['suites'\] under `helpers_build`"),
    ("{stage: first}", "`stage` must be main or last, got 'first'"),
    ("[suite]", "`helpers_build` must be a mapping"),
])
def test_a_wrong_front_matter_names_the_chapter_and_the_fix(tmp_path, monkeypatch, capsys,
                                                            entry, message):
    root = _tiny_book(tmp_path, "x = 1")
    _with_front_matter(build.list_chapters(root)[0], entry)
    with pytest.raises(build.BuildError, match=message) as caught:
        build.front_matter(build.list_chapters(root)[0])
    assert "01_tiny.md, then run `python -m helpers.book.build sync`" in str(caught.value)
    # the build refuses it before anything runs, even for a chapter it was not asked to run
    ran = []
    monkeypatch.setattr(build, "execute_chapters", lambda *a, **k: ran.append(a) or {})
    monkeypatch.chdir(root)
    assert build.main(["check"]) == 1 and ran == []
    assert re.search(message, capsys.readouterr().err)


def test_the_chapters_that_train_the_suite_declare_it():
    for chapter in build.list_chapters(ROOT):
        text = chapter.source.read_text()
        calls = "train_suite(" in text or "capacity.book_example(" in text
        assert build.uses_suite(chapter) == calls, chapter.name


def _record_stages(monkeypatch) -> list:
    """Replace the build's stages by stand-ins that note, in order, what each was given."""
    calls = []

    def execute(root, chapters, build_dir, **kwargs):
        calls.append(("execute", [c.name for c in chapters], kwargs["parameters"],
                      kwargs["staging"].name))
        return {c.name: 1.0 for c in chapters}

    monkeypatch.setattr(build, "execute_chapters", execute)
    monkeypatch.setattr(build, "train_stage",
                        lambda build_dir, **kwargs: calls.append(("train", kwargs["profile"])))
    monkeypatch.setattr(build, "render", lambda root, chapters, build_dir, *staging: calls.append(
        ("render", [c.name for c in chapters])))
    return calls


def test_build_and_rerun_go_through_the_same_stages(tmp_path, monkeypatch):
    root = _tiny_book(tmp_path, "x = 1")
    _second_chapter(root, "02_ledger", "y = 2")
    tiny, ledger = build.list_chapters(root)
    _with_front_matter(tiny, "{suite: true}")
    _with_front_matter(ledger, "{stage: last}")
    calls = _record_stages(monkeypatch)
    monkeypatch.chdir(root)
    assert build.main(["--profile", "smoke"]) == 0
    assert calls == [("train", "smoke"), ("execute", ["01_tiny"], {}, "staging"),
                     ("execute", ["02_ledger"], {}, "staging"),
                     ("render", ["01_tiny", "02_ledger"])]
    record = json.loads((root / "_build" / "results" / build.EXECUTION_FILE).read_text())
    assert [c["name"] for c in record["chapters"]] == ["01_tiny", "02_ledger"]
    calls.clear()
    assert build.main(["rerun", "tiny", "--bits", "3", "5"]) == 0
    # the same runner, without the training stage; the ledger runs with its own parameters
    assert calls == [("execute", ["01_tiny"], {"bits": "[3, 5]"}, "staging"),
                     ("execute", ["02_ledger"], {}, "staging"),
                     ("render", ["01_tiny", "02_ledger"])]
    record = json.loads((root / "_build" / "results" / build.EXECUTION_FILE).read_text())
    assert record["profile"] == "smoke"  # the book's profile, kept by the rerun
    assert {c["name"]: c["parameters"] for c in record["chapters"]} == {
        "01_tiny": {"bits": "[3, 5]"}, "02_ledger": {}}


def test_a_plan_whose_step_fails_publishes_nothing_and_does_not_render(tmp_path, monkeypatch):
    root = _tiny_book(tmp_path, "x = 1")
    chapters = build.list_chapters(root)
    build_dir = root / "_build"
    build.write_execution_record(build_dir, profile="smoke", data_dir=None, parameters={},
                                 timings={"01_tiny": 1.0}, training=None, started="then")
    before = (build_dir / "results" / build.EXECUTION_FILE).read_text()
    calls = _record_stages(monkeypatch)

    def fail(*args, **kwargs):
        raise build.BuildError("chapter 01_tiny failed")

    monkeypatch.setattr(build, "execute_chapters", fail)
    plan = build.plan_rerun(chapters, build_dir, chapter="tiny", bits=["2"], parameters={},
                            profile=None, data_dir=None, jobs=1)
    assert plan.profile == "smoke" and not plan.train
    with pytest.raises(build.BuildError, match="01_tiny failed"):
        build.run_plan(root, chapters, build_dir, plan)
    assert calls == []  # no render
    assert (build_dir / "results" / build.EXECUTION_FILE).read_text() == before
    assert (build_dir / "failed" / "last-build").is_dir()


# ---------------------------------------------------------------------------------------------
# Hardening: one run per build folder, arguments checked before work, signals, permissions

_SLOW_RENDER = """
import sys, time
from pathlib import Path
from helpers.book import build

def slow_render(root, chapters, build_dir, staging=None):
    Path(sys.argv[1]).write_text("rendering")
    time.sleep(float(sys.argv[2]))
    if staging is None:
        (build_dir / "html" / "index.html").write_text("book of the first run")

build.render = slow_render
sys.exit(build.main(sys.argv[3:]))
"""


def _start_slow_render(root: Path, marker: Path, seconds: float, *arguments: str):
    """Start the build's command line in ``root`` with a render that takes ``seconds``."""
    import subprocess
    import sys
    import time

    process = subprocess.Popen([sys.executable, "-c", _SLOW_RENDER, str(marker), str(seconds),
                                *arguments], cwd=root, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    for _ in range(600):
        if marker.exists() or process.poll() is not None:
            break
        time.sleep(0.05)
    assert marker.exists(), process.communicate()
    return process


def _run_build(root: Path, *arguments: str):
    import subprocess
    import sys

    return subprocess.run([sys.executable, "-m", "helpers.book.build", *arguments], cwd=root,
                          capture_output=True, text=True, timeout=120)


def _book_with_html(tmp_path: Path) -> tuple[Path, Path]:
    root = _tiny_book(tmp_path, "x = 1")
    build_dir = root / "_build"
    _executed_copy(root, build_dir, "01_tiny", "smoke")
    (build_dir / "html").mkdir()
    (build_dir / "html" / "index.html").write_text("published book")
    (build_dir / "results").mkdir()
    (build_dir / "results" / "tiny.json").write_text("old results")
    return root, build_dir


def test_a_second_run_in_one_build_folder_is_refused_at_once(tmp_path):
    root, build_dir = _book_with_html(tmp_path)
    for trial in range(3):  # a render against a render, then a build and a rerun against one
        marker = tmp_path / f"rendering-{trial}"
        first = _start_slow_render(root, marker, 8, "--render-only")
        second = _run_build(root, *(["--render-only"], ["--profile", "smoke",
                                    "--no-train-stage"], ["rerun", "tiny", "--bits", "3"])[trial])
        assert second.returncode == 1, second.stderr
        assert f"another build is running in {build_dir.resolve()}: pid {first.pid}, " \
               "started 20" in second.stderr
        assert "Traceback" not in second.stderr
        # refused before it touched anything: no staging, no stage, the book in place
        assert not (build_dir / "staging").exists() and not (build_dir / "stage").exists()
        assert not (build_dir / "html.previous").exists()
        out, err = first.communicate(timeout=60)
        assert first.returncode == 0, err
        assert (build_dir / "html" / "index.html").read_text() == "book of the first run"
        assert (build_dir / "results" / "tiny.json").read_text() == "old results"


def test_the_lock_of_a_killed_run_is_taken_over_with_a_message(tmp_path, capsys):
    import os
    import subprocess
    import sys

    build_dir = tmp_path / "_build"
    holder = subprocess.run([sys.executable, "-c", (
        "import os, signal; from pathlib import Path; from helpers.book import build\n"
        f"with build.build_lock(Path({str(build_dir)!r})):\n"
        "    print(os.getpid(), flush=True)\n"
        "    os.kill(os.getpid(), signal.SIGKILL)")], capture_output=True, text=True)
    assert holder.returncode == -9
    with build.build_lock(build_dir):
        out = capsys.readouterr().out
        assert f"taking over the lock of {build_dir}" in out
        assert f"pid {int(holder.stdout)}, started 20" in out
        assert "ended without releasing it" in out
        # and while this run holds it, another is refused with this run's pid
        with pytest.raises(build.BuildError, match=f"another build is running in .*pid "
                                                   f"{os.getpid()}, started "):
            with build.build_lock(build_dir):
                pass
    with build.build_lock(build_dir):  # released cleanly: taken without a word
        assert "taking over" not in capsys.readouterr().out


def test_a_read_only_build_folder_is_named_not_a_traceback(tmp_path, monkeypatch, capsys):
    import errno
    import os

    root, build_dir = _book_with_html(tmp_path)
    if os.geteuid() == 0:  # root writes anywhere: make the folder refuse as it would a user
        for name in ("open", "mkdir"):
            real = getattr(os, name)

            def refuse(path, *args, _real=real, **kwargs):
                if str(path).startswith(str(build_dir)):
                    raise PermissionError(errno.EACCES, "Permission denied", str(path))
                return _real(path, *args, **kwargs)

            monkeypatch.setattr(os, name, refuse)
    else:
        os.chmod(build_dir, 0o555)
    monkeypatch.chdir(root)
    try:
        assert build.main(["--render-only"]) == 1
    finally:
        os.chmod(build_dir, 0o755)
    err = capsys.readouterr().err
    assert f"the build folder {build_dir} cannot be written" in err and "--build-dir" in err
    assert (build_dir / "html" / "index.html").read_text() == "published book"


def test_sigterm_during_the_render_keeps_the_previous_book_and_says_how_to_resume(tmp_path):
    import signal

    root, build_dir = _book_with_html(tmp_path)
    before = (build_dir / "executed" / "01_tiny.ipynb").read_text()
    script_marker = tmp_path / "rendering"
    # the chapters are stood in for; the render is the real stage being interrupted
    execute_stand_in = textwrap.dedent("""
        def execute(root, chapters, build_dir, *, staging, **kwargs):
            (staging / "results" / "tiny.json").write_text("new results")
            import nbformat
            source = build_dir / "executed" / "01_tiny.ipynb"
            notebook = nbformat.read(source, as_version=4)
            notebook.metadata["new"] = True
            nbformat.write(notebook, staging / "executed" / "01_tiny.ipynb")
            return {c.name: 0.1 for c in chapters}
        build.execute_chapters = execute
    """)
    script = _SLOW_RENDER.replace("build.render = slow_render",
                                  "build.render = slow_render\n" + execute_stand_in)
    import subprocess
    import sys
    import time

    process = subprocess.Popen([sys.executable, "-c", script, str(script_marker), "60",
                                "--profile", "smoke", "--no-train-stage"], cwd=root,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    for _ in range(600):
        if script_marker.exists() or process.poll() is not None:
            break
        time.sleep(0.05)
    assert script_marker.exists(), process.communicate()
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    assert "build interrupted" in err and "Run the same command again" in err
    # the three folders are those of the previous book, together
    assert (build_dir / "results" / "tiny.json").read_text() == "old results"
    assert (build_dir / "executed" / "01_tiny.ipynb").read_text() == before
    assert (build_dir / "html" / "index.html").read_text() == "published book"
    assert (build_dir / "failed" / "last-build" / "results" / "tiny.json").read_text() == \
        "new results"


def _descendants(pid: int) -> set[int]:
    """Every living process below ``pid`` (Linux /proc)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")
def test_a_killed_build_takes_its_workers_and_kernels_with_it(tmp_path):
    import os
    import signal
    import subprocess

    process, kernel, worker = _build_with_a_sleeping_kernel(
        tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    below = _descendants(process.pid) | {kernel, worker}
    process.send_signal(signal.SIGKILL)
    process.wait()
    left = [pid for pid in below if not _process_ends(pid, seconds=15)]
    for pid in left:
        os.kill(pid, signal.SIGKILL)
    assert not left, f"processes {left} outlived the killed build"


def test_a_bad_parameter_value_is_refused_before_anything_runs(tmp_path, monkeypatch, capsys):
    root = _tiny_book(tmp_path, "x = 1")
    _with_front_matter(build.list_chapters(root)[0], "{suite: true}")
    calls = _record_stages(monkeypatch)
    monkeypatch.chdir(root)
    assert build.main(["--profile", "smoke", "--param", "bits=[0]"]) == 1
    err = capsys.readouterr().err
    assert "chapter 01_tiny refuses --param bits=[0]" in err and "supported range" in err
    assert calls == [] and not (root / "_build").exists()  # no training, nothing written
    assert build.main(["--profile", "smoke", "--param", "profile=full"]) == 1
    assert "give it with --profile" in capsys.readouterr().err


@pytest.mark.parametrize("parameters,message", [
    ({"dataset": "imagenet"}, r"dataset='imagenet' is not one of \['per model', "),
    ({"quantile": "1.5"}, r"quantile=1.5 must be a number in \[0.5, 1.0\)"),
    ({"n_analysis": "0"}, "n_analysis"),
    ({"seed": "-1"}, "seed"),
])
def test_the_book_checks_each_chapter_parameter_by_the_chapters_rules(parameters, message):
    (curvature,) = build.select_chapters(build.list_chapters(ROOT), ["curvature_threshold"])
    build.check_parameters([curvature], {"dataset": "digits", "quantile": "0.99"})
    with pytest.raises(build.BuildError, match=message):
        build.check_parameters([curvature], parameters)


def test_every_chapter_table_names_a_chapter_and_exactly_its_parameters():
    from helpers.book import params

    chapters = {chapter.name: chapter for chapter in build.list_chapters(ROOT)}
    for name, table in params._chapter_parameters().items():
        assert name in chapters, name
        declared = build.chapter_parameters(chapters[name])
        assert set(table["rules"]) <= declared, name
        if table["profiles"] is not None:  # the parameters cell declares the table's names
            for values in table["profiles"].values():
                assert set(values) | {"seed", "profile"} == declared, name
    from helpers.capacity import NORMALIZATIONS

    normalizations = params.chapter_rules("09_your_own_representation")["normalization"]
    assert normalizations["one_of"] == list(NORMALIZATIONS)


def test_a_missing_data_directory_is_refused_up_front(tmp_path, monkeypatch, capsys):
    root = _tiny_book(tmp_path, "x = 1")
    calls = _record_stages(monkeypatch)
    monkeypatch.chdir(root)
    missing = tmp_path / "nonexistent"
    assert build.main(["--profile", "smoke", "--data-dir", str(missing)]) == 1
    assert f"--data-dir {missing} does not exist" in capsys.readouterr().err
    assert calls == [] and not (root / "_build").exists()
    (tmp_path / "a-file").write_text("")
    with pytest.raises(build.BuildError, match="is not a folder"):
        build.check_data_dir(str(tmp_path / "a-file"))
    # a rerun whose last build's data directory has gone says where the folder came from
    build.write_execution_record(root / "_build", profile="full", data_dir=str(missing),
                                 parameters={}, timings={}, training=None, started="then")
    with pytest.raises(build.BuildError, match="the last build's data directory .* does not"):
        build.plan_rerun(build.list_chapters(root), root / "_build", chapter="tiny",
                         bits=["3"], parameters={}, profile=None, data_dir=None, jobs=1)


def test_only_into_a_folder_without_the_other_chapters_stops_before_any_work(tmp_path):
    # the book renders every chapter, so the others must have run in an earlier build; the
    # error used to come after the chosen chapters had run, at render time
    chapters = build.list_chapters(ROOT)
    with pytest.raises(build.BuildError, match=r"no executed notebook of 02_precision_lower_"
                                               r"bound.*without --only"):
        build.plan_build(chapters, only=["numerical_entropy"], parameters={}, profile="smoke",
                         data_dir=None, jobs=1, build_dir=tmp_path / "_build")
    plan = build.plan_build(chapters, only=[c.name for c in chapters], parameters={},
                            profile="smoke", data_dir=None, jobs=1, build_dir=tmp_path / "_build")
    assert sum(len(step.chapters) for step in plan.steps) == len(chapters)
