"""Files written whole or not at all."""

from __future__ import annotations

import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from .errors import WriteFailed


@contextmanager
def written_whole(path: Path | str, suffix: str) -> Iterator[Path]:
    """A temporary path beside `path` to write to. When the block finishes, the file is
    renamed into place in one step, so readers (and a crash, or Ctrl-C) see the old file
    or the new one, never half of one; if the block fails, it is removed. A write the
    operating system refuses (a full disk, a limit on file size) is WriteFailed, naming
    `path`. `suffix` is the ending a writer insists on, such as Keras's `.weights.h5`."""
    path = Path(path)
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix, dir=path.parent)
        os.close(fd)
        yield Path(tmp)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp made it private; give it the usual permissions
        os.replace(tmp, path)
    except OSError as error:
        raise WriteFailed(path, error) from None
    finally:
        if tmp is not None and os.path.exists(tmp):
            os.remove(tmp)
