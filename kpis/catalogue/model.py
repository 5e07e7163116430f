"""The catalogue's models: the closed sets (unit, direction, frequency, aggregation...) as
enums, and the frozen, typed indicator, workstream, area, breakdown and catalogue, each key
declared once with its default and its help text."""

from __future__ import annotations

import difflib
import math
import urllib.parse
import weakref
from collections.abc import Callable
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StringConstraints, field_validator
from pydantic_core import PydanticCustomError

from kpis import periods
from kpis.catalogue.spc import SpcSettings, merge_settings


class Unit(StrEnum):
    PERCENT = "percent"
    COUNT = "count"
    DAYS = "days"
    HOURS = "hours"
    RATE = "rate"
    RATIO = "ratio"
    CURRENCY = "currency"  # pounds
    NUMBER = "number"  # any finite number

    @property
    def allows_negative(self) -> bool:
        """Whether an extract may hold a negative figure (a deficit, a net change)."""
        return self in (Unit.CURRENCY, Unit.NUMBER)


class Direction(StrEnum):
    HIGHER = "higher"
    LOWER = "lower"
    NONE = "none"


class Frequency(StrEnum):
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"


class Aggregation(StrEnum):
    AS_REPORTED = "as_reported"
    YTD_SUM = "ytd_sum"
    YTD_MEAN = "ytd_mean"
    YTD_RATIO = "ytd_ratio"
    ROLLING_12M_SUM = "rolling_12m_sum"
    ROLLING_12M_RATIO = "rolling_12m_ratio"

    @property
    def uses_ratio(self) -> bool:
        return self in (Aggregation.YTD_RATIO, Aggregation.ROLLING_12M_RATIO)

    @property
    def is_rolling(self) -> bool:
        return self in (Aggregation.ROLLING_12M_SUM, Aggregation.ROLLING_12M_RATIO)

    @property
    def is_ytd(self) -> bool:
        return self in (Aggregation.YTD_SUM, Aggregation.YTD_MEAN, Aggregation.YTD_RATIO)


class CiMethod(StrEnum):
    """How an indicator's confidence intervals are made (:mod:`kpis.report.intervals`)."""

    WILSON = "wilson"  # proportions
    BYAR = "byar"  # rates (exact Poisson below 10)
    GIVEN = "given"  # the extract's own limits (life expectancy, survey estimates)
    NONE = "none"


class SiiTransform(StrEnum):
    """The scale the slope index of inequality is fitted on (``phe_sii``'s transform)."""

    NONE = "none"
    LOG = "log"  # rates
    LOGIT = "logit"  # proportions


class AreaKind(StrEnum):
    ENGLAND = "england"
    REGION = "region"
    NEIGHBOUR = "neighbour"
    OTHER = "other"


ENGLAND_CODE = "E92000001"  # ONS code of England: the default benchmark when declared


def _custom(kind: str, message: str, hint: str) -> PydanticCustomError:
    return PydanticCustomError(kind, message, {"hint": hint})


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise _custom(
            "target_value",
            f"{where} {value!r} is not a number",
            "write a plain number such as 90 or 13140; the unit comes from 'unit' (for 90% write 90)",
        )
    return float(value)


class Target(BaseModel):
    """A target: one number for every period, a number per financial year, and/or a
    monthly trajectory. For a period the month's trajectory value wins, then its
    financial year's, then the constant; with none of them there is no target."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    constant: float | None = None
    by_year: tuple[tuple[int, float], ...] = ()  # (financial year start, value)
    by_month: tuple[tuple[int, float], ...] = ()  # (month index, value)

    @classmethod
    def parse(cls, raw: Any) -> Target | None:
        if raw is None:
            return None
        if isinstance(raw, Target):
            return raw
        if not isinstance(raw, dict):
            return cls(constant=_number(raw, "target"))
        by_year, by_month = [], []
        for key, value in raw.items():
            key_text = str(key).strip()
            number = _number(value, f"target for {key_text!r}:")
            if "/" in key_text:
                try:
                    start = periods.parse_period(f"{key_text} M1") // 12
                except periods.PeriodError:
                    start = None
                if start is None:
                    raise _custom(
                        "target_key",
                        f"{key_text!r} is not a financial year",
                        'write financial years as "2020/21" and months as "2020-10"',
                    )
                by_year.append((start, number))
            else:
                try:
                    by_month.append((periods.from_text(key_text), number))
                except periods.PeriodError:
                    raise _custom(
                        "target_key",
                        f"{key_text!r} is neither a financial year nor a month",
                        'write financial years as "2020/21" and months as "2020-10"',
                    ) from None
        return cls(by_year=tuple(sorted(by_year)), by_month=tuple(sorted(by_month)))

    def for_period(self, month: int) -> float | None:
        months = dict(self.by_month)
        if month in months:
            return months[month]
        years = dict(self.by_year)
        fy = periods.fy_start_year(month)
        if fy in years:
            return years[fy]
        return self.constant

    def describe(self) -> str:
        parts = []
        if self.constant is not None:
            parts.append(f"{self.constant:g}")
        parts += [f"{periods.fy_label(y)}: {v:g}" for y, v in self.by_year]
        parts += [f"{periods.to_text(m)}: {v:g}" for m, v in self.by_month]
        return ", ".join(parts)


# An indicator code (an id or an alias) as the NHS and councils write them: letters,
# digits and _ - . ( ) /, single spaces between words, starting with a letter or digit.
CODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.()/-]*(?: [A-Za-z0-9_.()/-]+)*$"
CODE_MAX_LENGTH = 64  # the store's indicator column
CODE_HINT = (
    "use 1 to 64 letters, digits and _ - . ( ) /, with single spaces between words, starting with a"
    " letter or digit, such as PHOF-2.22iii or ASCOF 2A(1)"
)
Code = Annotated[str, StringConstraints(pattern=CODE_PATTERN, max_length=CODE_MAX_LENGTH)]


def normalise_code(code: str) -> str:
    """The form codes are matched in: surrounding spaces ignored, case folded."""
    return code.strip().casefold()


def code_slug(code: str) -> str:
    """A code as one safe token for a file name, a widget key or an HTML id: letters,
    digits, ``_ . - ~`` kept, anything else percent-encoded (``a/b`` → ``a%2Fb``,
    ``ASCOF 2A(1)`` → ``ASCOF%202A%281%29``). Never a path separator, never ``.`` or
    ``..`` alone, and two codes never share a slug."""
    slug = urllib.parse.quote(code, safe="")
    return slug.replace(".", "%2E") if slug.strip(".") == "" else slug


class Indicator(BaseModel):
    """One key performance indicator."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: Code = Field(
        description="Unique code used in extracts and shown as written: 1–64 letters, digits and "
        "`_ - . ( ) /`, single spaces between words, starting with a letter or digit "
        "(`iapt-recovery`, `PHOF-2.22iii`, `ASCOF 2A(1)`); matched ignoring case and surrounding spaces.",
        json_schema_extra={"hint": CODE_HINT},
    )
    aliases: tuple[Code, ...] = Field(
        (),
        description="Other codes an extract may use for it (a source system's own code), written "
        "as ids are: `[UHS-MOFD-01, NEL-ADM]`; values are stored under the `id`. Ids and aliases "
        "are unique ignoring case.",
        json_schema_extra={"hint": CODE_HINT},
    )
    name: str = Field(min_length=1, description="The indicator as the board reads it.")
    workstream: str = Field(description="Id of the workstream it belongs to.")
    unit: Unit = Field(
        description="`percent`, `count`, `days`, `hours`, `rate`, `ratio`, `currency` (pounds, "
        "shown `£1,234k`) or `number`; `currency` and `number` may be negative."
    )
    direction: Direction = Field(description="`higher` or `lower` is better; `none` for context only (no RAG).")
    frequency: Frequency = Field(
        Frequency.MONTHLY,
        description="`monthly`, or `quarterly` (values on the quarter's last month).",
    )
    aggregation: Aggregation = Field(
        Aggregation.AS_REPORTED,
        description="How the reported figure is made from the extract's values: "
        "`as_reported`, `ytd_sum`, `ytd_mean`, `ytd_ratio`, `rolling_12m_sum`, "
        "`rolling_12m_ratio` (the ratio forms use numerator/denominator).",
    )
    target: Target | None = Field(
        None,
        description='A number; or per financial year `{"2020/21": 13140}`; or a monthly '
        'trajectory `{"2020-10": 13140}` (both may be mixed); absent = no target.',
    )
    tolerance: float | None = Field(
        None,
        ge=0,
        le=1,
        description="Amber band as a fraction of the comparator; default: the top-level `tolerance`.",
    )
    headline: bool = Field(False, description="Show as a tile on the overview page.")
    headline_group: str | None = Field(None, description="Tile group on the overview page (e.g. `Quality`).")
    short_name: str | None = Field(None, description="Shorter name for tiles and charts.")
    decimals: int = Field(0, ge=0, le=3, description="Decimal places shown.")
    scale: float | None = Field(
        None,
        gt=0,
        description="Multiplier for ratio aggregations: numerator / denominator × scale; "
        "default 100 for `percent`, else 1.",
    )
    owner: str | None = Field(None, description="Initials of the responsible owner (see `owners`).")
    description: str = Field("", description="Definition shown on the indicator page.")
    source: str = Field("", description="Where the figures come from.")
    breakdowns: tuple[str, ...] = Field(
        (),
        description="Ids of the top-level `breakdowns` its figures come in (`[imd_quintile, sex]`); "
        "an extract row with any other breakdown is refused.",
    )
    benchmark: str | None = Field(
        None,
        description="Area code its figures are compared with (better / similar / worse); default: "
        f"England (`{ENGLAND_CODE}`) if it is in `areas`, else none.",
    )
    ci_method: CiMethod | None = Field(
        None,
        description="How its 95% and 99.8% confidence intervals are made: `wilson` (proportions), "
        "`byar` (rates; exact Poisson below 10), `given` (the extract's `lower_ci`, `upper_ci`), "
        "`none`; default from the unit: `percent` → `wilson`, `rate` → `byar`, else `none`.",
    )
    sii_transform: SiiTransform = Field(
        SiiTransform.NONE,
        description="Scale the slope index of inequality is fitted on: `none`, `log` (rates) or "
        "`logit` (proportions), as PHEindicatormethods' `phe_sii` transform. With `none` the unit "
        "says how the groups' intervals are read, as `phe_sii`'s `value_type`: a `rate` on the log "
        "scale, a `percent` on the logit scale (limits by simulation), any other unit as symmetric.",
    )
    suppress_below: int | None = Field(
        None,
        ge=0,
        description="A count n with 0 < n < this is shown as `*` (small-number suppression); "
        "default: the top-level `suppress_below`; 0 turns suppression off.",
    )
    lag: StrictInt | None = Field(
        None,
        ge=0,
        description="Months behind the report month its figure normally arrives (`lag: 2`: the Nov "
        "report shows September); default: the top-level `lag`.",
    )
    spc: SpcSettings | None = Field(
        None,
        description="Its own SPC settings (keys as the top-level `spc`, see **SPC** below), each key set "
        "here replacing the top-level one: `spc: {rebase: [2020-10], trend: 6}`.",
    )

    @field_validator("target", mode="before")
    @classmethod
    def _parse_target(cls, raw: Any) -> Target | None:
        return Target.parse(raw)

    @property
    def ratio_scale(self) -> float:
        if self.scale is not None:
            return self.scale
        return 100.0 if self.unit is Unit.PERCENT else 1.0

    @property
    def display_name(self) -> str:
        return self.short_name or self.name

    @property
    def interval_method(self) -> CiMethod:
        """``ci_method``, or the unit's default: Wilson for a percentage, Byar for a rate."""
        if self.ci_method is not None:
            return CiMethod(self.ci_method)
        return {Unit.PERCENT: CiMethod.WILSON, Unit.RATE: CiMethod.BYAR}.get(self.unit, CiMethod.NONE)

    @property
    def sii_value_type(self) -> str:
        """``phe_sii``'s value type from the unit: ``rate``, ``proportion`` (a percentage)
        or ``other`` (:data:`kpis.report.inequality.SII_VALUE_TYPES`)."""
        return {Unit.RATE: "rate", Unit.PERCENT: "proportion"}.get(self.unit, "other")


class Workstream(BaseModel):
    """A workstream: one KPI table and one dashboard page."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(
        pattern=r"^[a-z][a-z0-9_]*$",
        description="Unique id: lower case letters, digits and _.",
        json_schema_extra={"hint": "use lower case letters, digits and _ only, starting with a letter"},
    )
    name: str = Field(min_length=1, description="Name as the board reads it.")
    lead: str = Field("", description="Lead officer (initials from `owners`, or a name).")
    description: str = Field("", description="What the workstream covers.")


AREA_CODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,15}$"
AREA_CODE_HINT = "use 1 to 16 letters, digits, _ and -, such as E06000045 (the ONS code)"
BREAKDOWN_ID_HINT = "use lower case letters, digits and _ only, starting with a letter, such as imd_quintile"


def _group_text(raw: Any) -> Any:
    # YAML reads 1 as a number: a group id is text ("1", "65+", "Asian").
    return str(raw) if isinstance(raw, int) and not isinstance(raw, bool) else raw


class HomeArea(BaseModel):
    """The area the report is about: the council or ICB's own."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    code: str = Field(
        pattern=AREA_CODE_PATTERN,
        description="Its code, e.g. `E06000045`.",
        json_schema_extra={"hint": AREA_CODE_HINT},
    )
    name: str = Field(min_length=1, description="Its name, e.g. `Southampton`.")


class Area(BaseModel):
    """Another area figures come for: England, the region, a statistical neighbour."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    code: str = Field(
        pattern=AREA_CODE_PATTERN,
        description="Its code, as extracts write it in `area` (`E92000001` for England).",
        json_schema_extra={"hint": AREA_CODE_HINT},
    )
    name: str = Field(min_length=1, description="Its name as the board reads it.")
    kind: AreaKind = Field(AreaKind.OTHER, description="`england`, `region`, `neighbour` or `other`.")


class Group(BaseModel):
    """One group of a breakdown (a quintile, an age band, a sex)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(min_length=1, max_length=64, description="As extracts write it in `group`: `1`, `65+`, `Asian`.")
    name: str = Field(min_length=1, description="As the board reads it: `1 (most deprived)`.")

    @field_validator("id", mode="before")
    @classmethod
    def _text_id(cls, raw: Any) -> Any:
        return _group_text(raw)


class Breakdown(BaseModel):
    """A way of dividing a population: deprivation quintile, sex, age band, ethnicity."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(
        pattern=r"^[a-z][a-z0-9_]{0,31}$",
        description="As extracts write it in `breakdown`: `imd_quintile`, `sex`.",
        json_schema_extra={"hint": BREAKDOWN_ID_HINT},
    )
    name: str = Field(min_length=1, description="As the board reads it: `Deprivation (IMD quintile)`.")
    ordered: bool = Field(
        False, description="`true` for a ranked breakdown (deprivation): gaps and the SII are computed."
    )
    groups: tuple[Group, ...] = Field(description="Its groups, in order for an ordered breakdown.")
    most_deprived_first: bool = Field(
        True, description="For an ordered breakdown: the first group listed is the most deprived (else the last)."
    )

    @property
    def group_ids(self) -> list[str]:
        return [g.id for g in self.groups]

    @property
    def ranked_group_ids(self) -> list[str]:
        """The groups most deprived first (how the SII reads them)."""
        return self.group_ids if self.most_deprived_first else self.group_ids[::-1]

    def group_name(self, group_id: str) -> str:
        return next((g.name for g in self.groups if g.id == group_id), group_id)


class Catalogue(BaseModel):
    """The whole catalogue file."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    title: str = Field("Summary Performance Report", description="Report title shown on the dashboard.")
    tolerance: float = Field(
        0.10, ge=0, le=1, description="Default Amber band as a fraction of the comparator (0.10 = 10%)."
    )
    owners: dict[str, str] = Field(default_factory=dict, description="Owner initials → role title (the report's key).")
    workstreams: tuple[Workstream, ...] = Field(description="The workstreams, in report order.")
    indicators: tuple[Indicator, ...] = Field(description="The indicators, in report order.")
    home_area: HomeArea | None = Field(
        None,
        description="The report's own area `{code, name}`; an extract row with a blank `area` is its.",
    )
    areas: tuple[Area, ...] = Field(
        (),
        description="Other areas figures come for, to compare with: `[{code, name, kind}]`, kind "
        "`england`, `region`, `neighbour` or `other`.",
    )
    breakdowns: tuple[Breakdown, ...] = Field(
        (),
        description="Breakdowns of a population: `[{id, name, ordered, groups: [{id, name}], "
        "most_deprived_first}]`; an ordered breakdown lists its groups in order.",
    )
    suppress_below: int = Field(
        0,
        ge=0,
        description="Default small-number suppression: a count n with 0 < n < this is shown as `*`; 0 = off.",
    )
    lag: StrictInt = Field(
        0,
        ge=0,
        description="Default reporting lag in months: how far behind the report month figures normally arrive.",
    )
    spc: SpcSettings = Field(
        SpcSettings(),
        description="The SPC settings of every indicator (Making Data Count's by default; see **SPC** below).",
    )
    glossary: dict[str, str] = Field(
        default_factory=dict,
        description="Abbreviations and terms → their meaning (`MOFD: Medically optimised for discharge`), "
        "shown on the dashboard's Glossary page and as help where a term appears; each term once, ignoring case.",
    )

    @field_validator("glossary")
    @classmethod
    def _each_term_once(cls, glossary: dict[str, str]) -> dict[str, str]:
        first: dict[str, str] = {}
        for term in glossary:
            if term.casefold() in first:
                raise PydanticCustomError(
                    "glossary_duplicate",
                    "the term '{term}' duplicates '{first}' (terms are compared ignoring case)",
                    {"term": term, "first": first[term.casefold()], "hint": "define each term once"},
                )
            first[term.casefold()] = term
        return glossary

    def indicator(self, indicator_id: str) -> Indicator:
        """The indicator of a canonical id (as the catalogue spells it); KeyError if none."""
        return derived(self, "catalogue.by_id", lambda c: {i.id: i for i in c.indicators})[indicator_id]

    def lookup(self, code: str) -> Indicator | None:
        """The indicator an id or alias names, matched ignoring case and surrounding
        spaces (``" phof-2.22III "`` finds ``PHOF-2.22iii``); None if it names none."""
        indicator_id = self.code_map.get(normalise_code(code))
        return None if indicator_id is None else self.indicator(indicator_id)

    @property
    def code_map(self) -> dict[str, str]:
        """Every id and alias in :func:`normalise_code` form → the canonical id, made once
        per catalogue (shared: read it, never change it), for vectorised matching:
        ``codes.str.strip().str.casefold().map(catalogue.code_map)``."""
        return derived(self, "catalogue.code_map", _code_map)

    def close_codes(self, code: str, n: int = 1) -> list[str]:
        """Up to ``n`` ids or aliases, as the catalogue spells them, closest to an unknown
        ``code`` first, for a "did you mean" hint."""
        spelled = derived(self, "catalogue.code_spellings", _code_spellings)
        close = difflib.get_close_matches(normalise_code(code), list(spelled), n=n)
        return [spelled[c] for c in close]

    def unknown_code_hint(self, code: str) -> str:
        """The hint for a code that names no indicator."""
        close = self.close_codes(code)
        if close:
            return f"did you mean '{close[0]}'?"
        return "use an id from config/kpis.yaml (python -m kpis template lists them)"

    @property
    def indicator_ids(self) -> list[str]:
        return [i.id for i in self.indicators]

    def workstream(self, workstream_id: str) -> Workstream:
        return next(w for w in self.workstreams if w.id == workstream_id)

    def in_workstream(self, workstream_id: str) -> list[Indicator]:
        return [i for i in self.indicators if i.workstream == workstream_id]

    def tolerance_for(self, indicator: Indicator) -> float:
        return self.tolerance if indicator.tolerance is None else indicator.tolerance

    @property
    def home_code(self) -> str:
        """The home area's code ('' when the catalogue names none)."""
        return self.home_area.code if self.home_area is not None else ""

    @property
    def area_names(self) -> dict[str, str]:
        """Every area code (the home area's first) → its name."""
        home = {self.home_area.code: self.home_area.name} if self.home_area is not None else {}
        return {**home, **{a.code: a.name for a in self.areas}}

    def area_kind(self, code: str) -> str:
        """``home``, or the declared kind of an area."""
        if code == self.home_code:
            return "home"
        return next((a.kind.value for a in self.areas if a.code == code), AreaKind.OTHER.value)

    def breakdown(self, breakdown_id: str) -> Breakdown:
        """The breakdown of an id; KeyError if none."""
        return derived(self, "catalogue.breakdowns", lambda c: {b.id: b for b in c.breakdowns})[breakdown_id]

    def benchmark_for(self, indicator: Indicator) -> str | None:
        """The area an indicator is compared with: its ``benchmark``, else England if declared."""
        if indicator.benchmark is not None:
            return indicator.benchmark
        return ENGLAND_CODE if any(a.code == ENGLAND_CODE for a in self.areas) else None

    def lag_for(self, indicator: Indicator) -> int:
        """Months behind the report month that ``indicator``'s figure normally arrives."""
        return self.lag if indicator.lag is None else indicator.lag

    def suppress_below_for(self, indicator: Indicator) -> int:
        return self.suppress_below if indicator.suppress_below is None else indicator.suppress_below

    def spc_for(self, indicator: Indicator) -> SpcSettings:
        """The indicator's SPC settings: the top-level ``spc`` with the keys of its own
        block laid over it."""
        return merge_settings(self.spc, indicator.spc)

    @property
    def spc_settings(self) -> dict[str, SpcSettings]:
        """Every indicator's :meth:`spc_for`, by id (made once per catalogue)."""
        return derived(self, "catalogue.spc_settings", lambda c: {i.id: c.spc_for(i) for i in c.indicators})


def _code_map(catalogue: Catalogue) -> dict[str, str]:
    return {normalise_code(code): i.id for i in catalogue.indicators for code in (i.id, *i.aliases)}


def _code_spellings(catalogue: Catalogue) -> dict[str, str]:
    return {normalise_code(code): code for i in catalogue.indicators for code in (i.id, *i.aliases)}


_DERIVED: dict[int, dict[str, Any]] = {}


def derived(catalogue: Catalogue, name: str, factory: Callable[[Catalogue], Any]) -> Any:
    """``factory(catalogue)``, computed once per catalogue object (models are frozen, so
    what is derived from one never changes). Dropped when the catalogue is."""
    key = id(catalogue)
    cache = _DERIVED.get(key)
    if cache is None:
        cache = _DERIVED[key] = {}
        weakref.finalize(catalogue, _DERIVED.pop, key, None)
    if name not in cache:
        cache[name] = factory(catalogue)
    return cache[name]
