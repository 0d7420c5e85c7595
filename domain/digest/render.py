"""The digest as an email body: Jinja2 templates (HTML autoescaped + plain text) and inline PNG charts.

Charts are referenced from the HTML as ``cid:<content id>`` and attached to the email's
multipart/related part by ``domain.digest.send``; ``preview_html`` swaps them for data: URIs so the
same HTML opens in a browser (``loa digest --preview``).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from domain.charts import Series, chart_book
from domain.digest.data import PLATFORM_VI, RISK_VI, RISKS, DigestData
from domain.targets import MET, NOT_MET, fmt_number

TEMPLATES = Path(__file__).resolve().parent / "templates"
POST_SERIES = tuple(Series(p, PLATFORM_VI[p]) for p in ("facebook_page", "zalo_oa"))
RISK_SERIES = tuple(Series(r, RISK_VI[r]) for r in RISKS)


@dataclass(frozen=True)
class InlineImage:
    """A PNG attached to the email and shown by the HTML through ``cid:``."""

    cid: str
    filename: str
    data: bytes
    alt: str


@dataclass(frozen=True)
class RenderedDigest:
    subject: str
    text: str
    html: str
    images: tuple[InlineImage, ...]
    data: DigestData


def _fmt(value: float | int | None) -> str:
    return "—" if value is None else fmt_number(value)


def _signed(value: int) -> str:
    return f"+{fmt_number(value)}" if value > 0 else fmt_number(value)


def _env(autoescape: bool) -> Environment:
    escape = select_autoescape(enabled_extensions=("html",), default=False) if autoescape else False
    env = Environment(loader=FileSystemLoader(str(TEMPLATES)), undefined=StrictUndefined, trim_blocks=True,
                      lstrip_blocks=True, keep_trailing_newline=True, autoescape=escape)
    env.filters["n"] = _fmt
    env.filters["signed"] = _signed
    return env


_HTML, _TEXT = _env(True), _env(False)


def subject_of(data: DigestData) -> str:
    return f"[Loa] Tổng hợp {data.week.title_vi} – {data.org_name}"


def render(data: DigestData, *, base_url: str = "") -> RenderedDigest:
    """HTML and text bodies plus the chart images of one digest."""
    images = []
    book = chart_book()
    labels = [f"T{w.number}" for w in data.trend_weeks]
    posts_chart = flagged_chart = None
    if any(any(v) for v in data.posts_by_week.values()):
        png = book.stacked(len(labels), POST_SERIES).png([data.posts_by_week[s.key] for s in POST_SERIES], labels)
        posts_chart = InlineImage(f"posts-{data.org_id}-{data.week.label}@loa", "bai-dang-8-tuan.png", png,
                                  "Biểu đồ số bài đăng 8 tuần gần đây theo nền tảng")
        images.append(posts_chart)
    if any(any(v) for v in data.flagged_by_week.values()):
        png = book.stacked(len(labels), RISK_SERIES).png([data.flagged_by_week[s.key] for s in RISK_SERIES], labels)
        flagged_chart = InlineImage(f"flagged-{data.org_id}-{data.week.label}@loa", "du-luan-8-tuan.png", png,
                                    "Biểu đồ thông tin cần chú ý 8 tuần gần đây theo mức rủi ro")
        images.append(flagged_chart)
    context = {
        "d": data, "subject": subject_of(data), "posts_chart": posts_chart, "flagged_chart": flagged_chart,
        "post_series": POST_SERIES, "risk_series": RISK_SERIES, "colours": _colours(), "risk_vi": RISK_VI,
        "MET": MET, "NOT_MET": NOT_MET, "base_url": base_url.rstrip("/"),
        "generated_local": _local_full(data.generated_at),
    }
    return RenderedDigest(subject=context["subject"], text=_TEXT.get_template("digest.txt").render(context),
                          html=_HTML.get_template("digest.html").render(context), images=tuple(images), data=data)


def _colours() -> dict[str, str]:
    from domain.charts import COLOURS

    return COLOURS


def _local_full(at) -> str:  # noqa: ANN001
    from domain.scheduling import to_local

    return to_local(at).strftime("%H:%M ngày %d/%m/%Y")


def preview_html(digest: RenderedDigest) -> str:
    """The HTML with every ``cid:`` image inlined as a data: URI (opens in any browser)."""
    html = digest.html
    for image in digest.images:
        uri = "data:image/png;base64," + base64.b64encode(image.data).decode("ascii")
        html = html.replace(f"cid:{image.cid}", uri)
    return html
