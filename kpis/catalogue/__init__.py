"""The catalogue of indicators: ``config/kpis.yaml`` parsed into frozen, typed models.

Every key is declared once, with its default and its help text (``model``, and ``spc`` for
the ``spc:`` block); ``load`` reads and validates a file, collecting every problem with its
location, value and a hint, and fails once; ``reference`` generates the README's catalogue
reference from the declarations (``python -m kpis reference``).
"""

from kpis.catalogue.load import DEFAULT_PATH, load_catalogue, parse_catalogue
from kpis.catalogue.model import (
    AREA_CODE_HINT,
    AREA_CODE_PATTERN,
    BREAKDOWN_ID_HINT,
    CODE_HINT,
    CODE_MAX_LENGTH,
    CODE_PATTERN,
    ENGLAND_CODE,
    Aggregation,
    Area,
    AreaKind,
    Breakdown,
    Catalogue,
    CiMethod,
    Code,
    Direction,
    Frequency,
    Group,
    HomeArea,
    Indicator,
    SiiTransform,
    Target,
    Unit,
    Workstream,
    code_slug,
    derived,
    normalise_code,
)
from kpis.catalogue.reference import reference_markdown
from kpis.catalogue.spc import SpcSettings, merge_settings

__all__ = [
    "AREA_CODE_HINT",
    "AREA_CODE_PATTERN",
    "BREAKDOWN_ID_HINT",
    "CODE_HINT",
    "CODE_MAX_LENGTH",
    "CODE_PATTERN",
    "DEFAULT_PATH",
    "ENGLAND_CODE",
    "Aggregation",
    "Area",
    "AreaKind",
    "Breakdown",
    "Catalogue",
    "CiMethod",
    "Code",
    "Direction",
    "Frequency",
    "Group",
    "HomeArea",
    "Indicator",
    "SiiTransform",
    "SpcSettings",
    "Target",
    "Unit",
    "Workstream",
    "code_slug",
    "derived",
    "load_catalogue",
    "merge_settings",
    "normalise_code",
    "parse_catalogue",
    "reference_markdown",
]
