"""The claims ledger: every claim of the proposal set against the book's own measurements.

Introduced in the chapter "Claims ledger" (``notebooks/07_claims_ledger``), the book's
conclusion, and used by the chapter "Execution statistics"
(``notebooks/08_execution_statistics``). Both run after the other chapters and read what those
wrote: one results file per chapter, ``<results_dir>/<chapter>.json``
(:class:`helpers.book.results.ChapterResults`), and the build's execution record
``<results_dir>/_execution.json`` (profile, run time and status per chapter, the training
stage, the machine and the package versions).

- :func:`load_results` and :func:`load_execution` read them, with a clear error naming a file
  that is not valid JSON;
- :func:`ledger_rows` evaluates every claim of the registry :mod:`helpers.book.claims` on
  them: the registry says which recorded numbers, intervals, counts and verdict words each
  claim reads and how they decide it; the ledger never reads a sentence. A claim whose
  results file or result is missing reads "not measured in this build": the ledger never
  shows a value it did not read in this build's results;
- :func:`profile_check`, :func:`parameter_check` and :func:`stale_results` say when the results
  come from different profiles, other parameters or an earlier build, so that the ledger never
  mixes them silently;
- :func:`findings` states, from the results, what the book found that the proposal did not
  expect; :func:`threshold_points` gives the collapse thresholds for the ledger's figure and
  :func:`accuracy_curves` the probe accuracy against precision for the book's summary figure;
- :func:`ledger_frame`, :func:`styled` and :func:`ledger_markdown` render the rows as a table;
- :func:`execution_rows`, :func:`provenance_rows`, :func:`training_rows`,
  :func:`machine_text` and :func:`package_rows` are the tables of the execution statistics.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
from dataclasses import dataclass
from pathlib import Path

from IPython.display import HTML

from helpers._settings import results_dir as _default_results_dir
from helpers._validation import is_integer, is_number
from helpers.book import claims as _claims
from helpers.book import prose, tables
from helpers.book.claims import (
    CHAPTERS,
    CLAIMS,
    EXECUTION_FILE,
    EXECUTION_PAGE,
    FINDINGS,
    PROPOSAL_SWEEP_START,
    Missing,
    registry_problems,
)
from helpers.book.params import PROFILES, resolve_parameters
from helpers.book.results import ChapterResults
from helpers.measure.verdicts import NOT_MEASURED as NOT_MEASURED_VERDICT

#: What a row, a finding or a page says where this build wrote no result to read.
NOT_MEASURED = "not measured in this build"
#: What the execution statistics say where the build wrote no execution record.
NOT_AVAILABLE = "not available in this build"
#: The chapters that summarise the others; their own results files are not evidence.
SUMMARY_CHAPTERS = ("claims_ledger", "execution_statistics")
#: Chapters that test none of the proposal's claims (so its time budget leaves them out) but
#: are executed and timed like the others (shown on the execution statistics page).
APPENDIX_CHAPTERS = {
    "number_formats": ("10_number_formats", "Number formats in practice"),
    "your_own_representation": ("09_your_own_representation", "Your own representation"),
}


class ResultsFileError(ValueError):
    """A results file or the execution record cannot be read."""


# --------------------------------------------------------------------------- reading


def _read_json(path: Path) -> dict:
    try:
        payload = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ResultsFileError(
            f"results file {path} cannot be read as JSON ({error}). Rebuild the chapter "
            "that writes it, or delete the file to leave its claims unmeasured."
        ) from error
    if not isinstance(payload, dict):
        raise ResultsFileError(f"results file {path} holds a {type(payload).__name__}, not a "
                               "JSON object; rebuild the chapter that writes it.")
    return payload


def load_results(results_dir=None) -> dict:
    """Read every chapter's results file.

    Parameters
    ----------
    results_dir : path, optional
        The results folder; default :func:`helpers._settings.results_dir`.

    Returns
    -------
    dict
        ``{chapter: payload}`` for each ``<chapter>.json``, without the execution record and
        files whose name starts with ``_``, and without the summary chapters' own files
        (:data:`SUMMARY_CHAPTERS`). Empty when the folder does not exist.

    Raises
    ------
    ResultsFileError
        If a file is not valid JSON or has no ``results`` table; the message names the file.
    """
    folder = Path(_default_results_dir(results_dir))
    loaded = {}
    if not folder.is_dir():
        return loaded
    for path in sorted(folder.glob("*.json")):
        if path.name.startswith("_") or path.stem in SUMMARY_CHAPTERS:
            continue
        payload = _read_json(path)
        if not isinstance(payload.get("results"), dict):
            raise ResultsFileError(f"results file {path} has no 'results' table; rebuild the "
                                   "chapter that writes it.")
        loaded[path.stem] = payload
    return loaded


def load_execution(results_dir=None) -> dict | None:
    """Read the build's execution record, or return ``None`` where the build wrote none.

    Raises
    ------
    ResultsFileError
        If the record exists but is not valid JSON.
    """
    path = Path(_default_results_dir(results_dir)) / EXECUTION_FILE
    return _read_json(path) if path.is_file() else None



def _number(value) -> float | None:
    """``value`` as a float if it is a finite number, else ``None``."""
    if not is_number(value):
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def experiment_entries(execution: dict | None, *, appendix: bool = False) -> dict:
    """The execution record's entries for the experiment chapters: ``{chapter: entry}``.

    With ``appendix`` the appendix chapters (:data:`APPENDIX_CHAPTERS`) are included too; the
    time-budget claim leaves them out, since the proposal's budget knows nothing of them.
    """
    return _claims.experiment_entries(
        execution, {**CHAPTERS, **APPENDIX_CHAPTERS} if appendix else CHAPTERS)


# --------------------------------------------------------------------------- provenance


def _data_labels(payload: dict) -> list[tuple[str, int | None]]:
    """``[(data, number of networks or None)]`` for a chapter's results."""
    results = payload.get("results", {})
    suite = (results.get("suite") or {}).get("value")
    if isinstance(suite, list) and suite and all(isinstance(row, dict) and "data" in row
                                                 for row in suite):
        groups: dict[str, int] = {}
        for row in suite:
            groups[str(row["data"])] = groups.get(str(row["data"]), 0) + 1
        return list(groups.items())
    dataset = payload.get("dataset")
    return [(str(dataset) if dataset is not None else "data not recorded", None)]


def data_summary(payload: dict) -> str:
    """The data a chapter's results were measured on, in a few words.

    From the chapter's model-suite table (``suite``) where it recorded one, with the number
    of networks per dataset, else its ``dataset`` parameter.
    """
    return "; ".join(label if count is None else f"{label} ({count} networks)"
                     for label, count in _data_labels(payload))


@dataclass(frozen=True)
class ProfileCheck:
    """Which profiles the results come from.

    Attributes
    ----------
    profiles : set of str
        The profiles present (the chapters' and the execution record's).
    by_chapter : dict
        ``{chapter: profile}``, with ``"the build record"`` for the execution record and an
        entry for each chapter timing the record kept from an earlier build of another
        profile.
    message : str or None
        ``None`` when everything comes from one profile (and from ``expected`` if given);
        otherwise what differs, naming the chapters.
    """

    profiles: set
    by_chapter: dict
    message: str | None

    @property
    def mixed(self) -> bool:
        """Whether the results come from more than one profile."""
        return len(self.profiles) > 1


def profile_check(results: dict, *, execution: dict | None = None,
                  expected: str | None = None) -> ProfileCheck:
    """Which profiles the results files (and the execution record) were measured on.

    Parameters
    ----------
    results : dict
        From :func:`load_results`.
    execution : dict, optional
        From :func:`load_execution`; its profile and its experiment chapters' profiles count.
    expected : str, optional
        The profile this page runs under; a difference is reported as well.

    Returns
    -------
    ProfileCheck
        With a message naming which chapters came from which profile when there is more than
        one, or when they differ from ``expected``.
    """
    by_chapter = {chapter: str(payload.get("profile")) for chapter, payload in results.items()}
    if execution is not None:
        build_profile = str(execution.get("profile"))
        by_chapter["the build record"] = build_profile
        for chapter, entry in experiment_entries(execution).items():
            if entry.get("profile") is not None and str(entry["profile"]) != build_profile:
                by_chapter[f"the timing of {chapter} (an earlier build)"] = str(entry["profile"])
    profiles = set(by_chapter.values())
    groups: dict[str, list[str]] = {}
    for chapter, profile in by_chapter.items():
        groups.setdefault(profile, []).append(chapter)
    message = None
    if len(profiles) > 1:
        message = ("The results mix profiles: " + "; ".join(
            f"{profile}: {', '.join(chapters)}" for profile, chapters in sorted(groups.items()))
            + ". Rows from different profiles are not comparable; rebuild the book with one "
              "profile.")
    elif expected is not None and profiles and profiles != {expected}:
        message = (f"This page runs with profile {expected!r}, but the results it reads come "
                   f"from profile {next(iter(profiles))!r}.")
    return ProfileCheck(profiles=profiles, by_chapter=by_chapter, message=message)


def _same(a, b) -> bool:
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if _number(a) is not None and _number(b) is not None:
        return math.isclose(float(a), float(b))
    return a == b


def parameter_check(results: dict, requested: dict) -> list[str]:
    """Chapters whose recorded parameters differ from the values requested for this page.

    Parameters
    ----------
    results : dict
        From :func:`load_results`.
    requested : dict
        ``{name: value}`` for the parameters given to this page (``None`` values are
        skipped: "as the chapters were run").

    Returns
    -------
    list of str
        One message per parameter, naming the chapters that have that parameter and ran
        with another value; empty when all agree.
    """
    messages = []
    for name, value in requested.items():
        if value is None or name == "profile":
            continue
        differ = [f"{chapter} ({payload['parameters'][name]!r})"
                  for chapter, payload in results.items()
                  if name in payload.get("parameters", {})
                  and not _same(payload["parameters"][name], value)]
        if differ:
            messages.append(f"{name} = {value!r} was requested, but "
                            f"{', '.join(differ)} ran with other values.")
    return messages


def _time(text):
    try:
        stamp = _dt.datetime.fromisoformat(str(text))
    except ValueError:
        return None
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=_dt.timezone.utc)


def stale_results(results: dict, execution: dict | None) -> list[str]:
    """Chapters whose results file was written before the build recorded in ``execution``
    started: they come from an earlier build (a ``--only`` rebuild keeps them)."""
    started = _time((execution or {}).get("started"))
    if started is None:
        return []
    return [chapter for chapter, payload in results.items()
            if (_time(payload.get("written")) or started) < started]


# --------------------------------------------------------------------------- the summary pages


@dataclass
class SummaryPage:
    """What the two summary pages (the ledger and the execution statistics) start from.

    Attributes
    ----------
    results : helpers.book.results.ChapterResults
        The page's own results file.
    config : dict
        The page's parameters, validated: expectations about the chapters it reads.
    chapters : dict
        The experiment chapters' results (:func:`load_results`).
    execution : dict or None
        The build's execution record (:func:`load_execution`).
    warnings : list of str
        Why the results should not be read together: mixed or unexpected profiles, other
        parameters than requested, results from an earlier build, and results the claims
        registry needs but cannot read (:func:`helpers.book.claims.registry_problems`).
    """

    results: ChapterResults
    config: dict
    chapters: dict
    execution: dict | None
    warnings: list


def summary_page(name: str, profile: str, **requested) -> SummaryPage:
    """Open a summary page: its parameters, its results file, and what the chapters wrote.

    Parameters
    ----------
    name : str
        The page's results-file name (``"claims_ledger"``).
    profile : str
        The profile the build runs.
    **requested
        The parameters the chapters should have used (``bits``, ``dataset``,
        ``n_bootstrap``, ``seed``); ``None`` means "as they were run".
    """
    given = {key: value for key, value in requested.items() if value is not None}
    # every profile's table holds only the values requested, which resolve_parameters checks
    config = resolve_parameters(profile, given, {name: dict(given) for name in PROFILES})
    results = ChapterResults(name, {**dict.fromkeys(requested), **config})
    chapters, execution = load_results(), load_execution()
    check = profile_check(chapters, execution=execution, expected=config["profile"])
    warnings = [message for message in (check.message, *parameter_check(chapters, config))
                if message]
    stale = stale_results(chapters, execution)
    if stale:
        warnings.append(f"The results of {', '.join(stale)} were written before this build "
                        "started: they come from an earlier build.")
    problems = registry_problems(chapters, execution, skip_absent=True)
    if problems:
        warnings.append("The claims registry cannot read every result it needs: "
                        + "; ".join(problems) + ".")
    return SummaryPage(results, config, chapters, execution, warnings)


def build_facts(execution: dict | None) -> dict:
    """The build's profile, start, end and data folder, :data:`NOT_AVAILABLE` where unknown."""
    facts = {name: (execution or {}).get(name) or NOT_AVAILABLE
             for name in ("profile", "started", "written")}
    facts["data_dir"] = ("none (only data that ships with the packages or is generated)"
                         if execution is not None and not execution.get("data_dir")
                         else (execution or {}).get("data_dir") or NOT_AVAILABLE)
    return facts


def run_times(execution: dict | None) -> dict:
    """``{chapter title: seconds}`` of the experiment chapters the execution record timed."""
    return {CHAPTERS[chapter][1]: float(entry.get("seconds") or 0)
            for chapter, entry in experiment_entries(execution).items()}


# --------------------------------------------------------------------------- the ledger


def _profile_and_data(claim, results: dict, execution: dict | None) -> str:
    if claim.chapter in CHAPTERS:
        payload = results[claim.chapter]
        return f"{payload.get('profile')}: {data_summary(payload)}"
    profile = (execution or {}).get("profile")
    return f"{profile}: the whole build"


def _reason(claim, values: dict, verdict: str) -> str:
    """The rule in words (for a claim) and the claim's own reason, as sentences."""
    # the rule opens the reason where a chapter applies it to per-model verdicts
    shown = claim.rule_text and claim.chapter_verdict and claim.kind == "claim"
    parts = [f"Rule: {claim.rule_text.format(**values)}." if shown else "",
             claim.reason(values, verdict)]
    return " ".join(part for part in parts if part)


def ledger_rows(results: dict, execution: dict | None = None) -> list[dict]:
    """Evaluate every claim of :data:`helpers.book.claims.CLAIMS` on this build's results.

    Parameters
    ----------
    results : dict
        From :func:`load_results`.
    execution : dict, optional
        From :func:`load_execution`; the budget claim needs it.

    Returns
    -------
    list of dict
        One row per claim with the columns ``#``, ``claim``, ``measured`` (in full),
        ``measured value`` (in short, with its interval), ``profile and data``, ``verdict``,
        ``reason`` and ``tested in`` (chapter title and section), plus ``doc`` (the document
        name), ``href`` (the section's address from a sibling page) and ``kind``. A claim whose
        results are missing reads :data:`NOT_MEASURED` with the verdict
        :data:`NOT_MEASURED_VERDICT`. When the results mix profiles, every row's
        ``profile and data`` says so.
    """
    check = profile_check(results, execution=execution)
    rows = []
    for claim in CLAIMS:
        try:
            values, verdict = _claims.evaluate(claim, results, execution)
        except Missing as missing:
            measured, verdict, reason = NOT_MEASURED, NOT_MEASURED_VERDICT, missing.reason()
            provenance, value = "—", NOT_MEASURED
        else:
            measured, reason = claim.measured(values), _reason(claim, values, verdict)
            value = claim.value(values)
            provenance = _profile_and_data(claim, results, execution)
            if check.mixed:
                provenance = "MIXED PROFILES (see the warning): " + provenance
        rows.append({"#": claim.number, "claim": claim.statement, "measured": measured,
                     "measured value": value, "profile and data": provenance,
                     "verdict": verdict, "reason": reason,
                     "tested in": f"{claim.title}, § {claim.section}", "doc": claim.doc,
                     "chapter": claim.title,
                     "href": f"{claim.doc}.html#{claim.section_id}", "kind": claim.kind})
    return rows


def verdict_counts(rows: list[dict]) -> dict:
    """``{verdict: number of rows}``, in the order verdicts first appear."""
    counts: dict[str, int] = {}
    for row in rows:
        counts[row["verdict"]] = counts.get(row["verdict"], 0) + 1
    return counts


def verdict_summary(rows: list[dict]) -> str:
    """Text such as ``"3 hold, 6 fail and 2 cannot be tested, of 11 claims measured"``
    (worded by :func:`helpers.book.prose.verdict_summary_text`)."""
    measured = [row for row in rows if row["verdict"] != NOT_MEASURED_VERDICT]
    return prose.verdict_summary_text(
        [row["verdict"] for row in measured if row["kind"] == "claim"],
        [row["verdict"] for row in measured if row["kind"] == "guideline"],
        missing=len(rows) - len(measured), total=len(rows), not_measured=NOT_MEASURED)


LEDGER_COLUMNS = ("#", "claim", "measured", "profile and data", "verdict", "reason",
                  "tested in")
#: What the ledger's table shows on each row, and what it shows when the row is expanded.
LEDGER_MAIN, LEDGER_DETAILS = (("#", "claim", "verdict", "measured value", "chapter"),
                               ("measured", "profile and data", "reason", "tested in"))


def ledger_table(rows: list[dict]) -> HTML:
    """The ledger as the page shows it: claim, verdict, measured value and a link to the
    section on each row; what was measured in full, on what, and why the verdict, in a row
    that expands under it."""
    return tables.table(rows, LEDGER_MAIN, widths=(5, 39, 15, 24, 17),
                        links={"chapter": "href"}, details=LEDGER_DETAILS,
                        details_label="how it was measured, and why this verdict")


def ledger_frame(rows: list[dict]):
    """The rows as a pandas table with the ledger's columns."""
    import pandas as pd

    return pd.DataFrame([{name: row[name] for name in LEDGER_COLUMNS} for row in rows],
                        columns=list(LEDGER_COLUMNS))


def _cell(text) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def styled(frame):
    """A table for the page: text left-aligned and HTML-escaped (claims contain ``<``), no
    index."""
    return (frame.style.format(escape="html").hide(axis="index")
            .set_properties(**{"text-align": "left", "vertical-align": "top"})
            .set_table_styles([{"selector": "th", "props": [("text-align", "left")]}]))


def ledger_markdown(rows: list[dict]) -> str:
    """The rows as a Markdown (GFM/MyST) pipe table, chapters named by title."""
    lines = ["| " + " | ".join(LEDGER_COLUMNS) + " |",
             "| " + " | ".join("---" for _ in LEDGER_COLUMNS) + " |"]
    lines += ["| " + " | ".join(_cell(row[name]) for name in LEDGER_COLUMNS) + " |"
              for row in rows]
    return "\n".join(lines) + "\n"


def provenance_text(results: dict, execution: dict | None = None) -> str:
    """One sentence: which profile and data the ledger was measured on (worded by
    :func:`helpers.book.prose.provenance_sentence`)."""
    present = [chapter for chapter in CHAPTERS if chapter in results]
    if not present:
        return f"No chapter's results file was found, so every claim is {NOT_MEASURED}."
    return prose.provenance_sentence(
        profile_check(results, execution=execution).profiles, chapters=len(present),
        of=len(CHAPTERS),
        versions=sorted({str(results[c].get("helpers_version")) for c in present}),
        data=list(dict.fromkeys(label for chapter in present
                                for label, _ in _data_labels(results[chapter]))))


# --------------------------------------------------------------------------- findings


def findings(results: dict) -> dict:
    """What the book found that the proposal did not expect, from the results.

    Returns
    -------
    dict
        ``{name: statement}`` for each finding of :data:`helpers.book.claims.FINDINGS`; one
        whose results are missing reads ``"Not measured in this build (<what is missing>)."``.
    """
    out = {}
    for finding in FINDINGS:
        try:
            out[finding.name] = finding.text(_claims.read_values(finding.reads, results))
        except Missing as missing:
            out[finding.name] = f"{NOT_MEASURED.capitalize()} ({missing.reason()})."
    return out


# --------------------------------------------------------------------------- figures


def _entry(results: dict, chapter: str, key: str):
    """A recorded value, or ``None`` where the chapter or the result is missing."""
    entry = results.get(chapter, {}).get("results", {}).get(key)
    return entry.get("value") if isinstance(entry, dict) else None


def _matching(payload: dict, suffix: str) -> dict:
    """``{name: entry}`` of the results whose name ends with ``suffix`` (one per network)."""
    return {name: entry for name, entry in payload.get("results", {}).items()
            if name.endswith(suffix) and isinstance(entry, dict)}


def _model_key(label: str) -> str:
    """The chapters' result-name prefix of a network: ``"CNN-MNIST + SN"`` -> ``cnn_mnist_sn``."""
    return str(label).lower().replace(" + sn", "_sn").replace("-", "_")


def threshold_points(results: dict) -> list[dict]:
    """Per network: observed collapse threshold and predicted ``p*``, each with its interval.

    The observed threshold comes from the chapter "Precision lower bound"
    (``<key>_collapse_bits``), the prediction from "Curvature threshold"
    (``<key>_p_star``). Only networks with both are returned, as dicts with ``key``,
    ``observed``, ``observed_low``, ``observed_high``, ``predicted``, ``predicted_low`` and
    ``predicted_high``, and ``label``, the network's display name.
    """
    points = []
    if "precision_lower_bound" not in results or "curvature_threshold" not in results:
        return points
    observed = _matching(results["precision_lower_bound"], "_collapse_bits")
    predicted = _matching(results["curvature_threshold"], "_p_star")
    suite = _entry(results, "precision_lower_bound", "suite") or []
    labels = {_model_key(row["model"]): row["model"] for row in suite
              if isinstance(row, dict) and "model" in row}
    order = {key: index for index, key in enumerate(labels)}
    observed = dict(sorted(observed.items(), key=lambda item: order.get(
        item[0][: -len("_collapse_bits")], len(order))))
    for key, entry in observed.items():
        base = key[: -len("_collapse_bits")]
        other = predicted.get(f"{base}_p_star")
        if other is None or "interval" not in entry or "interval" not in other:
            continue
        values = [entry["value"], *entry["interval"], other["value"], *other["interval"]]
        if any(_number(v) is None for v in values):
            continue
        points.append({"key": base, "label": labels.get(base, base), "observed": entry["value"],
                       "observed_low": entry["interval"][0],
                       "observed_high": entry["interval"][1], "predicted": other["value"],
                       "predicted_low": other["interval"][0],
                       "predicted_high": other["interval"][1]})
    return points


def accuracy_curves(results: dict) -> dict:
    """Per network: linear-probe accuracy against precision, from "Precision lower bound".

    Reads that chapter's ``probe_table`` (rows of model, bits, accuracy and its bootstrap
    interval; ``bits = None`` marks the probe on the unrounded representation).

    Returns
    -------
    dict
        ``{label: {"bits", "accuracy", "low", "high": lists sorted by bits, "full": float or
        None}}`` in the chapter's order of networks; empty when the chapter did not run in
        this build.
    """
    table = _entry(results, "precision_lower_bound", "probe_table")
    if not isinstance(table, dict):
        return {}
    columns = ("model", "bits", "accuracy", "ci_low", "ci_high")
    if not all(isinstance(table.get(name), list) for name in columns):
        return {}
    curves: dict[str, dict] = {}
    for label, bits, accuracy, low, high in zip(*(table[name] for name in columns),
                                                strict=True):
        curve = curves.setdefault(label, {"bits": [], "accuracy": [], "low": [], "high": [],
                                          "full": None})
        if _number(accuracy) is None:
            continue
        if bits is None:
            curve["full"] = float(accuracy)
        elif _number(bits) is not None:
            for name, value in (("bits", bits), ("accuracy", accuracy), ("low", low),
                                ("high", high)):
                curve[name].append(float(value))
    for curve in curves.values():
        order = sorted(range(len(curve["bits"])), key=curve["bits"].__getitem__)
        for name in ("bits", "accuracy", "low", "high"):
            curve[name] = [curve[name][i] for i in order]
    return {label: curve for label, curve in curves.items() if curve["bits"]}


# --------------------------------------------------------------------------- execution statistics


def _parameter_text(value) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(_parameter_text(v) for v in value) + "]"
    if _number(value) is not None and not is_integer(value):
        return f"{value:g}"
    return str(value)


def execution_rows(results: dict, execution: dict | None) -> list[dict]:
    """One row per experiment chapter: what it ran on (its results file) and how it ran
    (the execution record).

    Columns: ``chapter``, ``profile``, ``data``, ``bits``, ``sizes`` (the ``n_*``
    parameters), ``seed``, ``run time [s]``, ``status``, ``results written``, and ``href``
    (the chapter's page, from a sibling page). A chapter
    without a results file reads :data:`NOT_MEASURED` in the first group, and without an
    execution record :data:`NOT_AVAILABLE` in the second.
    """
    entries = experiment_entries(execution, appendix=True)
    rows = []
    for chapter, (doc, title) in {**CHAPTERS, **APPENDIX_CHAPTERS}.items():
        payload = results.get(chapter)
        entry = entries.get(chapter)
        row = {"chapter": title, "href": f"{doc}.html"}
        if payload is None:
            row.update({"profile": NOT_MEASURED, "data": NOT_MEASURED, "bits": "—",
                        "sizes": "—", "seed": "—", "results written": "—"})
        else:
            parameters = payload.get("parameters", {})
            row.update({
                "profile": str(payload.get("profile")), "data": data_summary(payload),
                "bits": _parameter_text(parameters.get("bits", "—")),
                "sizes": ", ".join(f"{name} = {_parameter_text(value)}"
                                   for name, value in sorted(parameters.items())
                                   if name.startswith("n_")) or "—",
                "seed": str(payload.get("seed")),
                "results written": str(payload.get("written", "—"))})
        if execution is None:
            row.update({"run time [s]": NOT_AVAILABLE, "status": NOT_AVAILABLE})
        elif entry is None:
            row.update({"run time [s]": "not run in this build", "status": "not run"})
        else:
            seconds = _number(entry.get("seconds"))
            status = str(entry.get("status", "—"))
            if entry.get("profile") not in (None, execution.get("profile")):
                status += f" (profile {entry['profile']}, an earlier build)"
            row.update({"run time [s]": f"{seconds:.1f}" if seconds is not None else "—",
                        "status": status})
        rows.append(row)
    return rows


def execution_table(rows: list[dict]) -> HTML:
    """:func:`execution_rows` as the page shows them: chapter, profile, precisions, run time
    and status on each row; data, sizes, seed and when the results were written in a row
    that expands under it."""
    return tables.table(rows, ("chapter", "profile", "bits", "run time [s]", "status"),
                        widths=(28, 14, 22, 14, 22), links={"chapter": "href"},
                        details=("data", "sizes", "seed", "results written"),
                        details_label="data, sizes and seed")


#: The results that describe a chapter's data and where it came from, in the order shown.
PROVENANCE_KEYS = ("rep_description", "rep_data_note", "suite_profile_text", "suite_sources",
                   "suite_stand_ins", "suite_data", "suite_skipped")


def provenance_rows(results: dict) -> list[dict]:
    """Per experiment chapter, its data and its provenance as the chapter recorded them.

    Joins the chapter's recorded provenance texts (:data:`PROVENANCE_KEYS`), else its
    ``dataset`` parameter.
    """
    rows = []
    for chapter, (_, title) in {**CHAPTERS, **APPENDIX_CHAPTERS}.items():
        payload = results.get(chapter)
        if payload is None:
            rows.append({"chapter": title, "data and provenance": NOT_MEASURED})
            continue
        entries = payload.get("results", {})
        texts = []
        for key in PROVENANCE_KEYS:
            value = (entries.get(key) or {}).get("value")
            if isinstance(value, str) and value and value not in texts:
                texts.append(value if value.endswith(".") else value + ".")
        if not texts:
            texts.append(f"dataset {payload.get('dataset')!r} (the chapter recorded no "
                         "provenance text).")
        rows.append({"chapter": title, "data and provenance": " ".join(texts)})
    return rows


def training_rows(execution: dict | None) -> list[dict]:
    """The training stage's networks: label, data, test accuracy, cache hit, seconds, epochs,
    training throughput (inputs per second) and recipe ("—" where an older record lacks
    them)."""
    training = (execution or {}).get("training_stage") or {}
    return [{"network": n.get("label"), "data": n.get("data"),
             "test accuracy": n.get("test_accuracy"),
             "weights": "cache hit" if n.get("cache_hit") else "trained",
             "training [s]": n.get("seconds"), "epochs": n.get("epochs") or "—",
             "inputs per s": n.get("images_per_second") or "—",
             "recipe": n.get("recipe") or "—"}
            for n in training.get("networks") or []]


def training_table(rows: list[dict]) -> HTML:
    """:func:`training_rows` as the page shows them, each network's recipe in a row that
    expands under it."""
    return tables.table(rows, ("network", "data", "test accuracy", "weights", "training [s]",
                               "epochs", "inputs per s"),
                        widths=(20, 19, 11, 10, 10, 10, 14), details=("recipe",),
                        details_label="recipe",
                        formats={"test accuracy": ".2%", "training [s]": ".0f",
                                 "inputs per s": ",.0f"})


def machine_text(execution: dict | None) -> str:
    """The machine the build ran on, in one line (worded by
    :func:`helpers.book.prose.machine_sentence`)."""
    return prose.machine_sentence((execution or {}).get("machine"),
                                  not_available=NOT_AVAILABLE)


def package_rows(execution: dict | None) -> list[dict]:
    """The package versions the build recorded, one row per package."""
    packages = (execution or {}).get("packages") or {}
    return [{"package": name, "version": str(version)} for name, version in packages.items()]



__all__ = ["APPENDIX_CHAPTERS", "CHAPTERS", "CLAIMS", "EXECUTION_FILE", "EXECUTION_PAGE",
           "FINDINGS", "LEDGER_COLUMNS", "LEDGER_DETAILS", "LEDGER_MAIN", "NOT_AVAILABLE",
           "NOT_MEASURED", "NOT_MEASURED_VERDICT", "PROPOSAL_SWEEP_START", "PROVENANCE_KEYS",
           "SUMMARY_CHAPTERS", "ProfileCheck", "ResultsFileError", "SummaryPage",
           "accuracy_curves", "build_facts", "data_summary", "execution_rows",
           "execution_table", "experiment_entries", "findings", "ledger_frame",
           "ledger_markdown", "ledger_rows", "ledger_table", "load_execution", "load_results",
           "machine_text", "package_rows", "parameter_check", "profile_check",
           "provenance_rows", "provenance_text", "registry_problems", "run_times",
           "stale_results", "styled", "summary_page", "threshold_points", "training_rows",
           "training_table", "verdict_counts", "verdict_summary"]
