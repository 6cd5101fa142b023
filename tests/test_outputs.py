"""Output files: refused before any work when unsafe, written all at once or not at all."""

import os

import pytest

from scaling.outputs import check_outputs, write_all


def test_an_input_is_never_an_output_even_through_a_link(tmp_path):
    data = tmp_path / "curve.csv"
    data.write_text("x,loss\n1,0.5\n")
    link = tmp_path / "link.csv"
    os.symlink(data, link)
    assert "is the input file" in check_outputs({"--out": link}, [data])
    assert "both name" in check_outputs({"--out": tmp_path / "a.csv", "--json": tmp_path / "a.csv"}, [data])
    assert check_outputs({"--out": tmp_path / "new" / "a.csv"}, [data]) is None


def test_a_failing_writer_leaves_no_file(tmp_path):
    def boom(path):
        raise RuntimeError("no")

    with pytest.raises(RuntimeError):
        write_all({tmp_path / "a.txt": lambda p: p.write_text("a"), tmp_path / "b.txt": boom})
    assert list(tmp_path.iterdir()) == []
    write_all({tmp_path / "a.txt": lambda p: p.write_text("a")})
    assert (tmp_path / "a.txt").read_text() == "a"
