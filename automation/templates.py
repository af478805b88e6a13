"""Message templates per language: shipped defaults (templates.yaml), a job's overrides, rendering.

Templates are Jinja2, rendered in a sandbox (HR write them; a template can
read the variables it is given and nothing else). One template gives every
channel its form: an e-mail's subject, text and HTML; a WeCom text or
markdown message. The HTML part is the text with every variable escaped,
links made clickable and line breaks kept, unless the template has its own
``html`` (autoescaped too).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo
from typing import Any, Mapping

import yaml
from jinja2 import StrictUndefined, TemplateError
from jinja2.sandbox import SandboxedEnvironment
from pydantic import BaseModel, ConfigDict, Field

LANGUAGES = ("zh", "en")
SHIPPED = Path(__file__).with_name("templates.yaml")
FEEDBACK_POLICIES = ("none", "next_step", "next_step_with_band")

# What a candidate is told after a person decided (issue 11, part 4).
NEXT_STEP = {
    "advance": {
        "zh": "恭喜您进入下一轮面试，招聘团队将在3个工作日内与您联系安排。",
        "en": "You go on to the next round: the recruiting team will contact you within three working days to arrange it.",
    },
    "hold": {
        "zh": "您的申请仍在评估中，有进一步消息时我们会再通知您。",
        "en": "Your application is still being considered; we will tell you when there is news.",
    },
    "reject": {
        "zh": "很遗憾，您本次未能进入下一轮。感谢您的时间与关注，祝您求职顺利。",
        "en": "We are sorry: this time you do not go on to the next round. Thank you for your time, and good luck.",
    },
}
# Bands of the interview's overall score, told only where the policy allows it (never the number).
BANDS = ((85.0, {"zh": "优秀", "en": "excellent"}), (70.0, {"zh": "良好", "en": "good"}),
         (55.0, {"zh": "合格", "en": "fair"}), (0.0, {"zh": "待提高", "en": "below the bar"}))
HR_EVENTS = {
    "received": {"zh": "收到申请", "en": "applied"},
    "screened": {"zh": "完成筛选", "en": "was screened"},
    "invited": {"zh": "已邀约面试", "en": "was invited"},
    "opened": {"zh": "打开了面试链接", "en": "opened the interview link"},
    "interview.started": {"zh": "开始面试", "en": "started the interview"},
    "interview.ended": {"zh": "完成了AI预面试", "en": "finished the AI pre-interview"},
    "decided": {"zh": "已有决定", "en": "was decided"},
    "withdrawn": {"zh": "撤回了申请", "en": "withdrew"},
}


class TemplateText(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    subject: str = Field(min_length=1, max_length=300)
    text: str = Field(min_length=1, max_length=20_000)
    html: str | None = Field(default=None, max_length=50_000)


Templates = dict[str, dict[str, TemplateText]]  # name -> language -> text


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str
    language: str

    def to_dict(self) -> dict[str, str]:
        return {"subject": self.subject, "text": self.text, "html": self.html, "language": self.language}


class TemplateProblem(ValueError):
    """A template that does not render (a syntax error, an unknown variable), with the template's name."""


@functools.lru_cache(maxsize=1)
def shipped() -> Templates:
    raw = yaml.safe_load(SHIPPED.read_text(encoding="utf-8"))
    return {name: {lang: TemplateText.model_validate(t) for lang, t in langs.items()} for name, langs in raw.items()}


def merged(overrides: Mapping[str, Mapping[str, TemplateText]] | None) -> Templates:
    """The shipped templates with a job's overrides on top (per name and language)."""
    out = {name: dict(langs) for name, langs in shipped().items()}
    for name, langs in (overrides or {}).items():
        out.setdefault(name, {}).update(langs)
    return out


@functools.lru_cache(maxsize=1)
def _env() -> SandboxedEnvironment:
    return SandboxedEnvironment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=False)


@functools.lru_cache(maxsize=1)
def _html_env() -> SandboxedEnvironment:
    return SandboxedEnvironment(undefined=StrictUndefined, autoescape=True)


_URL = re.compile(r"https?://[^\s<>\"']+")


def layout(escaped_text: str) -> str:
    """Text whose variables are escaped already, as simple HTML: paragraphs, line breaks, links, **bold**."""
    out = []
    for para in re.split(r"\n\s*\n", escaped_text.strip()):
        linked = _URL.sub(lambda m: f'<a href="{m.group(0)}">{m.group(0)}</a>', para)
        linked = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", linked)
        out.append("<p>" + linked.replace("\n", "<br>\n") + "</p>")
    return '<!doctype html><html><body style="font-family:sans-serif;line-height:1.6">\n' + "\n".join(out) + "\n</body></html>"


def pick_language(templates: Templates, name: str, language: str | None) -> str:
    langs = templates.get(name)
    if not langs:
        raise TemplateProblem(f"no template {name!r}")
    if language in langs:
        return language  # type: ignore[return-value]
    return "zh" if "zh" in langs else next(iter(langs))


def render(templates: Templates, name: str, language: str | None, variables: Mapping[str, Any]) -> Rendered:
    """One template in one language (the candidate's, else Chinese), with these variables."""
    lang = pick_language(templates, name, language)
    t = templates[name][lang]
    values = dict(variables)
    try:
        subject = _env().from_string(t.subject).render(values).strip()
        text = _env().from_string(t.text).render(values).strip()
        # The HTML part: every variable escaped (autoescape); the template's own words are HR's.
        body = _html_env().from_string(t.html or t.text).render(values)
        if not t.html:
            body = layout(body)
    except TemplateError as exc:
        raise TemplateProblem(f"template {name!r} ({lang}): {exc}") from None
    return Rendered(subject=" ".join(subject.split()), text=text, html=body, language=lang)


def check(templates: Templates) -> None:
    """TemplateProblem unless every template renders with sample variables."""
    for name, langs in templates.items():
        for lang in langs:
            render(templates, name, lang, sample_variables(lang))


def local_time(when: datetime, zone: str) -> str:
    """A time as a candidate reads it: ``2026-12-12 18:00 (UTC+8)`` in the deployment's zone."""
    local = when.astimezone(ZoneInfo(zone))
    offset = local.utcoffset() or timedelta(0)
    hours, rest = divmod(int(offset.total_seconds()), 3600)
    minutes = abs(rest) // 60
    sign = "+" if offset >= timedelta(0) else "-"
    return f"{local:%Y-%m-%d %H:%M} (UTC{sign}{abs(hours)}{f':{minutes:02d}' if minutes else ''})"


def band_of(score: float | None, language: str) -> str:
    if score is None:
        return ""
    for floor, names in BANDS:
        if score >= floor:
            return names.get(language, names["en"])
    return ""


def sample_variables(language: str = "zh") -> dict[str, Any]:
    """Values for a preview (and for checking a template when it is saved)."""
    zh = language == "zh"
    return {
        "candidate_name": "张三" if zh else "Alex Chen",
        "job_title": "理财经理" if zh else "Wealth Manager",
        "org": "示例银行" if zh else "Example Bank",
        "invite_link": "https://candor.example.cn/candidate/s_example#code=example",
        "deadline": "2026-12-31 18:00 (UTC+8)",
        "decision": "advance",
        "next_step": NEXT_STEP["advance"]["zh" if zh else "en"],
        "band": band_of(82.0, language),
        "application_link": "https://candor.example.cn/hr/applications/app_example",
        "interview_score": 82,
        "event": HR_EVENTS["interview.ended"]["zh" if zh else "en"],
    }
