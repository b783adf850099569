"""How many SMS segments a text is sent and billed as, counted the way Twilio counts.

A text goes as GSM-7 when every character is in the GSM 03.38 basic set or its extension table
(the extension characters ^ { } \\ [ ~ ] | € and form feed take two septets: escape, then the
character). One segment holds 160 septets; a longer text is split into segments of 153, and an
escape pair is never split across two. Any other character makes the whole text UCS-2 (UTF-16 on
the wire): 70 code units in one segment, 67 per segment when split, and a character outside the
Basic Multilingual Plane (most emoji) takes two code units.

The counts agree with Twilio's own calculator, the npm package `sms-segments-calculator`
(tests/messaging/segments_reference/ pins the version and holds its answers). Where that
calculator goes beyond the textbook rule, this module follows it:

- In UCS-2 it never splits a user-perceived character across segments: not only a surrogate pair,
  but a whole grapheme cluster, such as a letter with its combining accents (Vietnamese typed
  decomposed, Arabic with vowel marks), a flag, an emoji with its skin tone or a ZWJ family. It
  finds the clusters with the Unicode 10 rules of the `grapheme-splitter` package, which this
  module follows (`_BREAK_PROPERTY_EXCEPTIONS`); for marks added to Unicode since then it goes by
  Python's own character data.
- A cluster longer than a segment still goes whole into one, the calculator counting the
  segments it would have opened.
- Empty text is one segment of GSM-7.

Twilio's optional "smart encoding" (replacing curly quotes, long dashes and the like with GSM-7
look-alikes before sending) is not applied: a text is counted exactly as written, so one curly
apostrophe makes a text UCS-2 here even where a Messaging Service with smart encoding would send
it as GSM-7.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

GSM7 = "GSM-7"
UCS2 = "UCS-2"


@dataclass(frozen=True)
class SmsSegments:
    count: int  # segments the text is billed and sent as
    encoding: str  # "GSM-7" or "UCS-2"
    units: int  # septets (GSM-7, extension characters count two) or UTF-16 code units (UCS-2)


# GSM 03.38: the basic set (one septet each; the escape code itself has no character) and the
# extension table (escape + one septet).
_GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")

# A segment is 140 octets. Each segment of a split text gives 6 of them to the header that joins
# the parts again (the calculator reserves 6 octets, as Twilio does).
_SEGMENT_BITS = 140 * 8
_JOINING_HEADER_BITS = 6 * 8
_SEPTET_BITS = 7
_UTF16_UNIT_BITS = 16


def sms_segments(text: str) -> SmsSegments:
    """The segments, encoding and length of `text` as Twilio counts them (no smart encoding)."""
    if all(char in _GSM7_BASIC or char in _GSM7_EXTENSION for char in text):
        septets = [2 if char in _GSM7_EXTENSION else 1 for char in text]
        return SmsSegments(
            count=_segment_count([n * _SEPTET_BITS for n in septets]),
            encoding=GSM7,
            units=sum(septets),
        )
    code_units = [_utf16_length(cluster) for cluster in _grapheme_clusters(text)]
    return SmsSegments(
        count=_segment_count([n * _UTF16_UNIT_BITS for n in code_units]),
        encoding=UCS2,
        units=sum(code_units),
    )


def _utf16_length(text: str) -> int:
    return sum(2 if ord(char) > 0xFFFF else 1 for char in text)


def _segment_count(sizes_in_bits: list[int]) -> int:
    """Fills segments in order with pieces that are never split, as the calculator does.

    The first segment has no joining header until a second one is needed; then it takes its header
    and hands on whatever no longer fits.
    """
    segments: list[list[int]] = [[]]  # the sizes of the pieces in each segment
    has_header = [False]
    for size in sizes_in_bits:
        if _SEGMENT_BITS - _used_bits(segments[-1], has_header[-1]) < size:
            handed_on: list[int] = []
            if not has_header[-1]:
                has_header[-1] = True
                while _used_bits(segments[-1], True) > _SEGMENT_BITS:
                    handed_on.insert(0, segments[-1].pop())
            segments.append(handed_on)
            has_header.append(True)
        segments[-1].append(size)
    return len(segments)


def _used_bits(pieces: list[int], has_header: bool) -> int:
    return sum(pieces) + (_JOINING_HEADER_BITS if has_header else 0)


# ---- Grapheme clusters, as grapheme-splitter 1.0.4 finds them (UAX #29, Unicode 10) -------------
# The calculator splits CR LF into two characters again, so here CR LF is never joined.

_CR, _LF, _CONTROL, _EXTEND, _REGIONAL_INDICATOR, _SPACING_MARK = range(6)
_L, _V, _T, _LV, _LVT, _OTHER, _PREPEND = range(6, 13)
_E_BASE, _E_MODIFIER, _ZWJ, _GLUE_AFTER_ZWJ, _E_BASE_GAZ = range(13, 18)


def _ranges(*spans: int | tuple[int, int]) -> frozenset[int]:
    return frozenset(
        code_point
        for span in spans
        for code_point in (range(span[0], span[1] + 1) if isinstance(span, tuple) else [span])
    )


# Where Unicode 10's grapheme break property is not what the general category suggests.
_BREAK_PROPERTY_EXCEPTIONS = {
    _PREPEND: _ranges(
        (0x0600, 0x0605), 0x06DD, 0x070F, 0x08E2, 0x0D4E, 0x110BD, (0x111C2, 0x111C3), 0x11A3A,
        (0x11A86, 0x11A89), 0x11D46,
    ),
    _EXTEND: _ranges(  # spacing marks and others that extend (Other_Grapheme_Extend)
        0x09BE, 0x09D7, 0x0B3E, 0x0B57, 0x0BBE, 0x0BD7, 0x0CC2, (0x0CD5, 0x0CD6), 0x0D3E, 0x0D57,
        0x0DCF, 0x0DDF, 0x1734, 0x200C, (0x302E, 0x302F), (0xFF9E, 0xFF9F), 0x1133E, 0x11357,
        0x114B0, 0x114BD, 0x115AF, 0x1D165, (0x1D16E, 0x1D172), (0xE0020, 0xE007F),
    ),
    _SPACING_MARK: _ranges(  # Thai and Lao AM, and marks that were spacing in Unicode 10
        0x0E33, 0x0EB3, (0x1CF2, 0x1CF3), 0xA9BD, (0x11A07, 0x11A08),
    ),
    _OTHER: _ranges(  # spacing marks that do not extend
        (0x102B, 0x102C), 0x1038, (0x1062, 0x1064), (0x1067, 0x106D), 0x1083, (0x1087, 0x108C),
        0x108F, (0x109A, 0x109C), 0x1A61, (0x1A63, 0x1A64), 0xAA7B, 0xAA7D,
    ),
    _CONTROL: _ranges(  # unassigned but default-ignorable
        0x2065, (0xFFF0, 0xFFF8), 0xE0000, (0xE0002, 0xE001F), (0xE0080, 0xE00FF),
        (0xE01F0, 0xE0FFF),
    ),
    _E_BASE: _ranges(
        0x261D, 0x26F9, (0x270A, 0x270D), 0x1F385, (0x1F3C2, 0x1F3C4), 0x1F3C7, (0x1F3CA, 0x1F3CC),
        (0x1F442, 0x1F443), (0x1F446, 0x1F450), 0x1F46E, (0x1F470, 0x1F478), 0x1F47C,
        (0x1F481, 0x1F483), (0x1F485, 0x1F487), 0x1F4AA, (0x1F574, 0x1F575), 0x1F57A, 0x1F590,
        (0x1F595, 0x1F596), (0x1F645, 0x1F647), (0x1F64B, 0x1F64F), 0x1F6A3, (0x1F6B4, 0x1F6B6),
        0x1F6C0, 0x1F6CC, (0x1F918, 0x1F91C), (0x1F91E, 0x1F91F), 0x1F926, (0x1F930, 0x1F939),
        (0x1F93D, 0x1F93E), (0x1F9D1, 0x1F9DD),
    ),
    _E_MODIFIER: _ranges((0x1F3FB, 0x1F3FF)),
    _GLUE_AFTER_ZWJ: _ranges(
        0x2640, 0x2642, (0x2695, 0x2696), 0x2708, 0x2764, 0x1F308, 0x1F33E, 0x1F373, 0x1F393,
        0x1F3A4, 0x1F3A8, 0x1F3EB, 0x1F3ED, 0x1F48B, (0x1F4BB, 0x1F4BC), 0x1F527, 0x1F52C,
        0x1F5E8, 0x1F680, 0x1F692,
    ),
    _E_BASE_GAZ: _ranges((0x1F466, 0x1F469)),
}  # fmt: skip

_BY_CATEGORY = {
    "Mn": _EXTEND,
    "Me": _EXTEND,
    "Mc": _SPACING_MARK,
    "Cc": _CONTROL,
    "Cf": _CONTROL,
    "Cs": _CONTROL,
    "Zl": _CONTROL,
    "Zp": _CONTROL,
}


def _break_property(char: str) -> int:
    code_point = ord(char)
    if code_point == 0x0D:
        return _CR
    if code_point == 0x0A:
        return _LF
    if code_point == 0x200D:
        return _ZWJ
    if 0x1F1E6 <= code_point <= 0x1F1FF:
        return _REGIONAL_INDICATOR
    for prop, code_points in _BREAK_PROPERTY_EXCEPTIONS.items():
        if code_point in code_points:
            return prop
    if 0x1100 <= code_point <= 0x115F or 0xA960 <= code_point <= 0xA97C:
        return _L
    if 0x1160 <= code_point <= 0x11A7 or 0xD7B0 <= code_point <= 0xD7C6:
        return _V
    if 0x11A8 <= code_point <= 0x11FF or 0xD7CB <= code_point <= 0xD7FB:
        return _T
    if 0xAC00 <= code_point <= 0xD7A3:
        return _LV if (code_point - 0xAC00) % 28 == 0 else _LVT
    return _BY_CATEGORY.get(unicodedata.category(char), _OTHER)


def _grapheme_clusters(text: str) -> list[str]:
    clusters: list[str] = []
    start = 0
    while start < len(text):
        first = _break_property(text[start])
        since_first: list[int] = []
        end = start + 1
        while end < len(text):
            following = _break_property(text[end])
            if _breaks(first, since_first, following):
                break
            since_first.append(following)
            end += 1
        clusters.append(text[start:end])
        start = end
    return clusters


def _breaks(first: int, since_first: list[int], following: int) -> bool:
    """grapheme-splitter's `shouldBreak`, rule for rule (including its look-ahead quirks)."""
    props = [first, *since_first, following]
    previous = props[-2]

    # GB10 look-ahead: an emoji modifier after anything but an emoji base (and extenders) stands
    # alone.
    if _E_MODIFIER in props:
        modifier_at = len(props) - 1 - props[::-1].index(_E_MODIFIER)
        if (
            modifier_at > 1
            and all(prop == _EXTEND for prop in props[1:modifier_at])
            and first not in (_EXTEND, _E_BASE, _E_BASE_GAZ)
        ):
            return True
    # GB12/13 look-ahead: regional indicators pair up from the first one.
    if _REGIONAL_INDICATOR in props:
        indicator_at = len(props) - 1 - props[::-1].index(_REGIONAL_INDICATOR)
        if (
            indicator_at > 0
            and all(prop == _REGIONAL_INDICATOR for prop in props[1:indicator_at])
            and previous not in (_PREPEND, _REGIONAL_INDICATOR)
        ):
            return True

    if previous in (_CONTROL, _CR, _LF) or following in (_CONTROL, _CR, _LF):  # GB4, GB5
        return True
    if previous == _L and following in (_L, _V, _LV, _LVT):  # GB6
        return False
    if previous in (_LV, _V) and following in (_V, _T):  # GB7
        return False
    if previous in (_LVT, _T) and following == _T:  # GB8
        return False
    if following in (_EXTEND, _ZWJ, _SPACING_MARK) or previous == _PREPEND:  # GB9, GB9a, GB9b
        return False

    # GB10: an emoji base, then extenders, then its modifier.
    if _EXTEND in props:
        base_at = len(props) - 1 - props[::-1].index(_EXTEND) - 1
    else:
        base_at = len(props) - 2
    if (
        following == _E_MODIFIER
        and base_at >= 0
        and props[base_at] in (_E_BASE, _E_BASE_GAZ)
        and all(prop == _EXTEND for prop in props[base_at + 1 : -1])
    ):
        return False
    if previous == _ZWJ and following in (_GLUE_AFTER_ZWJ, _E_BASE_GAZ):  # GB11
        return False
    if _REGIONAL_INDICATOR in since_first:  # GB12, GB13
        return True
    return not (previous == _REGIONAL_INDICATOR and following == _REGIONAL_INDICATOR)
