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
- :data:`CLAIMS` lists the proposal's claims, each with the chapter and section that tests it
  and a function that turns the results into a measured value, a verdict and a reason;
- :func:`ledger_rows` evaluates every claim. A claim whose results file or result is missing
  reads "not measured in this build": the ledger never shows a value it did not read in this
  build's results;
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
import numbers
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from helpers._settings import results_dir as _default_results_dir
from helpers.book.prose import join_words

#: The build's execution record, written into the results folder before the last stage runs.
EXECUTION_FILE = "_execution.json"
#: What a row, a finding or a page says where this build wrote no result to read.
NOT_MEASURED = "not measured in this build"
#: What the execution statistics say where the build wrote no execution record.
NOT_AVAILABLE = "not available in this build"
#: The chapters that summarise the others; their own results files are not evidence.
SUMMARY_CHAPTERS = ("claims_ledger", "execution_statistics")
#: The experiment chapters: results-file name -> (document name, title).
CHAPTERS = {
    "numerical_entropy": ("01_numerical_entropy", "Numerical entropy"),
    "precision_lower_bound": ("02_precision_lower_bound", "Precision lower bound"),
    "greedy_covering": ("03_greedy_covering", "Greedy covering"),
    "curvature_threshold": ("04_curvature_threshold", "Curvature threshold"),
    "lipschitz_regularization": ("05_lipschitz_regularization", "Lipschitz regularization"),
    "mi_comparison": ("06_mi_comparison", "MI comparison"),
}
#: Chapters after the conclusion that measure no claim but are executed and timed like the
#: others (shown on the execution statistics page).
APPENDIX_CHAPTERS = {
    "your_own_representation": ("09_your_own_representation", "Your own representation"),
}
#: Where the build-time claim is tested: (document name, title).
EXECUTION_PAGE = ("08_execution_statistics", "Execution statistics")
#: Verdicts on a claim (as in :data:`helpers.measure.thresholds.VERDICTS`) and on a guideline
#: (as :func:`helpers.measure.comparison.guideline_verdict` gives them).
CLAIM_VERDICTS = ("holds", "fails", "undecided", "cannot be tested")
GUIDELINE_VERDICTS = ("supported", "contradicted", "mixed", "undecided")
#: The verdict column of a claim that this build did not measure.
NOT_MEASURED_VERDICT = "not measured"
#: The proposal sweeps p = 4, 8, ..., 32 bits.
PROPOSAL_SWEEP_START = 4
#: A full build's networks below this test accuracy are undertrained (the normal range of the
#: proposal's models is 75-99%), so its time is not the time of the proposal's experiments.
NORMAL_ACCURACY = 0.70
#: "About 30 s" and "about 4 hours" are read as holding up to this factor above the figure.
ABOUT_FACTOR = 1.5
_ALIASES = {"cannot be decided": "undecided"}  # chapter 2's word for an undecided overall


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


# --------------------------------------------------------------------------- lookups


class _Missing(LookupError):
    """A claim needs a results file or a result that this build did not write."""

    def __init__(self, chapter: str, key: str | None = None):
        super().__init__(chapter, key)
        self.chapter, self.key = chapter, key

    def reason(self) -> str:
        if self.chapter == EXECUTION_FILE:
            return (f"the build wrote no {EXECUTION_FILE} (it does so before running this "
                    "chapter)")
        if self.key is None:
            return f"{self.chapter}.json is missing: the build did not run that chapter"
        return f"{self.chapter}.json has no result {self.key!r}"


class _Lookup:
    """Read results, raising :class:`_Missing` for anything absent."""

    def __init__(self, results: dict):
        self.results = results

    def payload(self, chapter: str) -> dict:
        if chapter not in self.results:
            raise _Missing(chapter)
        return self.results[chapter]

    def entry(self, chapter: str, key: str) -> dict:
        entries = self.payload(chapter).get("results", {})
        if key not in entries or not isinstance(entries[key], dict) or "value" not in entries[
                key]:
            raise _Missing(chapter, key)
        return entries[key]

    def value(self, chapter: str, key: str):
        return self.entry(chapter, key)["value"]

    def get(self, chapter: str, key: str, default=None):
        try:
            return self.value(chapter, key)
        except _Missing:
            return default

    def table(self, chapter: str, key: str) -> dict:
        table = self.value(chapter, key)
        if not isinstance(table, dict):
            raise _Missing(chapter, key)
        return table

    def matching(self, chapter: str, prefix: str = "", suffix: str = "") -> dict:
        """``{key: entry}`` for every result whose name starts and ends as given."""
        entries = self.payload(chapter).get("results", {})
        return {key: entry for key, entry in entries.items()
                if key.startswith(prefix) and key.endswith(suffix) and isinstance(entry, dict)}


def _number(value) -> float | None:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def _verdict(value, allowed=CLAIM_VERDICTS, *, where: str = "") -> str:
    verdict = _ALIASES.get(value, value)
    if verdict not in allowed:
        raise ResultsFileError(f"{where} holds the verdict {value!r}, which is not one of "
                               f"{allowed}; rebuild that chapter.")
    return verdict


# --------------------------------------------------------------------------- claims


@dataclass(frozen=True)
class Measurement:
    """What a claim's function returns: the measured text, the verdict and its reason."""

    measured: str
    verdict: str
    reason: str


@dataclass(frozen=True)
class Claim:
    """One claim of the proposal and where the book tests it.

    Attributes
    ----------
    number : str
        Its number in the ledger.
    claim : str
        The claim, in short.
    chapter : str
        The results file it reads (``"curvature_threshold"``), or ``""`` for the execution
        record.
    section : str
        The heading of the section that tests it.
    measure : callable
        ``measure(lookup, execution)`` returns a :class:`Measurement`, or ``None`` when the
        results do not allow one.
    kind : {"claim", "guideline"}
        Which verdicts apply: :data:`CLAIM_VERDICTS` or :data:`GUIDELINE_VERDICTS`.
    """

    number: str
    claim: str
    chapter: str
    section: str
    measure: Callable = field(repr=False)
    kind: str = "claim"

    @property
    def doc(self) -> str:
        """The document that tests it, for ``{doc}`` links (``04_curvature_threshold``)."""
        return CHAPTERS[self.chapter][0] if self.chapter else EXECUTION_PAGE[0]

    @property
    def title(self) -> str:
        return CHAPTERS[self.chapter][1] if self.chapter else EXECUTION_PAGE[1]

    @property
    def link_target(self) -> str:
        """The page's path from another chapter: ``../notebooks/04_curvature_threshold``."""
        return f"../notebooks/{self.doc}"


def _lemma(r: _Lookup, execution) -> Measurement:
    c = "numerical_entropy"
    dim, bits = r.value(c, "corner_dim"), r.value(c, "corner_bits")
    cells, net = r.value(c, "corner_cells"), r.value(c, "corner_net")
    entropy = float(r.value(c, "corner_entropy"))
    allowed = math.log2(net)
    excess = entropy - allowed
    return Measurement(
        measured=(f"in d = {dim}, points inside {'one ball' if net == 1 else f'{net} balls'} "
                  f"of radius ε = 2^-{bits:g} (log₂ N_ε = {allowed:g}) occupy {cells} cells: "
                  f"H(Z_q) = {entropy:.1f} bits"),
        verdict="fails" if excess > 1e-9 else "holds",
        reason=(f"A ball of radius ε can meet up to 2^d grid cells; the example exceeds the "
                f"bound by {excess:.1f} bits, the d bits the corrected theorem allows."
                if excess > 1e-9 else "The counterexample did not exceed the bound."))


def _lemma_corrected(r: _Lookup, execution) -> Measurement:
    c = "numerical_entropy"
    shape = r.table(c, "shape_table")
    rep = r.table(c, "representation_table")
    shape_checks = [bool(v) for name in ("lower_holds", "upper_holds", "net_below_set_bound")
                    for v in shape.get(name, [])]
    rep_checks = [bool(v) for name in ("lower_holds", "upper_holds") for v in rep.get(name, [])]
    if not shape_checks or not rep_checks:
        raise _Missing(c, "shape_table" if not shape_checks else "representation_table")
    violations = shape_checks.count(False) + rep_checks.count(False)
    sets = len(dict.fromkeys(shape.get("shape", [])))
    dim = r.get(c, "rep_dim")
    return Measurement(
        measured=(f"{violations} violations in {len(shape_checks) + len(rep_checks)} certified "
                  f"checks: {len(shape_checks)} on {sets} sets of known geometry, "
                  f"{len(rep_checks)} on a learned representation"
                  + (f" (d = {dim})" if dim is not None else "")),
        verdict="holds" if violations == 0 else "fails",
        reason=("Proved in the chapter; greedy nets at ε√d and ε/2 certify both sides of the "
                "cell-count sandwich on every sample." if violations == 0 else
                "A certified check failed, which the proof rules out: a bug to report."))


def _covering(r: _Lookup, execution) -> Measurement:
    c = "precision_lower_bound"
    checks = r.value(c, "exp1_checks")
    table = r.table(c, "experiment1_table")
    measured_cols = [k for k in table if k.startswith("C_num at p=")]
    bound_cols = [k for k in table if k.startswith("d_Z bound at p=")]
    if not measured_cols or not bound_cols:
        raise _Missing(c, "experiment1_table")
    pairs = list(zip(table[measured_cols[0]], table[bound_cols[0]], strict=True))
    broken = sum(1 for a, b in pairs if _number(a) is not None and _number(b) is not None
                 and a > b + 1e-9)
    p_max = r.value(c, "exp1_p_max")
    return Measurement(
        measured=(f"held at all {checks} radii of {len(pairs)} networks; at p = {p_max:g} the "
                  f"bound is {r.value(c, 'exp1_bound_range')} bits, against "
                  f"log₂ n = {r.value(c, 'exp1_ceiling'):.1f}"),
        verdict="holds" if broken == 0 else "fails",
        reason=("Proved (volumetric argument) with the constants the proof gives, "
                "d_Z log₂(1 + 2R/ε) with R ≤ LD; the proposal's d_Z log₂(LD/ε) is negative for "
                "ε > LD. The chapter checks every radius and stops on a violation. True but "
                f"loose: {r.value(c, 'exp1_over_words')} above what n points can show."
                if broken == 0 else f"The measured curve exceeds the bound for {broken} "
                "networks, which the proof rules out: a bug to report."))


def _curvature_theorem(r: _Lookup, execution) -> Measurement:
    c = "curvature_threshold"
    return Measurement(
        measured=(f"arcs with the same κ = {r.value(c, 'arc_kappa'):g} "
                  f"(p* = {r.value(c, 'arc_pstar'):g} bits) first take two codes at "
                  f"p = {r.value(c, 'arc_split_range')} bits, depending on their length"),
        verdict="fails",
        reason=("Not a theorem as stated: ε < 1/√κ compares a length with the square root of "
                "one, so it changes with the scale of the representation, and curvature does "
                "not control the spread of the data, which decides collapse (proved in the "
                "chapter). Only the empirical version can be tested (claim 6)."))


def _verdict_row(chapter: str, key: str, measured: Callable, reason: Callable | None = None,
                 *, rule: bool = True):
    """A claim whose verdict a chapter recorded under ``key``; its note (the rule the chapter
    applied) opens the reason unless ``rule`` is false."""

    def measure(r: _Lookup, execution) -> Measurement:
        entry = r.entry(chapter, key)
        verdict = _verdict(entry["value"], where=f"{chapter}.json result {key!r}")
        parts = [f"Rule: {entry['note']}." if rule and entry.get("note") else ""]
        if reason:
            extra = reason(r).strip()
            parts.append(extra[:1].upper() + extra[1:] + ("" if extra.endswith(".") else "."))
        return Measurement(measured=measured(r), verdict=verdict,
                           reason=" ".join(part for part in parts if part))

    return measure


def _percent_intervals(r: _Lookup, at_eight: bool) -> str:
    entries = r.matching("lipschitz_regularization", suffix="")
    lows, highs = [], []
    for key, entry in entries.items():
        if "_sn_percent_p" not in key or "interval" not in entry:
            continue
        is_eight = key.endswith("_p8")
        if is_eight == at_eight:
            lows.append(entry["interval"][0])
            highs.append(entry["interval"][1])
    if not lows:
        return ""
    return f"; 95% intervals within [{min(lows):+.1f}, {max(highs):+.1f}]%"


def _gap_reason(r: _Lookup) -> str:
    c = "mi_comparison"
    table = r.get(c, "gap_table")
    parts = ["I(X; Z_q) is the count-based H(Z_q) (Miller–Madow), which carries the verdict"]
    if isinstance(table, dict) and {"I from", "verdict", "ratio"} <= set(table):
        name = table["I from"][0] if table["I from"] else None
        rows = [(v, ratio) for source, v, ratio in zip(table["I from"], table["verdict"],
                                                       table["ratio"], strict=True)
                if source == name and v == "fails" and _number(ratio) is not None]
        below = sum(1 for _, ratio in rows if ratio < 1)
        if rows:
            parts.append(f"in {below} of the {len(rows)} failing comparisons C_num lies below "
                         "H(Z_q): a ball of radius 2^-p meets many grid cells")
    forced = r.get(c, "forced_both")
    if forced:
        parts.append(f"where both sit at log₂ n ({forced} comparisons) the sample forces the "
                     "ratio")
    neural = r.get(c, "claim_gap_below_2_by_estimator")
    if isinstance(neural, dict):
        parts.append("neural lower bounds: " + ", ".join(
            f"{name} {verdict}" for name, verdict in neural.items() if "Miller" not in name))
    return "; ".join(parts)


def _speed(r: _Lookup, execution) -> Measurement:
    c = "greedy_covering"
    table = r.table(c, "timing_table")
    dim = r.payload(c).get("parameters", {}).get("dim")
    radii = r.get(c, "grid_count")
    times = {int(n): _number(t) for n, t in zip(table.get("n", []), table.get("curve_seconds", []),
                                                strict=True)}
    times = {n: t for n, t in times.items() if t is not None}
    if not times or dim is None:
        raise _Missing(c, "timing_table")
    largest = max(times)
    at_target = times.get(10_000)
    parts = []
    if at_target is not None:
        parts.append(f"{at_target:.2f} s at n = 10,000")
    if largest != 10_000:
        parts.append(f"{times[largest]:.2f} s at n = {largest:,} (the largest run)")
    measured = (f"whole capacity curve ({radii} radii) in d = {dim}: " if radii else
                f"whole capacity curve in d = {dim}: ") + "; ".join(parts)
    cores = r.get(c, "cpu_count")
    machine = f" on {cores} CPU cores" if cores else ""
    if at_target is not None and dim == 128:
        holds = at_target <= 30 * ABOUT_FACTOR
        return Measurement(measured, "holds" if holds else "fails",
                           f"Measured at the claim's size{machine}; 'about 30 s' is read as at "
                           f"most {30 * ABOUT_FACTOR:g} s.")
    size = "n = 10,000" if at_target is not None else f"n up to {largest:,}"
    reason = (f"As stated it cannot be tested here: the chapter measures {size} in d = {dim}"
              f"{machine}, not in 128 dimensions.")
    if at_target is not None:
        reason += (f" At n = 10,000 its curve took {30 / at_target:.0f} times less than 30 s, "
                   "in half the dimensions." if dim == 64 else
                   f" At n = 10,000 its curve took {30 / at_target:.0f} times less than 30 s.")
    return Measurement(measured, "cannot be tested", reason)


def experiment_entries(execution: dict | None, *, appendix: bool = False) -> dict:
    """The execution record's entries for the experiment chapters: ``{chapter: entry}``.

    With ``appendix`` the appendix chapters (:data:`APPENDIX_CHAPTERS`) are included too; the
    time-budget claim leaves them out, since the proposal's budget knows nothing of them.
    """
    wanted = {**CHAPTERS, **APPENDIX_CHAPTERS} if appendix else CHAPTERS
    entries = {}
    for entry in (execution or {}).get("chapters", []) or []:
        name = str(entry.get("name", ""))
        chapter = name.split("_", 1)[1] if name[:2].isdigit() and "_" in name else name
        if chapter in wanted:
            entries[chapter] = entry
    return entries


def _budget(r: _Lookup, execution) -> Measurement:
    if execution is None:
        raise _Missing(EXECUTION_FILE)
    entries = experiment_entries(execution)
    if not entries:
        raise _Missing(EXECUTION_FILE, "chapters")
    chapter_seconds = sum(float(e.get("seconds") or 0) for e in entries.values())
    training = execution.get("training_stage") or {}
    training_seconds = float(training.get("seconds") or 0)
    total = chapter_seconds + training_seconds
    profiles = sorted({str(e.get("profile")) for e in entries.values()}
                      | {str(execution.get("profile"))})
    machine = execution.get("machine") or {}
    cores = machine.get("cpu_count")
    where = f"{cores} CPU cores" if cores else "this machine"
    measured = (f"{total / 60:.1f} min: {len(entries)} of {len(CHAPTERS)} chapters "
                f"{chapter_seconds:.0f} s + training stage {training_seconds:.0f} s, on {where}, "
                f"profile {' and '.join(profiles)}")
    networks = training.get("networks") or []
    hits = sum(1 for n in networks if n.get("cache_hit"))
    skipped = training.get("skipped") or []
    if profiles != ["full"]:
        return Measurement(measured, "cannot be tested", (
            f"A {' and '.join(profiles)} build runs the book's reduced experiments on its own "
            "data and sizes, not the proposal's, so its time says nothing about the "
            "proposal's budget; only a full build could test it."))
    weak = [n for n in networks if float(n.get("test_accuracy") or 0) < NORMAL_ACCURACY]
    if len(entries) < len(CHAPTERS) or hits or skipped or weak or not networks:
        missing = []
        if not networks:
            missing.append("the build record has no training stage, so training is not in "
                           "the time")
        if weak:
            missing.append(f"{len(weak)} networks are below {NORMAL_ACCURACY:.0%} test accuracy "
                           f"({', '.join(sorted({n.get('label', '?') for n in weak}))}), so "
                           "they trained for less than the proposal's experiments would")
        if len(entries) < len(CHAPTERS):
            missing.append(f"only {len(entries)} of {len(CHAPTERS)} chapters were timed")
        if hits:
            missing.append(f"{hits} networks came from the cache, so their training is not "
                           "in the time")
        if skipped:
            missing.append(f"{len(skipped)} models were skipped")
        return Measurement(measured, "cannot be tested",
                           "The full build was incomplete: " + "; ".join(missing) + ".")
    holds = total <= 4 * 3600 * ABOUT_FACTOR
    return Measurement(measured, "holds" if holds else "fails", (
        f"Timed by the build on {where}; 'about 4 hours' is read as at most "
        f"{4 * ABOUT_FACTOR:g} h. The full profile is the book's closest run to the "
        "proposal's experiments."))


_GUIDELINE_RULES = {
    "supported": "the evidence favours it for most models and goes against it for none",
    "contradicted": "the evidence goes against it more often than for it",
    "mixed": "the evidence goes both ways",
    "undecided": "most models give no evidence either way",
}


def _guideline(name: str, evidence: Callable):
    c = "lipschitz_regularization"

    def measure(r: _Lookup, execution) -> Measurement:
        verdicts = r.value(c, "guideline_verdicts")
        if not isinstance(verdicts, dict) or name not in verdicts:
            raise _Missing(c, f"guideline_verdicts[{name!r}]")
        verdict = _verdict(verdicts[name], GUIDELINE_VERDICTS,
                           where=f"{c}.json guideline {name!r}")
        return Measurement(evidence(r), verdict,
                           f"{verdict.capitalize()}: {_GUIDELINE_RULES[verdict]}.")

    return measure


def _ct(key):  # a glued text of the curvature chapter
    return lambda r: r.value("curvature_threshold", key)


CLAIMS: tuple[Claim, ...] = (
    Claim("1a", "Lemma: I(X; Z_q) ≤ log₂ N_ε, the quantized representation takes at most N_ε "
          "values", "numerical_entropy", "The information upper bound", _lemma),
    Claim("1b", "The lemma as corrected in the book: N_{ε√d/2} ≤ #cells_ε ≤ 2^d N_{ε/2}, so "
          "I(X; Z_q) ≤ C_num(ε/2) + d", "numerical_entropy",
          "The sandwich on sets with known geometry", _lemma_corrected),
    Claim("2", "Covering bound: C_num(ε) ≤ d_Z log₂(LD/ε), with the constants of its proof",
          "precision_lower_bound", "The covering bound, with its constants", _covering),
    Claim("3", "Curvature threshold theorem: meaningful capacity needs ε < 1/√κ; below "
          "p* = ½ log₂ κ representations collapse", "curvature_threshold",
          "What can be proved", _curvature_theorem),
    Claim("4", "The capacity curve has its elbow at p*", "curvature_threshold",
          "The elbow and the capacity collapse figure",
          _verdict_row("curvature_threshold", "claim_elbow_at_p_star",
                       lambda r: (f"{r.value('curvature_threshold', 'elbow_counts')}; elbows at "
                                  f"p = {r.value('curvature_threshold', 'elbow_range')}, p* = "
                                  f"{r.value('curvature_threshold', 'pstar_range')} bits"),
                       lambda r: (f"the elbow moves by "
                                  f"{r.value('curvature_threshold', 'elbow_shift_range')} bits "
                                  "on a quarter of the points, with the sample size"))),
    Claim("5", "C_num and probe accuracy correlate across precisions with r > 0.9",
          "precision_lower_bound", "The correlation the proposal expects",
          _verdict_row("precision_lower_bound", "claim_r_above_0_9",
                       lambda r: (f"Pearson r = "
                                  f"{r.value('precision_lower_bound', 'corr_unsat_r_range')} "
                                  "over unsaturated precisions; the claim "
                                  f"{r.value('precision_lower_bound', 'corr_unsat_text')}"),
                       lambda r: r.value("precision_lower_bound", "corr_proposal_short")
                       .rstrip("."))),
    Claim("6", "The collapse threshold lies within ±2 bits of p* = ½ log₂ κ",
          "curvature_threshold", "Predicted against observed thresholds",
          _verdict_row("curvature_threshold", "claim_p_star_within_2_bits",
                       lambda r: (f"{_ct('threshold_counts')(r)}; p* = {_ct('pstar_range')(r)} "
                                  f"bits, observed collapse {_ct('observed_range')(r)} bits"),
                       lambda r: (f"{_ct('sensitivity_holds')(r)} of "
                                  f"{_ct('sensitivity_count')(r)} choices of statistic, step, "
                                  "rule and directions make it hold for every model"))),
    Claim("7a", "Spectral normalization gives 20–40% higher C_num at 8 bits",
          "lipschitz_regularization", "The 20–40% claim at 8 bits",
          _verdict_row("lipschitz_regularization", "claim_sn_20_40_percent_at_8_bits",
                       lambda r: (f"SN − standard at p = 8: "
                                  f"{r.value('lipschitz_regularization', 'diff8_text')}%"
                                  + _percent_intervals(r, True)),
                       lambda r: (f"{r.value('lipschitz_regularization', 'diff8_ceiling')} of "
                                  f"{r.value('lipschitz_regularization', 'diff8_count')} "
                                  "architectures sit at log₂ n there, where the sample, not "
                                  "the network, decides C_num"))),
    Claim("7b", "The same 20–40% where the capacity curves still move (the book's extension)",
          "lipschitz_regularization", "The 20–40% claim at 8 bits",
          _verdict_row("lipschitz_regularization", "claim_sn_20_40_percent_moving",
                       lambda r: (f"SN − standard: "
                                  f"{r.value('lipschitz_regularization', 'diff_moving_text')}%"
                                  + _percent_intervals(r, False)),
                       lambda r: "holds needs the whole interval inside [20, 40]%")),
    Claim("8", "C_num bounds I(X; Z) with a gap below 2×", "mi_comparison",
          "The gap factor C_num / I",
          _verdict_row("mi_comparison", "claim_gap_below_2",
                       lambda r: (f"C_num / H(Z_q) (Miller–Madow): "
                                  f"{r.value('mi_comparison', 'gap_counts_mm')}; ratio "
                                  f"{r.value('mi_comparison', 'fail_ratio_range')} where it "
                                  f"fails (p = {r.value('mi_comparison', 'fail_bits_range')})"),
                       _gap_reason, rule=False)),
    Claim("9", "Estimating C_num takes about 30 s for n = 10,000 points in 128 dimensions",
          "greedy_covering", "Speed", _speed),
    Claim("10", "The experiments run in about 4 hours on a laptop", "", "Run times", _budget),
    Claim("11", "Guideline 1: quantize to p bits only if p ≥ ½ log₂ κ",
          "lipschitz_regularization", "The four design guidelines",
          _guideline("safe threshold",
                     lambda r: (f"accuracy within five points at every swept p ≥ p* for "
                                f"{r.value('lipschitz_regularization', 'safe_count')} models")),
          kind="guideline"),
    Claim("12", "Guideline 2: Lipschitz regularization lowers the safe threshold",
          "lipschitz_regularization", "The four design guidelines",
          _guideline("Lipschitz regularization",
                     lambda r: (f"SN lowered the observed collapse threshold for "
                                f"{r.value('lipschitz_regularization', 'lowered_count')} "
                                "architectures and raised it for "
                                f"{r.value('lipschitz_regularization', 'raised_count')}")),
          kind="guideline"),
    Claim("13", "Guideline 3: reduce the dimension (PCA) before quantizing",
          "lipschitz_regularization", "The four design guidelines",
          _guideline("PCA before quantizing",
                     lambda r: (f"at a fixed bit budget, PCA first "
                                f"{r.value('lipschitz_regularization', 'pca_votes')}")),
          kind="guideline"),
    Claim("14", "Guideline 4: monitor C_num during training", "lipschitz_regularization",
          "The four design guidelines",
          _guideline("monitor C_num",
                     lambda r: (f"rank correlation of C_num (p = 1) with test accuracy over "
                                f"the epochs: {r.value('lipschitz_regularization', 'monitor_rho')}"
                                f" ({r.value('lipschitz_regularization', 'monitor_model')}, "
                                "with and without SN)")),
          kind="guideline"),
)


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
    text = (results.get("suite_data") or {}).get("value")
    if isinstance(text, str) and " on " in text:
        labels = [part.split(" on ", 1)[1].split(" (")[0].strip()
                  for part in text.split(". ") if " on " in part]
        if labels:
            return [(label, None) for label in dict.fromkeys(labels)]
    dataset = payload.get("dataset")
    return [(str(dataset) if dataset is not None else "data not recorded", None)]


def data_summary(payload: dict) -> str:
    """The data a chapter's results were measured on, in a few words.

    From the chapter's model-suite table where it recorded one (with the number of networks
    per dataset), else from its suite data paragraph, else its ``dataset`` parameter.
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


# --------------------------------------------------------------------------- the ledger


def _profile_and_data(claim: Claim, results: dict, execution: dict | None) -> str:
    if claim.chapter:
        payload = results[claim.chapter]
        return f"{payload.get('profile')}: {data_summary(payload)}"
    profile = (execution or {}).get("profile")
    return f"{profile}: the whole build"


def ledger_rows(results: dict, execution: dict | None = None) -> list[dict]:
    """Evaluate every claim of :data:`CLAIMS` on this build's results.

    Parameters
    ----------
    results : dict
        From :func:`load_results`.
    execution : dict, optional
        From :func:`load_execution`; the budget claim needs it.

    Returns
    -------
    list of dict
        One row per claim with the columns ``#``, ``claim``, ``measured``,
        ``profile and data``, ``verdict``, ``reason`` and ``tested in`` (chapter title and
        section), plus ``doc`` (the document name, for links) and ``kind``. A claim whose
        results are missing reads :data:`NOT_MEASURED` with the verdict
        :data:`NOT_MEASURED_VERDICT`. When the results mix profiles, every row's
        ``profile and data`` says so.
    """
    lookup = _Lookup(results)
    check = profile_check(results, execution=execution)
    rows = []
    for claim in CLAIMS:
        try:
            measurement = claim.measure(lookup, execution)
            if measurement is None:
                raise _Missing(claim.chapter or EXECUTION_FILE)
        except _Missing as missing:
            measured, verdict, reason = NOT_MEASURED, NOT_MEASURED_VERDICT, missing.reason()
            provenance = "—"
        else:
            allowed = GUIDELINE_VERDICTS if claim.kind == "guideline" else CLAIM_VERDICTS
            verdict = _verdict(measurement.verdict, allowed, where=f"claim {claim.number}")
            measured, reason = measurement.measured, measurement.reason
            provenance = _profile_and_data(claim, results, execution)
            if check.mixed:
                provenance = "MIXED PROFILES (see the warning): " + provenance
        rows.append({"#": claim.number, "claim": claim.claim, "measured": measured,
                     "profile and data": provenance, "verdict": verdict, "reason": reason,
                     "tested in": f"{claim.title}, § {claim.section}", "doc": claim.doc,
                     "kind": claim.kind})
    return rows


def verdict_counts(rows: list[dict]) -> dict:
    """``{verdict: number of rows}``, in the order verdicts first appear."""
    counts: dict[str, int] = {}
    for row in rows:
        counts[row["verdict"]] = counts.get(row["verdict"], 0) + 1
    return counts


def verdict_summary(rows: list[dict]) -> str:
    """Text such as ``"3 hold, 6 fail and 2 cannot be tested, of 11 claims measured"``."""
    claims = [row for row in rows if row["kind"] == "claim"
              and row["verdict"] != NOT_MEASURED_VERDICT]
    guides = [row for row in rows if row["kind"] == "guideline"
              and row["verdict"] != NOT_MEASURED_VERDICT]
    # verbs agree with the count: "1 holds", "3 hold", "1 is undecided", "2 are undecided"
    words = {"holds": ("holds", "hold"), "fails": ("fails", "fail"),
             "undecided": ("is undecided", "are undecided")}

    def counts_text(items, noun):
        if not items:
            return "none was measured in this build"
        parts = [f"{count} {words.get(verdict, (verdict, verdict))[count != 1]}"
                 for verdict, count in verdict_counts(items).items()]
        return f"{join_words(parts)}, of {len(items)} {noun} measured"

    missing = sum(1 for row in rows if row["verdict"] == NOT_MEASURED_VERDICT)
    text = (f"Of the claims, {counts_text(claims, 'claims')}; of the design guidelines, "
            f"{counts_text(guides, 'guidelines')}")
    if missing:
        text += f"; {missing} of {len(rows)} rows were {NOT_MEASURED}"
    return text + "."


LEDGER_COLUMNS = ("#", "claim", "measured", "profile and data", "verdict", "reason",
                  "tested in")


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
    """One sentence: which profile and data the ledger was measured on."""
    present = [chapter for chapter in CHAPTERS if chapter in results]
    if not present:
        return f"No chapter's results file was found, so every claim is {NOT_MEASURED}."
    check = profile_check(results, execution=execution)
    pieces = list(dict.fromkeys(label for chapter in present
                                for label, _ in _data_labels(results[chapter])))
    profiles = " and ".join(sorted(check.profiles))
    plural = "profiles" if check.mixed else "profile"
    text = (f"Measured on the {profiles} {plural}, from the results files of "
            f"{len(present)} of {len(CHAPTERS)} chapters")
    versions = sorted({str(results[c].get("helpers_version")) for c in present})
    text += f" (helpers {', '.join(versions)}); data: {'; '.join(pieces)}."
    return text


# --------------------------------------------------------------------------- findings


def _span(values, fmt="g") -> str:
    values = [float(v) + 0.0 for v in values]
    low, high = format(min(values), fmt), format(max(values), fmt)
    return low if low == high else f"{low} to {high}"


def _collapse_finding(r: _Lookup) -> str:
    c = "precision_lower_bound"
    entries = r.matching(c, suffix="_collapse_bits")
    values = [_number(e.get("value")) for e in entries.values()]
    values = [v for v in values if v is not None]
    if not values:
        raise _Missing(c, "*_collapse_bits")
    coarsest = _number(r.get(c, "collapse_coarsest"))
    at_edge = sum(1 for v in values if coarsest is not None and math.isclose(v, coarsest))
    text = (f"Probe accuracy stays within five points of full precision down to "
            f"p = {_span(values)} bits for the {len(values)} networks of the suite")
    if at_edge:
        text += (f" ({at_edge} of them already at the coarsest swept precision, "
                 f"p = {coarsest:g}, so theirs is an upper limit)")
    if max(values) < PROPOSAL_SWEEP_START:
        text += (f": every collapse lies below the proposal's sweep, which starts at "
                 f"p = {PROPOSAL_SWEEP_START}, so that sweep never sees one.")
    else:
        text += (f"; some collapse reaches the proposal's sweep (p ≥ {PROPOSAL_SWEEP_START}).")
    return text


def _ceiling_finding(r: _Lookup) -> str:
    c = "precision_lower_bound"
    table = r.table(c, "collapse_table")
    column = table.get("C_num saturated from p =")
    if not column:
        raise _Missing(c, "collapse_table")
    saturated = [_number(_to_float(v)) for v in column]
    saturated = [v for v in saturated if v is not None]
    margin = r.get(c, "ceiling_margin", 1.0)
    n = r.get(c, "exp1_n")
    text = ""
    if saturated:
        text = (f"C_num comes within {margin:g} bit of the sample ceiling log₂ n"
                + (f" (n = {n:,} test points)" if n else "")
                + f" from p = {_span(saturated)} bits on, for {len(saturated)} of "
                f"{len(column)} networks. ")
    else:
        text = "No network's C_num reached the sample ceiling within the sweep. "
    text += r.value(c, "corr_proposal_short")
    mi = r.get("mi_comparison", "cnum_ceiling_text")
    if mi:
        text += f" In the MI comparison C_num sits at log₂ n in {mi} (network, precision) pairs."
    return text


def _to_float(text):
    try:
        return float(text)
    except (TypeError, ValueError):
        return None


def _lipschitz_finding(r: _Lookup) -> str:
    c = "lipschitz_regularization"
    table = r.get(c, "bound_table") or {}
    labels = {_model_key(label): label for label in table.get("model", [])}
    raw, book, undone = [], [], []
    for key, entry in r.matching(c, suffix="_sn_lipschitz_lower").items():
        base = key[: -len("_sn_lipschitz_lower")]
        standard = _number(r.get(c, f"{base}_lipschitz_lower"))
        standard_book = _number(r.get(c, f"{base}_lipschitz_book_lower"))
        normalized_book = _number(r.get(c, f"{base}_sn_lipschitz_book_lower"))
        normalized = _number(entry.get("value"))
        if None in (standard, standard_book, normalized_book, normalized) or not (
                standard > 0 and standard_book > 0 and normalized > 0 and normalized_book > 0):
            continue
        raw.append(normalized / standard)
        book.append(normalized_book / standard_book)
        # the share of the reduction (on a log scale) that the unit-cube scaling takes back
        if raw[-1] < 1 and 1 - math.log(book[-1]) / math.log(raw[-1]) > 0.5:
            undone.append(labels.get(base, base))
    if not raw:
        raise _Missing(c, "*_lipschitz_lower")
    text = (f"Spectral normalization cuts the measured Lipschitz constant to "
            f"{_span(raw, '.2g')} times the standard network's ({len(raw)} architectures), "
            f"but in the unit-cube units every grid uses the ratio is {_span(book, '.2f')}. ")
    if undone:
        text += (f"For {len(undone)} of the {len(raw)} ({', '.join(undone)}), the unit-cube "
                 "normalization, which divides each representation by its own range, takes "
                 "back more than half of that reduction (on a log scale) before any bit is "
                 "spent.")
    else:
        text += ("For none of them does the unit-cube normalization take back more than half "
                 "of the reduction on a log scale.")
    return text


def _curvature_finding(r: _Lookup) -> str:
    c = "curvature_threshold"
    text = (f"Arcs of one curvature, κ = {r.value(c, 'arc_kappa'):g} "
            f"(p* = {r.value(c, 'arc_pstar'):g} bits), first take two codes anywhere from "
            f"p = {r.value(c, 'arc_split_range')} bits, depending on their length alone: κ is "
            "not a quantity that can set a collapse threshold.")
    holds, count = r.get(c, "sensitivity_holds"), r.get(c, "sensitivity_count")
    if holds is not None and count:
        text += (f" On the networks, {holds} of {count} ways to compute p* from κ (statistic, "
                 "step, rule, directions) put it within ±2 bits of the collapse for every "
                 "model.")
    return text


def _gap_finding(r: _Lookup) -> str:
    c = "mi_comparison"
    table = r.table(c, "gap_table")
    if not {"I from", "verdict", "ratio", "p"} <= set(table) or not table["I from"]:
        raise _Missing(c, "gap_table")
    name = table["I from"][0]
    rows = [(p, ratio, verdict) for source, verdict, ratio, p in zip(
        table["I from"], table["verdict"], table["ratio"], table["p"], strict=True)
        if source == name and _number(ratio) is not None and _number(p) is not None]
    below = [(p, ratio) for p, ratio, verdict in rows if verdict == "fails" and ratio < 1]
    if not below:
        return (f"In none of the {len(rows)} comparisons of the MI chapter does C_num lie "
                "clearly (with its whole interval) below the count-based H(Z_q).")
    return (f"C_num lies below H(Z_q) = I(X; Z_q), counted with Miller–Madow, with its whole "
            f"interval, in {len(below)} of {len(rows)} (network, precision) comparisons, at p = "
            f"{_span([p for p, _ in below])} bits (ratio {_span([q for _, q in below], '.2f')}): "
            "a ball of radius 2^-p in many dimensions meets many grid cells, so the cover "
            "needs fewer balls than the grid has occupied cells, the reverse of the bound the "
            "proposal expects.")


#: The findings of :func:`findings`: name -> (heading, function).
FINDINGS = {
    "collapse": ("Where accuracy collapses", _collapse_finding),
    "ceiling": ("Capacity and the sample size", _ceiling_finding),
    "lipschitz": ("Spectral normalization and the unit cube", _lipschitz_finding),
    "curvature": ("Curvature and thresholds", _curvature_finding),
    "gap": ("Capacity below information", _gap_finding),
}


def findings(results: dict) -> dict:
    """What the book found that the proposal did not expect, as sentences from the results.

    Returns
    -------
    dict
        ``{name: sentence}`` for each of :data:`FINDINGS`; a finding whose results are missing
        reads ``"Not measured in this build (<what is missing>)."``.
    """
    lookup = _Lookup(results)
    out = {}
    for name, (_, function) in FINDINGS.items():
        try:
            out[name] = function(lookup)
        except _Missing as missing:
            out[name] = f"{NOT_MEASURED.capitalize()} ({missing.reason()})."
    return out


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
    lookup = _Lookup(results)
    points = []
    try:
        observed = lookup.matching("precision_lower_bound", suffix="_collapse_bits")
        predicted = lookup.matching("curvature_threshold", suffix="_p_star")
    except _Missing:
        return points
    table = lookup.get("precision_lower_bound", "collapse_table") or {}
    labels = {_model_key(label): label for label in table.get("model", [])}
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
    try:
        table = _Lookup(results).table("precision_lower_bound", "probe_table")
    except _Missing:
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
    if _number(value) is not None and not isinstance(value, numbers.Integral):
        return f"{value:g}"
    return str(value)


def execution_rows(results: dict, execution: dict | None) -> list[dict]:
    """One row per experiment chapter: what it ran on (its results file) and how it ran
    (the execution record).

    Columns: ``chapter``, ``profile``, ``data``, ``bits``, ``sizes`` (the ``n_*``
    parameters), ``seed``, ``run time [s]``, ``status``, ``results written``. A chapter
    without a results file reads :data:`NOT_MEASURED` in the first group, and without an
    execution record :data:`NOT_AVAILABLE` in the second.
    """
    entries = experiment_entries(execution, appendix=True)
    rows = []
    for chapter, (_, title) in {**CHAPTERS, **APPENDIX_CHAPTERS}.items():
        payload = results.get(chapter)
        entry = entries.get(chapter)
        row = {"chapter": title}
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


def machine_text(execution: dict | None) -> str:
    """The machine the build ran on, in one line."""
    if execution is None or not execution.get("machine"):
        return f"The machine is {NOT_AVAILABLE}."
    m = execution["machine"]
    parts = [str(m.get("platform", "unknown platform")), f"Python {m.get('python', '?')}"]
    if m.get("cpu_count"):
        parts.append(f"{m['cpu_count']} CPU cores")
    if m.get("memory_gib"):
        parts.append(f"{m['memory_gib']:g} GiB of memory")
    return ", ".join(parts) + "."


def package_rows(execution: dict | None) -> list[dict]:
    """The package versions the build recorded, one row per package."""
    packages = (execution or {}).get("packages") or {}
    return [{"package": name, "version": str(version)} for name, version in packages.items()]



__all__ = ["ABOUT_FACTOR", "APPENDIX_CHAPTERS", "CHAPTERS", "CLAIMS", "CLAIM_VERDICTS",
           "EXECUTION_FILE", "FINDINGS",
           "GUIDELINE_VERDICTS", "LEDGER_COLUMNS", "NOT_AVAILABLE", "NOT_MEASURED",
           "NOT_MEASURED_VERDICT", "PROPOSAL_SWEEP_START", "SUMMARY_CHAPTERS", "Claim",
           "Measurement", "ProfileCheck", "ResultsFileError", "accuracy_curves", "data_summary",
           "experiment_entries", "findings", "ledger_frame", "ledger_markdown", "ledger_rows",
           "load_execution", "load_results", "parameter_check", "profile_check",
           "provenance_text", "stale_results", "threshold_points", "verdict_counts",
           "verdict_summary", "execution_rows", "machine_text", "package_rows",
           "PROVENANCE_KEYS", "provenance_rows", "styled", "training_rows"]
