"""The human page at `/`: Pages/OAs and their posts/articles, newest first, refreshed every few seconds."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from html import escape

from starlette.requests import Request
from starlette.responses import HTMLResponse

from sandbox.engagement import fb_counts, zalo_counts

VN = timezone(timedelta(hours=7))
MAX_ITEMS = 30
_CSS = """
body{font-family:system-ui,sans-serif;margin:1.5rem;background:#f5f6f8;color:#1c1e21}
h1{font-size:1.4rem}h2{font-size:1.15rem;margin-top:2rem}h3{font-size:1rem;margin:.2rem 0}
.card{background:#fff;border-radius:8px;padding:.8rem 1rem;margin:.6rem 0;box-shadow:0 1px 2px #0002}
.meta{color:#65676b;font-size:.85rem}.msg{white-space:pre-wrap;margin:.4rem 0}
.tag{display:inline-block;border-radius:4px;padding:0 .4rem;font-size:.8rem;background:#e4e6eb}
.ok{background:#d8f5dd}.wait{background:#fff3c4}.off{background:#f8d7da}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(380px,1fr));gap:1rem}
"""


def _t(ts: float) -> str:
    return datetime.fromtimestamp(ts, VN).strftime("%H:%M:%S %d/%m/%Y")


def _short(text: str | None, n: int = 400) -> str:
    text = text or ""
    return escape(text if len(text) <= n else text[:n] + "…")


def _post_html(emu, post, now: float) -> str:
    if post.deleted:
        state = '<span class="tag off">Đã xoá</span>'
    elif post.is_live(now):
        state = '<span class="tag ok">Đã đăng</span>'
    elif post.scheduled_at:
        state = f'<span class="tag wait">Hẹn giờ {escape(_t(post.scheduled_at))}</span>'
    else:
        state = '<span class="tag wait">Chưa công khai</span>'
    extra = []
    if post.link:
        extra.append(f'Liên kết: <a href="{escape(post.link, quote=True)}">{_short(post.link, 120)}</a>')
    if post.photo_ids:
        extra.append(f"{len(post.photo_ids)} ảnh")
    counts = fb_counts(emu, post)
    if counts.views:
        extra.append(f"{counts.views} lượt xem · {counts.reactions} cảm xúc · {counts.shares} chia sẻ")
    comments = sum(1 for c in post.comments if not c.deleted)
    if comments:
        extra.append(f"{comments} bình luận")
    author = "" if post.from_id == post.page_id else f" · khách: {escape(post.from_name)}"
    return (f'<div class="card">{state} <span class="meta">{escape(_t(post.created_time))} · '
            f'{escape(post.id)}{author}</span><div class="msg">{_short(post.message)}</div>'
            f'<div class="meta">{" · ".join(extra)}</div></div>')


def _article_html(emu, a, now: float) -> str:
    if a.removed:
        state = '<span class="tag off">Đã gỡ</span>'
    elif not a.is_processed(now):
        state = '<span class="tag wait">Đang xử lý</span>'
    elif a.status == "show":
        state = '<span class="tag ok">Hiển thị</span>'
    else:
        state = '<span class="tag wait">Ẩn</span>'
    return (f'<div class="card">{state} <span class="meta">{escape(_t(a.created))} · {escape(a.id)}</span>'
            f'<h3>{_short(a.title, 150)}</h3><div class="msg">{_short(a.description, 300)}</div>'
            f'<div class="meta">{zalo_counts(emu, a).views} lượt xem · {zalo_counts(emu, a).shares} lượt chia sẻ'
            f'</div></div>')


def render(emu) -> str:
    """Whole page as a string (all user text escaped)."""
    now, w = emu.clock.now(), emu.world
    parts = ['<!doctype html><html lang="vi"><head><meta charset="utf-8"><meta http-equiv="refresh" content="3">',
             f"<title>Loa — hộp cát nền tảng</title><style>{_CSS}</style></head><body>",
             "<h1>Hộp cát Loa: giả lập Facebook Pages và Zalo OA</h1>",
             f'<p class="meta">Giờ giả lập: {escape(_t(now))} · Trang tự làm mới sau 3 giây · '
             f'{emu.calls["facebook"]} lệnh gọi Graph, {emu.calls["zalo"]} lệnh gọi Zalo</p>',
             "<h2>Trang Facebook</h2>"]
    if not w.pages:
        parts.append('<p class="meta">Chưa có Trang nào. Chạy với <code>--demo</code> hoặc gọi '
                     "<code>POST /__emu/pages</code>.</p>")
    parts.append('<div class="grid">')
    for page in w.pages.values():
        posts = sorted(page.posts, key=lambda p: (p.created_time, p.seq), reverse=True)
        parts.append(f'<section><h3>{escape(page.name)}</h3><div class="meta">ID {escape(page.id)} · '
                     f"{len(page.posts)} bài</div>")
        parts += [_post_html(emu, p, now) for p in posts[:MAX_ITEMS]]
        if not posts:
            parts.append('<p class="meta">Chưa có bài nào.</p>')
        parts.append("</section>")
    parts.append("</div><h2>Zalo Official Account</h2>")
    if not w.oas:
        parts.append('<p class="meta">Chưa có OA nào.</p>')
    parts.append('<div class="grid">')
    for oa in w.oas.values():
        arts = sorted(oa.articles.values(), key=lambda a: a.seq, reverse=True)
        parts.append(f'<section><h3>{escape(oa.name)}</h3><div class="meta">OA ID {escape(oa.oa_id)} · '
                     f"{len(oa.users)} người theo dõi · {len(arts)} bài viết · {len(oa.broadcasts)} lượt gửi</div>")
        parts += [_article_html(emu, a, now) for a in arts[:MAX_ITEMS]]
        for b in reversed(oa.broadcasts[-5:]):
            parts.append(f'<div class="card"><span class="tag ok">Đã gửi broadcast</span> '
                         f'<span class="meta">{escape(_t(b["created"]))}</span> {_short(b["title"], 150)}</div>')
        for m in list(reversed(oa.messages))[:8]:
            user = oa.users.get(m.user_id)
            who = escape(user.display_name if user else m.user_id)
            arrow = f"{who} → OA" if m.src == 1 else f"OA → {who}"
            parts.append(f'<div class="card"><span class="meta">{escape(_t(m.time_ms / 1000))} · {arrow}</span>'
                         f'<div class="msg">{_short(m.text, 300)}</div></div>')
        parts.append("</section>")
    parts.append("</div></body></html>")
    return "".join(parts)


async def home(request: Request) -> HTMLResponse:
    """GET /."""
    return HTMLResponse(render(request.app.state.emu))
