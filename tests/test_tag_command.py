"""`newswatch tag` on files that are not UTF-8: a Latin-1 text is decoded, a binary file is one error line."""

import json
from pathlib import Path

from tests.test_e2e import newswatch

LATIN1 = "Grüße aus München. Die Straße am Marienplatz ist gesperrt, sagte der Bürgermeister am Montag."


def test_a_latin1_file_is_decoded_not_a_traceback(tmp_path: Path):
    path = tmp_path / "artikel.txt"
    path.write_bytes(LATIN1.encode("latin-1"))
    result = newswatch("tag", str(path), "--title", "München")
    assert result.returncode == 0, result.stderr[-2000:]
    assert json.loads(result.stdout)["text"] == LATIN1


def test_a_binary_file_is_one_line(tmp_path: Path):
    path = tmp_path / "image.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4)
    result = newswatch("tag", str(path))
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.splitlines() == [f"error: {path}: not a text file (not UTF-8, and no text encoding fits it)"]
