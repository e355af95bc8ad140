"""Text from outside (file names, values read from files, AWS and forge answers) made safe to
print on one line.

A file named `Dockerfile\\n::error::x` must not start a line of our output with `::`, which
GitHub Actions runs as a workflow command, nor may an escape sequence reach a terminal. So
control characters, line and paragraph separators, bidirectional overrides (which reorder what
a reader sees) and undecodable bytes are shown as backslash escapes. Most text has none of
them and comes back as it was; when some are escaped, a backslash is escaped too, so the
result reads one way only.
"""

from __future__ import annotations

import re

# C0 and C1 controls and DEL; U+2028/2029 (line breaks to many readers); the bidirectional
# embeddings, overrides and isolates (Trojan Source, CVE-2021-42574); lone surrogates, which is
# how Python holds bytes of a file name that are not UTF-8 (os.fsdecode's surrogateescape).
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def printable(text: str) -> str:
    if _UNSAFE.search(text) is None:
        return text
    return _UNSAFE.sub(_escape, text.replace("\\", "\\\\"))


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    if 0xDC80 <= code <= 0xDCFF:  # surrogateescape: the byte as it is in the name
        return f"\\x{code - 0xDC00:02x}"
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable_path(path: str) -> str:
    """A path that starts a line of output: escaped, and never starting with `:`, so a
    directory named `::error::x` cannot make the line a workflow command (`./` keeps it the
    same path for an editor or a shell)."""
    shown = printable(path)
    return f"./{shown}" if shown.startswith(":") else shown
