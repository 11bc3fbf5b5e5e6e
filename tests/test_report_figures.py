"""Figures that cannot collide: every figure's texts are checked against each
other, the legends and the canvas when it is rendered (``svg_text``), and a
collision is a ``FigureLayoutWarning``, an error in these tests."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from benchbase.report.figures import (
    VALIDATION_SPAN,
    FigureLayoutWarning,
    difference_matrix_figure,
    figure_style,
    fitted_title,
    layout_problems,
    new_figure,
    per_class_figure,
    svg_text,
    sweep_figure,
    validation_map_figure,
)


def _figure():
    with figure_style():
        figure, axes = new_figure(3.0, 2.0)
    return figure, axes[0, 0]


def test_overlapping_texts_and_text_off_the_canvas_are_found():
    figure, ax = _figure()
    ax.text(0.5, 0.5, "first label", transform=ax.transAxes)
    ax.text(0.52, 0.5, "second label", transform=ax.transAxes)
    ax.text(1.3, 0.5, "outside", transform=ax.transAxes)
    problems = layout_problems(figure)
    assert "'first label' and 'second label' overlap" in problems
    assert "'outside' is cut off by the figure's edge" in problems
    with pytest.warns(FigureLayoutWarning, match="first label"):
        svg_text(figure)


def test_a_title_running_into_a_legend_is_found_and_fitted_title_wraps_it():
    figure, ax = _figure()
    ax.plot([0, 1], [0, 1], label="each seed")
    figure.legend(loc="outside right upper", frameon=False)
    title = "DDAE[keep_prob=0.75, mask=sample], mnist (paper)"
    ax.set_title(title)
    assert layout_problems(figure)  # too long for the axes: it hits the legend or the edge
    fitted_title(ax, title)
    assert "\n" in ax.get_title() and layout_problems(figure) == []


def test_a_clean_figure_renders_without_a_warning():
    figure, ax = _figure()
    ax.plot([0, 1], [0, 1])
    ax.set(title="fine", xlabel="x", ylabel="y")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert svg_text(figure).startswith("<?xml")


def test_long_column_labels_of_a_difference_matrix_stand_upright():
    order = [f"DDAE[keep_prob={p}, mask={m}]" for p in (0.25, 0.5, 0.75, 0.9)
             for m in ("sample", "batch")]
    values = pd.DataFrame(np.zeros((8, 8)), index=order, columns=order)
    figure = difference_matrix_figure(order, values, values.astype(str))
    assert {label.get_rotation() for label in figure.axes[0].get_xticklabels()} == {90.0}
    assert layout_problems(figure) == []
    short = ["A", "B"]
    values = pd.DataFrame(np.zeros((2, 2)), index=short, columns=short)
    figure = difference_matrix_figure(short, values, values.astype(str))
    assert {label.get_rotation() for label in figure.axes[0].get_xticklabels()} == {0.0}


def test_a_two_row_per_class_figure_keeps_its_colour_bar_label_whole():
    accuracy = pd.DataFrame(np.linspace(90, 99, 20).reshape(2, 10), index=["A", "B"])
    assert layout_problems(per_class_figure(accuracy)) == []


def test_validation_scores_one_image_apart_do_not_look_like_a_cliff():
    scores = pd.DataFrame({"seed": [0, 0, 1, 1], "C": ["1", "10"] * 2,
                           "score": [97.00, 97.01, 97.00, 97.01]})
    chosen = pd.DataFrame({"seed": [0, 1], "C": ["10", "10"]})
    figure = validation_map_figure(scores, chosen, ["C"], "AE, mnist (official)")
    low, high = figure.axes[0].get_ylim()
    assert high - low >= VALIDATION_SPAN
    grid = pd.DataFrame({"seed": [0] * 4, "C": ["1", "1", "10", "10"],
                         "w": ["a", "b"] * 2, "score": [97.0, 97.2, 97.1, 97.2]})
    figure = validation_map_figure(grid, grid.iloc[[3]], ["C", "w"], "heatmap")
    image = figure.axes[0].collections[0]
    assert image.norm.vmax - image.norm.vmin >= VALIDATION_SPAN


def test_a_swept_algorithm_gets_its_interaction_plot():
    rows = pd.DataFrame([
        {"algorithm": f"DDAE[keep_prob={p}, mask={m}]", "variant": f"keep_prob={p}, mask={m}",
         "seed": seed, "test_accuracy": 0.95 + 0.01 * p + 0.001 * seed,
         "fit_seconds": 10.0 if m == "batch" else 30.0}
        for p in (0.5, 0.9) for m in ("sample", "batch") for seed in range(3)])
    figure = sweep_figure(rows, "DDAE")
    accuracy, fit = figure.axes
    assert [label.get_text() for label in accuracy.get_xticklabels()] == ["0.5", "0.9"]
    assert accuracy.get_xlabel() == "keep_prob" and fit.get_ylabel() == "fit seconds (mean)"
    assert sorted(text.get_text() for text in figure.legends[0].get_texts()) == [
        "mask=batch", "mask=sample"]
    assert layout_problems(figure) == []
