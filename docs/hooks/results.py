"""mkdocs hook: fill the pages' placeholders (``{{ FILE.json:PATH | FORMAT }}``, ``{{ table:... }}``,
``{{ figure:... }}``) from the result files under docs/results before the Markdown is converted.
The syntax and the renderers are in febm/docs_render.py; a placeholder that does not resolve stops
the build."""

from __future__ import annotations

from febm.docs_render import render


def on_page_markdown(markdown, page, **_):
    depth = page.file.src_uri.count("/")
    return render(markdown, figures_url="../" * depth + "figures/")
