"""Characters a terminal or a log viewer would act on instead of showing, and how to show them.

Directory values are data written by others: a name with ESC can recolour or clear a
terminal, one with a newline can forge a log line, a right-to-left override or a
zero-width character makes one name look like another. The mapping refuses such names
(``mapping.naming``); everything printed (task logs, ``preview``, ``check-ldap``,
``history``, the report's tables) shows any that reach it escaped: ``\\n``, ``\\x1b``,
``\\u202e``. A backslash already in a value is shown as it is (DNs are full of them).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # only printable_frame needs pandas: the console commands print without it
    import pandas as pd

# C0 (NUL to US, newline and ESC among them), DEL and C1
CONTROL_CHARACTERS = frozenset(map(chr, [*range(0x20), *range(0x7F, 0xA0)]))
# bidirectional controls and zero-width characters: invisible, and they change how text reads
FORMAT_CHARACTERS = frozenset(
    map(
        chr,
        [
            0x061C,  # arabic letter mark
            0x200B,  # zero width space
            0x200C,  # zero width non-joiner
            0x200D,  # zero width joiner
            0x200E,  # left-to-right mark
            0x200F,  # right-to-left mark
            *range(0x202A, 0x202F),  # embeddings and overrides (LRE, RLE, PDF, LRO, RLO)
            0x2060,  # word joiner
            *range(0x2066, 0x206A),  # isolates (LRI, RLI, FSI, PDI)
            0xFEFF,  # zero width no-break space (byte order mark)
        ],
    )
)
# RE2 character classes of the same sets, for checks over whole columns
CONTROL_CLASS = r"[\x00-\x1f\x7f-\x9f]"
FORMAT_CLASS = "[" + "".join(f"\\x{{{ord(char):04x}}}" for char in sorted(FORMAT_CHARACTERS)) + "]"

_SHORT = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
_ESCAPES = str.maketrans(
    {
        char: _SHORT.get(char) or (f"\\x{ord(char):02x}" if ord(char) < 0x100 else f"\\u{ord(char):04x}")
        for char in CONTROL_CHARACTERS | FORMAT_CHARACTERS
    }
)


def printable(text: str) -> str:
    """``text`` with every control and format character escaped, safe to print on one line."""
    return text.translate(_ESCAPES)


def shown(value: Any) -> str:
    """Any value as printable text (a missing one as empty text)."""
    return "" if value is None else printable(str(value))


def printable_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame with every text cell printable (missing values stay missing)."""
    import pandas as pd

    text = [column for column in frame.columns if not pd.api.types.is_bool_dtype(frame[column])]
    text = [column for column in text if not pd.api.types.is_numeric_dtype(frame[column])]
    return frame.assign(**{column: frame[column].map(printable, na_action="ignore") for column in text})


def printable_lines(text: str) -> str:
    """Text of several lines (an error message) with each line printable: its line breaks stay."""
    return "\n".join(printable(line) for line in text.split("\n"))


def code_points(text: str, characters: frozenset[str]) -> str:
    """``U+001B, U+202E``: which of ``characters`` the text holds, each once, in order."""
    found = dict.fromkeys(char for char in text if char in characters)
    return ", ".join(f"U+{ord(char):04X}" for char in found)


class PrintableArguments(logging.Filter):
    """Escapes the arguments of every record (where directory values go), not the message itself.

    Numbers stay numbers, so ``%d`` and ``%.1f`` still format them.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(_escaped(arg) for arg in record.args)
        elif isinstance(record.args, dict):
            record.args = {key: _escaped(arg) for key, arg in record.args.items()}
        return True


def printable_logger(name: str) -> logging.Logger:
    """``logging.getLogger(name)`` with its arguments escaped (filters on a logger are its own)."""
    logger = logging.getLogger(name)
    if not any(isinstance(existing, PrintableArguments) for existing in logger.filters):
        logger.addFilter(PrintableArguments())
    return logger


def _escaped(arg: Any) -> Any:
    if isinstance(arg, int | float) or arg is None:
        return arg
    return printable(str(arg))
