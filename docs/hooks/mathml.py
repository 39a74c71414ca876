"""mkdocs hook: typeset the pages' TeX as MathML at build time, so formulas render with no script
and no network (browsers draw MathML natively). pymdownx.arithmatex (generic mode) marks the
formulas; latex2mathml converts them."""

from __future__ import annotations

import html
import re

from latex2mathml.converter import convert

_INLINE = re.compile(r'<span class="arithmatex">\\\((.+?)\\\)</span>', re.S)
_BLOCK = re.compile(r'<div class="arithmatex">\\\[(.+?)\\\]</div>', re.S)


def typeset(page_html: str) -> str:
    """``page_html`` with every arithmatex span and div replaced by MathML."""
    page_html = _BLOCK.sub(lambda m: f'<div class="arithmatex">{_mathml(m[1], "block")}</div>', page_html)
    return _INLINE.sub(lambda m: f'<span class="arithmatex">{_mathml(m[1], "inline")}</span>', page_html)


def _mathml(tex: str, display: str) -> str:
    return convert(html.unescape(tex).strip(), display=display)


def on_page_content(page_html, **_):
    return typeset(page_html)
