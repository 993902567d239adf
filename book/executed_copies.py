"""A Sphinx extension of the book (``sphinx.local_extensions`` in ``_config.yml``): each notebook
page's executed copy, ``_build/jupyter_execute/<page>.ipynb``, with its outputs.

Where myst-nb takes a page's outputs from the cache, it renders them but writes that copy from the
notebook as it read it, without them (myst_nb/sphinx_.py writes ``notebook``, not the client's
merged one). book/execute.py fills the cache before every build, so every copy would come out
empty; this puts the outputs back from the same cache as soon as the page has been read.
"""

from __future__ import annotations

from pathlib import Path

import nbformat

from ecgkd.cache import atomic_write


def restore_outputs(app, doctree) -> None:
    """After a page is read: if its executed copy has no outputs, merge them in from the cache."""
    config = getattr(app.env, "mystnb_config", None)
    if config is None:
        return
    copy = Path(config.output_folder, *f"{app.env.docname}.ipynb".split("/"))
    if not copy.is_file():  # not a notebook page
        return
    notebook = nbformat.read(copy, as_version=4)
    if any(cell.get("outputs") for cell in notebook.cells if cell.cell_type == "code"):
        return  # myst-nb executed it and wrote it whole
    from jupyter_cache import get_cache

    try:
        _, merged = get_cache(config.execution_cache_path).merge_match_into_notebook(notebook)
    except KeyError:  # not in the cache: a page that failed, whose copy has nothing to add
        return
    atomic_write(copy, lambda tmp: nbformat.write(merged, tmp))


def setup(app) -> dict:
    app.connect("doctree-read", restore_outputs)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
