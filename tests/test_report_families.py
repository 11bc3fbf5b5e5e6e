"""The report's family view: each family's best member, chosen on validation,
and the paired tests between the families' best."""

from __future__ import annotations

import numpy as np
import pytest
from report_builders import ALGORITHMS, arrays, row

from benchbase.report import families
from benchbase.report.build import build_report
from benchbase.report.reading import ArtifactLoader, read_results
from benchbase.results.store import ResultStore


def _folder(folder, validation, seeds=5, names=tuple(ALGORITHMS)):
    """Every algorithm × seed with artifacts; ``validation`` gives each
    algorithm's validation accuracy (what chooses a family's best)."""
    store = ResultStore(folder)
    for algorithm in names:
        for seed in range(seeds):
            found = arrays(algorithm, seed)
            accuracy = float(np.mean(found["y_pred"] == found["y_test"]))
            store.append(row(algorithm, seed, test_accuracy=accuracy,
                             val_accuracy=validation[algorithm]), found)
    return read_results([folder])


def test_the_best_member_is_chosen_on_validation_not_on_test(tmp_path):
    # Fair (80 % on test) beats Good (95 %) on validation: Fair leads fam-x.
    results = _folder(tmp_path, {"Good": 0.90, "Fair": 0.97, "Weak": 0.80})
    leaders = families.family_leaders(results)
    assert dict(zip(leaders["family"], leaders["algorithm"], strict=True)) == {
        "fam-x": "Fair", "fam-y": "Weak"}


def test_a_clear_gap_is_one_sentence_naming_the_family_ahead(tmp_path):
    results = _folder(tmp_path, {"Good": 0.97, "Fair": 0.90, "Weak": 0.80})
    blocks = families.section(results, ArtifactLoader(), "toy (official)")
    assert blocks[0].text.startswith(
        "On toy (official), the fam-x (Good) family is ahead of the fam-y (Weak) family, "
        "by every test that could be made")
    table = blocks[1].frame
    assert list(table["best on validation"]) == ["Good", "Weak"]
    assert table.iloc[1, -1].endswith("(ahead)")


def test_with_one_seed_in_common_the_verdict_speaks_of_these_models(tmp_path):
    results = _folder(tmp_path, {"Good": 0.97, "Fair": 0.90, "Weak": 0.80}, seeds=1)
    text = families.section(results, ArtifactLoader(), "toy (official)")[0].text
    assert text.startswith("On toy (official), the fam-x (Good) family is ahead")
    assert text.endswith("with one seed in common, only the per-example test, so these "
                         "Good models beat these models on these test images; not "
                         "established for the algorithms.")


def test_without_a_decided_difference_neither_family_is_ahead(tmp_path):
    # Two seeds: the t-test cannot decide; so nothing is ahead by every test.
    results = _folder(tmp_path, {"Good": 0.97, "Fair": 0.90, "Weak": 0.80}, seeds=2,
                      names=("Good", "Fair"))
    results.loc[results["algorithm"] == "Fair", "family"] = "fam-z"
    text = families.section(results, ArtifactLoader(), "toy (official)")[0].text
    assert text.startswith("On toy (official), neither family is shown ahead: the fam-x "
                           "(Good) family has the highest mean")


def test_one_family_has_no_family_view(tmp_path):
    results = _folder(tmp_path, {"Good": 0.97, "Fair": 0.90, "Weak": 0.8},
                      names=("Good", "Fair"))
    assert families.section(results, ArtifactLoader(), "toy") == []


@pytest.mark.parametrize("fmt", ["md"])
def test_the_report_shows_the_family_view(tmp_path, fmt):
    results = _folder(tmp_path / "results", {"Good": 0.97, "Fair": 0.90, "Weak": 0.80})
    build_report(results, tmp_path / "report", formats=[fmt])
    text = (tmp_path / "report" / "report.md").read_text()
    assert "### Families" in text
    assert "the fam-x (Good) family is ahead of the fam-y (Weak) family" in text


def test_with_one_seed_a_pair_decided_by_mcnemar_speaks_of_these_models(tmp_path):
    # The pair's sentence and the summary's reading, not only the family view.
    from benchbase.report import answer, pairs

    results = _folder(tmp_path, {"Good": 0.97, "Fair": 0.90, "Weak": 0.80}, seeds=1)
    comparison = pairs.compare_block(results, ["Good", "Weak"], ArtifactLoader())
    [pair] = comparison.pairs
    assert pair.decided
    assert pairs.sentence(pair).endswith(
        "these Good models beat these Weak models on these test examples; with one "
        "seed that says nothing about the algorithms' training randomness.")
    assert "Good is ahead" not in pairs.sentence(pair)
    assert answer.Oriented("Weak", "Good", pair).reading() == "behind (these models, one seed)"
    assert answer.Oriented("Good", "Weak", pair).reading() == "ahead (these models, one seed)"
