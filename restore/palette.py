"""Chart colours, and the colour science that checks them. Pure Python, no plotting.

Every state has a colour and a symbol, so colour is never the only cue; the colours are
chosen to stay apart under the common colour-vision deficiencies, and `min_distances`
measures that so a test can hold the palette to it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from itertools import combinations, pairwise
from math import atan2, cos, degrees, exp, hypot, radians, sin, sqrt

# Keyed by state id; None is a system with no report yet. Found by a search that kept each
# state's familiar hue (red outage, amber/yellow/sky recovering, blue/green in service) and
# spread lightness from dark plum to pale yellow, since lightness survives every deficiency;
# the closest pair stays about 19 CIEDE2000 apart under normal vision and all three
# simulated dichromacies (see tests/test_palette.py).
STATE_COLOURS: dict[str | None, str] = {
    "operational": "#0239B9",
    "outage": "#BB0018",
    "contained": "#4E1C43",
    "investigating": "#CC841A",
    "rebuilding": "#FCDF36",
    "verifying": "#3BABE1",
    "restored": "#148061",
    "degraded": "#C1F0C0",
    None: "#A5A6A5",
}
# Shown on each grid cell and in the legend, so that a state never depends on colour alone.
STATE_SYMBOLS: dict[str | None, str] = {
    "operational": "O",
    "outage": "X",
    "contained": "C",
    "investigating": "I",
    "rebuilding": "R",
    "verifying": "V",
    "restored": "✓",
    "degraded": "D",
    None: "?",
}
# Keyed by band name (restore.domain.Band values), each its band's most typical state colour.
BAND_COLOURS: dict[str, str] = {
    "out of service": STATE_COLOURS["outage"],
    "recovering": STATE_COLOURS["investigating"],
    "in service": STATE_COLOURS["restored"],
}
# Lines for the per-system series (burn-up): apart from each other and from the MUTED and
# "restored" reference lines drawn beside them, under every simulated vision.
SERIES_COLOURS: tuple[str, ...] = ("#2A68FC", "#CB71A2", "#B2AC2B", "#682B90", "#C20835")
INK = "#1F2933"  # body text: about 14:1 on white
MUTED = "#52606D"  # secondary text and reference lines: about 6.5:1 on white
GRID = "#E4E7EB"
# The region x system heat map's scale: share in service (0..1) -> colour. Lightness rises
# steadily from a dark plum (nothing in service) through the outage red and the recovering
# amber and yellow to a pale green (all in service), under every simulated vision, so the
# worst cells are the darkest whatever the reader's colour vision; the number in each cell
# says the rest (see tests/test_scale.py).
SHARE_SCALE: tuple[tuple[float, str], ...] = (
    (0.0, "#41102F"),  # darker than "contained", so that protanopes see a rise to red too
    (0.25, STATE_COLOURS["outage"]),
    (0.5, STATE_COLOURS["investigating"]),
    (0.75, "#E8B730"),
    (0.9, STATE_COLOURS["rebuilding"]),
    (1.0, "#E6F4E1"),
)

# Machado, Oliveira & Fernandes (2009), "A Physiologically-based Model for Simulation of
# Color Vision Deficiency", IEEE TVCG 15(6):1291-1298, table of matrices at severity 1.0
# (https://www.inf.ufrgs.br/~oliveira/pubs_files/CVD_Simulation/CVD_Simulation.html).
# They act on linear (not gamma-encoded) sRGB.
CVD_MATRICES: dict[str, tuple[tuple[float, float, float], ...]] = {
    "protanopia": (
        (0.152286, 1.052583, -0.204868),
        (0.114503, 0.786281, 0.099216),
        (-0.003882, -0.048116, 1.051998),
    ),
    "deuteranopia": (
        (0.367322, 0.860646, -0.227968),
        (0.280085, 0.672501, 0.047413),
        (-0.011820, 0.042940, 0.968881),
    ),
    "tritanopia": (
        (1.255528, -0.076749, -0.178779),
        (-0.078411, 0.930809, 0.147602),
        (0.004733, 0.691367, 0.303900),
    ),
}
VISIONS: tuple[str, ...] = ("normal", *CVD_MATRICES)

RGB = tuple[float, float, float]  # sRGB components in 0..1
LAB = tuple[float, float, float]


def hex_to_rgb(colour: str) -> RGB:
    """'#RRGGBB' -> sRGB in 0..1."""
    h = colour.lstrip("#")
    if len(h) != 6:
        raise ValueError(f"not a #RRGGBB colour: {colour!r}")
    return tuple(int(h[i : i + 2], 16) / 255 for i in (0, 2, 4))  # type: ignore[return-value]


def rgb_to_hex(rgb: RGB) -> str:
    return "#" + "".join(f"{round(min(max(c, 0.0), 1.0) * 255):02X}" for c in rgb)


def _to_linear(c: float) -> float:
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


def _to_gamma(c: float) -> float:
    c = min(max(c, 0.0), 1.0)
    return 12.92 * c if c <= 0.0031308 else 1.055 * c ** (1 / 2.4) - 0.055


def simulate(colour: str, vision: str) -> str:
    """The colour as seen with `vision` ("normal" or a key of CVD_MATRICES), as '#RRGGBB'."""
    if vision == "normal":
        return rgb_to_hex(hex_to_rgb(colour))
    m = CVD_MATRICES[vision]
    lin = [_to_linear(c) for c in hex_to_rgb(colour)]
    out = tuple(_to_gamma(sum(m[i][j] * lin[j] for j in range(3))) for i in range(3))
    return rgb_to_hex(out)  # type: ignore[arg-type]


def luminance(colour: str) -> float:
    """WCAG relative luminance (0 black .. 1 white)."""
    r, g, b = (_to_linear(c) for c in hex_to_rgb(colour))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str) -> float:
    """WCAG contrast ratio between two colours (1 .. 21)."""
    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def text_on(background: str, dark: str = INK) -> str:
    """`dark` (INK) or white, whichever reads better on `background`."""
    return dark if contrast(dark, background) >= contrast("#FFFFFF", background) else "#FFFFFF"


def share_colour(share: float) -> str:
    """SHARE_SCALE's colour for a share in service (0..1; clamped), interpolated in sRGB as
    plotly interpolates a colorscale."""
    share = min(max(float(share), 0.0), 1.0)
    for (a, ca), (b, cb) in pairwise(SHARE_SCALE):
        if share <= b:
            t = (share - a) / (b - a)
            lo, hi = hex_to_rgb(ca), hex_to_rgb(cb)
            return rgb_to_hex(tuple(x + t * (y - x) for x, y in zip(lo, hi, strict=True)))
    return rgb_to_hex(hex_to_rgb(SHARE_SCALE[-1][1]))


def share_text(share: float) -> str:
    """Black or white for text on share_colour(share): black, not INK, because only pure
    black keeps 4.5:1 on the mid-tones, where neither INK nor white does."""
    return text_on(share_colour(share), dark="#000000")


def to_lab(colour: str) -> LAB:
    """sRGB '#RRGGBB' -> CIELAB (D65 white, 2° observer)."""
    r, g, b = (_to_linear(c) for c in hex_to_rgb(colour))
    x = (0.4124564 * r + 0.3575761 * g + 0.1804375 * b) / 0.95047
    y = 0.2126729 * r + 0.7151522 * g + 0.0721750 * b
    z = (0.0193339 * r + 0.1191920 * g + 0.9503041 * b) / 1.08883

    def f(t: float) -> float:
        return t ** (1 / 3) if t > (6 / 29) ** 3 else t / (3 * (6 / 29) ** 2) + 4 / 29

    fx, fy, fz = f(x), f(y), f(z)
    return 116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz)


def _hue(b: float, a: float) -> float:
    return degrees(atan2(b, a)) % 360 if a or b else 0.0


def _mean_hue(h1: float, h2: float, chroma_product: float) -> float:
    if chroma_product == 0:
        return h1 + h2
    if abs(h1 - h2) <= 180:
        return (h1 + h2) / 2
    return (h1 + h2 + 360) / 2 if h1 + h2 < 360 else (h1 + h2 - 360) / 2


def delta_e(lab1: LAB, lab2: LAB) -> float:
    """CIEDE2000 colour difference, after Sharma, Wu & Dalal (2005), "The CIEDE2000
    color-difference formula", Color Res. Appl. 30(1). About 2 is just noticeable; above
    about 10, two patches read as different colours at a glance."""
    (l1, a1, b1), (l2, a2, b2) = lab1, lab2
    c_bar = (hypot(a1, b1) + hypot(a2, b2)) / 2
    g = 0.5 * (1 - sqrt(c_bar**7 / (c_bar**7 + 25**7)))
    a1p, a2p = (1 + g) * a1, (1 + g) * a2
    c1p, c2p = hypot(a1p, b1), hypot(a2p, b2)
    h1p, h2p = _hue(b1, a1p), _hue(b2, a2p)
    dh = 0.0 if c1p * c2p == 0 else h2p - h1p
    dh = dh - 360 if dh > 180 else dh + 360 if dh < -180 else dh
    dhp = 2 * sqrt(c1p * c2p) * sin(radians(dh / 2))
    lbp, cbp, hbp = (l1 + l2) / 2, (c1p + c2p) / 2, _mean_hue(h1p, h2p, c1p * c2p)
    t = (
        1
        - 0.17 * cos(radians(hbp - 30))
        + 0.24 * cos(radians(2 * hbp))
        + 0.32 * cos(radians(3 * hbp + 6))
        - 0.20 * cos(radians(4 * hbp - 63))
    )
    dl = (l2 - l1) / (1 + 0.015 * (lbp - 50) ** 2 / sqrt(20 + (lbp - 50) ** 2))
    dc = (c2p - c1p) / (1 + 0.045 * cbp)
    dhp /= 1 + 0.015 * cbp * t
    rt = -2 * sqrt(cbp**7 / (cbp**7 + 25**7)) * sin(radians(60 * exp(-(((hbp - 275) / 25) ** 2))))
    return sqrt(dl**2 + dc**2 + dhp**2 + rt * dc * dhp)


def distance(a: str, b: str, vision: str = "normal") -> float:
    """CIEDE2000 between two colours as seen with `vision`."""
    return delta_e(to_lab(simulate(a, vision)), to_lab(simulate(b, vision)))


def min_distance(colours: Iterable[str], vision: str = "normal") -> float:
    """The smallest CIEDE2000 between any two of `colours` as seen with `vision`."""
    labs = [to_lab(simulate(c, vision)) for c in colours]
    return min(delta_e(x, y) for x, y in combinations(labs, 2))


def min_distances(palette: Mapping | Iterable[str]) -> dict[str, float]:
    """Per vision ("normal", "protanopia", "deuteranopia", "tritanopia"): the closest pair's
    CIEDE2000. A mapping's values are the colours."""
    colours = list(palette.values()) if isinstance(palette, Mapping) else list(palette)
    return {v: min_distance(colours, v) for v in VISIONS}
