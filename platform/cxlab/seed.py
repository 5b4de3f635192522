"""Synthetic respondents with a planted driver structure, for demos, tests and benchmarks.

Every rating item (rating questions, matrix rows) gets a latent satisfaction ``z``
(standard normal, sharing a mild "halo" factor as real answers do). The outcome (the
survey's first nps question) is a weighted sum of the item latents plus noise: a few
items get a strong weight, the rest almost none. So a driver analysis run on seeded
data has a known right answer, :class:`DriverPlan`. Items also differ in how well they
perform (their mean), segments (stores, departments) differ a little, and the outcome
drifts over time.

The same ``seed`` always gives the same data.

>>> from cxlab.surveys import EXAMPLES_DIR, load_definition
>>> definition = load_definition(EXAMPLES_DIR / "restaurant_visit.yaml")
>>> frame = generate_responses(definition, 1000, seed=7)
>>> len(frame), int(frame["nps"].between(0, 10).all())
(1000, 1)
>>> plan_drivers(definition, seed=7).strong
('wait_time', 'staff_friendliness', 'food_quality')
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import select

from cxlab.db import Database
from cxlab.db.models import Response, Survey
from cxlab.errors import CxlabError
from cxlab.surveys.definition import Condition, SurveyDefinition
from cxlab.surveys.types import SeedContext, question_type
from cxlab.surveys.types.scales import with_missing

HALO = 0.45  # loading of every item on general satisfaction
GROUP_LOADING = 0.6  # loading on its own scale (``group``), so multi-item scales cohere
STRONG_WEIGHTS = (0.55, 0.45, 0.35)
WEAK_WEIGHT = 0.03
OUTCOME_NOISE = 0.6
TREND_OVER_PERIOD = 0.25  # outcome latent gains this much from start to end
INSERT_CHUNK = 20_000

COMMENTS = {
    "low": [
        "料理が出てくるまでかなり待たされました。",
        "店員さんの対応がそっけなかったです。",
        "The food took far too long to arrive.",
        "Staff seemed uninterested in helping us.",
        "料理が冷めていて残念でした。",
        "Too expensive for what we got.",
    ],
    "mid": [
        "普通でした。もう少し早く提供してほしいです。",
        "Fine overall, but the wait was a bit long.",
        "メニューがもう少し豊富だと嬉しいです。",
        "Decent food, nothing special.",
    ],
    "high": [
        "スタッフの皆さんがとても親切でした！",
        "料理がとても美味しかったです。また来ます。",
        "Friendly staff and great food, thank you!",
        "Quick service and everything was delicious.",
        "いつも気持ちよく利用させていただいています。",
    ],
}


# What employees write in an employee survey (``kind: ex``).
EX_COMMENTS = {
    "low": [
        "業務量が多すぎて、残業が続いています。",
        "評価の基準がわかりにくいです。",
        "I rarely get feedback from my manager.",
        "There is no clear path to grow here.",
        "部署間の連携がうまくいっていません。",
    ],
    "mid": [
        "仕事内容には満足していますが、研修をもっと増やしてほしいです。",
        "The team is good, but workloads are uneven.",
        "在宅勤務の制度をもっと柔軟にしてほしいです。",
    ],
    "high": [
        "上司がいつも相談に乗ってくれて、働きやすいです。",
        "I feel trusted and supported by my team.",
        "新しいことに挑戦させてもらえる職場です。",
        "Great colleagues and meaningful work.",
    ],
}


@dataclass(frozen=True)
class DriverPlan:
    """The planted truth: how strongly each item drives the outcome, and its mean."""

    outcome: str
    weights: dict[str, float]
    item_shift: dict[str, float]

    @property
    def strong(self) -> tuple[str, ...]:
        """The strong drivers, strongest first."""
        ranked = sorted(self.weights, key=self.weights.get, reverse=True)
        return tuple(item for item in ranked if self.weights[item] > WEAK_WEIGHT)


@dataclass(frozen=True)
class SeedResult:
    plan: DriverPlan
    inserted: int
    first_id: int
    last_id: int


def plan_drivers(definition: SurveyDefinition, *, seed: int = 0) -> DriverPlan:
    """Choose which items drive the outcome, deterministically from ``seed``.

    For the shipped restaurant survey the strong drivers are fixed to a realistic
    story (waiting time, staff, food); for any other survey three items are drawn.
    """
    roles = definition.roles()
    if roles.outcome is None:
        raise CxlabError(f"survey {definition.slug!r} has no nps question to act as outcome")
    items = list(roles.items)
    if len(items) < 2:
        raise CxlabError(
            f"survey {definition.slug!r} needs at least two rating questions to seed "
            "a driver structure"
        )
    rng = np.random.default_rng([seed, 1])
    story = [item for item in ("wait_time", "staff_friendliness", "food_quality") if item in items]
    strong = story if len(story) == 3 else list(rng.choice(items, size=min(3, len(items) - 1),
                                                           replace=False))
    weights = {item: WEAK_WEIGHT for item in items}
    weights.update(zip(strong, STRONG_WEIGHTS, strict=False))
    # Item means: one strong driver performs poorly ("fix first"), another well ("keep").
    shifts = {item: float(rng.uniform(-0.3, 0.6)) for item in items}
    shifts[strong[0]] = -0.7
    if len(strong) > 1:
        shifts[strong[1]] = 0.7
    return DriverPlan(outcome=roles.outcome, weights=weights, item_shift=shifts)


def generate_responses(
    definition: SurveyDefinition,
    count: int,
    *,
    seed: int = 0,
    start: datetime | None = None,
    end: datetime | None = None,
) -> pd.DataFrame:
    """``count`` synthetic responses: one column per question (multi → lists, a
    matrix: one per row, as stored), one per attribute, and ``submitted_at`` (UTC,
    ascending) from ``start`` to ``end`` (default: the 90 days up to now, so that "last 7
    days" and this week's report have answers whenever the demo runs; pass ``end`` for
    the same dates every time)."""
    end = end or datetime.now(UTC)
    start = start or end - timedelta(days=90)
    if end <= start:
        raise CxlabError("seed: the end of the date range must be after its start")
    rng = np.random.default_rng(seed)
    plan = plan_drivers(definition, seed=seed)
    columns: dict[str, Any] = {}

    offsets = np.sort(rng.uniform(0, (end - start).total_seconds(), size=count))
    columns["submitted_at"] = pd.to_datetime(start) + pd.to_timedelta(offsets, unit="s")
    progress_in_period = offsets / max(offsets[-1] if count else 1, 1)

    segment_effect = np.zeros(count)
    for attribute in definition.attributes:
        values = list(attribute.values) or [f"{attribute.name}-{i:02d}" for i in range(1, 7)]
        # Unequal segment sizes, like real stores; the last one is small.
        sizes = np.linspace(1.0, 0.15, num=len(values)) ** 2
        codes = rng.choice(len(values), size=count, p=sizes / sizes.sum())
        columns[attribute.name] = np.asarray(values, dtype=object)[codes]
        segment_effect += rng.normal(0, 0.25, size=len(values))[codes]

    halo = rng.standard_normal(count) + segment_effect
    group_factors: dict[str, np.ndarray] = {}
    outcome_latent = np.zeros(count)
    for item_id, weight in plan.weights.items():
        item = definition.item(item_id)
        if item.group:
            group = group_factors.setdefault(item.group, rng.standard_normal(count))
            unique = np.sqrt(1 - HALO**2 - GROUP_LOADING**2) * rng.standard_normal(count)
            latent = HALO * halo + GROUP_LOADING * group + unique
        else:
            latent = HALO * halo + np.sqrt(1 - HALO**2) * rng.standard_normal(count)
        outcome_latent += weight * latent
        low, high = item.scale
        rating = np.rint((low + high) / 2 + (high - low) / 4 * (plan.item_shift[item_id] + latent))
        columns[item_id] = with_missing(np.clip(rating, low, high), item.required, rng)
    outcome_latent += OUTCOME_NOISE * rng.standard_normal(count)
    outcome_latent += TREND_OVER_PERIOD * progress_in_period
    scaled = 7.2 + 2.2 * outcome_latent / outcome_latent.std() if count > 1 else outcome_latent + 7
    columns[plan.outcome] = pd.Series(np.clip(np.rint(scaled), 0, 10)).astype("Int64")

    context = SeedContext(count=count, rng=rng, columns=columns, outcome=plan.outcome,
                          comments=EX_COMMENTS if definition.kind == "ex" else COMMENTS)
    for question in definition.questions:
        if question.id not in columns:
            generated = question_type(question.type).seed(question, context)
            if generated is not None:
                columns[question.id] = generated

    frame = pd.DataFrame(columns)
    for question in definition.questions:
        if question.show_if is not None:
            hidden = ~_condition_mask(question.show_if, frame)
            # A matrix's answer lives in its rows' columns; any other, in its own.
            kind = question_type(question.type)
            names = [name for name in kind.column_names(question.id, kind.parts(question))
                     if name in frame] or [question.id]
            for name in names:
                frame.loc[hidden, name] = None
    return frame


def _condition_mask(condition: Condition, frame: pd.DataFrame) -> np.ndarray:
    """Vectorised :meth:`Condition.holds` over a frame of generated answers."""
    column = frame[condition.question]
    if column.dtype == object and column.map(lambda v: isinstance(v, list)).any():
        return np.array([condition.holds({condition.question: v}) for v in column])
    answered = column.notna().to_numpy()
    operand = condition.operand
    match condition.operator:
        case "answered":
            return answered == bool(operand)
        case "equals":
            return answered & (column == operand).fillna(False).to_numpy(dtype=bool)
        case "not_equals":
            return answered & (column != operand).fillna(False).to_numpy(dtype=bool)
        case "in":
            return answered & column.isin(operand).to_numpy(dtype=bool)
        case "not_in":
            return answered & ~column.isin(operand).to_numpy(dtype=bool)
        case "min":
            return answered & (column >= operand).fillna(False).to_numpy(dtype=bool)
        case "max":
            return answered & (column <= operand).fillna(False).to_numpy(dtype=bool)
    raise AssertionError(condition.operator)


# ---------------------------------------------------------------- writing


def seed_responses(
    database: Database,
    survey: Survey,
    definition: SurveyDefinition,
    count: int,
    *,
    seed: int = 0,
    start: datetime | None = None,
    end: datetime | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> SeedResult:
    """Generate ``count`` synthetic responses and insert them as complete responses of
    ``survey`` (a survey the database holds already).

    The whole frame is generated at once (vectorised; about 0.5 GB for a million
    rows), then written in one transaction by chunks through the driver's fastest
    path (executemany on SQLite, COPY on PostgreSQL); ``on_progress`` gets each
    chunk's row count.
    """
    plan = plan_drivers(definition, seed=seed)
    frame = generate_responses(definition, count, seed=seed, start=start, end=end)
    with database.engine.begin() as connection:
        last_before = connection.scalar(
            select(Response.id).order_by(Response.id.desc()).limit(1)
        ) or 0
        raw = connection.connection.driver_connection
        for chunk_start in range(0, count, INSERT_CHUNK):
            chunk = frame.iloc[chunk_start : chunk_start + INSERT_CHUNK]
            rows = _response_rows(chunk, definition, survey)
            if database.engine.dialect.name == "sqlite":
                raw.executemany(_SQLITE_INSERT, rows)
            else:
                _copy_rows(raw, rows)
            if on_progress:
                on_progress(len(chunk))
        last_id = connection.scalar(
            select(Response.id).order_by(Response.id.desc()).limit(1)
        ) or 0
    return SeedResult(plan=plan, inserted=count, first_id=last_before + 1, last_id=last_id)


_COLUMNS = (
    "tenant_id", "survey_id", "survey_version", "status", "submitted_at", "answers",
    "attributes", "created_at",
)
_SQLITE_INSERT = (
    f"INSERT INTO responses ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' * len(_COLUMNS))})"
)


def _response_rows(
    frame: pd.DataFrame, definition: SurveyDefinition, survey: Survey
) -> Iterator[tuple]:
    question_ids = [q.id for q in definition.questions]
    attribute_names = [a.name for a in definition.attributes]
    answer_columns = [question_type(q.type).answers_from_frame(q, frame)
                      for q in definition.questions]
    attribute_columns = [frame[name].tolist() for name in attribute_names]
    # SQLAlchemy's SQLite DateTime format; PostgreSQL reads the same text with a zone.
    stamps = frame["submitted_at"].dt.strftime("%Y-%m-%d %H:%M:%S.%f").tolist()
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    for index, stamp in enumerate(stamps):
        answers = {
            qid: column[index]
            for qid, column in zip(question_ids, answer_columns, strict=True)
            if column[index] is not None
        }
        attributes = {
            name: column[index] for name, column in zip(attribute_names, attribute_columns,
                                                        strict=True)
        }
        yield (
            survey.tenant_id, survey.id, survey.version, "complete", stamp,
            dumps(answers), dumps(attributes), now,
        )


def _copy_rows(raw_connection: Any, rows: Iterator[tuple]) -> None:
    with raw_connection.cursor() as cursor, cursor.copy(
        f"COPY responses ({', '.join(_COLUMNS)}) FROM STDIN"
    ) as copy:
        for row in rows:
            stamped = (*row[:4], row[4] + "+00", row[5], row[6], row[7] + "+00")
            copy.write_row(stamped)
