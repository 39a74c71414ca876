"""The Python API (``import febm``): what a call says while it runs."""



def test_python_api_shows_progress_unless_told_not_to(capsys):
    """Long Python calls were silent (reproduce_paper_1d ran 100 s without a word)."""
    import febm

    febm.atlas(["kl"], model="gaussian-1d")
    assert "febm atlas" in capsys.readouterr().err
    febm.atlas(["kl"], model="gaussian-1d", progress=False)
    assert capsys.readouterr().err == ""
