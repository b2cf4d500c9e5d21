"""The proposal's claims, and the book's own findings, declared as data.

Introduced in the chapter "Claims ledger" (``notebooks/07_claims_ledger``), which evaluates
them on the results files of its build (:mod:`helpers.book.ledger`).

Each :class:`Claim` names the chapter and section that test it, the recorded results it reads
(:class:`Key`: chapter, result name and the type the value must have), the units of what it
measures, its verdict rule as a function of those values, and templates that fill the
measured value and the reason with them. Each :class:`Finding` does the same for a statement
of what the book found that the proposal did not expect. No entry reads a sentence written by
a chapter: chapters record numbers, intervals, counts, labels and verdict words, and the
sentences of the ledger are written here, once.

- :data:`CLAIMS` and :data:`FINDINGS` are the registry;
- :func:`read_values` gathers the values an entry reads from the results files, raising
  :class:`Missing` (with the reason) for a file, a result or a type that is not there;
- :func:`registry_problems` lists every key an entry reads that the results lack or hold with
  the wrong type, and every claim whose chapter recorded a verdict other than the one the
  registry computes: the check that a renamed result cannot silently unmeasure a claim.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

from helpers._validation import is_integer, is_number
from helpers.book.prose import join_words, span_text, verdict_counts_text
from helpers.book.tables import section_anchor
from helpers.measure.verdicts import (
    CLAIM_VERDICTS,
    GUIDELINE_VERDICTS,
    combine_verdicts,
    guideline_verdict,
)

#: The experiment chapters: results-file name -> (document name, title).
CHAPTERS = {
    "numerical_entropy": ("01_numerical_entropy", "Numerical entropy"),
    "precision_lower_bound": ("02_precision_lower_bound", "Precision lower bound"),
    "greedy_covering": ("03_greedy_covering", "Greedy covering"),
    "curvature_threshold": ("04_curvature_threshold", "Curvature threshold"),
    "lipschitz_regularization": ("05_lipschitz_regularization", "Lipschitz regularization"),
    "mi_comparison": ("06_mi_comparison", "MI comparison"),
}
#: The build's execution record, written into the results folder before the last stage runs.
EXECUTION_FILE = "_execution.json"
#: The pseudo-chapter of the keys read from the execution record.
EXECUTION = "_execution"
#: The prefix of a key that names one of the chapter's parameters instead of a result.
PARAMETER = "parameters."
#: Where the build-time claim is tested: (document name, title).
EXECUTION_PAGE = ("08_execution_statistics", "Execution statistics")
#: The proposal sweeps p = 4, 8, ..., 32 bits.
PROPOSAL_SWEEP_START = 4
#: A full build's networks below this test accuracy are undertrained (the normal range of the
#: proposal's models is 75-99%), so its time is not the time of the proposal's experiments.
NORMAL_ACCURACY = 0.70
#: "About 30 s" and "about 4 hours" are read as holding up to this factor above the figure.
ABOUT_FACTOR = 1.5


# --------------------------------------------------------------------------- value types


def _is_number(value) -> bool:
    return is_number(value) and math.isfinite(value)


def _is_interval(value) -> bool:
    return (isinstance(value, list) and len(value) == 2 and all(map(_is_number, value))
            and value[0] <= value[1])


def _is_verdicts(value, allowed=CLAIM_VERDICTS) -> bool:
    return isinstance(value, dict) and all(v in allowed for v in value.values())


#: The types a recorded value can have, each with its test. A type ending in ``?`` also
#: accepts ``None`` (JSON null): "not defined in this run", e.g. the span of an empty set.
TYPES: dict[str, Callable] = {
    "number": _is_number,
    "count": lambda v: is_integer(v) and v >= 0,
    "interval": _is_interval,
    "verdict": lambda v: v in CLAIM_VERDICTS,
    "verdicts": _is_verdicts,
    "guidelines": lambda v: _is_verdicts(v, GUIDELINE_VERDICTS),
    "numbers": lambda v: isinstance(v, list) and all(map(_is_number, v)),
    "numbers_or_nulls": lambda v: isinstance(v, list) and all(
        x is None or _is_number(x) for x in v),
    "label": lambda v: isinstance(v, str) and 0 < len(v) <= 60,
    "labels": lambda v: isinstance(v, list) and all(isinstance(x, str) for x in v),
    "table": lambda v: isinstance(v, dict) and all(isinstance(c, list) for c in v.values())
    and len({len(c) for c in v.values()}) <= 1,
    "record": lambda v: v is not None,  # a part of the execution record, checked by its rule
}


def type_ok(value, kind: str) -> bool:
    """Whether ``value`` has the type ``kind`` (a name of :data:`TYPES`, maybe ending in ?)."""
    if kind.endswith("?"):
        return value is None or TYPES[kind[:-1]](value)
    return bool(TYPES[kind](value))


@dataclass(frozen=True)
class Key:
    """A result an entry reads: ``chapter`` (results-file name, or :data:`EXECUTION`),
    ``name`` and ``kind`` (a type of :data:`TYPES`, ``?`` for "or null")."""

    chapter: str
    name: str
    kind: str

    def __post_init__(self):
        if self.kind.rstrip("?") not in TYPES:
            raise ValueError(f"unknown type {self.kind!r} for {self.chapter}/{self.name}.")


def _keys(chapter: str, spec: str) -> tuple[Key, ...]:
    """``"a:number b:interval?"`` -> the keys of ``chapter``."""
    return tuple(Key(chapter, *item.split(":")) for item in spec.split())


class Missing(LookupError):
    """An entry needs a results file, a result or a type that this build did not write."""

    def __init__(self, chapter: str, key: str | None = None, detail: str | None = None):
        super().__init__(chapter, key, detail)
        self.chapter, self.key, self.detail = chapter, key, detail

    def reason(self) -> str:
        if self.chapter == EXECUTION:
            return (f"the build wrote no {EXECUTION_FILE} (it does so before running this "
                    "chapter)" if self.key is None else
                    f"{EXECUTION_FILE} has no {self.key!r}")
        if self.key is None:
            return f"{self.chapter}.json is missing: the build did not run that chapter"
        if self.detail:
            return f"{self.chapter}.json result {self.key!r} {self.detail}"
        return f"{self.chapter}.json has no result {self.key!r}"


def read_values(keys, results: dict, execution: dict | None = None) -> dict:
    """``{name: value}`` of ``keys`` from the results files (and the execution record).

    Raises
    ------
    Missing
        For the first file or result absent, or holding a value of another type.
    """
    values = {}
    for key in keys:
        if key.chapter == EXECUTION:
            if execution is None:
                raise Missing(EXECUTION)
            if key.name not in execution and not key.kind.endswith("?"):
                raise Missing(EXECUTION, key.name)
            value = execution.get(key.name)
        else:
            if key.chapter not in results:
                raise Missing(key.chapter)
            payload = results[key.chapter]
            if key.name.startswith(PARAMETER):  # a parameter the chapter ran with
                entry = {"value": payload.get("parameters", {}).get(key.name[len(PARAMETER):])}
            else:
                entry = payload.get("results", {}).get(key.name)
            if not isinstance(entry, dict) or "value" not in entry:
                raise Missing(key.chapter, key.name)
            value = entry["value"]
        if not type_ok(value, key.kind):
            raise Missing(key.chapter, key.name,
                          f"holds {value!r:.60}, which is not of type {key.kind!r}")
        values[key.name.removeprefix(PARAMETER)] = value
    return values


# --------------------------------------------------------------------------- formats


def span(interval, fmt: str = "g", none: str = "none") -> str:
    """An interval ``[low, high]`` as "low to high" (or one number), ``none`` for null."""
    return none if interval is None else span_text(interval, fmt)


def span_of(values, fmt: str = "g", none: str = "none") -> str:
    """The span of a list of numbers (nulls skipped), ``none`` when there is none."""
    values = [v for v in values if v is not None]
    return span_text(values, fmt) if values else none


def counts(verdicts: dict, noun: str = "models") -> str:
    """``"holds for 2 and fails for 1 of 3 models"`` from ``{name: verdict}``."""
    return verdict_counts_text(verdicts.values(), noun=noun)


def _combined(name: str) -> Callable:
    return lambda v: combine_verdicts(v[name].values())


# --------------------------------------------------------------------------- claims


@dataclass(frozen=True)
class Claim:
    """One claim of the proposal and where and how the book tests it.

    Attributes
    ----------
    number : str
        Its number in the ledger.
    statement : str
        The claim, in short.
    chapter : str
        The results file of the chapter that tests it, or :data:`EXECUTION`.
    section : str
        The heading of the section that tests it.
    reads : tuple of Key
        The recorded results it reads.
    units : str
        The units of the measured value.
    rule : callable
        ``rule(values) -> verdict``, from the values of ``reads``.
    rule_text : str
        The rule in words, a template that may name values (``{quantile:g}``); "" where
        the reason says it.
    measured : callable
        ``measured(values) -> str``: the template of the measured value, in full.
    value : callable
        ``value(values) -> str``: the measured value in a few words, with its interval where
        it has one: the ledger's main table shows it, and the full ``measured`` under it.
    reason : callable
        ``reason(values, verdict) -> str``: why the verdict.
    kind : {"claim", "guideline"}
        Which verdicts apply.
    anchor : str or None
        The section's HTML id where Sphinx does not derive it from ``section`` as written
        (a heading with math: ``$C_\\mathrm{num}$`` gives ``c-mathrm-num``).
    chapter_verdict : str or None
        The result under which the chapter records its own verdict (or, for a guideline,
        its name in the chapter's ``guideline_verdicts``), which must agree with ``rule``.
    """

    number: str
    statement: str
    chapter: str
    section: str
    reads: tuple
    units: str
    rule: Callable = field(repr=False)
    rule_text: str
    measured: Callable = field(repr=False)
    reason: Callable = field(repr=False)
    kind: str = "claim"
    chapter_verdict: str | None = None
    value: Callable | None = field(default=None, repr=False)
    anchor: str | None = None

    def __post_init__(self):
        if self.value is None:
            raise TypeError(f"claim {self.number}: give `value`, the measured value in short.")

    @property
    def section_id(self) -> str:
        """The HTML id of :attr:`section`: :attr:`anchor` where the heading holds math, else
        the id Sphinx derives from the title."""
        return self.anchor or section_anchor(self.section)

    @property
    def doc(self) -> str:
        """The document that tests it, for ``{doc}`` links (``04_curvature_threshold``)."""
        return CHAPTERS[self.chapter][0] if self.chapter in CHAPTERS else EXECUTION_PAGE[0]

    @property
    def title(self) -> str:
        return CHAPTERS[self.chapter][1] if self.chapter in CHAPTERS else EXECUTION_PAGE[1]

    @property
    def link_target(self) -> str:
        """The page's path from another chapter: ``../notebooks/04_curvature_threshold``."""
        return f"../notebooks/{self.doc}"

    @property
    def verdicts(self) -> tuple:
        return GUIDELINE_VERDICTS if self.kind == "guideline" else CLAIM_VERDICTS


_NE, _PLB, _GC = "numerical_entropy", "precision_lower_bound", "greedy_covering"
_CT, _LR, _MI = "curvature_threshold", "lipschitz_regularization", "mi_comparison"
_NF = "number_formats"


def _lemma_measured(v) -> str:
    net = v["corner_net"]
    return (f"in d = {v['corner_dim']}, points inside "
            f"{'one ball' if net == 1 else f'{net} balls'} of radius "
            f"ε = 2^-{v['corner_bits']:g} (log₂ N_ε = {math.log2(net):g}) occupy "
            f"{v['corner_cells']} cells: H(Z_q) = {v['corner_entropy']:.1f} bits")


def _lemma_excess(v) -> float:
    return float(v["corner_entropy"]) - math.log2(v["corner_net"])


def _sandwich_violations(v) -> int:
    return v["shape_violations"] + v["rep_violations"]


def _over_words(bits: float) -> str:
    return ("over a thousand bits" if bits >= 1000 else "hundreds of bits" if bits >= 100
            else f"at least {bits:.0f} bits")


def _proposal_text(v) -> str:
    """What the proposal's own precisions (p >= 4) can say about the correlation."""
    if not v["proposal_bits"]:
        return "This sweep did not reach the proposal's precisions."
    if v["proposal_gap_bits"] < v["ceiling_margin"]:
        return ("On the proposal's own precisions it cannot be tested: C_num is constant "
                f"there, up to {v['proposal_gap_bits']:.2g} bits.")
    return "Some of the proposal's own precisions are unsaturated here and enter the test."


def _percent_interval(interval) -> str:
    return ("" if interval is None else
            f"; 95% intervals within [{interval[0]:+.1f}, {interval[1]:+.1f}]%")


def _percent_value(percent, interval) -> str:
    """``"+3.1 to +8.0% (95%: [-2.0, +12.5]%)"``, the short form of a percentage difference."""
    text = f"{span(percent, '+.1f', 'not measured')}%"
    return text if interval is None else (
        f"{text} (95%: [{interval[0]:+.1f}, {interval[1]:+.1f}]%)")


def _gap_value(v) -> str:
    failing = list(v["gap_verdicts"].values()).count("fails")
    text = f"{failing} of {len(v['gap_verdicts'])} comparisons at 2× or more"
    return text if v["fail_ratio"] is None else f"{text}; ratio {span(v['fail_ratio'], '.2f')}"


def _gap_reason(v, verdict) -> str:
    failing = list(v["gap_verdicts"].values()).count("fails")
    parts = ["I(X; Z_q) is the count-based H(Z_q) (Miller–Madow), which carries the verdict"]
    if failing:
        parts.append(f"in {v['fail_below']} of the {failing} failing comparisons C_num lies "
                     "below H(Z_q): a ball of radius 2^-p meets many grid cells")
    if v["forced_count"]:
        parts.append(f"where both sit at log₂ n ({v['forced_both_count']} of "
                     f"{v['forced_count']} comparisons) the sample forces the ratio")
    by_estimator = v["claim_gap_below_2_by_estimator"]
    if "InfoNCE" in by_estimator:
        parts.append(f"InfoNCE, a lower bound, {by_estimator['InfoNCE']}")
    if "MINE" in by_estimator:
        parts.append("MINE is reported but never decides: its finite-sample Donsker–Varadhan "
                     "estimate is biased upward and bounds nothing")
    return "; ".join(parts) + "."


def _speed_rule(v) -> str:
    if v["curve_seconds_10k"] is None or v["rep_dim"] != 128:
        return "cannot be tested"
    return "holds" if v["curve_seconds_10k"] <= 30 * ABOUT_FACTOR else "fails"


def _speed_measured(v) -> str:
    parts = []
    if v["curve_seconds_10k"] is not None:
        parts.append(f"{v['curve_seconds_10k']:.2f} s at n = 10,000")
    if v["curve_n"] != 10_000:
        parts.append(f"{v['curve_seconds']:.2f} s at n = {v['curve_n']:,} (the largest run)")
    return (f"whole capacity curve ({v['grid_count']} radii) in d = {v['rep_dim']}: "
            + "; ".join(parts))


def _speed_value(v) -> str:
    if v["curve_seconds_10k"] is not None:
        return f"{v['curve_seconds_10k']:.2f} s at n = 10,000, d = {v['rep_dim']}"
    return f"{v['curve_seconds']:.2f} s at n = {v['curve_n']:,}, d = {v['rep_dim']}"


def _speed_reason(v, verdict) -> str:
    machine = f" on {v['cpu_count']} CPU cores"
    if verdict != "cannot be tested":
        return (f"Measured at the claim's size{machine}; 'about 30 s' is read as at most "
                f"{30 * ABOUT_FACTOR:g} s.")
    at_target = v["curve_seconds_10k"]
    size = "n = 10,000" if at_target is not None else f"n up to {v['curve_n']:,}"
    text = (f"As stated it cannot be tested here: the chapter measures {size} in "
            f"d = {v['rep_dim']}{machine}, not in 128 dimensions.")
    if at_target is not None:
        text += f" At n = 10,000 its curve took {30 / at_target:.0f} times less than 30 s"
        text += ", in half the dimensions." if v["rep_dim"] == 64 else "."
    return text


def experiment_entries(execution: dict | None, wanted=CHAPTERS) -> dict:
    """The execution record's entries for the chapters in ``wanted``: ``{chapter: entry}``."""
    entries = {}
    for entry in (execution or {}).get("chapters", []) or []:
        name = str(entry.get("name", ""))
        chapter = name.split("_", 1)[1] if name[:2].isdigit() and "_" in name else name
        if chapter in wanted:
            entries[chapter] = entry
    return entries


def _budget(v) -> dict:
    """The figures of the time budget, from the execution record."""
    entries = experiment_entries(v)
    training = v.get("training_stage") or {}
    chapter_seconds = sum(float(e.get("seconds") or 0) for e in entries.values())
    training_seconds = float(training.get("seconds") or 0)
    networks = training.get("networks") or []
    return {"entries": entries, "chapter_seconds": chapter_seconds,
            "training_seconds": training_seconds,
            "total": chapter_seconds + training_seconds,
            "profiles": sorted({str(e.get("profile")) for e in entries.values()}
                               | {str(v.get("profile"))}),
            "cores": (v.get("machine") or {}).get("cpu_count"), "networks": networks,
            "hits": sum(1 for n in networks if n.get("cache_hit")),
            "skipped": training.get("skipped") or [],
            "weak": [n for n in networks
                     if float(n.get("test_accuracy") or 0) < NORMAL_ACCURACY]}


def _budget_rule(v) -> str:
    b = _budget(v)
    if (b["profiles"] != ["full"] or len(b["entries"]) < len(CHAPTERS) or b["hits"]
            or b["skipped"] or b["weak"] or not b["networks"]):
        return "cannot be tested"
    return "holds" if b["total"] <= 4 * 3600 * ABOUT_FACTOR else "fails"


def _budget_measured(v) -> str:
    b = _budget(v)
    where = f"{b['cores']} CPU cores" if b["cores"] else "this machine"
    return (f"{b['total'] / 60:.1f} min: {len(b['entries'])} of {len(CHAPTERS)} chapters "
            f"{b['chapter_seconds']:.0f} s + training stage {b['training_seconds']:.0f} s, on "
            f"{where}, profile {' and '.join(b['profiles'])}")


def _budget_value(v) -> str:
    b = _budget(v)
    return f"{b['total'] / 60:.1f} min, profile {' and '.join(b['profiles'])}"


def _budget_reason(v, verdict) -> str:
    b = _budget(v)
    where = f"{b['cores']} CPU cores" if b["cores"] else "this machine"
    if b["profiles"] != ["full"]:
        return (f"A {' and '.join(b['profiles'])} build runs the book's reduced experiments on "
                "its own data and sizes, not the proposal's, so its time says nothing about "
                "the proposal's budget; only a full build could test it.")
    if verdict == "cannot be tested":
        missing = []
        if not b["networks"]:
            missing.append("the build record has no training stage, so training is not in "
                           "the time")
        if b["weak"]:
            labels = ", ".join(sorted({n.get("label", "?") for n in b["weak"]}))
            missing.append(f"{len(b['weak'])} networks are below {NORMAL_ACCURACY:.0%} test "
                           f"accuracy ({labels}), so they trained for less than the "
                           "proposal's experiments would")
        if len(b["entries"]) < len(CHAPTERS):
            missing.append(f"only {len(b['entries'])} of {len(CHAPTERS)} chapters were timed")
        if b["hits"]:
            missing.append(f"{b['hits']} networks came from the cache, so their training is "
                           "not in the time")
        if b["skipped"]:
            missing.append(f"{len(b['skipped'])} models were skipped")
        return "The full build was incomplete: " + "; ".join(missing) + "."
    return (f"Timed by the build on {where}; 'about 4 hours' is read as at most "
            f"{4 * ABOUT_FACTOR:g} h. The full profile is the book's closest run to the "
            "proposal's experiments.")


#: What each guideline verdict means, for the ledger's reason column.
GUIDELINE_RULES = {
    "supported": "the evidence favours it for most models and goes against it for none",
    "contradicted": "the evidence goes against it more often than for it",
    "mixed": "the evidence goes both ways",
    "undecided": "most models give no evidence either way",
}


def _guideline_reason(v, verdict) -> str:
    return f"{verdict.capitalize()}: {GUIDELINE_RULES[verdict]}."


def _pca_votes(v) -> str:
    words = (("helps in", v["pca_helps"]), ("hurts in", v["pca_hurts"]),
             ("makes no difference (within one point) in", v["pca_neutral"]))
    parts = [f"{word} {count}" for word, count in words if count]
    total = v["pca_helps"] + v["pca_hurts"] + v["pca_neutral"]
    return (f"{join_words(parts)} of {total} comparisons" if parts
            else "has no comparison to show")


def _monitor_rule(v) -> str:
    rhos = [r for r in v["monitor_rhos"] if r is not None]
    return guideline_verdict(sum(r >= 0.5 for r in rhos), sum(r <= 0 for r in rhos),
                             len(v["monitor_rhos"]))


_GUIDELINE_RULE_TEXT = ("supported when the evidence favours it for more than half of the "
                        "models and goes against it for none, contradicted when it goes "
                        "against it more often than for it, mixed when both, else undecided")


CLAIMS: tuple[Claim, ...] = (
    Claim(
        "1a", "Lemma: I(X; Z_q) ≤ log₂ N_ε, the quantized representation takes at most N_ε "
        "values", _NE, "The information upper bound",
        _keys(_NE, "corner_dim:count corner_bits:number corner_cells:count corner_net:count "
                   "corner_entropy:number"), "bits",
        rule=lambda v: "fails" if _lemma_excess(v) > 1e-9 else "holds",
        rule_text="fails if a set inside N_ε balls has H(Z_q) above log₂ N_ε",
        measured=_lemma_measured,
        value=lambda v: (f"H(Z_q) = {v['corner_entropy']:.1f} bits against log₂ N_ε = "
                         f"{math.log2(v['corner_net']):g}"),
        reason=lambda v, verdict: (
            f"A ball of radius ε can meet up to 2^d grid cells; the example exceeds the bound "
            f"by {_lemma_excess(v):.1f} bits, the d bits the corrected theorem allows."
            if verdict == "fails" else "The counterexample did not exceed the bound.")),
    Claim(
        "1b", "The lemma as corrected in the book: N_{ε√d/2} ≤ #cells_ε ≤ 2^d N_{ε/2}, so "
        "I(X; Z_q) ≤ C_num(ε/2) + d", _NE, "The sandwich on sets with known geometry",
        _keys(_NE, "shape_checks:count shape_violations:count shape_sets:count "
                   "rep_checks:count rep_violations:count rep_dim:count"), "checks",
        rule=lambda v: "holds" if _sandwich_violations(v) == 0 else "fails",
        rule_text="holds if no certified check is violated",
        measured=lambda v: (
            f"{_sandwich_violations(v)} violations in {v['shape_checks'] + v['rep_checks']} "
            f"certified checks: {v['shape_checks']} on {v['shape_sets']} sets of known "
            f"geometry, {v['rep_checks']} on a learned representation (d = {v['rep_dim']})"),
        value=lambda v: (f"{_sandwich_violations(v)} violations in "
                         f"{v['shape_checks'] + v['rep_checks']} checks"),
        reason=lambda v, verdict: (
            "Proved in the chapter; greedy nets at ε√d and ε/2 certify both sides of the "
            "cell-count sandwich on every sample." if verdict == "holds" else
            "A certified check failed, which the proof rules out: a bug to report.")),
    Claim(
        "2", "Covering bound: C_num(ε) ≤ d_Z log₂(LD/ε), with the constants of its proof",
        _PLB, "The covering bound, with its constants",
        _keys(_PLB, "exp1_checks:count exp1_networks:count exp1_violations:count "
                    "exp1_p_max:number exp1_bound_low:number exp1_bound_high:number "
                    "exp1_ceiling:number exp1_over_ceiling_low:number"), "bits",
        rule=lambda v: "holds" if v["exp1_violations"] == 0 else "fails",
        rule_text="holds if the measured C_num stays below the bound at every radius",
        measured=lambda v: (
            f"held at all {v['exp1_checks']} radii of {v['exp1_networks']} networks; at "
            f"p = {v['exp1_p_max']:g} the bound is "
            f"{span([v['exp1_bound_low'], v['exp1_bound_high']], '.0f')} bits, against "
            f"log₂ n = {v['exp1_ceiling']:.1f}"
            if v["exp1_violations"] == 0 else
            f"exceeded for {v['exp1_violations']} of {v['exp1_networks']} networks"),
        value=lambda v: (f"{v['exp1_violations']} of {v['exp1_networks']} networks over the "
                         f"bound ({v['exp1_checks']} radii)"),
        reason=lambda v, verdict: (
            "Proved (volumetric argument) with the constants the proof gives, "
            "d_Z log₂(1 + 2R/ε) with R ≤ LD; the proposal's d_Z log₂(LD/ε) is negative for "
            "ε > LD. The chapter checks every radius and stops on a violation. True but "
            f"loose: {_over_words(v['exp1_over_ceiling_low'])} above what n points can show."
            if verdict == "holds" else
            f"The measured curve exceeds the bound for {v['exp1_violations']} networks, which "
            "the proof rules out: a bug to report.")),
    Claim(
        "3", "Curvature threshold theorem: meaningful capacity needs ε < 1/√κ; below "
        "p* = ½ log₂ κ representations collapse", _CT, "What can be proved",
        _keys(_CT, "arc_kappa:number arc_pstar:number arc_split_bits:interval"), "bits",
        # the verdict rests on the proof in the chapter; the arcs are its worked example
        rule=lambda v: "fails",
        rule_text="fails by the proof in the chapter",
        measured=lambda v: (
            f"arcs with the same κ = {v['arc_kappa']:g} (p* = {v['arc_pstar']:g} bits) first "
            f"take two codes at p = {span(v['arc_split_bits'])} bits, depending on their "
            "length"),
        value=lambda v: (f"p* = {v['arc_pstar']:g}; two codes from p = "
                         f"{span(v['arc_split_bits'])} bits"),
        reason=lambda v, verdict: (
            "Not a theorem as stated: ε < 1/√κ compares a length with the square root of "
            "one, so it changes with the scale of the representation, and curvature does not "
            "control the spread of the data, which decides collapse (proved in the chapter). "
            "Only the empirical version can be tested (claim 6).")),
    Claim(
        "4", "The capacity curve has its elbow at p*", _CT,
        "The elbow and the capacity collapse figure",
        _keys(_CT, "elbow_verdicts:verdicts elbow_bits:interval p_star_bits:interval "
                   "elbow_shift_bits:interval claim_elbow_at_p_star:verdict"), "bits",
        rule=_combined("elbow_verdicts"),
        rule_text="two-segment breakpoint of C_num(p) against p* within ±2 bits",
        measured=lambda v: (
            f"{counts(v['elbow_verdicts'])}; elbows at p = {span(v['elbow_bits'], '.2f')}, "
            f"p* = {span(v['p_star_bits'], '.1f')} bits"),
        value=lambda v: (f"elbow {span(v['elbow_bits'], '.2f')}; p* "
                         f"{span(v['p_star_bits'], '.1f')} bits"),
        reason=lambda v, verdict: (
            f"The elbow moves by {span(v['elbow_shift_bits'], '.2f')} bits on a quarter of "
            "the points, with the sample size."),
        chapter_verdict="claim_elbow_at_p_star"),
    Claim(
        "5", "C_num and probe accuracy correlate across precisions with r > 0.9", _PLB,
        "The correlation the proposal expects",
        _keys(_PLB, "corr_unsat_verdicts:verdicts corr_unsat_r:numbers proposal_bits:numbers "
                    "proposal_gap_bits:number? ceiling_margin:number "
                    "claim_r_above_0_9:verdict"), "Pearson r",
        rule=_combined("corr_unsat_verdicts"),
        rule_text="over unsaturated precisions, Pearson r, union of the 95% bootstrap and "
                  "Fisher z intervals; fails if any model's interval is at or below 0.9",
        measured=lambda v: (
            f"Pearson r = {span_of(v['corr_unsat_r'], '.2f', 'none (not computable)')} over "
            f"unsaturated precisions; the claim {counts(v['corr_unsat_verdicts'])}"),
        value=lambda v: f"r = {span_of(v['corr_unsat_r'], '.2f', 'not computable')}",
        reason=lambda v, verdict: _proposal_text(v),
        chapter_verdict="claim_r_above_0_9"),
    Claim(
        "6", "The collapse threshold lies within ±2 bits of p* = ½ log₂ κ", _CT,
        "Predicted against observed thresholds",
        _keys(_CT, "threshold_verdicts:verdicts p_star_bits:interval "
                   "observed_collapse_bits:interval? sensitivity_holds:count "
                   "sensitivity_count:count claim_p_star_within_2_bits:verdict "
                   "parameters.quantile:number"), "bits",
        rule=_combined("threshold_verdicts"),
        rule_text="p* = ½·log2 of the q{quantile:g} data-tangent curvature; fails if any model "
                  "fails",
        measured=lambda v: (
            f"{counts(v['threshold_verdicts'])}; p* = {span(v['p_star_bits'], '.1f')} bits, "
            f"observed collapse {span(v['observed_collapse_bits'], none='nowhere in the sweep')}"
            " bits"),
        value=lambda v: (f"p* {span(v['p_star_bits'], '.1f')}; observed "
                         f"{span(v['observed_collapse_bits'], none='none')} bits"),
        reason=lambda v, verdict: (
            f"{v['sensitivity_holds']} of {v['sensitivity_count']} choices of statistic, step, "
            "rule and directions make it hold for every model."),
        chapter_verdict="claim_p_star_within_2_bits"),
    Claim(
        "7a", "Spectral normalization gives 20–40% higher C_num at 8 bits", _LR,
        "The 20–40% claim at 8 bits",
        _keys(_LR, "diff8_verdicts:verdicts diff8_percent:interval? diff8_interval:interval? "
                   "diff8_ceiling:count diff8_count:count "
                   "claim_sn_20_40_percent_at_8_bits:verdict"), "%",
        rule=_combined("diff8_verdicts"),
        rule_text="percentage difference in C_num (SN vs standard) at 8 bits, 95% interval "
                  "over seeds and test points, against [20, 40]",
        measured=lambda v: (
            f"SN − standard at p = 8: {span(v['diff8_percent'], '+.1f', 'not measured')}%"
            + _percent_interval(v["diff8_interval"])),
        value=lambda v: _percent_value(v["diff8_percent"], v["diff8_interval"]),
        reason=lambda v, verdict: (
            f"{v['diff8_ceiling']} of {v['diff8_count']} architectures sit at log₂ n there, "
            "where the sample, not the network, decides C_num."),
        chapter_verdict="claim_sn_20_40_percent_at_8_bits"),
    Claim(
        "7b", "The same 20–40% where the capacity curves still move (the book's extension)",
        _LR, "The 20–40% claim at 8 bits",
        _keys(_LR, "moving_verdicts:verdicts moving_percent:interval? "
                   "moving_interval:interval? claim_sn_20_40_percent_moving:verdict"), "%",
        rule=_combined("moving_verdicts"),
        rule_text="the same at the precisions where the curves move",
        measured=lambda v: (
            f"SN − standard: {span(v['moving_percent'], '+.0f', 'not measured')}%"
            + _percent_interval(v["moving_interval"])),
        value=lambda v: _percent_value(v["moving_percent"], v["moving_interval"]),
        reason=lambda v, verdict: "Holds needs the whole interval inside [20, 40]%.",
        chapter_verdict="claim_sn_20_40_percent_moving"),
    Claim(
        "8", "C_num bounds I(X; Z) with a gap below 2×", _MI, "The gap factor C_num / I",
        _keys(_MI, "gap_verdicts:verdicts fail_ratio:interval? fail_bits:interval? "
                   "fail_below:count forced_count:count forced_both_count:count "
                   "claim_gap_below_2_by_estimator:verdicts claim_gap_below_2:verdict"),
        "ratio",
        rule=_combined("gap_verdicts"),
        rule_text="",  # the reason says which I carries the verdict
        measured=lambda v: (
            f"C_num / H(Z_q) (Miller–Madow): {counts(v['gap_verdicts'], 'comparisons')}; ratio "
            f"{span(v['fail_ratio'], '.2f')} where it fails (p = {span(v['fail_bits'])})"),
        value=_gap_value,
        reason=_gap_reason,
        chapter_verdict="claim_gap_below_2", anchor="the-gap-factor-c-mathrm-num-i"),
    Claim(
        "9", "Estimating C_num takes about 30 s for n = 10,000 points in 128 dimensions", _GC,
        "Speed",
        _keys(_GC, "rep_dim:count grid_count:count cpu_count:count curve_n:count "
                   "curve_seconds:number curve_seconds_10k:number?"), "s",
        rule=_speed_rule, rule_text="", measured=_speed_measured, value=_speed_value,
        reason=_speed_reason),
    Claim(
        "10", "The experiments run in about 4 hours on a laptop", EXECUTION, "Run times",
        _keys(EXECUTION, "profile:record chapters:record training_stage:record? "
                         "machine:record?"), "min",
        rule=_budget_rule, rule_text="", measured=_budget_measured, value=_budget_value,
        reason=_budget_reason),
    Claim(
        "11", "Guideline 1: quantize to p bits only if p ≥ ½ log₂ κ", _LR,
        "The four design guidelines",
        _keys(_LR, "safe_holds:count safe_fails:count safe_models:count "
                   "guideline_verdicts:guidelines"), "models",
        rule=lambda v: guideline_verdict(v["safe_holds"], v["safe_fails"], v["safe_models"]),
        rule_text=_GUIDELINE_RULE_TEXT,
        measured=lambda v: (
            f"accuracy within five points at every swept p ≥ p* for {v['safe_holds']} of "
            f"{v['safe_models']} models"),
        value=lambda v: f"{v['safe_holds']} of {v['safe_models']} models",
        reason=_guideline_reason, kind="guideline", chapter_verdict="safe threshold"),
    Claim(
        "12", "Guideline 2: Lipschitz regularization lowers the safe threshold", _LR,
        "The four design guidelines",
        _keys(_LR, "lowered_pairs:count raised_count:count sn_pairs:count "
                   "guideline_verdicts:guidelines"), "architectures",
        rule=lambda v: guideline_verdict(v["lowered_pairs"], v["raised_count"], v["sn_pairs"]),
        rule_text=_GUIDELINE_RULE_TEXT,
        measured=lambda v: (
            f"SN lowered the observed collapse threshold for {v['lowered_pairs']} of "
            f"{v['sn_pairs']} architectures and raised it for {v['raised_count']}"),
        value=lambda v: (f"lowered {v['lowered_pairs']} of {v['sn_pairs']}, raised "
                         f"{v['raised_count']}"),
        reason=_guideline_reason, kind="guideline",
        chapter_verdict="Lipschitz regularization"),
    Claim(
        "13", "Guideline 3: reduce the dimension (PCA) before quantizing", _LR,
        "The four design guidelines",
        _keys(_LR, "pca_helps:count pca_hurts:count pca_neutral:count "
                   "guideline_verdicts:guidelines"), "comparisons",
        rule=lambda v: guideline_verdict(v["pca_helps"], v["pca_hurts"],
                                         v["pca_helps"] + v["pca_hurts"] + v["pca_neutral"]),
        rule_text=_GUIDELINE_RULE_TEXT,
        measured=lambda v: f"at a fixed bit budget, PCA first {_pca_votes(v)}",
        value=lambda v: (f"helps {v['pca_helps']}, hurts {v['pca_hurts']}, neither "
                         f"{v['pca_neutral']}"),
        reason=_guideline_reason, kind="guideline", chapter_verdict="PCA before quantizing"),
    Claim(
        "14", "Guideline 4: monitor C_num during training", _LR, "The four design guidelines",
        _keys(_LR, "monitor_rhos:numbers_or_nulls monitor_model:label "
                   "guideline_verdicts:guidelines"), "Spearman ρ",
        rule=_monitor_rule,
        rule_text=_GUIDELINE_RULE_TEXT + " (for: ρ ≥ 0.5; against: ρ ≤ 0)",
        measured=lambda v: (
            "rank correlation of C_num (p = 1) with test accuracy over the epochs: "
            f"{span_of(v['monitor_rhos'], '.2f', 'not computable')} ({v['monitor_model']}, "
            "with and without SN)"),
        value=lambda v: f"ρ = {span_of(v['monitor_rhos'], '.2f', 'not computable')}",
        reason=_guideline_reason, kind="guideline", chapter_verdict="monitor C_num"),
)


# --------------------------------------------------------------------------- findings


@dataclass(frozen=True)
class Finding:
    """A statement of what the book found that the proposal did not expect.

    Attributes
    ----------
    name : str
        Its short name (the glue name is ``found_<name>``).
    heading : str
        Its heading on the ledger's page.
    reads : tuple of Key
        The recorded results it reads, from one or more chapters.
    text : callable
        ``text(values) -> str``: the statement, filled with the values.
    """

    name: str
    heading: str
    reads: tuple
    text: Callable = field(repr=False)


def _collapse_text(v) -> str:
    values, models = v["collapse_bits"], v["collapse_models"]
    if not values:
        return (f"For none of the {models} networks of the suite does probe accuracy fall by "
                "more than five points within the swept precisions.")
    some = "the" if len(values) == models else f"{len(values)} of the"
    text = (f"Probe accuracy stays within five points of full precision down to "
            f"p = {span_text(values)} bits for {some} {models} networks of the suite")
    if v["collapse_at_coarsest"]:
        text += (f" ({v['collapse_at_coarsest']} of them already at the coarsest swept "
                 f"precision, p = {v['collapse_coarsest']:g}, so theirs is an upper limit)")
    if max(values) < PROPOSAL_SWEEP_START:
        return text + (f": every collapse lies below the proposal's sweep, which starts at "
                       f"p = {PROPOSAL_SWEEP_START}, so that sweep never sees one.")
    return text + f"; some collapse reaches the proposal's sweep (p ≥ {PROPOSAL_SWEEP_START})."


def _ceiling_text(v) -> str:
    saturated = v["saturated_bits"]
    if saturated:
        text = (f"C_num comes within {v['ceiling_margin']:g} bit of the sample ceiling log₂ n "
                f"(n ≥ {v['exp1_n']:,} test points per network) from p = "
                f"{span_text(saturated)} bits on, "
                f"for {len(saturated)} of {v['collapse_models']} networks. ")
    else:
        text = "No network's C_num reached the sample ceiling within the sweep. "
    return (text + _proposal_text(v) + f" In the MI comparison C_num sits at log₂ n in "
            f"{v['cnum_ceiling_count']} of {v['cnum_ceiling_total']} (network, precision) "
            "pairs.")


def _lipschitz_text(v) -> str:
    pairs = [(label, raw, book) for label, raw, book in zip(
        v["sn_architectures"], v["sn_raw_ratios"], v["sn_book_ratios"], strict=True)
        if raw > 0 and book > 0]
    if not pairs:
        return "No architecture was measured with and without spectral normalization."
    raw, book = [p[1] for p in pairs], [p[2] for p in pairs]
    # an architecture where the unit-cube scaling takes back more than half of the
    # reduction, on a log scale
    undone = [label for label, r, b in pairs if r < 1 and 1 - math.log(b) / math.log(r) > 0.5]
    # a ratio of lower bounds, not of the constants: it says nothing certain about L itself
    text = (f"The measured lower bound on the Lipschitz constant of a spectrally normalized "
            f"network is {span_text(raw, '.2g')} times the standard network's ({len(pairs)} "
            f"architectures; a ratio of lower bounds, which does not bound the ratio of the "
            f"constants), and in the unit-cube units every grid uses that ratio is "
            f"{span_text(book, '.2f')}. ")
    if undone:
        return text + (f"For {len(undone)} of the {len(pairs)} ({', '.join(undone)}), the "
                       "unit-cube normalization, which divides each representation by its own "
                       "range, takes back more than half of that reduction (on a log scale) "
                       "before any bit is spent.")
    return text + ("For none of them does the unit-cube normalization take back more than "
                   "half of the reduction on a log scale.")


def _curvature_text(v) -> str:
    return (f"Arcs of one curvature, κ = {v['arc_kappa']:g} (p* = {v['arc_pstar']:g} bits), "
            f"first take two codes anywhere from p = {span(v['arc_split_bits'])} bits, "
            "depending on their length alone: κ is not a quantity that can set a collapse "
            f"threshold. On the networks, {v['sensitivity_holds']} of {v['sensitivity_count']} "
            "ways to compute p* from κ (statistic, step, rule, directions) put it within ±2 "
            "bits of the collapse for every model.")


def _gap_text(v) -> str:
    if not v["fail_below"]:
        return (f"In none of the {v['gap_compared']} comparisons of the MI chapter does C_num "
                "lie clearly (with its whole interval) below the count-based H(Z_q).")
    return (f"C_num lies below H(Z_q) = I(X; Z_q), counted with Miller–Madow, with its whole "
            f"interval, in {v['fail_below']} of {v['gap_compared']} (network, precision) "
            f"comparisons, at p = {span(v['below_bits'])} bits (ratio "
            f"{span(v['below_ratio'], '.2f')}): a ball of radius 2^-p in many dimensions "
            "meets many grid cells, so the cover needs fewer balls than the grid has occupied "
            "cells, the reverse of the bound the proposal expects.")


def _formats_text(v) -> str:
    table = v["effective_bits_median"]
    worth = {name: bits for name, bits in zip(table["name"], table["recall_bits"], strict=True)}
    quoted = [f"{name} {worth[name]:.1f}" for name in ("fp8_e4m3", "int8", "mxfp4", "pq1")
              if name in worth and worth[name] is not None]
    beats, wasteful = v["beats_grid"], v["wasteful_formats"]
    return ("Measured by recall@10 against the float neighbours (median over the networks), "
            + (f"{join_words(beats)} {'keeps' if len(beats) == 1 else 'keep'} more than the "
               "book's uniform grid at the same stored "
               "bits per dimension" if beats else "no format or store quantizer keeps more than "
               "the book's uniform grid at the same stored bits per dimension")
            + "; " + (f"{join_words(wasteful)} {'keeps' if len(wasteful) == 1 else 'keep'} "
                      "less than half of the stored bits" if wasteful else
                      "none keeps less than half of its stored bits")
            + ". Effective uniform bits by recall: " + ", ".join(quoted) + ".")


FINDINGS: tuple[Finding, ...] = (
    Finding("collapse", "Where accuracy collapses",
            _keys(_PLB, "collapse_bits:numbers collapse_models:count "
                        "collapse_at_coarsest:count collapse_coarsest:number"),
            _collapse_text),
    Finding("ceiling", "Capacity and the sample size",
            _keys(_PLB, "saturated_bits:numbers collapse_models:count ceiling_margin:number "
                        "exp1_n:count proposal_bits:numbers proposal_gap_bits:number?")
            + _keys(_MI, "cnum_ceiling_count:count cnum_ceiling_total:count"),
            _ceiling_text),
    Finding("lipschitz", "Spectral normalization and the unit cube",
            _keys(_LR, "sn_architectures:labels sn_raw_ratios:numbers sn_book_ratios:numbers"),
            _lipschitz_text),
    Finding("curvature", "Curvature and thresholds",
            _keys(_CT, "arc_kappa:number arc_pstar:number arc_split_bits:interval "
                       "sensitivity_holds:count sensitivity_count:count"),
            _curvature_text),
    Finding("gap", "Capacity below information",
            _keys(_MI, "fail_below:count gap_compared:count below_bits:interval? "
                       "below_ratio:interval?"),
            _gap_text),
    Finding("formats", "Number formats against the grid",
            _keys(_NF, "effective_bits_median:table beats_grid:labels wasteful_formats:labels"),
            _formats_text),
)


# --------------------------------------------------------------------------- checks


def evaluate(claim: Claim, results: dict, execution: dict | None = None):
    """``(values, verdict)`` of a claim on these results.

    Raises
    ------
    Missing
        If a result it reads is absent or of another type.
    """
    values = read_values(claim.reads, results, execution)
    verdict = claim.rule(values)
    if verdict not in claim.verdicts:
        raise ValueError(f"claim {claim.number}'s rule gave {verdict!r}, not one of "
                         f"{claim.verdicts}.")
    return values, verdict


def recorded_verdict(claim: Claim, values: dict) -> str | None:
    """The verdict the testing chapter recorded itself, or ``None`` where it records none."""
    if claim.chapter_verdict is None:
        return None
    if claim.kind == "guideline":
        return values["guideline_verdicts"].get(claim.chapter_verdict)
    return values[claim.chapter_verdict]


def registry_problems(results: dict, execution: dict | None = None, *,
                      skip_absent: bool = False) -> list[str]:
    """Everything that keeps the registry from evaluating every claim and finding.

    With ``skip_absent``, results files (and an execution record) that the build did not
    write at all are passed over: a partial build reports only what its chapters lack.

    Returns
    -------
    list of str
        One line per result an entry reads that is absent or of the wrong type (all of them,
        not just the first), and per claim whose chapter recorded a verdict other than the
        one its rule computes; empty when every claim and finding is measured.
    """
    problems = []
    for entry in (*CLAIMS, *FINDINGS):
        label = f"claim {entry.number}" if isinstance(entry, Claim) else f"finding {entry.name}"
        for key in entry.reads:
            absent = execution is None if key.chapter == EXECUTION else key.chapter not in results
            if skip_absent and absent:
                continue
            try:
                read_values((key,), results, execution)
            except Missing as missing:
                problems.append(f"{label}: {missing.reason()}")
        readable = all((execution is not None) if key.chapter == EXECUTION
                       else key.chapter in results for key in entry.reads)
        if (isinstance(entry, Claim) and readable
                and not any(p.startswith(label + ":") for p in problems)):
            values, verdict = evaluate(entry, results, execution)
            own = recorded_verdict(entry, values)
            if entry.chapter_verdict is not None and own != verdict:
                problems.append(f"{label}: the chapter recorded {own!r} under "
                                f"{entry.chapter_verdict!r}, but its recorded values give "
                                f"{verdict!r}")
    return problems


def keys_read() -> dict:
    """``{chapter: sorted names}`` of every result the registry reads, per chapter."""
    keys: dict[str, set] = {}
    for entry in (*CLAIMS, *FINDINGS):
        for key in entry.reads:
            keys.setdefault(key.chapter, set()).add(key.name)
    return {chapter: sorted(names) for chapter, names in keys.items()}


__all__ = ["ABOUT_FACTOR", "CHAPTERS", "CLAIMS", "EXECUTION", "EXECUTION_FILE",
           "EXECUTION_PAGE", "FINDINGS", "GUIDELINE_RULES", "NORMAL_ACCURACY",
           "PROPOSAL_SWEEP_START", "TYPES", "Claim", "Finding", "Key", "Missing", "counts",
           "evaluate", "experiment_entries", "keys_read", "read_values", "recorded_verdict",
           "registry_problems", "span", "span_of", "type_ok"]
