"""Device profiles: register maps as data (``firmware_configs/profiles/*.yaml``).

``load_profile(name_or_path)`` validates a file into a :class:`Profile`;
``profile.resolve(options)`` gives the concrete :class:`Point` list that the
planner (:mod:`gateway.planner`) and the decoder (:mod:`gateway.decode`) use.
"""

from gateway.profiles.loader import available_profiles, load_profile, profile_path
from gateway.profiles.schema import (
    MAX_BITS_PER_REQUEST,
    MAX_REGISTERS_PER_REQUEST,
    UNIT_FACTORS,
    Addressing,
    AddressRange,
    DataType,
    Defaults,
    Document,
    Limits,
    Linear,
    OptionSpec,
    Point,
    PointSpec,
    Profile,
    Table,
    ValidRange,
    WordOrder,
    WriteLimits,
    unit_factor,
)

__all__ = [
    "MAX_BITS_PER_REQUEST",
    "MAX_REGISTERS_PER_REQUEST",
    "UNIT_FACTORS",
    "AddressRange",
    "Addressing",
    "DataType",
    "Defaults",
    "Document",
    "Limits",
    "Linear",
    "OptionSpec",
    "Point",
    "PointSpec",
    "Profile",
    "Table",
    "ValidRange",
    "WordOrder",
    "WriteLimits",
    "available_profiles",
    "load_profile",
    "profile_path",
    "unit_factor",
]
