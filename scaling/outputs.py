"""Output files of the commands: checked before any work, written all at once or not at all.

A command never writes over one of its inputs (also through a symlink or a hard link), and it
writes no output file unless every requested output can be produced: each goes to a temporary
file beside its target, and they are renamed into place only when all of them exist.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import Callable

__all__ = ["same_file", "check_outputs", "write_all"]


def same_file(a: Path, b: Path) -> bool:
    try:
        if a.resolve() == b.resolve():
            return True
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


def check_outputs(outputs: dict[str, Path], inputs: list[Path]) -> str | None:
    """Why the requested output files cannot be written (checked before any work), or None.

    ``outputs`` maps an option (``--out``) to its path. Refused: a path that is an input file (also
    through a symlink or a hard link), a folder, two options naming the same file, a folder that
    cannot be written to.
    """
    items = list(outputs.items())
    for option, path in items:
        for src in inputs:
            if same_file(path, src):
                return (f"{option} {path} is the input file {src}; writing there would overwrite your data. "
                        "Give another name.")
        if path.is_dir():
            return f"{option} {path} is a folder; give a file name."
        parent = path.resolve().parent
        while not parent.exists():  # missing folders are created at the end
            parent = parent.parent
        if not parent.is_dir():
            return f"{option} {path}: {parent} is not a folder."
        if not os.access(parent, os.W_OK | os.X_OK):
            return f"{option} {path}: no permission to write in {parent}."
        try:  # os.access says yes to root everywhere, and knows nothing of read-only file systems
            fd, probe = tempfile.mkstemp(dir=parent, prefix=".write-test.")
            os.close(fd)
            os.unlink(probe)
        except OSError as exc:
            return f"{option} {path}: cannot write in {parent} ({exc.strerror or exc})."
    for i, (option, path) in enumerate(items):
        for other, path2 in items[i + 1:]:
            if same_file(path, path2):
                return f"{option} and {other} both name {path}; give two different files."
    return None


def write_all(writers: dict[Path, Callable[[Path], None]]) -> None:
    """Write every output to a temporary file beside it, then rename them all; on any failure none is kept."""
    temps = []
    try:
        for path, write in writers.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=path.suffix)
            os.close(fd)
            temps.append((Path(tmp), path))
            write(Path(tmp))
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes it private; give it a normal file's mode
        for tmp, path in temps:
            os.replace(tmp, path)
    except BaseException:
        for tmp, _ in temps:
            with contextlib.suppress(OSError):
                tmp.unlink()
        raise
