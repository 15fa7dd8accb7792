"""The chart palette stays distinguishable under colour-vision deficiencies, and the colour
science that says so is right on published values."""

from __future__ import annotations

import pytest

from restore import palette
from restore.domain import STATE_IDS

# CIEDE2000 between the closest two state colours, under normal vision and simulated
# protanopia, deuteranopia and tritanopia. About 2 is just noticeable and above about 10
# two patches read as different colours at a glance; the palette achieves about 19.1 in
# each vision, so 18 leaves a little room for a retouch but none for a lookalike pair.
# Colour is never the only cue: every grid cell also carries its state's symbol.
MIN_STATE_DELTA_E = 18
# Per-system lines on the burn-up, with the grey and green reference lines beside them:
# the palette achieves about 15.4 (the grey and green pair under deuteranopia).
MIN_SERIES_DELTA_E = 15
ALL_VISIONS = ("normal", "protanopia", "deuteranopia", "tritanopia")


def _srgb(linear: float) -> int:
    """Independent sRGB encoding of a linear value, to an 8-bit level."""
    linear = min(max(linear, 0.0), 1.0)
    v = 12.92 * linear if linear <= 0.0031308 else 1.055 * linear ** (1 / 2.4) - 0.055
    return round(v * 255)


def _hex(*levels: int) -> str:
    return "#" + "".join(f"{v:02X}" for v in levels)


# --- the simulation -------------------------------------------------------------------


@pytest.mark.parametrize("vision", ALL_VISIONS)
@pytest.mark.parametrize("grey", ["#FFFFFF", "#000000", "#808080", "#D4D4D4"])
def test_neutral_colours_look_the_same_in_every_vision(vision, grey):
    assert palette.simulate(grey, vision) == grey  # each matrix row sums to 1


def test_pure_red_under_protanopia_is_the_matrix_first_column():
    # Machado et al. 2009, protanopia at severity 1.0: red -> (0.152286, 0.114503, -0.003882)
    assert palette.simulate("#FF0000", "protanopia") == _hex(_srgb(0.152286), _srgb(0.114503), 0)
    assert palette.simulate("#FF0000", "protanopia") == "#6D5F00"


def test_pure_green_under_deuteranopia_is_the_matrix_second_column():
    assert palette.simulate("#00FF00", "deuteranopia") == _hex(
        _srgb(0.860646), _srgb(0.672501), _srgb(0.042940)
    )


def test_blue_and_yellow_survive_protanopia_and_deuteranopia_but_not_tritanopia():
    for vision in ("protanopia", "deuteranopia"):
        assert palette.distance("#0000FF", "#FFFF00", vision) > 50
    assert palette.distance("#FF0000", "#00FF00", "deuteranopia") < palette.distance(
        "#FF0000", "#00FF00", "normal"
    )


# --- CIELAB and CIEDE2000 ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("colour", "lab"),
    [
        ("#FFFFFF", (100.0, 0.0, 0.0)),
        ("#000000", (0.0, 0.0, 0.0)),
        ("#FF0000", (53.2408, 80.0925, 67.2032)),  # sRGB red, D65
        ("#0000FF", (32.2970, 79.1875, -107.8602)),
    ],
)
def test_cielab_of_known_colours(colour, lab):
    assert palette.to_lab(colour) == pytest.approx(lab, abs=0.01)


# Sharma, Wu & Dalal (2005), test data for CIEDE2000: pairs 1, 2, 7, 13, 15, 17, 19, 25, 34.
# Pairs 13 and 15 sit on either side of the hue-mean wrap-around that implementations get wrong.
SHARMA = [
    ((50.0, 2.6772, -79.7751), (50.0, 0.0, -82.7485), 2.0425),
    ((50.0, 3.1571, -77.2803), (50.0, 0.0, -82.7485), 2.8615),
    ((50.0, 0.0, 0.0), (50.0, -1.0, 2.0), 2.3669),
    ((50.0, 2.49, -0.001), (50.0, -2.49, 0.0009), 7.1792),
    ((50.0, 2.49, -0.001), (50.0, -2.49, 0.0011), 7.2195),
    ((50.0, 2.5, 0.0), (73.0, 25.0, -18.0), 27.1492),
    ((50.0, 2.5, 0.0), (50.0, 3.1736, 0.5854), 1.0),
    ((60.2574, -34.0099, 36.2677), (60.4626, -34.1751, 39.4387), 1.2644),
    ((2.0776, 0.0795, -1.135), (0.9033, -0.0636, -0.5514), 0.9082),
]


@pytest.mark.parametrize(("lab1", "lab2", "expected"), SHARMA)
def test_ciede2000_matches_the_published_test_data(lab1, lab2, expected):
    assert palette.delta_e(lab1, lab2) == pytest.approx(expected, abs=1e-4)
    assert palette.delta_e(lab2, lab1) == pytest.approx(expected, abs=1e-4)


# --- the palette ----------------------------------------------------------------------


def test_every_state_and_no_report_has_a_colour_and_a_distinct_symbol():
    assert set(palette.STATE_COLOURS) == set(palette.STATE_SYMBOLS) == {*STATE_IDS, None}
    assert len(set(palette.STATE_SYMBOLS.values())) == len(palette.STATE_SYMBOLS)
    assert len(set(palette.STATE_COLOURS.values())) == len(palette.STATE_COLOURS)


@pytest.mark.parametrize("vision", ALL_VISIONS)
def test_state_colours_stay_apart_in_every_vision(vision):
    assert palette.min_distance(palette.STATE_COLOURS.values(), vision) >= MIN_STATE_DELTA_E


@pytest.mark.parametrize("vision", ALL_VISIONS)
def test_band_colours_stay_apart_in_every_vision(vision):
    assert palette.min_distance(palette.BAND_COLOURS.values(), vision) >= MIN_STATE_DELTA_E


@pytest.mark.parametrize("vision", ALL_VISIONS)
def test_series_lines_stay_apart_from_each_other_and_the_reference_lines(vision):
    colours = [*palette.SERIES_COLOURS, palette.MUTED, palette.STATE_COLOURS["restored"]]
    assert palette.min_distance(colours, vision) >= MIN_SERIES_DELTA_E


def test_min_distances_reports_each_vision():
    got = palette.min_distances(palette.STATE_COLOURS)
    assert set(got) == set(ALL_VISIONS)
    assert got["deuteranopia"] == palette.min_distance(
        palette.STATE_COLOURS.values(), "deuteranopia"
    )
    # The check has teeth: the old Okabe-Ito grid had two near-twins under deuteranopia.
    old = ["#0072B2", "#D55E00", "#CC79A7", "#E69F00", "#F0E442", "#56B4E9", "#009E73"]
    assert palette.min_distances([*old, "#8FD1B8", "#D9D9D9"])["deuteranopia"] < 10


@pytest.mark.parametrize("state", [*STATE_IDS, None])
def test_symbol_text_reads_on_every_state_colour(state):
    colour = palette.STATE_COLOURS[state]
    assert palette.contrast(palette.text_on(colour), colour) >= 4.5  # WCAG AA


def test_contrast_of_black_on_white_is_21():
    assert palette.contrast("#000000", "#FFFFFF") == pytest.approx(21)
    assert palette.contrast("#777777", "#777777") == pytest.approx(1)
