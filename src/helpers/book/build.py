"""Build the book: check notebook pairs, execute every chapter with papermill, render HTML.

Usage (from the repository root)::

    python -m helpers.book.build [--profile {smoke,default,full}] [--only CHAPTER ...]
                            [--jobs N] [--data-dir DIR] [--render-only] [--no-train-stage]
    python -m helpers.book.build sync     # rewrite every .ipynb from its jupytext .md twin
    python -m helpers.book.build check    # only check that the pairs are in sync
    python -m helpers.book.build rerun CHAPTER --bits 3 5 7   # one chapter at new precisions

Every build and every ``rerun`` goes through the same stages (:func:`run_plan`):
(1) every chapter's ``.md`` source and ``.ipynb`` twin must hold the same cells, the
``.ipynb`` no outputs, and the front matter's ``helpers_build`` entry only known keys;
(2) when chapters that declare ``helpers_build: {suite: true}`` are to run, the model suite
is trained (or loaded) once, so that chapters running side by side do not each train the
same networks; (3) papermill executes a *copy* of each chapter (never the source) into a
staging folder, chapters in parallel where cores allow, longest first, a chapter that reuses
another's cached measurements after it (``helpers_build: {after: [...]}``), and the chapters
that read the others' results last (``helpers_build: {stage: last}``); (4) ``jupyter-book
build`` renders the staged pages with execution off; (5) only when every chapter and the
render succeeded do the executed notebooks, the results (with the execution record) and the
HTML replace those in ``_build``, together. A failed or interrupted build (Ctrl-C, SIGTERM,
SIGHUP) leaves the previous book untouched.

Every argument is checked before anything runs: parameter names and values (by the
chapter's own rules, :func:`helpers.book.params.chapter_rules`), the data directory, the
profile of the chapters kept. One run at a time holds a build folder (:func:`build_lock`);
a second is refused at once with the first's pid and start time. The chapters' workers end
when the build dies, even by SIGKILL.

Chapters are the entries of ``_toc.yml`` under ``notebooks/``; nothing here names a chapter.
Introduced in the book's README and used by every chapter.
"""

from __future__ import annotations

import argparse
import concurrent.futures as futures
import json
import multiprocessing
import os
import re
import shutil
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import yaml

from helpers._settings import CACHE_DIR_VARIABLE, DATA_DIR_VARIABLE, RESULTS_DIR_VARIABLE
from helpers.book.params import CHAPTER_VARIABLE, PROFILES, ParameterError, check_parameter

NOTEBOOK_FOLDER = "notebooks"
SOURCE_SUFFIX = ".md"
SETUP_TAG = "colab-setup"
URL_PATTERN = re.compile(r"(git\+)(https://[^\s\"'@#]+)")


class BuildError(RuntimeError):
    """The build stopped; the message names the chapter and what to do."""


@dataclass(frozen=True)
class Chapter:
    """One chapter: its toc entry and the paths of its twin files."""

    entry: str  # e.g. "notebooks/01_numerical_entropy"
    root: Path

    @property
    def name(self) -> str:
        """File stem, e.g. ``01_numerical_entropy``."""
        return Path(self.entry).name

    @property
    def source(self) -> Path:
        return self.root / f"{self.entry}{SOURCE_SUFFIX}"

    @property
    def notebook(self) -> Path:
        return self.root / f"{self.entry}.ipynb"


# ---------------------------------------------------------------------------------------------
# Locating the book and its chapters


def find_root(start: Path | None = None) -> Path:
    """Return the repository root: the nearest folder upward holding ``_toc.yml``."""
    here = Path(start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "_toc.yml").is_file() and (folder / "_config.yml").is_file():
            return folder
    raise BuildError(
        f"no _toc.yml and _config.yml found in {here} or above; run the build from the "
        "repository root (the folder with README.md)."
    )


def _toc_files(node) -> list[str]:
    """All ``file`` entries of a jupyter-book table of contents, in reading order."""
    found = []
    if isinstance(node, dict):
        if "file" in node:
            found.append(str(node["file"]))
        if "root" in node:
            found.append(str(node["root"]))
        for key in ("parts", "chapters", "sections"):
            for child in node.get(key, []) or []:
                found.extend(_toc_files(child))
    return found


def list_chapters(root: Path) -> list[Chapter]:
    """Chapters are the ``_toc.yml`` entries that live in ``notebooks/``."""
    toc = yaml.safe_load((root / "_toc.yml").read_text())
    entries = [entry for entry in _toc_files(toc) if entry.startswith(f"{NOTEBOOK_FOLDER}/")]
    return [Chapter(entry=re.sub(r"\.(md|ipynb)$", "", entry), root=root) for entry in entries]


def select_chapters(chapters: list[Chapter], only: list[str] | None) -> list[Chapter]:
    """Pick chapters by stem or by the part after the number (``numerical_entropy``)."""
    if not only:
        return chapters
    chosen = []
    for wanted in only:
        matches = [c for c in chapters if wanted in (c.name, c.name.split("_", 1)[-1], c.entry)]
        if not matches:
            names = ", ".join(c.name for c in chapters)
            raise BuildError(f"no chapter called {wanted!r}; the chapters are: {names}.")
        chosen.extend(match for match in matches if match not in chosen)
    return chosen


def repository_url(root: Path) -> str:
    """The repository URL, written once in ``_config.yml`` (``repository.url``)."""
    config = yaml.safe_load((root / "_config.yml").read_text())
    try:
        return str(config["repository"]["url"]).rstrip("/")
    except (KeyError, TypeError) as error:
        raise BuildError("_config.yml has no repository.url; add it there.") from error


# ---------------------------------------------------------------------------------------------
# Pairs: jupytext .md source <-> .ipynb twin


def _cell_signature(notebook) -> list[tuple]:
    return [
        (cell.cell_type, cell.source.strip(), tuple(cell.get("metadata", {}).get("tags", [])))
        for cell in notebook.cells
    ]


def pair_problems(chapter: Chapter) -> list[str]:
    """Everything that keeps a chapter's two files from being a clean, in-sync pair."""
    import jupytext
    import nbformat

    if not chapter.source.is_file():
        return [f"{chapter.entry}: the jupytext source {chapter.source.name} is missing"]
    if not chapter.notebook.is_file():
        return [f"{chapter.entry}: the notebook {chapter.notebook.name} is missing"]
    problems = []
    source = jupytext.read(chapter.source)
    notebook = nbformat.read(chapter.notebook, as_version=4)
    if _cell_signature(source) != _cell_signature(notebook):
        problems.append(
            f"{chapter.entry}: {chapter.source.name} and {chapter.notebook.name} differ"
        )
    with_outputs = [
        index for index, cell in enumerate(notebook.cells)
        if cell.cell_type == "code" and (cell.get("outputs") or cell.get("execution_count"))
    ]
    if with_outputs:
        problems.append(f"{chapter.entry}: the committed .ipynb has outputs (cells {with_outputs})")
    if not any("parameters" in c.get("metadata", {}).get("tags", []) for c in notebook.cells):
        problems.append(f"{chapter.entry}: no cell is tagged 'parameters'")
    return problems


def stamp_repository_url(text: str, url: str) -> str:
    """Point every ``git+https://...`` install line at ``url`` (the one in ``_config.yml``)."""
    return URL_PATTERN.sub(lambda match: match.group(1) + url, text)


def sync_pairs(root: Path, chapters: list[Chapter] | None = None) -> list[Path]:
    """Stamp the repository URL into each source and rewrite its ``.ipynb`` without outputs."""
    import jupytext

    url = repository_url(root)
    chapters = chapters or list_chapters(root)
    missing = [chapter.entry for chapter in chapters if not chapter.source.is_file()]
    if missing:
        raise BuildError(
            f"_toc.yml lists chapters without a jupytext source: {missing}; write "
            f"notebooks/<name>{SOURCE_SUFFIX} or remove the entry."
        )
    written = []
    for chapter in chapters:
        text = chapter.source.read_text()
        stamped = stamp_repository_url(text, url)
        if stamped != text:
            chapter.source.write_text(stamped)
        notebook = jupytext.read(chapter.source)
        for index, cell in enumerate(notebook.cells):
            cell.id = f"cell-{index:03d}"  # stable ids keep the .ipynb diff quiet across syncs
            if cell.cell_type == "code":
                cell.outputs, cell.execution_count = [], None
        notebook.metadata.setdefault("kernelspec", {
            "name": "python3", "display_name": "Python 3", "language": "python",
        })
        notebook.metadata["jupytext"] = {"formats": "ipynb,md:myst"}
        jupytext.write(notebook, chapter.notebook, fmt="ipynb")
        written.append(chapter.notebook)
    return written


def check_pairs(chapters: list[Chapter]) -> None:
    """Raise :class:`BuildError` listing every out-of-sync pair and the command that fixes it."""
    problems = [problem for chapter in chapters for problem in pair_problems(chapter)]
    if problems:
        raise BuildError(
            "notebook pairs are not in sync:\n  " + "\n  ".join(problems)
            + "\nRun `python -m helpers.book.build sync` after editing a .md source, then commit "
            "both."
        )


# ---------------------------------------------------------------------------------------------
# What a chapter declares: its front matter and its parameters cell

#: The keys a chapter may set under ``helpers_build`` in its Markdown front matter.
FRONT_MATTER_KEYS = {
    "suite": "true when the chapter trains or loads the model suite",
    "after": "the chapters whose cached measurements it reuses, so it starts after them",
    "stage": "last for a chapter that reads the others' results (the ledger, the statistics)",
}


def front_matter(chapter: Chapter) -> dict:
    """The ``helpers_build`` entry of a chapter's front matter (``{}`` without one), checked.

    Raises
    ------
    BuildError
        For a key not in :data:`FRONT_MATTER_KEYS` or a value of the wrong kind; the message
        names the chapter and the fix.
    """
    import nbformat

    found = nbformat.read(chapter.notebook, as_version=4).metadata.get("helpers_build", {})
    fix = (f"correct `helpers_build` in the front matter of {chapter.source.name}, then run "
           "`python -m helpers.book.build sync`")
    if not isinstance(found, dict):
        raise BuildError(f"chapter {chapter.name}: `helpers_build` must be a mapping such as "
                         f"{{suite: true}}, got {found!r}; {fix}.")
    unknown = sorted(set(found) - set(FRONT_MATTER_KEYS))
    if unknown:
        known = "; ".join(f"{key}: {meaning}" for key, meaning in FRONT_MATTER_KEYS.items())
        raise BuildError(f"chapter {chapter.name}: unknown key(s) {unknown} under "
                         f"`helpers_build` (the keys are {known}); {fix}.")
    if not isinstance(found.get("suite", False), bool):
        raise BuildError(f"chapter {chapter.name}: `suite` must be true or false, got "
                         f"{found['suite']!r}; {fix}.")
    if found.get("stage", "main") not in ("main", "last"):
        raise BuildError(f"chapter {chapter.name}: `stage` must be main or last, got "
                         f"{found['stage']!r}; {fix}.")
    return found


def uses_suite(chapter: Chapter) -> bool:
    """Whether a chapter trains or loads the model suite: ``helpers_build: {suite: true}``."""
    return front_matter(chapter).get("suite", False)


def chapter_stage(chapter: Chapter) -> str:
    """``"last"`` for chapters that read the others' results (the claims ledger, the
    execution statistics), marked by ``helpers_build: {stage: last}`` in their front matter;
    ``"main"`` otherwise."""
    return str(front_matter(chapter).get("stage", "main"))


def chapter_order_constraints(chapters: list[Chapter]) -> dict[str, set[str]]:
    """``{chapter name: names of the chapters it starts after}``, among ``chapters``.

    A chapter declares them in its front matter, ``helpers_build: {after: [04_curvature]}``,
    when it reuses another's cached measurements: run side by side, both would compute them
    (chapter 5 waits for chapter 4's curvature). The order is only kept when both chapters
    run in the same build; a chapter run alone computes what it does not find cached.

    Raises
    ------
    BuildError
        When a chapter names a chapter the book does not have, or chapters wait for each
        other in a cycle.
    """
    names = {chapter.name for chapter in chapters}
    book = names | ({c.name for c in list_chapters(chapters[0].root)} if chapters else set())
    after = {}
    for chapter in chapters:
        fix = (f"correct `helpers_build: after:` in {chapter.source.name}, then run "
               "`python -m helpers.book.build sync`")
        declared = front_matter(chapter).get("after") or []
        declared = [declared] if isinstance(declared, str) else declared
        if not isinstance(declared, list) or not all(isinstance(n, str) for n in declared):
            raise BuildError(f"chapter {chapter.name}: `after` must be a chapter name or a list "
                             f"of them, got {declared!r}; {fix}.")
        unknown = [name for name in declared if name not in book]
        if unknown:
            raise BuildError(
                f"chapter {chapter.name} starts after {unknown}, which the book does not have "
                f"(its chapters: {sorted(book)}); {fix}.")
        after[chapter.name] = set(declared) & names - {chapter.name}
    visiting, done = set(), set()

    def visit(name: str, path: list[str]) -> None:
        if name in done:
            return
        if name in visiting:
            cycle = " -> ".join([*path[path.index(name):], name])
            raise BuildError(f"chapters wait for each other in a cycle ({cycle}); remove one "
                             "`helpers_build: after:` entry.")
        visiting.add(name)
        for other in sorted(after[name]):
            visit(other, [*path, name])
        visiting.discard(name)
        done.add(name)

    for name in sorted(after):
        visit(name, [])
    return after


def chapter_parameters(chapter: Chapter) -> set[str]:
    """Names assigned in a chapter's ``parameters`` cell (what papermill may override)."""
    import nbformat

    notebook = nbformat.read(chapter.notebook, as_version=4)
    names = set()
    for cell in notebook.cells:
        if "parameters" in cell.metadata.get("tags", []):
            for line in cell.source.splitlines():
                match = re.match(r"^([A-Za-z_]\w*)\s*=", line)
                if match:
                    names.add(match.group(1))
    return names


def check_parameters(chapters: list[Chapter], parameters: dict) -> None:
    """Refuse parameters that a chosen chapter does not have, or values it would refuse,
    before anything runs.

    papermill would inject unknown names as new variables that nothing reads, so a misspelt
    name (``--param bit=[1, 2]``) would otherwise be ignored without a word. Every value is
    checked by :func:`helpers.book.params.check_parameter`, with the rules the chapter's own
    ``resolve_parameters`` applies, so that ``--param bits="[0]"`` stops the build at once
    rather than after hours of training.
    """
    if "profile" in parameters:
        raise BuildError("the profile is not a --param: give it with --profile "
                         f"{{{','.join(PROFILES)}}}.")
    for chapter in chapters:
        known = chapter_parameters(chapter)
        unknown = sorted(set(parameters) - known)
        if unknown:
            raise BuildError(
                f"chapter {chapter.name} has no parameter {', '.join(unknown)}; its parameters "
                f"are {', '.join(sorted(known))}. Choose the chapters with --only, or correct "
                "the name."
            )
        for name, value in parameters.items():
            try:
                check_parameter(name, value, chapter=chapter.name)
            except ParameterError as error:
                raise BuildError(f"chapter {chapter.name} refuses --param {name}={value}: "
                                 f"{error} Nothing was run.") from None


def check_data_dir(data_dir: str | None, *, recorded: bool = False) -> str | None:
    """The data directory as an absolute path, or a :class:`BuildError` if it is missing.

    Without this check a chapter ran on the embedded data, its page was marked with the
    missing folder, and only the render refused. ``recorded``: the folder comes from the last
    build's record (a ``rerun``), which the message then says.
    """
    if data_dir is None:
        return None
    path = Path(data_dir).expanduser()
    if not path.is_dir():
        what = "does not exist" if not path.exists() else "is not a folder"
        origin = "the last build's data directory" if recorded else "--data-dir"
        raise BuildError(f"{origin} {data_dir} {what}; give an existing folder with "
                         "--data-dir (see the README for its layout). Nothing was run.")
    return str(path.resolve())


# ---------------------------------------------------------------------------------------------
# Execution


@contextmanager
def _stderr_to(path: str | None):
    """Send this process's stderr (file descriptor 2, which the kernel inherits) to a file.

    The kernel writes start-up noise there (such as "running over TCP without encryption");
    it belongs in the chapter's kernel log, not in the build's progress output.
    """
    if path is None:
        yield
        return
    sys.stderr.flush()
    saved = os.dup(2)
    with open(path, "ab") as log:
        os.dup2(log.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)


def _execute_one(chapter_entry: str, root: str, output: str, parameters: dict, env: dict,
                 kernel_log: str | None = None):
    """Run one chapter with papermill (in a worker process). Returns (seconds, error or None).

    The kernel's own stderr goes to ``kernel_log`` when one is given.
    """
    import papermill
    from papermill.exceptions import PapermillExecutionError

    _own_process_group()
    os.environ.update(env)
    os.environ[CHAPTER_VARIABLE] = Path(chapter_entry).name  # for its parameter rules
    started = time.perf_counter()
    try:
        with _stderr_to(kernel_log):
            papermill.execute_notebook(
                str(Path(root) / f"{chapter_entry}.ipynb"), output, parameters=parameters,
                cwd=root, progress_bar=False, log_output=False, kernel_name="python3",
            )
    except PapermillExecutionError as error:
        where = f"cell {error.exec_count} (index {error.cell_index})"
        detail = f"{where}: {error.ename}: {error.evalue}"
        return time.perf_counter() - started, detail
    except Exception as error:  # kernel death, bad parameters file, ...
        return time.perf_counter() - started, f"{type(error).__name__}: {error}"
    return time.perf_counter() - started, None


def _end_with_parent(parent: int) -> None:
    """Pool initializer: end this worker when the build that started it dies.

    A build killed by SIGKILL cannot stop its workers; without this they ran on for
    minutes, with their kernels. On Linux the kernel sends SIGTERM to the worker when its
    parent dies (``prctl(PR_SET_PDEATHSIG)``); elsewhere a thread checks the parent every
    second. The chapter's kernel ends when its worker does (its parent poller).
    """
    import signal
    import threading

    armed = False
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            armed = libc.prctl(1, int(signal.SIGTERM), 0, 0, 0) == 0  # 1: PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            armed = False
    if os.getppid() != parent:  # the build died before the signal was armed
        os._exit(1)
    if not armed:
        def watch() -> None:
            while os.getppid() == parent:
                time.sleep(1.0)
            os.kill(os.getpid(), signal.SIGTERM)

        threading.Thread(target=watch, daemon=True, name="parent-watch").start()


def _own_process_group() -> None:
    """Make this worker, and the kernel it starts, a process group of their own.

    :func:`_stop_workers` then ends a running chapter with its kernel in one signal. Ctrl-C in
    a terminal reaches only the build, which stops the chapters itself.
    """
    if hasattr(os, "setpgrp"):
        try:
            os.setpgrp()
        except OSError:  # already a session leader: keep the inherited group
            pass


def _stop_workers(pool) -> None:
    """End the pool's running chapters and their kernels now, rather than waiting for them.

    Used when a chapter fails or the build is interrupted: without it, leaving the pool would
    wait for the other chapters still running, which can take half an hour in ``full``.
    """
    import signal

    processes = list((getattr(pool, "_processes", None) or {}).values())
    for process in processes:
        try:
            if hasattr(os, "killpg") and os.getpgid(process.pid) == process.pid:
                os.killpg(process.pid, signal.SIGTERM)
            else:
                process.terminate()
        except OSError:  # already gone, or not ours to signal
            pass
    pool.shutdown(wait=True, cancel_futures=True)


@contextmanager
def _stop_signals_interrupt():
    """Turn SIGTERM and SIGHUP into KeyboardInterrupt while chapters run.

    The chapters' workers have process groups of their own (:func:`_own_process_group`), so a
    signal meant for the build no longer reaches them; raising here lets the build stop them
    (:func:`_stop_workers`) instead of leaving their kernels running.
    """
    import signal
    import threading

    names = [name for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name)]
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(number, frame):
        raise KeyboardInterrupt(signal.Signals(number).name)

    previous = {name: signal.signal(getattr(signal, name), interrupt) for name in names}
    try:
        yield
    finally:
        for name, handler in previous.items():
            signal.signal(getattr(signal, name), handler)


def notebook_errors(path: Path) -> list[str]:
    """Error outputs left in an executed notebook, as ``cell N: Name: value`` strings."""
    import nbformat

    notebook = nbformat.read(path, as_version=4)
    found = []
    for index, cell in enumerate(notebook.cells):
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                found.append(f"cell index {index}: {output.get('ename')}: {output.get('evalue')}")
    return found


def longest_first(chapters: list[Chapter], previous_seconds: dict[str, float],
                  after: dict[str, set[str]] | None = None) -> list[Chapter]:
    """Order chapters for the worker pool: those without a recorded time first (they may be
    long), then by the time each took last, longest first.

    With two workers the order matters: started last, a long chapter runs alone while the
    other worker idles, as chapter 6 did in a warm ``full`` rerun in file order. Ties keep the
    order of ``chapters``.

    ``after`` (from :func:`chapter_order_constraints`) maps a chapter to those it waits for.
    A chapter that others wait for counts with the longest chain of chapters behind it, so
    it starts early; among chapters without a recorded time, those with chapters behind them
    come first.
    """
    after = after or {}
    names = {chapter.name for chapter in chapters}
    behind = {name: [other for other in names if name in after.get(other, ())]
              for name in names}

    def chain(name: str) -> float | None:
        """Seconds of ``name`` plus its longest chain of waiting chapters (None if unknown)."""
        own = previous_seconds.get(name)
        rest = [chain(other) for other in behind[name]]
        if own is None or None in rest:
            return None
        return own + max(rest, default=0.0)

    def depth(name: str) -> int:
        return max((1 + depth(other) for other in behind[name]), default=0)

    def expected(item):
        index, chapter = item
        seconds = chain(chapter.name)
        return (seconds is not None, -(seconds or 0.0), -depth(chapter.name), index)

    return [chapter for _, chapter in sorted(enumerate(chapters), key=expected)]


def recorded_seconds(build_dir: Path, profile: str) -> dict[str, float]:
    """``{chapter name: seconds}`` from the last build's record, for chapters run with
    ``profile`` (other profiles' times say nothing about this one)."""
    found = {}
    for entry in last_record(build_dir).get("chapters", []):
        if (isinstance(entry, dict) and entry.get("profile") == profile
                and isinstance(entry.get("seconds"), (int, float))):
            found[str(entry.get("name"))] = float(entry["seconds"])
    return found


def execute_chapters(root: Path, chapters: list[Chapter], build_dir: Path, *, profile: str,
                     jobs: int, data_dir: str | None, parameters: dict | None = None,
                     staging: Path | None = None) -> dict[str, float]:
    """Execute chapters into ``build_dir/executed``; stop at the first failure.

    With ``staging`` (from :func:`build_transaction`) the notebooks and results go there
    instead, and reach ``build_dir`` only when the whole build succeeds. Each executed
    notebook records the profile, data directory and parameters it ran with (metadata
    ``helpers_build``). Returns ``{chapter name: seconds}`` for the chapters executed.
    """
    executed = (staging or build_dir) / "executed"
    executed.mkdir(parents=True, exist_ok=True)
    results_dir = (staging or build_dir) / "results"
    failed_dir = build_dir / "failed"
    jobs = max(1, min(jobs, len(chapters)))
    threads_each = max(1, (os.cpu_count() or 1) // jobs)
    env = {
        RESULTS_DIR_VARIABLE: str(results_dir),
        CACHE_DIR_VARIABLE: os.environ.get(CACHE_DIR_VARIABLE, str(build_dir / "cache")),
        "OMP_NUM_THREADS": str(threads_each),
        "MKL_NUM_THREADS": str(threads_each),
        "MPLBACKEND": "module://matplotlib_inline.backend_inline",
        "PYTHONHASHSEED": "0",
    }
    if data_dir:
        env[DATA_DIR_VARIABLE] = str(Path(data_dir).resolve())
    run_parameters = {"profile": profile, **(parameters or {})}
    print(f"executing {len(chapters)} chapter(s), profile {profile!r}, {jobs} at a time",
          flush=True)
    context = multiprocessing.get_context("spawn")
    started = time.perf_counter()
    timings: dict[str, float] = {}
    logs = build_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    with _stop_signals_interrupt():
        pool = futures.ProcessPoolExecutor(max_workers=jobs, mp_context=context,
                                           initializer=_end_with_parent,
                                           initargs=(os.getpid(),))
        try:
            after = chapter_order_constraints(chapters)
            order = longest_first(chapters, recorded_seconds(build_dir, profile), after)
            # our own queue, not the pool's, so that a chapter freed by another's end starts
            # by its place in `order`, and no more chapters start than there are workers
            started_names, finished_names = set(), set()

            def startable() -> list[Chapter]:
                return [chapter for chapter in order if chapter.name not in started_names
                        and after[chapter.name] <= finished_names]

            for chapter in order:
                if after[chapter.name]:
                    print(f"  waiting  {chapter.name} (after "
                          f"{', '.join(sorted(after[chapter.name]))})", flush=True)
            running = {}
            while running or startable():
                for chapter in startable()[: jobs - len(running)]:
                    temporary = executed / f".{chapter.name}.running.ipynb"
                    kernel_log = logs / f"{chapter.name}.kernel.log"
                    kernel_log.unlink(missing_ok=True)
                    future = pool.submit(_execute_one, chapter.entry, str(root), str(temporary),
                                         run_parameters, env, str(kernel_log))
                    running[future] = (chapter, temporary)
                    started_names.add(chapter.name)
                    print(f"  started  {chapter.name}", flush=True)
                finished, _ = futures.wait(running, return_when=futures.FIRST_COMPLETED)
                for future in finished:
                    chapter, temporary = running.pop(future)
                    seconds, error = future.result()
                    if error is not None:
                        failed_dir.mkdir(parents=True, exist_ok=True)
                        kept = failed_dir / f"{chapter.name}.ipynb"
                        if temporary.exists():
                            os.replace(temporary, kept)
                        raise BuildError(
                            f"chapter {chapter.name} failed after {seconds:.1f} s at {error}\n"
                            f"The executed notebook with the traceback is in {kept}; the "
                            f"kernel's own messages are in "
                            f"{logs / f'{chapter.name}.kernel.log'}. "
                            "The previous HTML book was left as it was."
                        )
                    stamp_execution(temporary, profile=profile,
                                    data_dir=env.get(DATA_DIR_VARIABLE),
                                    parameters=parameters or {})
                    os.replace(temporary, executed / f"{chapter.name}.ipynb")
                    timings[chapter.name] = seconds
                    finished_names.add(chapter.name)
                    print(f"  finished {chapter.name} in {seconds:6.1f} s", flush=True)
        except BaseException:  # a failed chapter or Ctrl-C: stop the others now
            _stop_workers(pool)
            raise
        pool.shutdown(wait=True)
    print(f"executed in {time.perf_counter() - started:.1f} s", flush=True)
    return timings


def _now() -> str:
    """The time now (UTC, to the second), as the execution record and notebooks keep it."""
    import datetime

    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


def stamp_execution(path: Path, *, profile: str, data_dir: str | None, parameters: dict):
    """Record in an executed notebook's metadata what it was executed with."""
    import nbformat

    notebook = nbformat.read(path, as_version=4)
    notebook.metadata["helpers_build"] = {
        **notebook.metadata.get("helpers_build", {}), "profile": profile,
        "data_dir": data_dir, "parameters": dict(parameters),
        "executed": _now(),
    }
    nbformat.write(notebook, path)


@contextmanager
def build_transaction(build_dir: Path):
    """Stage a build's executed notebooks and results; publish them only if it succeeds.

    Yields a staging folder holding ``executed/`` (empty) and ``results/`` (a copy of the
    current results, so chapters that read the others' results see them). On success the
    executed notebooks join ``build_dir/executed``, the staged results replace
    ``build_dir/results`` and a staged ``html/`` (:func:`render` with ``staging``) replaces
    ``build_dir/html``, with termination signals held off so that the three change
    together; on any failure or interruption the staging folder is kept as
    ``build_dir/failed/last-build`` and nothing of the failed build reaches the book.
    """
    staging = build_dir / "staging"
    if staging.exists():
        shutil.rmtree(staging)
    (staging / "executed").mkdir(parents=True)
    results = build_dir / "results"
    if results.is_dir():
        shutil.copytree(results, staging / "results")
    else:
        (staging / "results").mkdir()
    try:
        yield staging
    except BaseException:
        kept = build_dir / "failed" / "last-build"
        if kept.exists():
            shutil.rmtree(kept)
        kept.parent.mkdir(parents=True, exist_ok=True)
        os.replace(staging, kept)
        raise
    executed = build_dir / "executed"
    executed.mkdir(parents=True, exist_ok=True)
    previous = build_dir / "results.previous"
    if previous.exists():
        shutil.rmtree(previous)
    old_html = build_dir / "html.previous"
    if old_html.exists():
        shutil.rmtree(old_html)
    with _termination_held():  # renames only: a signal now would split the book
        for path in (staging / "executed").glob("*.ipynb"):
            os.replace(path, executed / path.name)
        if results.exists():
            os.replace(results, previous)
        os.replace(staging / "results", results)
        if (staging / "html").is_dir():
            if (build_dir / "html").exists():
                os.replace(build_dir / "html", old_html)
            os.replace(staging / "html", build_dir / "html")
    shutil.rmtree(previous, ignore_errors=True)
    shutil.rmtree(old_html, ignore_errors=True)
    shutil.rmtree(staging, ignore_errors=True)


@contextmanager
def _termination_held():
    """Hold off SIGINT, SIGTERM and SIGHUP (delivered on leaving) in the main thread."""
    import signal
    import threading

    if (not hasattr(signal, "pthread_sigmask")
            or threading.current_thread() is not threading.main_thread()):
        yield
        return
    held = {getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP")
            if hasattr(signal, name)}
    before = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, before)


UNRECORDED = "unrecorded"


def execution_settings(path: Path) -> tuple:
    """``(profile, data_dir)`` an executed notebook ran with.

    ``data_dir`` is ``None`` for the embedded data and :data:`UNRECORDED` for a notebook
    executed before builds recorded it (then only its profile, from papermill, is known).
    """
    import nbformat

    metadata = nbformat.read(path, as_version=4).metadata
    recorded = metadata.get("helpers_build", {})
    profile = recorded.get("profile") or metadata.get("papermill", {}).get(
        "parameters", {}).get("profile")
    return profile, recorded.get("data_dir") if "data_dir" in recorded else UNRECORDED


def check_one_profile(chapters: list[Chapter], build_dir: Path, staging: Path | None = None,
                      *, planned: dict | None = None) -> tuple:
    """Refuse to render chapters executed with different profiles or data directories.

    Returns the common ``(profile, data_dir)``. The message names the chapters of each
    setting and how to re-execute the stale ones. ``staging``: the notebooks of a build in
    progress (:func:`executed_notebook`). ``planned``: ``{chapter name: (profile, data_dir)}``
    for chapters a build is about to execute, so that a mixed book is refused before they
    run, not after.
    """
    settings = {}
    for chapter in chapters:
        path = executed_notebook(chapter, build_dir, staging)
        if planned and chapter.name in planned:
            settings[chapter.name] = planned[chapter.name]
        elif path.is_file():
            settings[chapter.name] = execution_settings(path)
    recorded = {data for _, data in settings.values() if data != UNRECORDED}
    groups: dict[tuple, list[str]] = {}
    for name, (profile, data) in settings.items():
        if data == UNRECORDED and len(recorded) == 1:  # an older notebook: its profile decides
            data = next(iter(recorded))
        groups.setdefault((profile, data), []).append(name)
    if len(groups) > 1:
        largest = max(groups, key=lambda key: len(groups[key]))
        described = "; ".join(
            f"profile {profile!r}, data {data or 'embedded'}: {', '.join(names)}"
            for (profile, data), names in groups.items())
        stale = [name for key, names in groups.items() if key != largest for name in names]
        raise BuildError(
            f"the executed chapters come from different builds ({described}). One book shows "
            f"one profile: re-execute {', '.join(stale)} with `python -m helpers.book.build --only "
            f"{' '.join(stale)} --profile {largest[0]}`"
            + (f" --data-dir {largest[1]}" if largest[1] else "")
            + ", or rebuild the whole book.")
    return next(iter(groups), (None, None))

# ---------------------------------------------------------------------------------------------
# The execution record


#: Packages whose versions the execution record lists.
RECORDED_PACKAGES = ("torch", "torchvision", "numpy", "scipy", "scikit-learn", "matplotlib",
                     "seaborn", "pandas", "jupyter-book", "myst-nb", "papermill", "jupytext")


def environment_summary() -> dict:
    """The machine and the package versions, for the execution statistics page."""
    import platform
    from importlib import metadata

    from helpers import __version__

    packages = {}
    for name in RECORDED_PACKAGES:
        try:
            packages[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            packages[name] = "not installed"
    packages["helpers"] = __version__
    memory = None
    try:
        memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    except (ValueError, OSError, AttributeError):
        pass
    machine = {"platform": platform.platform(), "processor": platform.machine(),
               "python": platform.python_version(), "cpu_count": os.cpu_count(),
               "memory_gib": round(memory, 1) if memory else None}
    return {"machine": machine, "packages": packages}


EXECUTION_FILE = "_execution.json"


def last_record(build_dir: Path) -> dict:
    """The execution record of the last build in ``build_dir`` (empty if there is none)."""
    path = build_dir / "results" / EXECUTION_FILE
    try:
        record = json.loads(path.read_text()) if path.is_file() else {}
    except ValueError:
        return {}
    return record if isinstance(record, dict) else {}


def write_execution_record(build_dir: Path, *, profile: str, data_dir: str | None,
                           parameters: dict, timings: dict, training: dict | None,
                           started: str) -> Path:
    """Write (atomically) ``results/_execution.json`` under ``build_dir`` (or a staging
    folder of :func:`build_transaction`): what ran, how long, where, with what.

    Chapters not executed in this build keep the entry of the build that last executed them
    (marked with its own profile), so a ``--only`` rerun does not erase the others.
    """
    from helpers._io import write_json_atomic

    earlier = last_record(build_dir)
    try:
        previous = {c["name"]: c for c in earlier.get("chapters", [])}
    except (KeyError, TypeError):
        previous = {}
    if training is None:  # a build without a training stage keeps the last one's record
        training = earlier.get("training_stage")
    for name, seconds in timings.items():
        previous[name] = {"name": name, "seconds": round(float(seconds), 1),
                          "status": "executed", "profile": profile, "parameters": parameters}
    record = {"profile": profile, "data_dir": data_dir, "started": started, "written": _now(),
              "training_stage": training,
              "chapters": sorted(previous.values(), key=lambda c: c["name"]),
              **environment_summary()}
    return write_json_atomic(build_dir / "results" / EXECUTION_FILE, record)


# ---------------------------------------------------------------------------------------------
# The training stage


#: Chapter parameters that change which networks a chapter trains; with any of them the
#: chapters train what they need themselves.
SUITE_PARAMETERS = ("models", "dataset", "seed")


#: What an interrupted build (Ctrl-C) prints in place of a traceback.
INTERRUPTED_MESSAGE = (
    "build interrupted. Nothing is lost: the previous book is untouched, every finished "
    "network is cached, and a network in training saved its state after its last finished "
    "epoch. Run the same command again to resume from there.")


def _stage_log(line: str) -> None:
    """The training stage's log: data notes and resumed runs (the progress bars say the rest)."""
    if line.startswith(("resuming", "ignoring the unreadable checkpoint", "note for")):
        print(f"  {line}", flush=True)


def train_stage(build_dir: Path, *, profile: str, data_dir: str | None) -> dict:
    """Train (or load) the profile's whole suite once, before the chapters run in parallel.

    Without it, chapters that start together would each train the same networks at the same
    time, competing for the cores; after it, every chapter loads them from the cache.
    Returns what the execution record keeps: wall time, one entry per network, skipped models.
    """
    from helpers.nets.suite import train_suite
    from helpers.nets.train import recipe_text

    started = time.perf_counter()
    cache = os.environ.get(CACHE_DIR_VARIABLE, str(build_dir / "cache"))
    print(f"training stage: the {profile!r} model suite (cache {cache})", flush=True)
    # the stage runs alone, before the chapters, so training can use every core
    suite = train_suite(profile, include_smooth=True, data_dir=data_dir, cache_dir=cache,
                        progress=True, log=_stage_log, num_threads=os.cpu_count() or 1)
    for record in suite:
        origin = "cache hit" if record.cache_hit else f"trained in {record.seconds:.0f} s"
        speed = _images_per_second(record)
        rate = f", {speed:,.0f} per s" if speed else ""
        print(f"  {record.label:28s} {record.data_label:36s} test accuracy "
              f"{record.test_accuracy:.3f} ({origin}{rate})", flush=True)
    for item in suite.skipped:
        print(f"  skipped {item.name}: {item.reason}", flush=True)
    seconds = time.perf_counter() - started
    print(f"training stage finished in {seconds:.1f} s", flush=True)
    return {"seconds": round(seconds, 1),
            "networks": [{"label": r.label, "data": r.data_label,
                          "test_accuracy": round(r.test_accuracy, 4),
                          "cache_hit": r.cache_hit, "seconds": round(r.seconds, 1),
                          "epochs": r.epochs, "images_per_second": _images_per_second(r),
                          "recipe": recipe_text(r.trained.key)}
                         for r in suite],
            "skipped": [{"name": item.name, "reason": item.reason} for item in suite.skipped]}


def _images_per_second(record) -> float | None:
    """Training throughput of a suite record (inputs per second), when it was recorded."""
    speed = getattr(record.trained, "images_per_second", None)
    return round(float(speed), 1) if speed else None


# ---------------------------------------------------------------------------------------------
# Rendering


def executed_notebook(chapter: Chapter, build_dir: Path, staging: Path | None = None) -> Path:
    """Where a chapter's executed notebook is: in ``staging`` (from
    :func:`build_transaction`) when this build executed it, else in ``build_dir/executed``."""
    if staging is not None:
        fresh = staging / "executed" / f"{chapter.name}.ipynb"
        if fresh.is_file():
            return fresh
    return build_dir / "executed" / f"{chapter.name}.ipynb"


def _stage(root: Path, chapters: list[Chapter], build_dir: Path,
           staging: Path | None = None) -> Path:
    """Copy the pages, the config and the executed notebooks into a fresh staging folder."""
    stage = build_dir / "stage"
    if stage.exists():
        shutil.rmtree(stage)
    stage.mkdir(parents=True)
    for name in ("_config.yml", "_toc.yml"):
        shutil.copy2(root / name, stage / name)
    shutil.copytree(root / "book", stage / "book")
    (stage / NOTEBOOK_FOLDER).mkdir()
    for chapter in chapters:
        executed = executed_notebook(chapter, build_dir, staging)
        if not executed.is_file():
            raise BuildError(
                f"chapter {chapter.name} has not been executed yet ({executed} is missing); "
                f"run `python -m helpers.book.build --only {chapter.name}` first."
            )
        errors = notebook_errors(executed)
        if errors:
            raise BuildError(f"the executed chapter {chapter.name} holds errors: {errors[0]}")
        _copy_with_provenance(executed, stage / NOTEBOOK_FOLDER / executed.name)
    return stage


def _copy_with_provenance(source: Path, target: Path) -> None:
    """Copy an executed notebook, with a line after its title saying how it was executed."""
    import nbformat

    notebook = nbformat.read(source, as_version=4)
    # papermill's injected cell repeats what the note below says; on the page it would be a
    # stray code cell after the parameters cell
    notebook.cells = [cell for cell in notebook.cells
                      if "injected-parameters" not in cell.get("metadata", {}).get("tags", [])]
    recorded = notebook.metadata.get("helpers_build", {})
    profile, data_dir = execution_settings(source)
    if profile:
        data = ("data that this older build did not record" if data_dir == UNRECORDED else
                f"the data directory `{data_dir}`" if data_dir else
                "the embedded data (no data directory)")
        when = f" on {recorded['executed'][:10]}" if recorded.get("executed") else ""
        changed = {k: v for k, v in recorded.get("parameters", {}).items()}
        extra = (" with " + ", ".join(f"`{k} = {v}`" for k, v in changed.items())
                 if changed else "")
        note = nbformat.v4.new_markdown_cell(
            f"*This page was executed with the `{profile}` profile on {data}{extra}{when}.*")
        position = 1 if notebook.cells and notebook.cells[0].cell_type == "markdown" else 0
        notebook.cells.insert(position, note)
    nbformat.write(notebook, target)


def render(root: Path, chapters: list[Chapter], build_dir: Path,
           staging: Path | None = None) -> Path:
    """Render the staged book with jupyter-book and swap it into ``build_dir/html``.

    With ``staging`` (from :func:`build_transaction`) the chapters this build executed are
    taken from there and the new HTML goes to ``staging/html``, which the transaction
    publishes together with the notebooks and results. Refuses (:func:`check_one_profile`)
    when the executed chapters come from builds with different profiles or data directories.
    """
    check_one_profile(chapters, build_dir, staging)
    stage = _stage(root, chapters, build_dir, staging)
    work = build_dir / "jupyter-book"
    started = time.perf_counter()
    if not _has_module("jupyter_book"):
        raise BuildError("jupyter-book is not installed; run `make setup` first.")
    # jupyter-book 1.x has no __main__; call its click entry point with this interpreter
    command = [sys.executable, "-c", "from jupyter_book.cli.main import main; main()", "build",
               str(stage), "--path-output", str(work), "--builder", "html", "--all",
               "--warningiserror", "--keep-going"]
    result = subprocess.run(command, capture_output=True, text=True)
    log = build_dir / "jupyter-book.log"
    log.write_text(result.stdout + result.stderr)
    if result.returncode != 0:
        warnings = [line for line in (result.stdout + result.stderr).splitlines()
                    if "WARNING" in line or "ERROR" in line]
        raise BuildError(
            "jupyter-book failed; the previous book was left as it was. First problems:\n  "
            + "\n  ".join(warnings[:10]) + f"\nFull log: {log}"
        )
    fresh = work / "_build" / "html"
    if staging is not None:
        staged = staging / "html"
        os.replace(fresh, staged)
        print(f"rendered in {time.perf_counter() - started:.1f} s", flush=True)
        return staged
    final = build_dir / "html"
    previous = build_dir / "html.previous"
    if previous.exists():
        shutil.rmtree(previous)
    with _termination_held():  # between the two renames there is no book
        if final.exists():
            os.replace(final, previous)
        os.replace(fresh, final)
    if previous.exists():
        shutil.rmtree(previous)
    print(f"rendered in {time.perf_counter() - started:.1f} s: {final / 'index.html'}", flush=True)
    return final


def _has_module(name: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(name) is not None


# ---------------------------------------------------------------------------------------------
# One build per build folder

#: The lock file in the build folder; while a build, a rerun or a render runs, it holds an
#: exclusive ``flock`` on it and the file names the run (pid, start time, command).
LOCK_FILE = ".build.lock"


def _unwritable(build_dir: Path, error: OSError) -> str:
    return (f"the build folder {build_dir} cannot be written ({error.strerror or error}); "
            "make it writable, or choose another folder with --build-dir.")


def _lock_holder(handle: int) -> dict:
    """What the lock file says about the run that holds (or held) it; ``{}`` if nothing."""
    os.lseek(handle, 0, os.SEEK_SET)
    text = os.read(handle, 4096).decode("utf-8", "replace")
    try:
        holder = json.loads(text) if text.strip() else {}
    except ValueError:
        return {"pid": "unknown", "started": "unknown", "command": text.strip()[:200]}
    return holder if isinstance(holder, dict) else {}


def _describe_holder(holder: dict) -> str:
    return (f"pid {holder.get('pid', 'unknown')}, started {holder.get('started', 'unknown')}"
            + (f" ({holder['command']})" if holder.get("command") else ""))


@contextmanager
def build_lock(build_dir: Path):
    """Hold the build folder for this run alone: an exclusive, non-blocking ``fcntl`` lock.

    Two runs in one folder destroyed each other's work (the second deleted the first's
    staging folder, or two renders swapped ``html`` away). A second run is refused at once,
    before it changes anything, with the running one's pid and start time. The kernel drops
    the lock of a process that dies, however it dies; the lock file still names it then, so
    the next run says that it takes the lock over. A build folder that cannot be written is
    refused here too, with its name.

    Raises
    ------
    BuildError
        When another run holds the folder, or the folder cannot be created or written.
    """
    import fcntl

    try:
        build_dir.mkdir(parents=True, exist_ok=True)
        handle = os.open(build_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o666)
    except OSError as error:
        raise BuildError(_unwritable(build_dir, error)) from None
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = {}
            for _ in range(20):  # a run that has just locked writes its name a moment later
                holder = _lock_holder(handle)
                if holder:
                    break
                time.sleep(0.05)
            raise BuildError(
                f"another build is running in {build_dir}: {_describe_holder(holder)}. "
                "Nothing was changed. Wait for it to finish, or give this one another "
                "--build-dir.") from None
        if not os.access(build_dir, os.W_OK):
            raise BuildError(_unwritable(build_dir, PermissionError(13, "permission denied")))
        left = _lock_holder(handle)
        if left:
            print(f"taking over the lock of {build_dir}: the run that held it "
                  f"({_describe_holder(left)}) ended without releasing it.", flush=True)
        program = Path(sys.argv[0]).name if sys.argv and sys.argv[0] else "python"
        if program == "build.py":  # run as `python -m helpers.book.build`
            program = "python -m helpers.book.build"
        record = {"pid": os.getpid(), "started": _now(),
                  "command": " ".join([program, *sys.argv[1:]])}
        try:
            os.ftruncate(handle, 0)
            os.pwrite(handle, json.dumps(record).encode("utf-8"), 0)
        except OSError as error:
            raise BuildError(_unwritable(build_dir, error)) from None
        try:
            yield
        finally:
            os.ftruncate(handle, 0)  # released cleanly: nothing for the next run to report
    finally:
        os.close(handle)  # closing drops the flock


# ---------------------------------------------------------------------------------------------
# The stage runner, shared by `build` and `rerun`


@dataclass(frozen=True)
class Step:
    """Chapters executed side by side, with the papermill parameters they all get."""

    chapters: tuple[Chapter, ...]
    parameters: dict


@dataclass(frozen=True)
class Plan:
    """One build, with every argument checked: what :func:`run_plan` trains and executes.

    The steps run one after the other; the chapters of the last one (the ledger, the
    statistics) read the results and the execution record of those before. A plan without
    steps only renders.
    """

    profile: str | None
    data_dir: str | None
    jobs: int
    steps: tuple[Step, ...] = ()
    train: bool = False


def plan_build(chapters: list[Chapter], *, only: list[str] | None, parameters: dict,
               profile: str, data_dir: str | None, jobs: int, train: bool = True,
               build_dir: Path | None = None) -> Plan:
    """The plan of ``python -m helpers.book.build``: the chosen chapters, their readers last.

    The model suite is trained first when a chosen chapter declares that it uses it, unless
    ``train`` is off or a parameter (:data:`SUITE_PARAMETERS`) changes which networks the
    chapters need. Every argument is checked before anything runs: the parameters' names and
    values, the data directory, and (with ``build_dir``) that every chapter not chosen was
    executed by an earlier build, and that the chosen chapters would not leave the book
    mixing profiles.
    """
    selected = select_chapters(chapters, only)
    check_parameters(selected, parameters)
    data_dir = check_data_dir(data_dir)
    if build_dir is not None:
        # the book renders every chapter: those not chosen must have run in an earlier build
        absent = [chapter.name for chapter in chapters if chapter not in selected
                  and not executed_notebook(chapter, build_dir).is_file()]
        if absent:
            raise BuildError(
                f"--only runs some chapters into a book built before, but {build_dir} holds no "
                f"executed notebook of {', '.join(absent)}; build the whole book first "
                "(without --only), or name those chapters too.")
        check_one_profile(chapters, build_dir,
                          planned={chapter.name: (profile, data_dir) for chapter in selected})
    train = (train and any(uses_suite(chapter) for chapter in selected)
             and not set(parameters) & set(SUITE_PARAMETERS))
    last = tuple(chapter for chapter in selected if chapter_stage(chapter) == "last")
    first = tuple(chapter for chapter in selected if chapter not in last)
    return Plan(profile, data_dir, jobs, steps=(Step(first, parameters), Step(last, parameters)),
                train=train)


def plan_rerun(chapters: list[Chapter], build_dir: Path, *, chapter: str | None, bits,
               parameters: dict, profile: str | None, data_dir: str | None,
               jobs: int) -> Plan:
    """The plan of ``rerun``: one chapter with new parameters, then the chapters that read
    the results (the claims ledger, the statistics) with their own.

    The profile and data directory default to those of the last build in ``build_dir``, so
    that the book stays one profile. The suite is not trained as a stage: the one chapter
    runs alone and loads or trains what it needs.
    """
    if not chapter:
        raise BuildError("rerun needs a chapter, e.g. `python -m helpers.book.build rerun "
                         f"curvature_threshold --bits 3 5 7`; chapters: "
                         f"{', '.join(c.name for c in chapters)}.")
    (selected,) = select_chapters(chapters, [chapter])
    bits = parse_bits_arguments(bits)
    parameters = dict(parameters)
    if bits is not None:
        parameters["bits"] = json.dumps(bits)
    if not parameters:
        raise BuildError("rerun needs new parameters: --bits 3 5 7, or --param NAME=VALUE.")
    check_parameters([selected], parameters)
    previous = last_record(build_dir)
    readers = [c for c in chapters if chapter_stage(c) == "last" and c != selected]
    profile = profile or previous.get("profile") or "default"
    data_dir = check_data_dir(data_dir or previous.get("data_dir"), recorded=not data_dir)
    check_one_profile(chapters, build_dir, planned={
        chapter.name: (profile, data_dir) for chapter in (selected, *readers)})
    return Plan(profile, data_dir, jobs,
                steps=(Step((selected,), parameters), Step(tuple(readers), {})))


def run_plan(root: Path, chapters: list[Chapter], build_dir: Path, plan: Plan) -> dict:
    """Run a plan's stages: train the suite, execute the steps, publish, render.

    The run holds the build folder alone (:func:`build_lock`). The executed notebooks, the
    results and the rendered HTML are staged (:func:`build_transaction`) and replace those in
    ``build_dir`` together, only when every step and the render succeeded; SIGTERM and
    SIGHUP count as Ctrl-C throughout. A plan without steps renders the executed notebooks
    and swaps the HTML in by one rename. Returns ``{chapter name: seconds}``.
    """
    started = _now()
    timings: dict[str, float] = {}
    with build_lock(build_dir), _stop_signals_interrupt():
        if not plan.steps:
            render(root, chapters, build_dir)
            return timings
        training = (train_stage(build_dir, profile=plan.profile, data_dir=plan.data_dir)
                    if plan.train else None)
        with build_transaction(build_dir) as staging:
            for step in plan.steps:
                ran = (execute_chapters(root, list(step.chapters), build_dir, jobs=plan.jobs,
                                        profile=plan.profile, data_dir=plan.data_dir,
                                        parameters=step.parameters, staging=staging)
                       if step.chapters else {})
                # written after every step: the chapters of the next one read it
                write_execution_record(staging, profile=plan.profile, data_dir=plan.data_dir,
                                       parameters=step.parameters, timings=ran,
                                       training=training, started=started)
                timings.update(ran)
            render(root, chapters, build_dir, staging)
    return timings


def rerun(root: Path, chapters: list[Chapter], build_dir: Path, **arguments) -> dict:
    """Rerun one chapter with new parameters (:func:`plan_rerun` takes the ``arguments``),
    then its readers, then re-render the book. Returns ``{chapter name: seconds}``."""
    return run_plan(root, chapters, build_dir, plan_rerun(chapters, build_dir, **arguments))


# ---------------------------------------------------------------------------------------------
# Command line


def _parse_parameter(text: str) -> tuple[str, str]:
    if "=" not in text:
        raise argparse.ArgumentTypeError(f"--param takes NAME=VALUE, got {text!r}")
    name, value = text.split("=", 1)
    return name.strip(), value.strip()


def parse_bits_arguments(values) -> list[float]:
    """``--bits 3 5 7`` as a list of precisions, or a :class:`BuildError` naming the problem."""
    from helpers.book.params import parse_bits_option

    try:
        return parse_bits_option(values)
    except ValueError as error:
        raise BuildError(str(error)) from None


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m helpers.book.build",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("action", nargs="?", default="build",
                        choices=["build", "sync", "check", "rerun"])
    parser.add_argument("chapter", nargs="?", help="rerun: the chapter to rerun")
    parser.add_argument("--bits", nargs="*", help="rerun: the precisions, e.g. --bits 3 5 7")
    parser.add_argument("--profile", default=None, choices=PROFILES,
                        help="default: 'default' (rerun: the last build's profile)")
    parser.add_argument("--only", nargs="+", metavar="CHAPTER", help="execute only these chapters")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--data-dir", help=f"data directory (else ${DATA_DIR_VARIABLE})")
    parser.add_argument("--build-dir", default="_build")
    parser.add_argument("--param", action="append", type=_parse_parameter, default=[],
                        metavar="NAME=VALUE", help="papermill parameter for the executed chapters")
    parser.add_argument("--no-train-stage", action="store_true",
                        help="skip training the model suite before the chapters run")
    parser.add_argument("--render-only", action="store_true",
                        help="render the notebooks already executed in _build/executed")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    try:
        root = find_root()
        chapters = list_chapters(root)
        if args.action == "sync":
            for path in sync_pairs(root, chapters):
                print(f"wrote {path.relative_to(root)}")
            return 0
        check_pairs(chapters)
        for chapter in chapters:  # a wrong front matter stops the build before anything runs
            front_matter(chapter)
        print(f"{len(chapters)} chapter pair(s) in sync", flush=True)
        if args.action == "check":
            return 0
        build_dir = (root / args.build_dir).resolve()
        started = time.perf_counter()
        if args.action == "rerun":
            plan = plan_rerun(chapters, build_dir, chapter=args.chapter, bits=args.bits,
                              parameters=dict(args.param), profile=args.profile,
                              data_dir=args.data_dir, jobs=args.jobs)
        elif args.chapter or args.bits is not None:
            raise BuildError("a chapter name and --bits belong to `rerun`: python -m "
                             "helpers.book.build rerun CHAPTER --bits 3 5 7.")
        elif args.render_only:
            plan = Plan(None, None, args.jobs)
        else:
            plan = plan_build(chapters, only=args.only, parameters=dict(args.param),
                              profile=args.profile or "default", data_dir=args.data_dir,
                              jobs=args.jobs, train=not args.no_train_stage,
                              build_dir=build_dir)
        timings = run_plan(root, chapters, build_dir, plan)
        seconds = round(time.perf_counter() - started, 1)
        if args.action == "rerun":
            print(f"rerun: {json.dumps({k: round(v, 1) for k, v in timings.items()})}; "
                  f"{seconds:.1f} s in all", flush=True)
        else:
            shown = plan.profile or check_one_profile(chapters, build_dir)[0]
            print(f"book built: {json.dumps({'profile': shown, 'seconds': seconds})}",
                  flush=True)
    except BuildError as error:
        print(f"build failed: {error}", file=sys.stderr, flush=True)
        return 1
    except OSError as error:
        import errno

        if error.errno not in (errno.EACCES, errno.EPERM, errno.EROFS):
            raise
        print(f"build failed: {error.filename or 'a file'} cannot be written "
              f"({error.strerror}); make the build folder {args.build_dir} writable, or choose "
              "another with --build-dir.", file=sys.stderr, flush=True)
        return 1
    except KeyboardInterrupt:
        print(INTERRUPTED_MESSAGE, file=sys.stderr, flush=True)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
