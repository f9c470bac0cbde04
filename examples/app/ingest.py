"""Ingestion: a Pipeline run by the TaskManager, one task per record.

parse -> validate -> reject duplicates -> transform -> plugins' fields -> encrypt
personal fields -> storage.save -> publish ``customers.stored``. Every rejected record is counted
by reason; nothing invalid reaches storage.
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections import Counter
from pathlib import Path
from typing import Any

import attrs

from app.domain import CUSTOMER, PERSONAL_FIELDS, CustomerStored, normalize_phone
from app.observability import AppMetrics
from app.plugins import enrich
from pepperpy.core.exceptions import ConflictError, ErrorDetail, PepperPyError, ValidationError
from pepperpy.dev import progress
from pepperpy.event import EventManager
from pepperpy.io import iter_lines
from pepperpy.logging import Logging
from pepperpy.pipeline import Pipeline, StepError
from pepperpy.plugin import PluginManager
from pepperpy.security import Security, mask
from pepperpy.storage import Storage
from pepperpy.task import TaskManager

log = Logging.get_logger("example.ingest")


@attrs.frozen
class Line:
    """One line of the data set and its 1-based number."""

    number: int
    text: str


@attrs.define
class IngestResult:
    """What one ingestion run did."""

    read: int = 0
    accepted: int = 0
    rejected: int = 0
    reasons: Counter[str] = attrs.Factory(Counter)
    examples: dict[str, int] = attrs.Factory(dict)  # reason -> first line number
    seconds: float = 0.0
    latencies: list[float] = attrs.Factory(list)

    @property
    def throughput(self) -> float:
        return self.read / self.seconds if self.seconds else 0.0


def rejection_reasons(error: BaseException) -> list[str]:
    """Short, stable reasons for a rejected record (one per problem found)."""
    if isinstance(error, ValidationError) and error.errors:
        return [f"{detail.path} {detail.code}".strip() for detail in error.errors]
    if isinstance(error, PepperPyError):
        return [error.code.rsplit(".", 1)[-1]]
    return [type(error).__name__]


def parse(line: Line) -> dict[str, Any]:
    """Decode one JSON line; a broken line is a ValidationError like any other."""
    try:
        value = json.loads(line.text)
    except json.JSONDecodeError as exc:
        detail = ErrorDetail("", f"not valid JSON: {exc.msg}", code="malformed_json")
        raise ValidationError(f"line {line.number} is not JSON", errors=[detail]) from None
    if not isinstance(value, dict):
        detail = ErrorDetail("", "a record must be a JSON object", code="not_an_object")
        raise ValidationError(f"line {line.number} is not an object", errors=[detail])
    return value


class Ingestor:
    """Loads the data set into storage. Wired by the registry from its type hints."""

    def __init__(
        self,
        storage: Storage,
        security: Security,
        events: EventManager,
        tasks: TaskManager,
        metrics: AppMetrics,
        plugins: PluginManager,
    ) -> None:
        self.storage = storage
        self.plugins = plugins
        self.security = security
        self.events = events
        self.tasks = tasks
        self.metrics = metrics
        self._seen: set[str] = set()
        self.pipeline = (
            Pipeline("customers")
            .add_step(parse)
            .add_step(CUSTOMER.validate, name="validate")  # the seed's validator.validate
            .add_step(self.reject_duplicates)
            .add_step(self.transform_data)
            .add_step(self.enrich)  # fields added by plugins
            .add_step(self.protect)
            .add_step(self.save)
            .add_step(self.announce)
        )

    def reject_duplicates(self, record: dict[str, Any]) -> dict[str, Any]:
        # A sync step: check and add happen with no await in between, so no race.
        if record["id"] in self._seen:
            raise ConflictError(
                f"customer {record['id']} appears twice in the data set",
                code="pepperpy.example.duplicate_id",
                context={"id": record["id"]},
                hint="Keep one record per id.",
            )
        self._seen.add(record["id"])
        return record

    @staticmethod
    def transform_data(record: dict[str, Any]) -> dict[str, Any]:
        return {**record, "phone": normalize_phone(record["phone"])}

    def enrich(self, record: dict[str, Any]) -> dict[str, Any]:
        return enrich(self.plugins, record)

    def protect(self, record: dict[str, Any]) -> dict[str, Any]:
        """Encrypt personal fields (XChaCha20-Poly1305, bound to the record's id)."""
        out = dict(record)
        context = record["id"].encode()
        for field in PERSONAL_FIELDS:
            plain = str(record[field])
            sealed = self.security.encrypt(plain.encode(), context=context)
            out[field] = base64.urlsafe_b64encode(sealed).decode()
            out[f"{field}_masked"] = mask(plain, keep_start=2, keep_end=4)
        out["encrypted"] = list(PERSONAL_FIELDS)
        return out

    async def save(self, record: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        key = await self.storage.save(record)  # "records/<id>"
        return key, record

    async def announce(self, saved: tuple[str, dict[str, Any]]) -> str:
        key, record = saved
        event = CustomerStored(key, record["id"], record["country"], record["plan"], record["age"])
        await self.events.publish(event)
        return key

    async def _one(self, line: Line, result: IngestResult, bar: Any) -> None:
        started = time.perf_counter()
        try:
            await self.pipeline.process(line)
        except StepError as error:
            cause = error.cause if error.cause is not None else error
            reasons = rejection_reasons(cause)
            result.rejected += 1
            for reason in reasons:
                result.reasons[reason] += 1
                result.examples.setdefault(reason, line.number)
            self.metrics.records.labels(outcome="rejected").inc()
            log.debug(
                "rejected line {}: {}",
                line.number,
                "; ".join(reasons),
                extra={"line": line.number, "step": error.step, "reasons": reasons},
            )
        else:
            result.accepted += 1
            self.metrics.records.labels(outcome="accepted").inc()
        finally:
            elapsed = time.perf_counter() - started
            result.latencies.append(elapsed)
            self.metrics.record_seconds.observe(elapsed)
            bar.update()

    async def run(self, path: Path) -> IngestResult:
        """Read *path* (JSON lines) and take every record through the pipeline."""
        lines: list[Line] = []
        async for text in iter_lines(path):  # pepperpy-io: one thread hop per block
            if text.strip():
                lines.append(Line(len(lines) + 1, text))
        result = IngestResult(read=len(lines))
        await log.info("ingesting {} records from {}", len(lines), path.name)
        bar = progress(None, total=len(lines), desc="ingest")
        started = time.perf_counter()
        handles = [
            self.tasks.submit(self._one, line, result, bar, name=f"ingest-{line.number}")
            for line in lines
        ]
        await asyncio.gather(*handles)  # TaskManager bounds how many run at once
        await self.events.drain()  # every customers.stored event applied
        result.seconds = time.perf_counter() - started
        bar.close()
        await log.info(
            "ingested {} records: {} accepted, {} rejected",
            result.read,
            result.accepted,
            result.rejected,
        )
        return result
