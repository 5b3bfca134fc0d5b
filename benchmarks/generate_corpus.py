#!/usr/bin/env python3
"""Generate a deterministic, synthetic, Prefect-heavy corpus of Python modules.

The corpus imitates what a data team keeps in a Prefect 3 repository: ETL
pipelines, task libraries, orchestration modules, async flows and plain
utility modules.  The modules use the usual import spellings (``from prefect
import flow, task``, ``import prefect``, ``from prefect import flow as f``,
``from prefect.futures import wait, as_completed`` ...), decorated sync and
async tasks and flows, ``.submit()``/``.map()``/``wait()``/``.result()``,
loops, comprehensions, helpers, classes, docstrings, type hints and
try/except, plus occasional deliberate mistakes (``child_flow.submit()``,
``from prefect import wait``) that a Prefect linter is expected to report.

Output depends only on ``--files`` and ``--seed``: file ``i`` is built from
its own ``random.Random`` seeded with ``(seed, i)``, so a corpus of N files is
a prefix of a corpus of N + k files.  Every module is checked with
``compile()``; the CLI also parses each one with ``libcst.parse_module``
(skip with ``--no-verify``).

Usage::

    python benchmarks/generate_corpus.py OUT_DIR [--files N] [--seed S]
"""

from __future__ import annotations

import argparse
import random
import re
import sys
import textwrap
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from string import Template

DEFAULT_FILES = 200
DEFAULT_SEED = 2024

# --------------------------------------------------------------------------
# Vocabulary
# --------------------------------------------------------------------------

DOMAINS: tuple[str, ...] = (
    "orders",
    "customers",
    "invoices",
    "payments",
    "shipments",
    "inventory",
    "sessions",
    "events",
    "products",
    "reviews",
    "tickets",
    "campaigns",
    "leads",
    "accounts",
    "transactions",
    "subscriptions",
    "devices",
    "sensors",
    "metrics",
    "users",
    "vendors",
    "claims",
    "forecasts",
    "experiments",
    "features",
    "refunds",
    "listings",
    "bookings",
    "deliveries",
    "surveys",
)
IRREGULAR_SINGULAR: dict[str, str] = {
    "inventory": "stock_item",
    "deliveries": "delivery",
}
AREAS: tuple[str, ...] = (
    "ingest",
    "transform",
    "reporting",
    "ml",
    "ops",
    "backfills",
    "exports",
    "quality",
)
SOURCES: tuple[str, ...] = (
    "s3",
    "postgres",
    "snowflake",
    "bigquery",
    "stripe",
    "sftp",
    "gcs",
    "redshift",
    "kafka",
    "salesforce",
    "hubspot",
    "zendesk",
)
ALL_REGIONS: tuple[str, ...] = (
    "us-east-1",
    "us-west-2",
    "eu-west-1",
    "eu-central-1",
    "ap-southeast-2",
    "sa-east-1",
)
NUMERIC_FIELDS: tuple[str, ...] = (
    "amount",
    "quantity",
    "score",
    "total",
    "price",
    "weight",
    "duration",
    "revenue",
    "cost",
)
TEXT_FIELDS: tuple[str, ...] = (
    "email",
    "sku",
    "channel",
    "country",
    "currency",
    "customer_id",
    "device_id",
    "category",
    "source_system",
)
SCHEMAS: tuple[str, ...] = ("raw", "staging", "analytics", "marts", "landing")
FLOW_SUFFIXES: tuple[str, ...] = (
    "pipeline",
    "etl",
    "sync",
    "daily",
    "refresh",
    "ingest",
    "backfill",
    "rollup",
)
MODULE_SUFFIXES: dict[str, tuple[str, ...]] = {
    "pipeline": ("pipeline", "etl", "flow", "sync", "job", "daily"),
    "async_pipeline": ("async_ingest", "stream", "realtime", "poller"),
    "tasks_library": ("tasks", "steps", "operations", "loaders"),
    "orchestration": ("orchestration", "deployments", "main", "schedule"),
    "utils": ("utils", "helpers", "models", "common", "schemas"),
    "big": ("platform", "pipelines", "workflows", "jobs"),
}

# --------------------------------------------------------------------------
# Module-level constants and helper functions, added on demand when the
# generated code refers to them.  Templates use ``string.Template`` syntax.
# --------------------------------------------------------------------------

CONSTANTS: dict[str, str] = {
    "log": "log = logging.getLogger(__name__)",
    "BASE_URL": 'BASE_URL = os.environ.get("${NOUN}_API_URL", "https://$source.example.com/api/v$api_version")',
    "REQUEST_TIMEOUT": "REQUEST_TIMEOUT = $timeout",
    "MAX_RETRIES": "MAX_RETRIES = $retries",
    "DEFAULT_BATCH_SIZE": "DEFAULT_BATCH_SIZE = $batch",
    "OUTPUT_DIR": (
        'OUTPUT_DIR = Path(os.environ.get("PIPELINE_OUTPUT_DIR", "/tmp/$area")) / "$noun"'
    ),
    "RAW_DIR": 'RAW_DIR = Path(os.environ.get("RAW_DATA_DIR", "/data/raw"))',
    "BUCKET": 'BUCKET = os.environ.get("DATA_BUCKET", "acme-$area-$env")',
    "REQUIRED_FIELDS": 'REQUIRED_FIELDS: tuple[str, ...] = ("id", "$f2", "$f3")',
    "MAX_ERROR_RATE": "MAX_ERROR_RATE = $error_rate",
    "REGIONS": "REGIONS: list[str] = [$regions]",
    "ALERT_THRESHOLD": "ALERT_THRESHOLD = $threshold",
    "WAREHOUSE_DSN": 'WAREHOUSE_DSN = os.environ.get("WAREHOUSE_DSN", "postgresql+psycopg://etl@warehouse:5432/analytics")',
}
CONSTANT_PATTERNS: dict[str, str] = {"log": r"\blog\."}

HELPERS: dict[str, str] = {
    "utc_now": r'''
def utc_now() -> datetime:
    """Return the current time as an aware UTC datetime."""
    return datetime.now(timezone.utc)
''',
    "safe_float": r'''
def safe_float(value: Any, default: float = 0.0) -> float:
    """Convert ``value`` to float, falling back to ``default``."""
    if value is None or value == "":
        return default
    try:
        return float(value)
    except (TypeError, ValueError):
        return default
''',
    "parse_timestamp": r'''
def parse_timestamp(value: str | None) -> datetime | None:
    """Parse an ISO-8601 timestamp; return None for junk."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        log.debug("unparseable timestamp %r", value)
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)
''',
    "stable_hash": r'''
def stable_hash(record: Mapping[str, Any]) -> str:
    """Hash a record independently of key order."""
    payload = json.dumps(record, sort_keys=True, default=str)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()
''',
    "chunked": r'''
def chunked(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    """Yield lists of at most ``size`` items."""
    if size <= 0:
        raise ValueError("size must be positive")
    batch: list[Any] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch
''',
    "warehouse_connection": r'''
@contextmanager
def warehouse_connection(dsn: str = WAREHOUSE_DSN) -> Iterator[Any]:
    """Open a short-lived warehouse connection."""
    engine = sa.create_engine(dsn, pool_pre_ping=True)
    conn = engine.connect()
    try:
        yield conn
    finally:
        conn.close()
        engine.dispose()
''',
    "build_partitions": r'''
def build_partitions(run_date: str, days: int = 1, regions: Iterable[str] = ()) -> list[str]:
    """Return ``date`` or ``date/region`` partition keys, newest first."""
    start = date.fromisoformat(run_date)
    dates = [(start - timedelta(days=offset)).isoformat() for offset in range(days)]
    regions = list(regions)
    if not regions:
        return dates
    return [f"{day}/{region}" for day in dates for region in regions]
''',
    "summarize": r'''
def summarize(records: list[dict[str, Any]], key: str = "$f2") -> dict[str, float]:
    """Compute simple statistics for one numeric column."""
    values = [safe_float(row.get(key)) for row in records]
    if not values:
        return {"count": 0, "total": 0.0, "mean": 0.0}
    return {
        "count": len(values),
        "total": round(sum(values), 2),
        "mean": round(statistics.fmean(values), 4),
        "max": max(values),
    }
''',
    "retry_call": r'''
def retry_call(func: Callable[[], Any], attempts: int = MAX_RETRIES, delay: float = 1.0) -> Any:
    """Call ``func`` until it succeeds, backing off exponentially."""
    last_error: Exception | None = None
    for attempt in range(attempts):
        try:
            return func()
        except Exception as exc:  # noqa: BLE001 - retried below
            last_error = exc
            time.sleep(delay * 2**attempt)
    raise RuntimeError(f"gave up after {attempts} attempts") from last_error
''',
    "env_flag": r'''
def env_flag(name: str, default: bool = False) -> bool:
    """Read a boolean feature flag from the environment."""
    raw = os.environ.get(name)
    if raw is None:
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}
''',
    "format_duration": r'''
def format_duration(seconds: float) -> str:
    """Render a duration as ``1h02m``, ``3m05s`` or ``12s``."""
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours}h{minutes:02d}m"
    return f"{minutes}m{secs:02d}s" if minutes else f"{secs}s"
''',
    "mask_email": r'''
def mask_email(value: str) -> str:
    """Hide the local part of an e-mail address."""
    match = re.match(r"^([^@]{1,2})[^@]*(@.+)$$", value or "")
    if match is None:
        return value
    return f"{match.group(1)}***{match.group(2)}"
''',
    "timed": r'''
def timed(func: Callable[..., Any]) -> Callable[..., Any]:
    """Log how long the wrapped function took."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return func(*args, **kwargs)
        finally:
            log.info("%s took %.2fs", func.__name__, time.perf_counter() - started)

    return wrapper
''',
    "group_by": r'''
def group_by(records: Iterable[dict[str, Any]], key: str) -> dict[str, list[dict[str, Any]]]:
    """Group records by the value of ``key``."""
    groups: defaultdict[str, list[dict[str, Any]]] = defaultdict(list)
    for record in records:
        groups[str(record.get(key, "unknown"))].append(record)
    return dict(groups)
''',
}
HELPER_ORDER: tuple[str, ...] = tuple(HELPERS)
SHARED_HELPER_MODULES: tuple[str, ...] = (
    "common.utils",
    "common.helpers",
    "{area}.common",
    "common.io",
)
LOCAL_ROOTS: tuple[str, ...] = (*AREAS, "common")

# Automatic imports: (regex, import line) and (regex, module, name).
PLAIN_IMPORTS: tuple[tuple[str, str], ...] = (
    (r"\bargparse\.", "import argparse"),
    (r"\basyncio\.", "import asyncio"),
    (r"\bcsv\.", "import csv"),
    (r"\bfunctools\.", "import functools"),
    (r"\bgzip\.", "import gzip"),
    (r"\bhashlib\.", "import hashlib"),
    (r"\bitertools\.", "import itertools"),
    (r"\bjson\.", "import json"),
    (r"\blogging\.", "import logging"),
    (r"\bmath\.", "import math"),
    (r"\bos\.", "import os"),
    (r"\brandom\.", "import random"),
    (r"\bre\.", "import re"),
    (r"\bstatistics\.", "import statistics"),
    (r"\btime\.", "import time"),
    (r"\buuid\.", "import uuid"),
)
THIRD_PARTY_IMPORTS: tuple[tuple[str, str], ...] = (
    (r"\bboto3\.", "import boto3"),
    (r"\bhttpx\.", "import httpx"),
    (r"\bpd\.", "import pandas as pd"),
    (r"\bsa\.", "import sqlalchemy as sa"),
)
FROM_IMPORTS: tuple[tuple[str, str, str], ...] = (
    (r"\bdefaultdict\b", "collections", "defaultdict"),
    (r"\bCounter\b", "collections", "Counter"),
    (r"\bCallable\b", "collections.abc", "Callable"),
    (r"\bIterable\b", "collections.abc", "Iterable"),
    (r"\bIterator\b", "collections.abc", "Iterator"),
    (r"\bMapping\b", "collections.abc", "Mapping"),
    (r"\bcontextmanager\b", "contextlib", "contextmanager"),
    (r"@dataclass\b", "dataclasses", "dataclass"),
    (r"\bfield\(", "dataclasses", "field"),
    (r"\bdate\.", "datetime", "date"),
    (r"\bdatetime\b", "datetime", "datetime"),
    (r"\btimedelta\(", "datetime", "timedelta"),
    (r"\btimezone\.", "datetime", "timezone"),
    (r"\bEnum\b", "enum", "Enum"),
    (r"\bPath\b", "pathlib", "Path"),
    (r"\bAny\b", "typing", "Any"),
    (r"\bTypedDict\b", "typing", "TypedDict"),
    (r"\bNamedTuple\b", "typing", "NamedTuple"),
    (r"\bBaseModel\b", "pydantic", "BaseModel"),
    (r"\bConfigDict\(", "pydantic", "ConfigDict"),
    (r"\bfield_validator\b", "pydantic", "field_validator"),
)
THIRD_PARTY_MODULES = frozenset({"pydantic"})

# Prefect names and where they live.
PREFECT_TOP_LEVEL = frozenset(
    {"flow", "task", "get_run_logger", "unmapped", "allow_failure", "tags"}
)
PREFECT_FUTURES = frozenset({"wait", "as_completed"})
PREFECT_OTHER: dict[str, str] = {
    "ThreadPoolTaskRunner": "prefect.task_runners",
    "task_input_hash": "prefect.tasks",
    "INPUTS": "prefect.cache_policies",
    "TASK_SOURCE": "prefect.cache_policies",
    "create_markdown_artifact": "prefect.artifacts",
    "create_table_artifact": "prefect.artifacts",
    "Variable": "prefect.variables",
    "Secret": "prefect.blocks.system",
    "flow_run": "prefect.runtime",
}

# --------------------------------------------------------------------------
# Task templates: (kind, verbs, signature, returns, body).  ``$p`` is the
# primary parameter name for source tasks.
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class TaskTemplate:
    kind: str  # source | transform | summary | sink | report
    verbs: tuple[str, ...]
    signature: str
    returns: str
    body: str
    is_async: bool = False
    weight: int = 10


RECORDS = "list[dict[str, Any]]"
SOURCE_SIG = "$p: str, region: str | None = None, limit: int | None = None"

TASK_TEMPLATES: tuple[TaskTemplate, ...] = (
    TaskTemplate(
        "source",
        ("fetch", "extract", "pull"),
        SOURCE_SIG,
        RECORDS,
        r'''
"""Fetch $noun for one $p from the $source API."""
logger = $get_run_logger()
params: dict[str, Any] = {"date": $p, "page_size": $page_size}
if region:
    params["region"] = region
records: list[dict[str, Any]] = []
url: str | None = f"{BASE_URL}/$noun"
while url:
    response = httpx.get(url, params=params, timeout=REQUEST_TIMEOUT)
    response.raise_for_status()
    payload = response.json()
    records.extend(payload.get("data", []))
    url = payload.get("next")
    params = {}
    if limit is not None and len(records) >= limit:
        break
logger.info("fetched %d $noun for %s", len(records), $p)
return records[:limit] if limit else records
''',
    ),
    TaskTemplate(
        "source",
        ("query", "extract", "read"),
        SOURCE_SIG,
        RECORDS,
        r'''
"""Read $noun changed since ``$p`` from the warehouse."""
query = f"""
    SELECT id, $f2, $f3, region, updated_at
    FROM $schema.$noun
    WHERE updated_at >= '{$p}'
    ORDER BY updated_at
"""
if region is not None:
    query = query.replace("ORDER BY", f"AND region = '{region}'\n    ORDER BY")
if limit:
    query += f" LIMIT {int(limit)}"
with warehouse_connection() as conn:
    rows = conn.execute(sa.text(query)).mappings().all()
return [dict(row) for row in rows]
''',
    ),
    TaskTemplate(
        "source",
        ("read", "load_raw", "collect"),
        SOURCE_SIG,
        RECORDS,
        r'''
"""Load raw $noun exports for ``$p`` from disk."""
root = RAW_DIR / "$noun" / $p
records = []
for path in sorted(root.glob("*.json*")):
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as handle:
        for line in handle:
            line = line.strip()
            if line:
                records.append(json.loads(line))
if region is not None:
    records = [row for row in records if row.get("region") == region]
return records if limit is None else records[:limit]
''',
    ),
    TaskTemplate(
        "source",
        ("download", "fetch", "list"),
        SOURCE_SIG,
        RECORDS,
        r'''
"""List and download $noun objects for one partition from S3."""
client = boto3.client("s3")
prefix = f"$noun/{$p}/" if region is None else f"$noun/{$p}/{region}/"
paginator = client.get_paginator("list_objects_v2")
keys = [
    obj["Key"]
    for page in paginator.paginate(Bucket=BUCKET, Prefix=prefix)
    for obj in page.get("Contents", [])
    if obj["Key"].endswith(".json")
]
records: list[dict[str, Any]] = []
for key in keys[:limit]:
    body = client.get_object(Bucket=BUCKET, Key=key)["Body"].read()
    records.extend(json.loads(body))
print(f"downloaded {len(keys)} objects from s3://{BUCKET}/{prefix}")
return records
''',
        weight=8,
    ),
    TaskTemplate(
        "source",
        ("generate", "sample", "simulate"),
        SOURCE_SIG,
        RECORDS,
        r'''
"""Generate a reproducible sample of $noun for local runs."""
rng = random.Random(f"$noun:{$p}:{region}")
return [
    {
        "id": f"$item-{index:06d}",
        "$f2": round(rng.uniform(1, $n_big), 2),
        "$f3": rng.choice(["a", "b", "c", "d"]),
        "region": region or rng.choice(REGIONS),
        "updated_at": utc_now().isoformat(),
    }
    for index in range(limit or $n_mid)
]
''',
        weight=5,
    ),
    TaskTemplate(
        "source",
        ("fetch", "extract", "poll"),
        SOURCE_SIG,
        RECORDS,
        r'''
"""Fetch $noun asynchronously from the $source API."""
async with httpx.AsyncClient(base_url=BASE_URL, timeout=REQUEST_TIMEOUT) as client:
    response = await client.get("/$noun", params={"date": $p, "region": region})
    response.raise_for_status()
    data: list[dict[str, Any]] = response.json()["data"]
return data if limit is None else data[:limit]
''',
        is_async=True,
    ),
    TaskTemplate(
        "source",
        ("await_export", "poll", "download"),
        SOURCE_SIG,
        RECORDS,
        r'''
"""Poll the export endpoint until the $noun extract for ``$p`` is ready."""
async with httpx.AsyncClient(timeout=REQUEST_TIMEOUT) as client:
    for attempt in range(1, MAX_RETRIES + 1):
        response = await client.get(f"{BASE_URL}/exports/$noun/{$p}", params={"region": region})
        if response.status_code == 200:
            items = response.json().get("items", [])
            return items[:limit] if limit else items
        await asyncio.sleep(2**attempt)
raise TimeoutError(f"export for {$p} not ready after {MAX_RETRIES} attempts")
''',
        is_async=True,
    ),
    TaskTemplate(
        "transform",
        ("clean", "normalize", "standardize"),
        "records: list[dict[str, Any]]",
        RECORDS,
        r'''
"""Drop incomplete $noun and normalise column types."""
cleaned: list[dict[str, Any]] = []
for row in records:
    if not row.get("id"):
        continue
    item = dict(row)
    item["$f2"] = safe_float(item.get("$f2"))
    item["updated_at"] = parse_timestamp(item.get("updated_at")) or utc_now()
    if isinstance(item.get("$f3"), str):
        item["$f3"] = item["$f3"].strip().lower()
    cleaned.append(item)
return cleaned
''',
    ),
    TaskTemplate(
        "transform",
        ("dedupe", "deduplicate", "collapse"),
        "records: list[dict[str, Any]]",
        RECORDS,
        r'''
"""Remove duplicate $noun, keeping the most recent version of each."""
latest: dict[str, dict[str, Any]] = {}
for row in sorted(records, key=lambda r: str(r.get("updated_at", ""))):
    latest[stable_hash({"id": row.get("id")})] = row
removed = len(records) - len(latest)
if removed:
    print(f"dropped {removed} duplicate $noun")
return list(latest.values())
''',
    ),
    TaskTemplate(
        "transform",
        ("enrich", "annotate", "join"),
        "records: list[dict[str, Any]], reference: list[dict[str, Any]] | None = None",
        RECORDS,
        r'''
"""Attach region metadata to each $item."""
lookup = {entry["code"]: entry for entry in reference or []}
return [
    {
        **row,
        "region_name": lookup.get(row.get("region"), {}).get("name", "unknown"),
        "is_priority": safe_float(row.get("$f2")) >= ALERT_THRESHOLD,
    }
    for row in records
]
''',
    ),
    TaskTemplate(
        "transform",
        ("validate", "check", "filter_invalid"),
        "records: list[dict[str, Any]]",
        RECORDS,
        r'''
"""Validate $noun against the expected schema."""
valid: list[dict[str, Any]] = []
errors: list[str] = []
for index, row in enumerate(records):
    missing = [name for name in REQUIRED_FIELDS if row.get(name) in (None, "")]
    if missing:
        errors.append(f"row {index}: missing {', '.join(missing)}")
    else:
        valid.append(row)
if records and len(errors) / len(records) > MAX_ERROR_RATE:
    raise ValueError(f"{len(errors)} invalid $noun, first: {errors[:3]}")
return valid
''',
    ),
    TaskTemplate(
        "transform",
        ("normalize", "reshape", "tidy"),
        "records: list[dict[str, Any]]",
        RECORDS,
        r'''
"""Normalise $noun with pandas."""
frame = pd.DataFrame.from_records(records)
if frame.empty:
    return []
frame = frame.dropna(subset=["id"]).drop_duplicates(subset=["id"], keep="last")
frame["$f2"] = pd.to_numeric(frame["$f2"], errors="coerce").fillna(0)
frame["loaded_at"] = utc_now().isoformat()
return frame.to_dict(orient="records")
''',
        weight=6,
    ),
    TaskTemplate(
        "transform",
        ("map_status", "classify", "label"),
        "records: list[dict[str, Any]]",
        RECORDS,
        r'''
"""Map raw status codes onto the canonical $item status."""
result = []
for row in records:
    match row.get("status"):
        case "new" | "created" | "pending":
            status = "open"
        case "done" | "complete" | "completed":
            status = "closed"
        case None:
            status = "unknown"
        case other:
            status = str(other).lower()
    result.append({**row, "status": status})
return result
''',
        weight=5,
    ),
    TaskTemplate(
        "transform",
        ("score", "rank", "predict"),
        "records: list[dict[str, Any]]",
        RECORDS,
        r'''
"""Score a batch of $noun against the model endpoint."""
async with httpx.AsyncClient(timeout=REQUEST_TIMEOUT) as client:
    response = await client.post(f"{BASE_URL}/score", json={"rows": records})
    response.raise_for_status()
scores = response.json().get("scores", [])
return [{**row, "score": score} for row, score in zip(records, scores)]
''',
        is_async=True,
    ),
    TaskTemplate(
        "transform",
        ("normalize", "clean", "lowercase_keys"),
        "records: list[dict[str, Any]]",
        RECORDS,
        r'''
"""Normalise a batch of $noun without blocking the event loop."""
await asyncio.sleep(0)
return [{key.lower(): value for key, value in row.items()} for row in records]
''',
        is_async=True,
    ),
    TaskTemplate(
        "summary",
        ("aggregate", "summarize", "roll_up"),
        "records: list[dict[str, Any]]",
        "dict[str, float]",
        r'''
"""Average $f2 per region."""
totals: defaultdict[str, float] = defaultdict(float)
counts: Counter[str] = Counter()
for row in records:
    key = str(row.get("region") or "unknown")
    totals[key] += safe_float(row.get("$f2"))
    counts[key] += 1
return {key: round(totals[key] / counts[key], 4) for key in sorted(totals)}
''',
    ),
    TaskTemplate(
        "summary",
        ("compute_metrics", "profile", "measure"),
        "records: list[dict[str, Any]]",
        "dict[str, float]",
        r'''
"""Compute headline metrics for the $noun batch."""
metrics = summarize(records)
by_region = group_by(records, "region")
metrics["regions"] = float(len(by_region))
metrics["largest_region"] = float(max((len(rows) for rows in by_region.values()), default=0))
return metrics
''',
    ),
    TaskTemplate(
        "sink",
        ("write", "persist", "dump"),
        "records: list[dict[str, Any]], target: str | None = None",
        "str",
        r'''
"""Write $noun as JSON lines and return the file path."""
path = Path(target or OUTPUT_DIR) / f"$noun-{utc_now():%Y%m%dT%H%M%S}.jsonl"
path.parent.mkdir(parents=True, exist_ok=True)
try:
    with path.open("w", encoding="utf-8") as handle:
        for row in records:
            handle.write(json.dumps(row, default=str) + "\n")
except OSError as exc:
    raise RuntimeError(f"could not write {path}") from exc
return str(path)
''',
    ),
    TaskTemplate(
        "sink",
        ("load", "upsert", "store"),
        "records: list[dict[str, Any]], target: str | None = None",
        "int",
        r'''
"""Upsert $noun into the warehouse in batches."""
table = target or "$schema.$noun"
written = 0
with warehouse_connection() as conn:
    for batch in chunked(records, DEFAULT_BATCH_SIZE):
        conn.execute(
            sa.text(
                f"INSERT INTO {table} (id, $f2, $f3) VALUES (:id, :$f2, :$f3) "
                "ON CONFLICT (id) DO NOTHING"
            ),
            batch,
        )
        written += len(batch)
    conn.commit()
return written
''',
    ),
    TaskTemplate(
        "sink",
        ("upload", "export", "ship"),
        "records: list[dict[str, Any]], target: str | None = None",
        "str",
        r'''
"""Upload $noun to S3 as a gzipped JSON document."""
key = f"{target or '$area'}/$noun/{utc_now():%Y/%m/%d}/part-{uuid.uuid4().hex[:8]}.json.gz"
body = gzip.compress(json.dumps(records, default=str).encode("utf-8"))
boto3.client("s3").put_object(Bucket=BUCKET, Key=key, Body=body)
return f"s3://{BUCKET}/{key}"
''',
    ),
    TaskTemplate(
        "sink",
        ("export", "write_csv", "save"),
        "records: list[dict[str, Any]], target: str | None = None",
        "str",
        r'''
"""Export $noun to CSV for the finance team."""
path = Path(target or OUTPUT_DIR) / "$noun.csv"
fieldnames = sorted({key for row in records for key in row})
with path.open("w", newline="", encoding="utf-8") as handle:
    writer = csv.DictWriter(handle, fieldnames=fieldnames)
    writer.writeheader()
    writer.writerows(records)
return str(path)
''',
        weight=6,
    ),
    TaskTemplate(
        "sink",
        ("publish", "push", "send"),
        "records: list[dict[str, Any]], target: str | None = None",
        "int",
        r'''
"""Send $noun to the downstream service, one request per batch."""
sent = 0
async with httpx.AsyncClient(base_url=target or BASE_URL, timeout=REQUEST_TIMEOUT) as client:
    for batch in chunked(records, $page_size):
        response = await client.post("/$noun/bulk", json=batch)
        if response.status_code >= 500:
            await asyncio.sleep(1)
            response = await client.post("/$noun/bulk", json=batch)
        response.raise_for_status()
        sent += len(batch)
return sent
''',
        is_async=True,
    ),
    TaskTemplate(
        "report",
        ("publish_summary", "report", "document"),
        "summary: dict[str, float]",
        "int",
        r'''
"""Publish a markdown summary as a Prefect artifact."""
lines = ["| metric | value |", "| --- | --- |"]
lines.extend(f"| {key} | {value:,.2f} |" for key, value in summary.items())
$create_markdown_artifact(
    key="$noun-summary",
    markdown="\n".join(lines),
    description="$Noun summary",
)
return len(lines) - 2
''',
    ),
    TaskTemplate(
        "report",
        ("notify", "announce", "alert"),
        "summary: dict[str, float]",
        "bool",
        r'''
"""Post a short summary to the team channel."""
webhook = $Secret.load("$area-slack-webhook").get()
text = "\n".join(f"*{key}*: {value}" for key, value in summary.items())
try:
    response = httpx.post(webhook, json={"text": f"$Noun run finished\n{text}"}, timeout=10)
    response.raise_for_status()
except httpx.HTTPError as exc:
    print(f"notification failed: {exc}")
    return False
return True
''',
    ),
    TaskTemplate(
        "report",
        ("check_thresholds", "guard", "assert_healthy"),
        "summary: dict[str, float]",
        "dict[str, int]",
        r'''
"""Fail loudly when the summary breaches the alert threshold."""
threshold = float($Variable.get("${noun}_alert_threshold", default=ALERT_THRESHOLD))
breaches = {key: value for key, value in summary.items() if value > threshold}
if breaches:
    raise ValueError(f"threshold {threshold} exceeded for: {sorted(breaches)}")
return {"checked": len(summary), "breaches": 0}
''',
    ),
    TaskTemplate(
        "report",
        ("publish_table", "tabulate", "report"),
        "summary: dict[str, float]",
        "None",
        r'''
"""Store the summary as a table artifact."""
rows = [{"metric": key, "value": value} for key, value in sorted(summary.items())]
await $create_table_artifact(key="$noun-metrics", table=rows, description="$Noun metrics")
''',
        is_async=True,
    ),
)

# --------------------------------------------------------------------------
# Class templates
# --------------------------------------------------------------------------

CLASS_TEMPLATES: dict[str, str] = {
    "config": r'''
@dataclass(frozen=True)
class ${Item}Config:
    """Runtime settings for the $noun pipeline."""

    source: str = "$source"
    batch_size: int = $batch
    regions: tuple[str, ...] = ($regions_tuple)
    lookback_days: int = $days
    dry_run: bool = False
    tags: list[str] = field(default_factory=lambda: ["$area", "$noun"])

    @property
    def table(self) -> str:
        return f"$schema.{self.source}_$noun"

    def partitions(self, run_date: str) -> list[str]:
        return build_partitions(run_date, days=self.lookback_days, regions=self.regions)
''',
    "record": r'''
class ${Item}Record(BaseModel):
    """Validated shape of a single $item."""

    model_config = ConfigDict(extra="ignore")

    id: str
    $f2: float = 0.0
    $f3: str | None = None
    status: str = "new"
    region: str | None = None
    updated_at: datetime | None = None

    @field_validator("status")
    @classmethod
    def _normalise_status(cls, value: str) -> str:
        return value.strip().lower()

    @classmethod
    def from_rows(cls, rows: Iterable[dict[str, Any]]) -> list["${Item}Record"]:
        return [cls.model_validate(row) for row in rows]
''',
    "client": r'''
class ${Item}Client:
    """Small synchronous client for the $source $noun API."""

    def __init__(
        self,
        base_url: str = BASE_URL,
        token: str | None = None,
        timeout: float = REQUEST_TIMEOUT,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._http = httpx.Client(base_url=self.base_url, headers=headers, timeout=timeout)

    def __enter__(self) -> "${Item}Client":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def iter_$noun(self, **filters: Any) -> Iterator[dict[str, Any]]:
        cursor: str | None = None
        while True:
            params = {**filters, "cursor": cursor} if cursor else dict(filters)
            response = self._http.get("/$noun", params=params)
            response.raise_for_status()
            payload = response.json()
            yield from payload.get("results", [])
            cursor = payload.get("next_cursor")
            if not cursor:
                break

    def get(self, ${item}_id: str) -> dict[str, Any] | None:
        response = self._http.get(f"/$noun/{${item}_id}")
        if response.status_code == 404:
            return None
        response.raise_for_status()
        return response.json()
''',
    "status": r'''
class ${Item}Status(str, Enum):
    """Lifecycle states for a $item."""

    NEW = "new"
    ACTIVE = "active"
    SUSPENDED = "suspended"
    CLOSED = "closed"

    @classmethod
    def parse(cls, raw: str | None) -> "${Item}Status":
        try:
            return cls((raw or "").strip().lower())
        except ValueError:
            return cls.NEW

    @property
    def is_terminal(self) -> bool:
        return self in (type(self).CLOSED, type(self).SUSPENDED)
''',
    "row": r'''
class ${Item}Row(TypedDict, total=False):
    """Row layout of the $schema.$noun table."""

    id: str
    $f2: float
    $f3: str
    region: str
    updated_at: str
''',
    "window": r'''
class Window(NamedTuple):
    """Half-open time window used for incremental loads."""

    start: datetime
    end: datetime

    @classmethod
    def trailing(cls, hours: int, now: datetime | None = None) -> "Window":
        end = now or utc_now()
        return cls(end - timedelta(hours=hours), end)

    def contains(self, moment: datetime) -> bool:
        return self.start <= moment < self.end

    def split(self, parts: int) -> list["Window"]:
        step = (self.end - self.start) / parts
        return [Window(self.start + step * i, self.start + step * (i + 1)) for i in range(parts)]
''',
    "exporter": r'''
class ${Item}Exporter:
    """Group export steps that share a destination."""

    def __init__(self, target: str, *, compress: bool = True) -> None:
        self.target = target
        self.compress = compress
        self.exported = 0

    def __repr__(self) -> str:
        return f"${Item}Exporter(target={self.target!r}, compress={self.compress})"

    @$task(retries=1, tags=["$area"])
    def export(self, records: list[dict[str, Any]]) -> int:
        payload = json.dumps(records, default=str).encode("utf-8")
        if self.compress:
            payload = gzip.compress(payload)
        (Path(self.target) / "$noun.json.gz").write_bytes(payload)
        self.exported += len(records)
        return len(records)
''',
    "tracker": r'''
class RunTracker:
    """Collect per-step timings and row counts for a flow run."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.started = time.monotonic()
        self.steps: dict[str, dict[str, float]] = {}

    def record(self, step: str, rows: int) -> None:
        elapsed = time.monotonic() - self.started
        self.steps[step] = {"rows": float(rows), "elapsed": round(elapsed, 3)}

    def as_markdown(self) -> str:
        header = f"### {self.name}\n\n| step | rows | elapsed |\n| --- | --- | --- |"
        body = "\n".join(
            f"| {step} | {int(info['rows'])} | {format_duration(info['elapsed'])} |"
            for step, info in self.steps.items()
        )
        return f"{header}\n{body}"
''',
}

# --------------------------------------------------------------------------
# Module builder
# --------------------------------------------------------------------------


@dataclass
class TaskSpec:
    name: str
    kind: str
    is_async: bool
    param: str = "records"


@dataclass
class FlowSpec:
    name: str
    is_async: bool
    params: list[str]


@dataclass
class ModuleStats:
    tasks: int = 0
    flows: int = 0
    async_flows: int = 0
    mistakes: list[str] = field(default_factory=list)


def singular(noun: str) -> str:
    if noun in IRREGULAR_SINGULAR:
        return IRREGULAR_SINGULAR[noun]
    return noun[:-1] if noun.endswith("s") else noun


def camel(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_"))


def indent(lines: list[str], levels: int = 1) -> list[str]:
    pad = "    " * levels
    return [pad + line if line else line for line in lines]


class _Substitutions(Mapping[str, str]):
    """Mapping for ``Template.substitute`` that resolves names lazily.

    Prefect names are only imported when a template actually uses them.
    """

    def __init__(self, module: ModuleBuilder, extra: Mapping[str, str]) -> None:
        self._module = module
        self._extra = extra

    def __getitem__(self, key: str) -> str:
        if key in self._extra:
            return self._extra[key]
        return self._module.resolve(key)

    def __iter__(self) -> Iterator[str]:
        return iter(self._extra)

    def __len__(self) -> int:
        return len(self._extra)


class ModuleBuilder:
    """Accumulates the pieces of one generated module."""

    def __init__(self, rng: random.Random, domain: str, area: str) -> None:
        self.rng = rng
        self.domain = domain
        self.area = area
        self.item = singular(domain)
        self.source = rng.choice(SOURCES)
        self.style = rng.choices(
            ("from", "alias_short", "alias_long", "module", "module_alias", "mixed"),
            weights=(50, 8, 8, 14, 8, 12),
        )[0]
        self.futures_style = rng.choices(
            ("from", "alias", "module", "dotted"), weights=(70, 10, 10, 10)
        )[0]
        self.bad_futures_import = rng.random() < 0.05
        self.future_annotations = rng.random() < 0.5
        self.stats = ModuleStats()
        regions = rng.sample(ALL_REGIONS, rng.randint(2, 4))
        self.values: dict[str, str] = {
            "noun": domain,
            "Noun": domain.capitalize(),
            "NOUN": domain.upper(),
            "item": self.item,
            "Item": camel(self.item),
            "area": area,
            "source": self.source,
            "schema": rng.choice(SCHEMAS),
            "f2": rng.choice(NUMERIC_FIELDS),
            "f3": rng.choice(TEXT_FIELDS),
            "env": rng.choice(("prod", "staging", "dev")),
            "api_version": str(rng.randint(1, 4)),
            "timeout": rng.choice(("10", "15.0", "30", "30.0", "60")),
            "retries": str(rng.randint(2, 5)),
            "batch": rng.choice(("100", "250", "500", "1_000", "5_000")),
            "page_size": rng.choice(("100", "200", "500")),
            "error_rate": rng.choice(("0.01", "0.02", "0.05", "0.1")),
            "threshold": rng.choice(("0.8", "0.9", "0.95", "100.0", "1_000.0")),
            "regions": ", ".join(f'"{r}"' for r in regions),
            "regions_tuple": ", ".join(f'"{r}"' for r in regions) + ",",
            "days": str(rng.randint(1, 14)),
            "n_big": str(rng.choice((100, 500, 1000, 10_000))),
            "n_mid": str(rng.choice((50, 100, 250, 1000))),
        }
        # import bookkeeping: insertion-ordered dicts (never iterate sets)
        self.plain_imports: dict[str, None] = {}
        self.from_imports: dict[str, dict[str, str | None]] = {}
        self.used_names: dict[str, None] = {}
        self.tasks: list[TaskSpec] = []
        self.flows: list[FlowSpec] = []
        self.class_blocks: list[str] = []
        self.helper_blocks: list[str] = []
        self.task_blocks: list[str] = []
        self.flow_blocks: list[str] = []
        self.tail_blocks: list[str] = []
        self.extra_header: list[str] = []
        self.docstring = ""
        self.explicit_helpers: dict[str, None] = {}
        # Many repositories keep helpers in a shared module instead of copying them.
        self.shared_helpers: str | None = None
        if rng.random() < 0.55:
            self.shared_helpers = rng.choice(SHARED_HELPER_MODULES).format(area=area)

    # -- names and imports -------------------------------------------------

    def add_import(self, line: str) -> None:
        self.plain_imports[line] = None

    def add_from(self, module: str, name: str, alias: str | None = None) -> str:
        self.from_imports.setdefault(module, {})[name] = alias
        return alias or name

    def prefect(self, name: str) -> str:
        """Reference a name exported by the top-level ``prefect`` package."""
        style = self.style
        if style == "module" or (style == "mixed" and name not in ("flow", "task")):
            self.add_import("import prefect")
            return f"prefect.{name}"
        if style == "module_alias":
            self.add_import("import prefect as pf")
            return f"pf.{name}"
        alias: str | None = None
        if name in ("flow", "task"):
            if style == "alias_short":
                alias = {"flow": "f", "task": "t"}[name]
            elif style == "alias_long":
                alias = f"prefect_{name}"
        return self.add_from("prefect", name, alias)

    def futures(self, name: str) -> str:
        """Reference ``wait`` or ``as_completed`` from ``prefect.futures``."""
        if self.bad_futures_import:
            mistake = f"from prefect import {name}"
            if mistake not in self.stats.mistakes:
                self.stats.mistakes.append(mistake)
            return self.add_from("prefect", name)
        if self.futures_style == "alias":
            alias = {"wait": "wait_for_futures", "as_completed": "iter_completed"}[name]
            return self.add_from("prefect.futures", name, alias)
        if self.futures_style == "module":
            self.add_from("prefect", "futures")
            return f"futures.{name}"
        if self.futures_style == "dotted":
            self.add_import("import prefect.futures")
            return f"prefect.futures.{name}"
        return self.add_from("prefect.futures", name)

    def resolve(self, key: str) -> str:
        if key in self.values:
            return self.values[key]
        if key in PREFECT_TOP_LEVEL:
            return self.prefect(key)
        if key in PREFECT_FUTURES:
            return self.futures(key)
        if key in PREFECT_OTHER:
            return self.add_from(PREFECT_OTHER[key], key)
        raise KeyError(key)

    def render(self, text: str, **extra: str) -> list[str]:
        body = textwrap.dedent(text).strip("\n")
        rendered = Template(body).substitute(_Substitutions(self, extra))
        return rendered.splitlines()

    def unique(self, candidates: list[str]) -> str:
        for name in candidates:
            if name not in self.used_names:
                self.used_names[name] = None
                return name
        base = candidates[0]
        counter = 2
        while f"{base}_{counter}" in self.used_names:
            counter += 1
        name = f"{base}_{counter}"
        self.used_names[name] = None
        return name

    # -- decorators ----------------------------------------------------------

    def task_decorator(self, spec: TaskSpec) -> list[str]:
        rng = self.rng
        deco = self.prefect("task")
        options: list[tuple[int, list[str]]] = [
            (22, []),
            (6, ["()"]),
            (16, ["(retries=2)"]),
            (
                8,
                [
                    f"(retries={rng.randint(1, 5)}, "
                    f"retry_delay_seconds={rng.choice((5, 10, 30, 60))})"
                ],
            ),
            (5, ["(retries=3, retry_delay_seconds=[1, 10, 60], retry_jitter_factor=0.5)"]),
            (6, [f'(name="{spec.name.replace("_", "-")}", tags=["{self.domain}", "{self.area}"])']),
            (6, ["(log_prints=True)"]),
            (4, ["(timeout_seconds=300, persist_result=False)"]),
        ]
        if spec.kind == "source":
            options.append(
                (
                    6,
                    [
                        "(cache_key_fn=$task_input_hash, "
                        f"cache_expiration=timedelta(hours={rng.choice((1, 6, 12, 24))}))"
                    ],
                )
            )
            options.append((4, [f'(task_run_name="{spec.name}-{{{spec.param}}}")']))
        if spec.kind in ("transform", "summary"):
            options.append((4, ["(cache_policy=$INPUTS + $TASK_SOURCE)"]))
        options.append(
            (
                5,
                [
                    "(",
                    f'    name="{self.domain}.{spec.name}",',
                    f"    retries={rng.randint(1, 4)},",
                    f"    retry_delay_seconds={rng.choice((10, 30, 120))},",
                    f'    tags=["{self.area}", "{self.source}"],',
                    ")",
                ],
            )
        )
        weights = [w for w, _ in options]
        chosen = rng.choices([o for _, o in options], weights=weights)[0]
        if not chosen:
            return [f"@{deco}"]
        # Options may name Prefect objects ($INPUTS ...); import only the chosen ones.
        chosen = self.render("\n".join(chosen))
        return [f"@{deco}{chosen[0]}", *chosen[1:]]

    def flow_decorator(self, flow_name: str, with_runner: bool, params: list[str]) -> list[str]:
        rng = self.rng
        deco = self.prefect("flow")
        if with_runner:
            runner = (
                f"{self.resolve('ThreadPoolTaskRunner')}(max_workers={rng.choice((2, 4, 8, 16))})"
            )
            if rng.random() < 0.5:
                return [f"@{deco}(task_runner={runner})"]
            return [
                f"@{deco}(",
                f'    name="{flow_name.replace("_", "-")}",',
                f"    task_runner={runner},",
                "    log_prints=True,",
                ")",
            ]
        options: list[tuple[int, list[str]]] = [
            (25, []),
            (5, ["()"]),
            (15, [f'(name="{flow_name.replace("_", "-")}")']),
            (10, ["(log_prints=True, retries=1, retry_delay_seconds=60)"]),
            (
                6,
                [
                    "(",
                    f'    name="{self.area}-{flow_name.replace("_", "-")}",',
                    f'    description="{camel(flow_name)} for the {self.area} team.",',
                    f'    version="{rng.randint(1, 3)}.{rng.randint(0, 9)}",',
                    "    persist_result=True,",
                    ")",
                ],
            ),
        ]
        if any(p.startswith("run_date:") for p in params):
            options.append(
                (8, [f'(timeout_seconds=3600, flow_run_name="{self.domain}-{{run_date}}")'])
            )
        chosen = rng.choices([o for _, o in options], weights=[w for w, _ in options])[0]
        if not chosen:
            return [f"@{deco}"]
        return [f"@{deco}{chosen[0]}", *chosen[1:]]

    # -- tasks -----------------------------------------------------------------

    def add_task(self, kind: str, is_async: bool) -> TaskSpec:
        rng = self.rng
        pool = [t for t in TASK_TEMPLATES if t.kind == kind and t.is_async == is_async]
        if not pool:
            pool = [t for t in TASK_TEMPLATES if t.kind == kind]
        template = rng.choices(pool, weights=[t.weight for t in pool])[0]
        verbs = list(template.verbs)
        rng.shuffle(verbs)
        name = self.unique([f"{verb}_{self.domain}" for verb in verbs])
        param = "records"
        if kind == "source":
            param = rng.choice(("run_date", "partition", "day", "since"))
        elif kind == "report":
            param = "summary"
        spec = TaskSpec(name=name, kind=kind, is_async=template.is_async, param=param)
        lines = self.task_decorator(spec)
        signature = Template(template.signature).substitute(p=param)
        prefix = "async def" if template.is_async else "def"
        lines.append(f"{prefix} {name}({signature}) -> {template.returns}:")
        lines.extend(indent(self.render(template.body, p=param)))
        self.task_blocks.append("\n".join(lines))
        self.tasks.append(spec)
        self.stats.tasks += 1
        return spec

    def add_tasks(self, counts: dict[str, int], async_share: float) -> None:
        for kind, count in counts.items():
            for _ in range(count):
                self.add_task(kind, self.rng.random() < async_share)

    def import_tasks(self, counts: dict[str, int]) -> None:
        """Pretend the tasks live in a sibling module and import them."""
        module = f"{self.area}.{self.domain}.{self.rng.choice(MODULE_SUFFIXES['tasks_library'])}"
        for kind, count in counts.items():
            for _ in range(count):
                template_verbs = [t.verbs for t in TASK_TEMPLATES if t.kind == kind]
                verb = self.rng.choice(self.rng.choice(template_verbs))
                name = self.unique([f"{verb}_{self.domain}"])
                self.add_from(module, name)
                param = "run_date" if kind == "source" else "records"
                if kind == "report":
                    param = "summary"
                self.tasks.append(TaskSpec(name, kind, self.rng.random() < 0.15, param))

    # -- flows -------------------------------------------------------------------

    def add_flow(
        self,
        name: str,
        is_async: bool,
        children: list[FlowSpec],
        size: int,
    ) -> FlowSpec:
        body = FlowBodyBuilder(self, name, is_async, children, size)
        lines, params = body.build()
        use_runner = body.uses_concurrency and self.rng.random() < 0.45
        decorator = self.flow_decorator(name, use_runner, params)
        prefix = "async def" if is_async else "def"
        signature = ", ".join(params)
        returns = body.returns
        header = f"{prefix} {name}({signature}) -> {returns}:"
        if len(header) > 88 and params:
            header_lines = [f"{prefix} {name}(", *[f"    {p}," for p in params], f") -> {returns}:"]
        else:
            header_lines = [header]
        block = "\n".join([*decorator, *header_lines, *indent(lines)])
        self.flow_blocks.append(block)
        spec = FlowSpec(name, is_async, [p.split(":")[0] for p in params])
        self.flows.append(spec)
        self.stats.flows += 1
        self.stats.async_flows += int(is_async)
        return spec

    def add_flows(self, count: int, async_share: float, size: int) -> None:
        children: list[FlowSpec] = []
        for index in range(count):
            is_last = index == count - 1
            is_async = self.rng.random() < async_share
            suffixes = list(FLOW_SUFFIXES)
            self.rng.shuffle(suffixes)
            if is_last:
                candidates = [f"{self.domain}_{s}" for s in suffixes]
            else:
                candidates = [
                    f"{s}_{self.domain}_{self.rng.choice(('stage', 'part', 'step'))}"
                    for s in suffixes
                ]
            name = self.unique(candidates)
            spec = self.add_flow(name, is_async, children if is_last else [], size)
            if not is_last:
                children.append(spec)

    # -- other blocks ----------------------------------------------------------

    def add_class(self, kind: str) -> None:
        lines = self.render(CLASS_TEMPLATES[kind])
        self.class_blocks.append("\n".join(lines))

    def add_helper_function(self) -> None:
        """A small, randomly shaped ordinary function."""
        rng = self.rng
        shape = rng.randrange(6)
        item = self.item
        f2, f3 = self.values["f2"], self.values["f3"]
        if shape == 0:
            name = self.unique([f"{item}_key", f"make_{item}_key"])
            fields = rng.sample(("id", f3, "region", "updated_at"), rng.randint(2, 3))
            text = f'''
def {name}(row: dict[str, Any]) -> str:
    """Build the natural key of a {item}."""
    return "|".join(str(row.get(name, "")) for name in {tuple(fields)!r})
'''
        elif shape == 1:
            name = self.unique([f"split_{self.domain}", f"partition_{self.domain}"])
            text = f'''
def {name}(
    records: list[dict[str, Any]], predicate: Callable[[dict[str, Any]], bool]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Split records into (matching, rest)."""
    matching: list[dict[str, Any]] = []
    rest: list[dict[str, Any]] = []
    for record in records:
        (matching if predicate(record) else rest).append(record)
    return matching, rest
'''
        elif shape == 2:
            name = self.unique([f"top_{self.domain}", f"largest_{self.domain}"])
            text = f'''
def {name}(records: list[dict[str, Any]], n: int = {rng.choice((5, 10, 20))}) -> list[Any]:
    """Return the ``n`` {self.domain} with the highest {f2}."""
    return sorted(records, key=lambda row: safe_float(row.get("{f2}")), reverse=True)[:n]
'''
        elif shape == 3:
            name = self.unique([f"load_{item}_overrides", "load_overrides"])
            text = f'''
@functools.lru_cache(maxsize=1)
def {name}(path: str = "config/{self.domain}_overrides.json") -> dict[str, Any]:
    """Read manual overrides maintained by the {self.area} team."""
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except FileNotFoundError:
        log.warning("no overrides file at %s", path)
        return {{}}
    except json.JSONDecodeError as exc:
        raise ValueError(f"invalid overrides file {{path}}: {{exc}}") from exc
    return {{str(key): value for key, value in data.items() if not str(key).startswith("_")}}
'''
        elif shape == 4:
            name = self.unique([f"bucket_{f2}", f"{f2}_band"])
            edges = sorted(rng.sample((1, 5, 10, 25, 50, 100, 250, 500, 1000), 4))
            text = f'''
def {name}(value: float) -> str:
    """Assign a {f2} value to a reporting band."""
    if value < {edges[0]}:
        return "tiny"
    elif value < {edges[1]}:
        return "small"
    elif value < {edges[2]}:
        return "medium"
    elif value < {edges[3]}:
        return "large"
    return "huge"
'''
        else:
            name = self.unique([f"diff_{self.domain}", f"changed_{self.domain}"])
            text = f'''
def {name}(
    previous: list[dict[str, Any]], current: list[dict[str, Any]]
) -> dict[str, list[str]]:
    """Compare two snapshots by id."""
    before = {{row["id"]: row for row in previous if "id" in row}}
    after = {{row["id"]: row for row in current if "id" in row}}
    return {{
        "added": sorted(after.keys() - before.keys()),
        "removed": sorted(before.keys() - after.keys()),
        "changed": sorted(key for key in after.keys() & before.keys() if after[key] != before[key]),
    }}
'''
        self.helper_blocks.append(textwrap.dedent(text).strip("\n"))

    def add_library_helpers(self, count: int) -> None:
        chosen = self.rng.sample(HELPER_ORDER, count)
        if self.shared_helpers is not None:
            return
        for name in chosen:
            self.explicit_helpers[name] = None

    def add_main_guard(self) -> None:
        if not self.flows:
            return
        rng = self.rng
        main = self.flows[-1]
        kwargs: list[str] = []
        if "run_date" in main.params and rng.random() < 0.5:
            kwargs.append('run_date="2024-01-31"')
        if "dry_run" in main.params and rng.random() < 0.5:
            kwargs.append("dry_run=True")
        call = f"{main.name}({', '.join(kwargs)})"
        choice = rng.randrange(4)
        cli_params = [p for p in ("run_date", "dry_run") if p in main.params]
        if choice == 0 and not main.is_async and cli_params:
            lines = [
                "def main(argv: list[str] | None = None) -> int:",
                f'    parser = argparse.ArgumentParser(description="Run {main.name} locally.")',
                '    parser.add_argument("--run-date", default=None)',
                '    parser.add_argument("--dry-run", action="store_true")',
                "    args = parser.parse_args(argv)",
            ]
            call_kwargs = []
            if "run_date" in main.params:
                call_kwargs.append("run_date=args.run_date")
            if "dry_run" in main.params:
                call_kwargs.append("dry_run=args.dry_run")
            lines += [
                f"    result = {main.name}({', '.join(call_kwargs)})",
                "    print(json.dumps(result, default=str, indent=2))",
                "    return 0",
                "",
                "",
                'if __name__ == "__main__":',
                "    raise SystemExit(main())",
            ]
        elif choice == 1 and not main.is_async:
            cron = rng.choice(("0 3 * * *", "*/15 * * * *", "30 6 * * 1-5", "0 0 1 * *"))
            lines = [
                'if __name__ == "__main__":',
                f"    {main.name}.serve(",
                f'        name="{self.domain}-{self.area}",',
                f'        cron="{cron}",',
                f'        tags=["{self.area}"],',
                "    )",
            ]
        elif main.is_async:
            lines = ['if __name__ == "__main__":', f"    asyncio.run({call})"]
        else:
            lines = ['if __name__ == "__main__":', f"    {call}"]
        self.tail_blocks.append("\n".join(lines))

    def add_deployment_block(self) -> None:
        if not self.flows:
            return
        main = self.flows[-1]
        lines = [
            "def deploy() -> None:",
            '    """Register the production deployment."""',
            f"    {main.name}.from_source(",
            '        source="https://github.com/acme/data-platform.git",',
            f'        entrypoint="{self.area}/{self.domain}/flows.py:{main.name}",',
            "    ).deploy(",
            f'        name="{self.domain}-prod",',
            '        work_pool_name="kubernetes-pool",',
            f'        cron="{self.rng.randint(0, 59)} {self.rng.randint(0, 23)} * * *",',
            '        parameters={"dry_run": False},'
            if "dry_run" in main.params
            else "        parameters={},",
            "    )",
        ]
        self.tail_blocks.append("\n".join(lines))

    # -- assembly -----------------------------------------------------------------

    def _body_text(self, blocks: list[str]) -> str:
        return "\n\n\n".join(blocks)

    def assemble(self) -> str:
        content_blocks = [
            *self.class_blocks,
            *self.helper_blocks,
            *self.task_blocks,
            *self.flow_blocks,
            *self.tail_blocks,
        ]
        # Pull in library helpers and constants until nothing new is needed.
        helpers: dict[str, None] = dict(self.explicit_helpers)
        constants: dict[str, None] = {}
        shared = self.shared_helpers
        while True:
            helper_text = [
                self.render(HELPERS[name])
                for name in HELPER_ORDER
                if name in helpers and not shared
            ]
            text = self._body_text(content_blocks + ["\n".join(lines) for lines in helper_text])
            changed = False
            for name in HELPER_ORDER:
                if name not in helpers and re.search(rf"(\b{name}\(|@{name}\b)", text):
                    helpers[name] = None
                    changed = True
            const_text = [self.render(CONSTANTS[name]) for name in CONSTANTS if name in constants]
            full = text + "\n" + "\n".join(line for lines in const_text for line in lines)
            for name in CONSTANTS:
                pattern = CONSTANT_PATTERNS.get(name, rf"\b{name}\b")
                if name not in constants and re.search(pattern, full):
                    constants[name] = None
                    changed = True
            if not changed:
                break
        const_lines = [
            line for name in CONSTANTS if name in constants for line in self.render(CONSTANTS[name])
        ]
        if shared:
            for name in HELPER_ORDER:
                if name in helpers:
                    self.add_from(shared, name)
            helpers = {}
        helper_blocks = [
            "\n".join(self.render(HELPERS[name])) for name in HELPER_ORDER if name in helpers
        ]
        blocks = [
            *self.class_blocks,
            *helper_blocks,
            *self.helper_blocks,
            *self.task_blocks,
            *self.flow_blocks,
            *self.tail_blocks,
        ]
        body = self._body_text(blocks)
        for module, names in self.from_imports.items():
            if module.split(".")[0] in LOCAL_ROOTS:
                for name in [n for n in names if not re.search(rf"\b{n}\b", body)]:
                    del names[name]
        self.from_imports = {module: names for module, names in self.from_imports.items() if names}
        scan = body + "\n" + "\n".join(const_lines) + "\n" + "\n".join(self.extra_header)
        for pattern, line in PLAIN_IMPORTS + THIRD_PARTY_IMPORTS:
            if re.search(pattern, scan):
                self.add_import(line)
        for pattern, module, name in FROM_IMPORTS:
            if re.search(pattern, scan):
                self.add_from(module, name)

        header: list[str] = []
        if self.docstring:
            header.append(self.docstring)
            header.append("")
        if self.future_annotations:
            header += ["from __future__ import annotations", ""]
        header += self._import_section()
        if const_lines or self.extra_header:
            header.append("")
            header += self.extra_header
            header += const_lines
        return "\n".join(header) + "\n\n\n" + body + "\n"

    def _import_section(self) -> list[str]:
        stdlib: list[str] = []
        third: list[str] = []
        prefect_lines: list[str] = []
        local: list[str] = []
        for line in self.plain_imports:
            module = line.split()[1]
            if module.startswith("prefect"):
                prefect_lines.append(line)
            elif line in {entry for _, entry in THIRD_PARTY_IMPORTS}:
                third.append(line)
            else:
                stdlib.append(line)
        for module, names in self.from_imports.items():
            parts = [f"{n} as {a}" if a else n for n, a in sorted(names.items())]
            line = f"from {module} import {', '.join(parts)}"
            if len(line) > 88:
                line = "\n".join([f"from {module} import (", *[f"    {p}," for p in parts], ")"])
            root = module.split(".")[0]
            if root == "prefect":
                prefect_lines.append(line)
            elif root in THIRD_PARTY_MODULES:
                third.append(line)
            elif root in LOCAL_ROOTS:
                local.append(line)
            else:
                stdlib.append(line)
        sections = [
            sorted(group, key=lambda line: (line.startswith("from "), line))
            for group in (stdlib, third, prefect_lines, local)
        ]
        out: list[str] = []
        for section in sections:
            if section:
                if out:
                    out.append("")
                out.extend(section)
        return out


class FlowBodyBuilder:
    """Builds the body of one flow out of task-calling steps."""

    def __init__(
        self,
        module: ModuleBuilder,
        name: str,
        is_async: bool,
        children: list[FlowSpec],
        size: int,
    ) -> None:
        self.m = module
        self.rng = module.rng
        self.name = name
        self.is_async = is_async
        self.children = children
        self.size = size
        self.lines: list[str] = []
        self.needs: dict[str, None] = {}
        self.uses_concurrency = False
        self.returns = "None"
        self.counter = 0

    def fresh(self, base: str) -> str:
        self.counter += 1
        return base if self.counter == 1 else f"{base}_{self.counter}"

    def pick(self, kind: str) -> TaskSpec | None:
        pool = [t for t in self.m.tasks if t.kind == kind and (self.is_async or not t.is_async)]
        return self.rng.choice(pool) if pool else None

    def call(self, task: TaskSpec, args: str) -> str:
        if task.is_async:
            return f"await {task.name}({args})"
        return f"{task.name}({args})"

    def log(self, message: str, *args: str) -> str:
        self.needs["logger"] = None
        rendered = ", ".join([f'"{message}"', *args])
        return f"logger.info({rendered})"

    # -- steps ---------------------------------------------------------------

    def source_step(self, task: TaskSpec) -> None:
        rng = self.rng
        wait = self.m.futures
        out = self.lines
        style = rng.choices(
            ("direct", "submit", "map", "loop", "comprehension"), weights=(4, 2, 3, 3, 2)
        )[0]
        if task.is_async and style in ("map", "loop", "comprehension") and rng.random() < 0.6:
            self.needs["partitions"] = None
            out.append(f"batches = await asyncio.gather(*({task.name}(p) for p in partitions))")
            out.append("records = [row for batch in batches for row in batch]")
            return
        if style == "direct":
            self.needs["run_date"] = None
            out.append(f"records = {self.call(task, 'run_date')}")
        elif style == "submit":
            self.needs["run_date"] = None
            out.append(f"raw_future = {task.name}.submit(run_date)")
            out.append("records = raw_future.result()")
        elif style == "map":
            self.uses_concurrency = True
            self.needs["partitions"] = None
            extra = ""
            if rng.random() < 0.4:
                limit = rng.choice(("1000", "10_000", "None"))
                extra = f", limit={self.m.prefect('unmapped')}({limit})"
            out.append(f"raw_futures = {task.name}.map(partitions{extra})")
            if rng.random() < 0.5:
                out.append(f"{wait('wait')}(raw_futures)")
                out.append("records = [row for future in raw_futures for row in future.result()]")
            else:
                out.append("records = [row for batch in raw_futures.result() for row in batch]")
        elif style == "loop":
            self.uses_concurrency = True
            self.needs["partitions"] = None
            self.needs["logger"] = None
            out += [
                "pending = []",
                "for partition in partitions:",
                f"    pending.append({task.name}.submit(partition))",
                "records: list[dict[str, Any]] = []",
                f"for future in {wait('as_completed')}(pending):",
                "    try:",
                "        records.extend(future.result())",
                "    except Exception as exc:",
                '        logger.warning("partition failed: %s", exc)',
            ]
        else:
            self.uses_concurrency = True
            self.needs["partitions"] = None
            self.needs["logger"] = None
            timeout = rng.choice(("300", "600", "1800"))
            out += [
                f"partition_futures = [{task.name}.submit(p, region=None) for p in partitions]",
                f"done, not_done = {wait('wait')}(partition_futures, timeout={timeout})",
                "if not_done:",
                '    logger.warning("%d partitions timed out", len(not_done))',
                "records = [row for future in done for row in future.result()]",
            ]

    def transform_step(self, task: TaskSpec) -> None:
        rng = self.rng
        out = self.lines
        style = rng.choices(
            ("direct", "submit", "map", "wait", "try", "gather"), weights=(5, 3, 2, 2, 2, 2)
        )[0]
        if style == "gather" and not (self.is_async and task.is_async):
            style = "direct"
        if task.is_async and style in ("map", "wait"):
            style = "direct"
        if style == "direct":
            out.append(f"records = {self.call(task, 'records')}")
        elif style == "submit":
            var = self.fresh(f"{task.name.split('_')[0]}_future")
            out.append(f"{var} = {task.name}.submit(records)")
            if rng.random() < 0.3:
                out += [
                    f"outcome = {var}.result(raise_on_failure=False)",
                    "if isinstance(outcome, Exception):",
                    "    " + self.log(f"{task.name} failed, keeping old records: %s", "outcome"),
                    "else:",
                    "    records = outcome",
                ]
            else:
                out.append(f"records = {var}.result()")
        elif style == "map":
            self.uses_concurrency = True
            self.needs["batch_size"] = None
            out += [
                "batches = list(chunked(records, batch_size))",
                f"batch_futures = {task.name}.map(batches)",
                "records = [row for batch in batch_futures.result() for row in batch]",
            ]
        elif style == "wait":
            self.uses_concurrency = True
            self.needs["batch_size"] = None
            self.needs["logger"] = None
            out += [
                f"submitted = [{task.name}.submit(b) for b in chunked(records, batch_size)]",
                f"{self.m.futures('wait')}(submitted)",
                "failed = [future for future in submitted if future.state.is_failed()]",
                "if failed:",
                '    logger.error("%d of %d batches failed", len(failed), len(submitted))',
                "records = [",
                "    row",
                "    for future in submitted",
                "    if not future.state.is_failed()",
                "    for row in future.result()",
                "]",
            ]
        elif style == "try":
            self.needs["logger"] = None
            out += [
                "try:",
                f"    records = {self.call(task, 'records')}",
                "except ValueError as exc:",
                '    logger.error("validation failed: %s", exc)',
                "    raise",
            ]
        else:
            self.needs["batch_size"] = None
            out += [
                "results = await asyncio.gather(",
                f"    *({task.name}(batch) for batch in chunked(records, batch_size))",
                ")",
                "records = [row for batch in results for row in batch]",
            ]

    def sink_step(
        self, task: TaskSpec, summary_task: TaskSpec | None, report: TaskSpec | None
    ) -> None:
        rng = self.rng
        out = self.lines
        gate = "dry_run" if rng.random() < 0.5 else None
        if gate:
            self.needs["dry_run"] = None
        body: list[str] = []
        summary_var = None
        if summary_task is not None:
            if summary_task.is_async or rng.random() < 0.6:
                body.append(f"summary = {self.call(summary_task, 'records')}")
            else:
                body.append(f"summary = {summary_task.name}.submit(records).result()")
            summary_var = "summary"
        elif rng.random() < 0.5:
            body.append("summary = summarize(records)")
            summary_var = "summary"
        if not task.is_async and report is not None and not report.is_async and rng.random() < 0.6:
            self.uses_concurrency = True
            body += [
                f"load_future = {task.name}.submit(records)",
                f"report_future = {report.name}.submit(",
                f"    {summary_var or '{}'}, wait_for=[load_future]",
                ")",
                f"{self.m.futures('wait')}([load_future, report_future])",
                "loaded = load_future.result()",
            ]
        else:
            body.append(f"loaded = {self.call(task, 'records')}")
            if report is not None:
                body.append(f"{self.call(report, summary_var or '{}')}")
        body.append(self.log("loaded %s $noun".replace("$noun", self.m.domain), "loaded"))
        if gate:
            out += [
                "if dry_run:",
                f"    {self.log('dry run: skipping load of %d rows', 'len(records)')}",
                f"    return {self.result_expr(None)}",
            ]
        out += body
        out.append(f"return {self.result_expr(summary_var)}")
        self.returns = "dict[str, Any]"

    def result_expr(self, summary_var: str | None) -> str:
        parts = ['"rows": len(records)']
        if "run_date" in self.needs:
            parts.append('"run_date": run_date')
        if summary_var:
            parts.append(f'"summary": {summary_var}')
        return "{" + ", ".join(parts) + "}"

    def child_step(self) -> None:
        out = self.lines
        rng = self.rng
        for child in self.children:
            if child.is_async and not self.is_async:
                continue
            kwargs = ", ".join(
                f"{p}={p}" for p in child.params if p in ("run_date", "dry_run", "regions")
            )
            for p in child.params:
                if p in ("run_date", "dry_run", "regions"):
                    self.needs[p] = None
            # The deliberate mistake: flows have no .submit() in Prefect 3.
            if not child.is_async and rng.random() < 0.12:
                self.m.stats.mistakes.append(f"{child.name}.submit()")
                var = self.fresh(f"{child.name}_future")
                out.append(f"{var} = {child.name}.submit({kwargs})")
                out.append(f"{var}.result()")
            elif child.is_async:
                out.append(f"await {child.name}({kwargs})")
            elif rng.random() < 0.5:
                out.append(f"{child.name}({kwargs})")
            else:
                var = self.fresh(f"{child.name.split('_')[0]}_result")
                out.append(f"{var} = {child.name}({kwargs})")
                out.append(self.log(f"{child.name} finished: %s", var))

    # -- assembly --------------------------------------------------------------

    def build(self) -> tuple[list[str], list[str]]:
        rng = self.rng
        if self.children:
            self.child_step()
        source = self.pick("source")
        if source is not None:
            self.source_step(source)
            if rng.random() < 0.5:
                self.lines.append(self.log("extracted %d rows", "len(records)"))
        else:
            self.needs["records"] = None
        transforms = [
            t for t in self.m.tasks if t.kind == "transform" and (self.is_async or not t.is_async)
        ]
        rng.shuffle(transforms)
        for task in transforms[: max(1, self.size)]:
            self.transform_step(task)
        if rng.random() < 0.25:
            self.needs["logger"] = None
            self.lines += [
                "if not records:",
                '    logger.warning("nothing to load")',
                "    return {" + '"rows": 0}',
            ]
        sink = self.pick("sink")
        if sink is not None:
            self.sink_step(sink, self.pick("summary"), self.pick("report"))
        elif self.lines:
            self.lines.append(f"return {self.result_expr(None)}")
            self.returns = "dict[str, Any]"
        if not self.lines:
            self.lines.append("return None")
        return self._finish()

    def _finish(self) -> tuple[list[str], list[str]]:
        rng = self.rng
        params: list[str] = []
        prologue: list[str] = []
        needs = self.needs
        if "partitions" in needs:
            needs["run_date"] = None
            needs["regions"] = None
        if "records" in needs:
            params.append("records: list[dict[str, Any]]")
        if "run_date" in needs or rng.random() < 0.5:
            needs["run_date"] = None
            params.append("run_date: str | None = None")
            prologue.append(
                "run_date = run_date or "
                + rng.choice(("date.today().isoformat()", "utc_now().date().isoformat()"))
            )
        if "regions" in needs:
            if rng.random() < 0.6:
                params.append("regions: list[str] | None = None")
                prologue.append("regions = regions or list(REGIONS)")
            else:
                prologue.append("regions = list(REGIONS)")
        if "batch_size" in needs:
            if rng.random() < 0.6:
                params.append("batch_size: int = DEFAULT_BATCH_SIZE")
            else:
                prologue.append("batch_size = DEFAULT_BATCH_SIZE")
        if "partitions" in needs:
            prologue.append(
                rng.choice(
                    (
                        "partitions = build_partitions("
                        f"run_date, days={rng.randint(1, 7)}, regions=regions)",
                        'partitions = [f"{run_date}/{region}" for region in regions]',
                    )
                )
            )
        if "dry_run" in needs:
            params.append("dry_run: bool = False")
        docstring = rng.choice(
            (
                f'"""Run the {self.m.domain} {self.name.split("_")[-1]} for one day."""',
                f'"""{camel(self.name)}: extract, transform and load {self.m.domain}."""',
                f'"""Orchestrate the {self.m.area} steps for {self.m.domain}.\n\n'
                f"    Safe to re-run: every step is idempotent for a given ``run_date``.\n"
                f'    """',
            )
        )
        head = [docstring]
        if "logger" in needs:
            head.append(f"logger = {self.m.prefect('get_run_logger')}()")
        return head + prologue + self.lines, params


# --------------------------------------------------------------------------
# Module archetypes
# --------------------------------------------------------------------------

ARCHETYPES: tuple[tuple[str, int], ...] = (
    ("pipeline", 40),
    ("tasks_library", 15),
    ("orchestration", 12),
    ("async_pipeline", 13),
    ("utils", 8),
    ("big", 12),
)

MODULE_DOCSTRINGS: tuple[str, ...] = (
    '"""$Noun $area pipeline."""',
    '"""Prefect flows that move $noun from $source into the $schema schema."""',
    '"""$Noun tasks shared by the $area flows.\n\n'
    'Owned by the data platform team. See the runbook before changing retries.\n"""',
    '"""Nightly $noun jobs.\n\n'
    'The flows here are deployed from CI; run them locally with ``python -m``.\n"""',
)


def _task_counts(rng: random.Random, scale: int) -> dict[str, int]:
    return {
        "source": rng.randint(1, 1 + scale),
        "transform": rng.randint(1, 2 + scale),
        "summary": rng.randint(0, 1),
        "sink": rng.randint(1, 1 + scale // 2),
        "report": rng.randint(0, 1 + scale // 2),
    }


def build_module(rng: random.Random) -> tuple[str, str, ModuleStats]:
    """Return ``(relative_path, source, stats)`` for one module."""
    archetype = rng.choices([a for a, _ in ARCHETYPES], weights=[w for _, w in ARCHETYPES])[0]
    domain = rng.choice(DOMAINS)
    area = rng.choice(AREAS)
    m = ModuleBuilder(rng, domain, area)
    if rng.random() < 0.85:
        m.docstring = "\n".join(m.render(rng.choice(MODULE_DOCSTRINGS)))

    def maybe_classes(*choices: tuple[str, float]) -> None:
        for kind, probability in choices:
            if rng.random() < probability:
                m.add_class(kind)

    if archetype == "pipeline":
        maybe_classes(("config", 0.4), ("record", 0.2), ("status", 0.1), ("client", 0.15))
        m.add_library_helpers(rng.randint(0, 2))
        for _ in range(rng.randint(0, 2)):
            m.add_helper_function()
        m.add_tasks(_task_counts(rng, 1), async_share=0.1)
        m.add_flows(rng.randint(1, 2), async_share=0.1, size=rng.randint(1, 3))
        if rng.random() < 0.75:
            m.add_main_guard()
    elif archetype == "async_pipeline":
        maybe_classes(("client", 0.2), ("window", 0.2))
        m.add_library_helpers(rng.randint(0, 1))
        m.add_tasks(_task_counts(rng, 1), async_share=0.8)
        m.add_flows(rng.randint(1, 2), async_share=0.9, size=rng.randint(1, 3))
        m.add_main_guard()
    elif archetype == "tasks_library":
        maybe_classes(("record", 0.3), ("row", 0.2), ("exporter", 0.2))
        m.add_library_helpers(rng.randint(1, 3))
        for _ in range(rng.randint(1, 3)):
            m.add_helper_function()
        m.add_tasks(_task_counts(rng, 3), async_share=0.15)
    elif archetype == "orchestration":
        m.import_tasks(_task_counts(rng, 2))
        maybe_classes(("config", 0.3), ("tracker", 0.2))
        m.add_flows(rng.randint(1, 3), async_share=0.1, size=rng.randint(1, 3))
        if rng.random() < 0.5:
            m.add_deployment_block()
        m.add_main_guard()
    elif archetype == "utils":
        maybe_classes(
            ("config", 0.4),
            ("record", 0.4),
            ("status", 0.4),
            ("row", 0.3),
            ("window", 0.3),
            ("tracker", 0.3),
        )
        m.add_library_helpers(rng.randint(3, 7))
        for _ in range(rng.randint(2, 5)):
            m.add_helper_function()
    else:  # big
        maybe_classes(
            ("config", 0.6),
            ("record", 0.4),
            ("client", 0.4),
            ("status", 0.3),
            ("tracker", 0.3),
            ("exporter", 0.2),
        )
        m.add_library_helpers(rng.randint(2, 4))
        for _ in range(rng.randint(2, 4)):
            m.add_helper_function()
        m.add_tasks(_task_counts(rng, 4), async_share=0.15)
        m.add_flows(rng.randint(3, 5), async_share=0.15, size=rng.randint(2, 4))
        if rng.random() < 0.5:
            m.add_deployment_block()
        m.add_main_guard()
    if (m.tasks or m.flows) and rng.random() < 0.25:
        names = [
            t.name
            for t in m.tasks
            if t.name in m.used_names and any(t.name in b for b in m.task_blocks)
        ]
        names += [f.name for f in m.flows]
        m.extra_header.append("__all__ = [" + ", ".join(f'"{n}"' for n in names) + "]")
        m.extra_header.append("")

    stem = f"{domain}_{rng.choice(MODULE_SUFFIXES[archetype])}"
    return f"{area}/{domain}/{stem}.py", m.assemble(), m.stats


# --------------------------------------------------------------------------
# Corpus API
# --------------------------------------------------------------------------


@dataclass
class CorpusSummary:
    root: Path
    files: int = 0
    lines: int = 0
    bytes: int = 0
    tasks: int = 0
    flows: int = 0
    async_flows: int = 0
    mistakes: int = 0
    paths: list[Path] = field(default_factory=list)


def iter_modules(files: int, seed: int) -> Iterator[tuple[str, str, ModuleStats]]:
    """Yield ``(relative_path, source, stats)`` for each module of the corpus."""
    seen: dict[str, None] = {}
    for index in range(files):
        rng = random.Random(f"prefect-lint-corpus:{seed}:{index}")
        relpath, source, stats = build_module(rng)
        if relpath in seen:
            stem = relpath[: -len(".py")]
            relpath = f"{stem}_{index}.py"
        seen[relpath] = None
        yield relpath, source, stats


def count_lines(data: bytes) -> int:
    """Number of lines in ``data``; a final line without a newline counts."""
    count = data.count(b"\n")
    if data and not data.endswith(b"\n"):
        count += 1
    return count


def generate_corpus(
    out_dir: Path,
    files: int = DEFAULT_FILES,
    seed: int = DEFAULT_SEED,
    *,
    verify_libcst: bool = False,
) -> CorpusSummary:
    """Write the corpus under ``out_dir`` (which must be empty or absent)."""
    out_dir = Path(out_dir)
    if out_dir.exists() and any(out_dir.iterdir()):
        raise FileExistsError(f"{out_dir} is not empty; choose an empty or new directory")
    parse_module = None
    if verify_libcst:
        import libcst

        parse_module = libcst.parse_module
    summary = CorpusSummary(root=out_dir)
    for relpath, source, stats in iter_modules(files, seed):
        compile(source, relpath, "exec", dont_inherit=True)
        if parse_module is not None:
            tree = parse_module(source)
            if tree.code != source:
                raise AssertionError(f"libcst round trip changed {relpath}")
        path = out_dir / relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source, encoding="utf-8", newline="\n")
        summary.paths.append(path)
        summary.files += 1
        encoded = source.encode("utf-8")
        summary.lines += count_lines(encoded)
        summary.bytes += len(encoded)
        summary.tasks += stats.tasks
        summary.flows += stats.flows
        summary.async_flows += stats.async_flows
        summary.mistakes += len(stats.mistakes)
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("out_dir", type=Path, help="directory to create (must be empty or absent)")
    parser.add_argument(
        "--files",
        type=int,
        default=DEFAULT_FILES,
        help=f"number of modules (default {DEFAULT_FILES})",
    )
    parser.add_argument(
        "--seed", type=int, default=DEFAULT_SEED, help=f"random seed (default {DEFAULT_SEED})"
    )
    parser.add_argument(
        "--no-verify",
        action="store_true",
        help="skip the libcst.parse_module check (compile() is always checked)",
    )
    args = parser.parse_args(argv)
    if args.files < 1:
        parser.error("--files must be at least 1")
    try:
        summary = generate_corpus(
            args.out_dir, args.files, args.seed, verify_libcst=not args.no_verify
        )
    except FileExistsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(
        f"wrote {summary.files} files, {summary.lines:,} lines, {summary.bytes:,} bytes "
        f"to {summary.root} "
        f"(seed {args.seed}; {summary.tasks} tasks, {summary.flows} flows, "
        f"{summary.async_flows} async flows, {summary.mistakes} deliberate mistakes)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
