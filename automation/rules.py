"""Automation rules as data: *on* an application's event, *after* a while, *if* a condition, *do* actions.

A job carries its rules (``Job.automation``, versioned with the job; the
shipped defaults are in ``jobs/banks/*.yaml``)::

    automation:
      enabled: true
      rules:
        - id: invite_strong
          on: screened
          if: band == "advance"
          do: "invite(channel: wecom|email, template: invite)"   # quoted: YAML reads ": " as a mapping
        - id: remind
          on: invited
          after: 48h
          if: not opened
          do: remind(channel=email)                              # or with "=", unquoted
        - id: tell_branch
          on: interview.ended
          do: notify_hr(group: branch_hr)
        - id: close_loop
          on: decided
          do: [notify_candidate, sync(successfactors)]

This module is the pure core: it parses and checks rules (an unknown event,
action, argument or variable is an error when the rule is saved, not when it
would fire), compiles conditions with :mod:`simpleeval` (the names below, comparisons,
``and``/``or``/``not``, ``in``; no functions, no underscore attributes, no
imports) and says which rules an
event triggers. Conditions are evaluated when an action falls due, so a
timer's ``if: not opened`` sees the application as it is 48 hours later.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import yaml

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from simpleeval import EvalWithCompoundTypes, InvalidExpression, NameNotDefined

from .templates import TemplateProblem, TemplateText, check as check_templates, merged

# The application's events a rule can start from, and the timeline action each one is.
EVENTS: dict[str, tuple[str, ...]] = {
    "received": ("receive",),
    "screened": ("screen",),
    "invited": ("invite",),
    "opened": ("open",),
    "interview.started": ("start_interview",),
    "interview.ended": ("end_interview",),
    "decided": ("decide", "confirm_pool"),
    "withdrawn": ("withdraw",),
}
TIMELINE_TO_EVENT = {action: event for event, actions in EVENTS.items() for action in actions}

# What a condition may name, with an example value of each (used to check a condition when a rule is saved).
VARIABLES: dict[str, Any] = {
    "state": "screened",  # the application's state now
    "band": "advance",  # screening's outcome: advance | review | pool
    "score": 72.5,  # the screening (job match) score, 0-100, or None
    "decision": "advance",  # HR's decision: advance | hold | reject, or None
    "source": "upload",  # where the application came from: upload, a job board, successfactors...
    "opened": False,  # the candidate opened the invite link
    "interviewed": False,  # the interview ended
    "interview_score": 80.0,  # the report's overall score, 0-100, or None
    "has_email": True,
    "has_phone": True,
    "has_wecom": False,  # reachable as a WeCom external contact
    "language": "zh",  # the candidate's language: zh | en
}
BANDS = ("advance", "review", "pool")
DECISIONS = ("advance", "hold", "reject")

CANDIDATE_CHANNELS = ("wecom", "email", "sms")

# action -> the arguments it takes (name -> default); "channel" is a preference list like "wecom|email".
ACTIONS: dict[str, dict[str, Any]] = {
    "invite": {"channel": "email", "template": "invite"},
    "remind": {"channel": "email", "template": "reminder"},
    "notify_candidate": {"channel": "email", "template": "decision"},
    "notify_hr": {"group": None, "users": None, "email": None, "template": "hr_notice"},
    "sync": {"target": "successfactors"},
}
# Positional first argument: sync(successfactors), notify_hr(branch_hr).
POSITIONAL = {"sync": "target", "notify_hr": "group", "invite": "channel", "remind": "channel", "notify_candidate": "channel"}
SYNC_TARGETS = ("successfactors",)

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d|w)\s*$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_CALL = re.compile(r"^\s*([a-z_]+)\s*(?:\((.*)\))?\s*$", re.S)
_NAME = re.compile(r"^[a-z][a-z0-9_\-]{0,63}$")


class YamlLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """Safe YAML with YAML 1.2's booleans: ``on:`` is a rule's key, not ``True`` (only true/false are booleans)."""


YamlLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in getattr(yaml, "CSafeLoader", yaml.SafeLoader).yaml_implicit_resolvers.items()
}
YamlLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


class YamlDumper(yaml.SafeDumper):
    """Writes what :class:`YamlLoader` reads: ``on:`` unquoted (only true/false are booleans)."""


YamlDumper.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeDumper.yaml_implicit_resolvers.items()
}
YamlDumper.add_implicit_resolver("tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))


def dump_yaml(data: Any) -> str:
    return yaml.dump(data, Dumper=YamlDumper, allow_unicode=True, sort_keys=False, width=120)


def load_yaml(text: str) -> Any:
    """YAML as rules (and jobs) are written: safe, and ``on``/``off``/``yes``/``no`` stay words."""
    return yaml.load(text, Loader=YamlLoader)


class RuleError(ValueError):
    """A rule that cannot be used, and why (the message names the rule and the field)."""


def parse_duration(text: str | int | float | None) -> float:
    """``48h``, ``30m``, ``2d``, ``90s``, ``1w`` (or plain seconds) -> seconds."""
    if text is None:
        return 0.0
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        if text < 0:
            raise RuleError("a delay is not negative")
        return float(text)
    match = _DURATION.match(str(text))
    if not match:
        raise RuleError(f"a delay is a number and a unit (s, m, h, d, w), like 48h; got {text!r}")
    return float(match.group(1)) * _UNITS[match.group(2)]


@dataclass(frozen=True)
class Action:
    """One thing a rule does, with its arguments filled in from the defaults."""

    name: str
    args: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {"action": self.name, **self.args}

    def channels(self) -> tuple[str, ...]:
        """The candidate channels to try, in order (``wecom|email``)."""
        value = self.args.get("channel") or ""
        return tuple(c for c in str(value).split("|") if c)


def parse_action(spec: Any) -> Action:
    """``"remind"``, ``"invite(channel: wecom|email, template: invite)"`` or ``{"invite": {...}}`` / ``{"action": ...}``."""
    if isinstance(spec, str):
        match = _CALL.match(spec)
        if not match:
            raise RuleError(f"an action is a name with optional arguments, like invite(channel: email); got {spec!r}")
        name, inner = match.group(1), match.group(2)
        args: dict[str, Any] = {}
        for i, part in enumerate(p.strip() for p in (inner or "").split(",")):
            if not part:
                continue
            sep = ":" if ":" in part else "=" if "=" in part else None
            if sep:
                key, value = (x.strip() for x in part.split(sep, 1))
            elif i == 0 and name in POSITIONAL:
                key, value = POSITIONAL[name], part
            else:
                raise RuleError(f"{name}: an argument is name: value, got {part!r}")
            args[key] = value.strip("'\"")
    elif isinstance(spec, dict):
        if "action" in spec:
            name = str(spec["action"])
            args = {k: v for k, v in spec.items() if k != "action"}
        elif len(spec) == 1:
            name, value = next(iter(spec.items()))
            if value is None:
                args = {}
            elif isinstance(value, dict):
                args = dict(value)
            elif name in POSITIONAL:
                args = {POSITIONAL[name]: value}
            else:
                raise RuleError(f"{name}: its arguments are a mapping")
        else:
            raise RuleError("an action written as a mapping has one key (its name) or an 'action' key")
    else:
        raise RuleError(f"an action is text or a mapping, got {type(spec).__name__}")
    if name not in ACTIONS:
        raise RuleError(f"unknown action {name!r}: one of {', '.join(ACTIONS)}")
    allowed = ACTIONS[name]
    unknown = sorted(set(args) - set(allowed))
    if unknown:
        raise RuleError(f"{name} takes {', '.join(allowed)}; not {', '.join(unknown)}")
    filled = {**{k: v for k, v in allowed.items() if v is not None}, **{k: v for k, v in args.items() if v is not None}}
    action = Action(name, filled)
    if name in ("invite", "remind", "notify_candidate"):
        bad = [c for c in action.channels() if c not in CANDIDATE_CHANNELS]
        if bad or not action.channels():
            raise RuleError(f"{name}: channel is one or more of {', '.join(CANDIDATE_CHANNELS)} joined by |, like wecom|email")
    if name == "sync" and filled.get("target") not in SYNC_TARGETS:
        raise RuleError(f"sync: target is one of {', '.join(SYNC_TARGETS)}")
    if name == "notify_hr" and not any(filled.get(k) for k in ("group", "users", "email")):
        raise RuleError("notify_hr: name a WeCom group (group: branch_hr), WeCom users (users: zhangsan|lisi) or an e-mail address")
    for key in ("template", "group"):
        if key in filled and not _NAME.match(str(filled[key])):
            raise RuleError(f"{name}: {key} is lower case letters, digits, _ and -")
    return action


def _evaluator(names: dict[str, Any]) -> EvalWithCompoundTypes:
    return EvalWithCompoundTypes(names=dict(names), functions={})


def check_condition(text: str) -> None:
    """RuleError unless ``text`` is an expression over :data:`VARIABLES` that simpleeval accepts."""
    try:
        _evaluator(VARIABLES).eval(text)
    except NameNotDefined as exc:
        raise RuleError(f"if: unknown name {exc.name!r}; a condition may use {', '.join(VARIABLES)}") from None
    except (InvalidExpression, SyntaxError, TypeError, ValueError, KeyError) as exc:
        raise RuleError(f"if: {text!r} is not a condition ({type(exc).__name__}: {exc})") from None


def evaluate(text: str | None, names: dict[str, Any]) -> bool:
    """The condition's truth for these values (no condition: true)."""
    if not text:
        return True
    values = {**{k: None for k in VARIABLES}, **names}
    try:
        return bool(_evaluator(values).eval(text))
    except TypeError:
        return False  # e.g. score > 70 while score is None: not met


class Rule(BaseModel):
    """One rule; see the module's docstring for the language."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True, serialize_by_alias=True)

    id: str = Field(pattern=_NAME.pattern)
    on: str
    after: str | float | None = None
    if_: str | None = Field(default=None, alias="if")
    do: list[Any] = Field(min_length=1)
    description: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _yaml11_on(cls, data: Any) -> Any:
        # A YAML 1.1 parser (PyYAML's safe_load) reads the key "on" as True: take it as "on".
        if isinstance(data, dict) and True in data and "on" not in data:
            data = {("on" if k is True else k): v for k, v in data.items()}
        return data

    @field_validator("do", mode="before")
    @classmethod
    def _listed(cls, value: Any) -> Any:
        return value if isinstance(value, list) else [value]

    @model_validator(mode="after")
    def _check(self) -> "Rule":
        if self.on not in EVENTS:
            raise ValueError(f"rule {self.id}: on is one of {', '.join(EVENTS)}")
        try:
            parse_duration(self.after)
            if self.if_:
                check_condition(self.if_)
            actions = [parse_action(a) for a in self.do]
        except RuleError as exc:
            raise ValueError(f"rule {self.id}: {exc}") from None
        for action in actions:
            if action.name == "notify_candidate" and self.on != "decided":
                # Never tell a candidate anything before a person decided (issue 11, part 4).
                raise ValueError(f"rule {self.id}: notify_candidate runs only on decided (a person's decision)")
            if action.name == "remind" and self.on not in ("invited", "opened"):
                raise ValueError(f"rule {self.id}: remind follows an invite (on: invited or opened)")
        return self

    def delay_s(self) -> float:
        return parse_duration(self.after)

    def actions(self) -> list[Action]:
        return [parse_action(a) for a in self.do]

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(by_alias=True, exclude_none=True)


class Automation(BaseModel):
    """A job's rules; ``enabled: false`` keeps them written down but idle (the shipped jobs start that way)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    enabled: bool = False
    rules: list[Rule] = Field(default_factory=list)
    templates: dict[str, dict[str, TemplateText]] = Field(default_factory=dict)  # overrides of templates.yaml

    @field_validator("rules")
    @classmethod
    def _unique(cls, value: list[Rule]) -> list[Rule]:
        ids = [r.id for r in value]
        if len(ids) != len(set(ids)):
            raise ValueError("rule ids are unique within a job")
        return value

    @model_validator(mode="after")
    def _renders(self) -> "Automation":
        try:
            check_templates({name: dict(langs) for name, langs in self.templates.items()})
        except TemplateProblem as exc:
            raise ValueError(str(exc)) from None
        bad = [lang for langs in self.templates.values() for lang in langs if lang not in ("zh", "en")]
        if bad:
            raise ValueError(f"a template's language is zh or en, not {bad[0]!r}")
        names = set(merged(self.templates))
        for rule in self.rules:
            for action in rule.actions():
                template = action.args.get("template")
                if template and template != "decision" and template not in names:
                    raise ValueError(f"rule {rule.id}: no template {template!r} (templates: {', '.join(sorted(names))})")
        return self

    def triggered_by(self, timeline_action: str) -> list[Rule]:
        """The rules an application's timeline entry starts (none while disabled)."""
        event = TIMELINE_TO_EVENT.get(timeline_action)
        if not self.enabled or event is None:
            return []
        return [r for r in self.rules if r.on == event]
