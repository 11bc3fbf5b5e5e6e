"""Suites as TOML files: parsing, validation with the file and field named, seeds."""

import pytest
from doubles import ToyPlugin

import benchbase
from benchbase.execution.orchestrator import RunOptions, run_trials
from benchbase.plan.suites import (
    Overrides,
    SuiteError,
    find_suite,
    load_suite,
    parse_seeds,
    parse_suite,
    plan_suite,
)
from benchbase.plugins import PluginInfo, load_catalog
from benchbase.report import read_results
from benchbase.results.store import ResultStore

MINIMAL = """
seeds = 2
[[experiment]]
datasets = ["usps"]
algorithms = ["KELM", "DDAE"]
[experiment.params]
KELM = { dtype = "float64" }
[experiment.sweep]
DDAE = { keep_prob = [0.5, 0.9], mask = ["sample", "batch"] }
"""


@pytest.mark.parametrize(("text", "seeds"), [
    (3, (0, 1, 2)), ("3", (0, 1, 2)), ([4, 1, 7], (4, 1, 7)), ("0,3,7", (0, 3, 7)),
    ("10-12", (10, 11, 12)), (" 5 - 5 ", (5,)),
])
def test_seeds_are_a_count_a_list_or_a_range(text, seeds):
    assert parse_seeds(text) == seeds


@pytest.mark.parametrize(("text", "match"), [
    (0, "at least 1"), ("7-3", "empty"), ("a,b", "not a count"), ([1, 1], "repeats"),
    ([], "expected"), (True, "expected"), ([-1], "expected"),
])
def test_bad_seeds_are_refused(text, match):
    with pytest.raises(ValueError, match=match):
        parse_seeds(text, "--seeds")


def test_a_suite_parses_into_experiments_and_variants(tmp_path):
    path = tmp_path / "mine.toml"
    path.write_text(MINIMAL)
    suite = load_suite(path)
    assert suite.name == "mine" and suite.source == str(path)
    [experiment] = suite.experiments
    assert experiment.datasets == ("usps",) and experiment.protocol == "official"
    assert experiment.seeds == (0, 1)
    assert experiment.variants("KELM") == [{"dtype": "float64"}]
    assert experiment.variants("DDAE") == [
        {"keep_prob": 0.5, "mask": "sample"}, {"keep_prob": 0.5, "mask": "batch"},
        {"keep_prob": 0.9, "mask": "sample"}, {"keep_prob": 0.9, "mask": "batch"}]
    assert suite.algorithms() == {"KELM", "DDAE"}


@pytest.mark.parametrize(("text", "match"), [
    ("seeds = 2\n[[experiment]]\nalgoritms = ['KELM']",
     r"experiment\[1\]: unknown field\(s\) algoritms"),
    ("sedes = 2\n[[experiment]]", r"unknown field\(s\) sedes"),
    ("seeds = 2", r"no \[\[experiment\]\] table"),
    ("[[experiment]]\ndatasets = ['usps']", r"experiment\[1\]: no seeds"),
    ("seeds = 2\n[[experiment]]\ndatasets = 'usps'",
     r"experiment\[1\]\.datasets: expected a non-empty list"),
    ("seeds = 2\ntimeout = -5\n[[experiment]]", "timeout must be a positive number"),
    ("seeds = 2\n[[experiment]]\nalgorithms = ['A']\n[experiment.params]\nB = {x = 1}",
     r"experiment\[1\]\.params: names B, not among"),
    ("seeds = 2\n[[experiment]]\nalgorithms = ['A']\n[experiment.sweep]\nA = {x = 1}",
     r"experiment\[1\]\.sweep\.A\.x: expected a non-empty list"),
    ("seeds = 2\n[[experiment]]\nalgorithms = ['A']\n[experiment.params]\nA = {x = 1}\n"
     "[experiment.sweep]\nA = {x = [1, 2]}", "both fixed"),
    ("seeds = [[experiment]]", "not valid TOML"),
    ("seeds = 2\nfocus = 'ELM'\n[[experiment]]\nalgorithms = ['KELM']",
     r"focus 'ELM' is not one of the suite's algorithms \(KELM\)"),
    ("seeds = 2\nfocus = 3\n[[experiment]]", "focus must be an algorithm's name"),
    ("seeds = 2\nrope = -0.1\n[[experiment]]", r"rope must be accuracy points in \[0, 100\)"),
    ("seeds = 2\nrope = true\n[[experiment]]", "rope must be accuracy points"),
])
def test_mistakes_name_the_file_and_the_field(text, match):
    with pytest.raises(SuiteError, match=match) as error:
        parse_suite(text, "/somewhere/mine.toml")
    assert str(error.value).startswith("/somewhere/mine.toml") or "mine.toml" in str(error.value)


def test_suites_are_found_by_name_case_insensitively_or_by_path(tmp_path):
    path = tmp_path / "mine.toml"
    path.write_text(MINIMAL)
    (tmp_path / "paper.toml").write_text(MINIMAL)
    registered = {"paper": tmp_path / "paper.toml"}
    assert find_suite("Paper", registered).name == "paper"
    assert find_suite(str(path), registered).name == "mine"
    with pytest.raises(SuiteError, match=r"unknown suite 'papers' .did you mean .*; "
                                         "known: paper"):
        find_suite("papers", registered)
    with pytest.raises(SuiteError, match="cannot read the suite"):
        find_suite(str(tmp_path / "missing.toml"), registered)


# --- a plugin's suite, planned and run --------------------------------------------

SPY_SUITE = """
description = "the spy, swept"
seeds = [0, 1]
[[experiment]]
datasets = ["toy"]
algorithms = ["Spy"]
[experiment.sweep]
Spy = { good = [true, false] }
"""


def test_benchbase_register_suites_runs_a_plugins_suite(tmp_path):
    (tmp_path / "spy.toml").write_text(SPY_SUITE)

    class SuitePlugin(ToyPlugin):
        @benchbase.hookimpl
        def benchbase_register_suites(self):
            return [benchbase.SuiteSpec("spy-sweep", tmp_path / "spy.toml")]

    catalog = load_catalog(extra=[(PluginInfo("toy", "tests", "toy-dist", "0.1"),
                                   SuitePlugin())])
    suite = catalog.suite("SPY-sweep")
    trials = plan_suite(suite, available=["Spy"], embedded=[])
    assert [(t.seed, t.fixed_params, t.variant) for t in trials] == [
        (0, {"good": True}, "good=True"), (0, {"good": False}, "good=False"),
        (1, {"good": True}, "good=True"), (1, {"good": False}, "good=False")]
    rows = run_trials(catalog, trials, ResultStore(tmp_path / "out"),
                      RunOptions(executor="inline"))
    assert [row["variant"] for row in rows] == ["good=True", "good=False"] * 2
    named = read_results([tmp_path / "out"])
    assert sorted(set(named["algorithm"])) == ["Spy[good=False]", "Spy[good=True]"]
    accuracy = named.groupby("algorithm")["test_accuracy"].mean()
    assert accuracy["Spy[good=True]"] == 1.0 and accuracy["Spy[good=False]"] == 0.25


def test_overrides_replace_the_suites_values(tmp_path):
    suite = parse_suite(SPY_SUITE, "spy.toml")
    trials = plan_suite(suite, ["Spy"], [], Overrides(
        datasets=("other",), protocol="subset:10/5", seeds=(7,),
        params={"Spy": {"good": True}}))
    # Both variants fix good=True now: the same trial, planned once.
    assert [(t.dataset, str(t.protocol), t.seed, t.fixed_params) for t in trials] == [
        ("other", "subset:10/5", 7, {"good": True})]
    with pytest.raises(SuiteError, match="--protocol: unknown protocol 'odd'"):
        plan_suite(suite, ["Spy"], [], Overrides(protocol="odd"))


def test_a_suite_without_algorithms_runs_every_available_one_on_embedded_data():
    suite = parse_suite("seeds = 1\n[[experiment]]", "quick.toml")
    trials = plan_suite(suite, ["A", "B"], ["digits"])
    assert [(t.algorithm, t.dataset, t.seed) for t in trials] == [
        ("A", "digits", 0), ("B", "digits", 0)]


def test_the_shipped_ddae_ablation_suite_sweeps_keep_prob_and_mask_on_the_paper_protocol():
    suite = load_catalog().suite("ddae-ablation")
    trials = plan_suite(suite, ["DDAE"], [])
    swept = {(t.fixed_params["keep_prob"], t.fixed_params["mask"]) for t in trials}
    assert swept == {(p, m) for p in (0.25, 0.5, 0.75, 0.9) for m in ("sample", "batch")}
    assert len(trials) == len(swept) * 5  # every variant on the same five seeds
    assert {(t.algorithm, t.dataset, str(t.protocol)) for t in trials} == {
        ("DDAE", "mnist", "paper")}
    assert {t.seed for t in trials} == set(range(5))


def test_a_suite_names_its_reports_focus_and_rope_and_a_run_records_them(tmp_path):
    text = "focus = 'spy'\nrope = 0.5\n" + SPY_SUITE
    suite = parse_suite(text, "spy.toml")
    assert (suite.focus, suite.rope) == ("Spy", 0.5)  # the suite's own spelling
    assert suite.report_settings() == {"name": "spy", "focus": "Spy", "rope": 0.5}
    catalog = load_catalog(extra=[(PluginInfo("toy", "tests", "toy-dist", "0.1"),
                                   ToyPlugin())])
    trials = plan_suite(suite, available=["Spy"], embedded=[])[:1]
    store = ResultStore(tmp_path / "out")
    run_trials(catalog, trials, store,
               RunOptions(executor="inline", suite=suite.report_settings()))
    [run] = store.runs()
    assert run["suite"] == {"name": "spy", "focus": "Spy", "rope": 0.5}
