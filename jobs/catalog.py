"""The shipped jobs and question banks: YAML files in ``jobs/banks``.

One file holds one job and its bank::

    job:  {id: wealth_manager, title: {zh: 理财经理, en: Wealth Manager}, ...}
    bank: {id: wealth_manager, job_id: wealth_manager, questions: [...]}

:func:`load_catalog` reads every ``*.yaml`` file in a folder with
``yaml.safe_load`` and validates it with the contract in :mod:`jobs.models`;
a bad file raises :class:`CatalogError`, which names the file and each
failing field (``bank.questions.2.answer_s``). :func:`seed` writes the
catalog into the store (see :meth:`db.catalog.CatalogRepository.seed_catalog` for the
versioning rule).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from automation.rules import load_yaml

from .models import Job, QuestionBank

if TYPE_CHECKING:  # the store imports this package's models, not this module
    from db import SeedReport, Store

BANKS_DIR = Path(__file__).resolve().parent / "banks"



@dataclass(frozen=True)
class FieldError:
    field: str  # a dotted path: bank.questions.2.answer_s ("" for the whole file)
    message: str


class CatalogError(ValueError):
    """A shipped file that does not load or validate; names the file and fields."""

    def __init__(self, path: Path, errors: Iterable[FieldError]) -> None:
        self.path = path
        self.errors = list(errors)
        lines = [f"{e.field}: {e.message}" if e.field else e.message for e in self.errors]
        super().__init__(f"{path}: " + "; ".join(lines))


class BankFile(BaseModel):
    """The shape of one shipped file."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    job: Job
    bank: QuestionBank


@dataclass(frozen=True)
class CatalogEntry:
    path: Path
    job: Job
    bank: QuestionBank


def field_path(loc: Iterable[Any]) -> str:
    """A pydantic error location as a dotted path: ``questions.2.answer_s``."""
    return ".".join(str(part) for part in loc)


def validation_errors(exc: ValidationError) -> list[FieldError]:
    return [FieldError(field_path(e["loc"]), e["msg"]) for e in exc.errors(include_url=False, include_input=False)]


def load_file(path: Path) -> CatalogEntry:
    path = Path(path)
    try:
        data = load_yaml(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
        raise CatalogError(
            path, [FieldError("", f"not valid YAML{where}: {getattr(exc, 'problem', None) or exc}")]
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CatalogError(path, [FieldError("", f"cannot be read: {exc}")]) from None
    if not isinstance(data, dict):
        raise CatalogError(path, [FieldError("", "expected a mapping with 'job' and 'bank'")])
    try:
        parsed = BankFile.model_validate(data)
    except ValidationError as exc:
        raise CatalogError(path, validation_errors(exc)) from None
    errors = _shape_errors(parsed)
    if errors:
        raise CatalogError(path, errors)
    return CatalogEntry(path=path, job=parsed.job, bank=parsed.bank)


def _shape_errors(parsed: BankFile) -> list[FieldError]:
    """What the contract allows but a shipped file must not do."""
    errors = []
    if parsed.bank.job_id != parsed.job.id:
        errors.append(FieldError("bank.job_id", f"must be the file's job id {parsed.job.id!r}"))
    questions = parsed.bank.questions
    if questions[0].kind != "practice":
        errors.append(FieldError("bank.questions.0.kind", "the first question must be the practice question"))
    for i, question in enumerate(questions[1:], start=1):
        if question.kind == "practice":
            errors.append(FieldError(f"bank.questions.{i}.kind", "only the first question may be a practice question"))
    return errors


def load_catalog(directory: Path | None = None) -> list[CatalogEntry]:
    """Every ``*.yaml`` file in ``directory`` (default: the shipped banks), by file name."""
    directory = Path(directory) if directory is not None else BANKS_DIR
    if not directory.is_dir():
        raise CatalogError(directory, [FieldError("", "is not a folder")])
    entries = [load_file(path) for path in sorted(directory.glob("*.yaml"))]
    seen_jobs: dict[str, Path] = {}
    seen_banks: dict[str, Path] = {}
    for entry in entries:
        for seen, key, field in ((seen_jobs, entry.job.id, "job.id"), (seen_banks, entry.bank.id, "bank.id")):
            if key in seen:
                raise CatalogError(entry.path, [FieldError(field, f"{key!r} is also defined in {seen[key].name}")])
            seen[key] = entry.path
    return entries


def seed(store: Store, directory: Path | None = None) -> SeedReport:
    """Load the catalog and write it into the store (blocking: run it off the event loop)."""
    return store.seed_catalog((entry.job, entry.bank) for entry in load_catalog(directory))
