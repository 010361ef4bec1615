"""The vocabulary of register maps: tables, data types, word orders, units, request limits."""

from __future__ import annotations

from enum import StrEnum

__all__ = [
    "MAX_BITS_PER_REQUEST",
    "MAX_REGISTERS_PER_REQUEST",
    "UNIT_FACTORS",
    "DataType",
    "Table",
    "WordOrder",
    "unit_factor",
]

#: Modbus limits of one read request (FC 3/4: 125 registers; FC 1/2: 2000 bits).
MAX_REGISTERS_PER_REQUEST = 125
MAX_BITS_PER_REQUEST = 2000

class Table(StrEnum):
    """The four Modbus data tables."""

    HOLDING = "holding"
    """Holding registers, FC 3 (read), FC 6/16 (write)."""
    INPUT = "input"
    """Input registers, FC 4."""
    COIL = "coil"
    """Coils, FC 1 (read), FC 5/15 (write)."""
    DISCRETE = "discrete"
    """Discrete inputs, FC 2."""

    @property
    def is_bits(self) -> bool:
        return self in (Table.COIL, Table.DISCRETE)

    @property
    def writable(self) -> bool:
        return self in (Table.HOLDING, Table.COIL)


class DataType(StrEnum):
    U16 = "u16"
    I16 = "i16"
    U32 = "u32"
    I32 = "i32"
    U64 = "u64"
    I64 = "i64"
    F32 = "f32"
    F64 = "f64"
    STRING = "string"
    """ASCII, two characters per register, ``length`` registers."""
    BIT = "bit"
    """A coil or discrete input, or bit ``bit`` of a register."""

    @property
    def words(self) -> int:
        """Registers a value of this type occupies (0 for string: see ``length``)."""
        return _WORDS[self]

    @property
    def signed(self) -> bool:
        return self in (DataType.I16, DataType.I32, DataType.I64)

    @property
    def is_float(self) -> bool:
        return self in (DataType.F32, DataType.F64)

    @property
    def is_integer(self) -> bool:
        return self in _INTEGERS


_WORDS = {
    DataType.U16: 1, DataType.I16: 1, DataType.U32: 2, DataType.I32: 2, DataType.U64: 4,
    DataType.I64: 4, DataType.F32: 2, DataType.F64: 4, DataType.STRING: 0, DataType.BIT: 1,
}
_INTEGERS = frozenset({DataType.U16, DataType.I16, DataType.U32, DataType.I32, DataType.U64, DataType.I64})


class WordOrder(StrEnum):
    """Order of the bytes of a multi-register value, A being the most significant.

    ABCD is the Modbus convention (big-endian words, high word first); CDAB is
    "low word first" (words reversed, also for 64-bit values); BADC swaps the
    bytes inside each register; DCBA does both (fully little-endian).
    """

    ABCD = "ABCD"
    CDAB = "CDAB"
    BADC = "BADC"
    DCBA = "DCBA"

    @property
    def swap_words(self) -> bool:
        return self in (WordOrder.CDAB, WordOrder.DCBA)

    @property
    def swap_bytes(self) -> bool:
        return self in (WordOrder.BADC, WordOrder.DCBA)


#: Units a profile may state for a point, with the factor to the quantity's unit.
#: Keys are (from unit, to unit); the same unit converts with factor 1.
UNIT_FACTORS: dict[tuple[str, str], float] = {
    ("kW", "W"): 1e3, ("MW", "W"): 1e6,
    ("kvar", "var"): 1e3, ("kVA", "VA"): 1e3,
    ("kWh", "Wh"): 1e3, ("MWh", "Wh"): 1e6,
    ("kvarh", "varh"): 1e3, ("Mvarh", "varh"): 1e6,
    ("kV", "V"): 1e3, ("mV", "V"): 1e-3,
    ("mA", "A"): 1e-3, ("kA", "A"): 1e3,
    ("A", "mA"): 1e3, ("µA", "mA"): 1e-3,
    ("mHz", "Hz"): 1e-3,
    ("mbar", "bar"): 1e-3, ("kPa", "bar"): 1e-2, ("MPa", "bar"): 10.0, ("Pa", "bar"): 1e-5,
    ("psi", "bar"): 0.0689475729,
    ("l/s", "m³/h"): 3.6, ("l/min", "m³/h"): 0.06, ("l/h", "m³/h"): 1e-3, ("m³/s", "m³/h"): 3600.0,
    ("m³/min", "m³/h"): 60.0,
    ("l", "m³"): 1e-3, ("hl", "m³"): 0.1, ("dm³", "m³"): 1e-3,
    ("mS/cm", "µS/cm"): 1e3, ("µS/m", "µS/cm"): 1e-2, ("mS/m", "µS/cm"): 10.0,
    ("cm", "m"): 1e-2, ("mm", "m"): 1e-3,
    ("‰", "%"): 0.1, ("1", "%"): 100.0,
    ("%", "1"): 0.01,
}

#: ASCII spellings accepted for the units of the vocabulary.
_UNIT_ALIASES = {
    "m3/h": "m³/h", "m3": "m³", "m3/s": "m³/s", "m3/min": "m³/min", "dm3": "dm³",
    "uS/cm": "µS/cm", "us/cm": "µS/cm", "μS/cm": "µS/cm", "uS/m": "µS/m",
    "degC": "°C", "C": "°C", "uA": "µA", "μA": "µA", "VAr": "var", "kVAr": "kvar",
    "VArh": "varh", "kVArh": "kvarh", "permille": "‰", "pct": "%",
}


def unit_factor(unit: str, target: str) -> float | None:
    """Factor from ``unit`` to ``target``; None when nzd cannot convert."""
    unit = _UNIT_ALIASES.get(unit, unit)
    if unit == target:
        return 1.0
    return UNIT_FACTORS.get((unit, target))
