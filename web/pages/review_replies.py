"""Answering an item as the Page/OA (spokesperson rule), the approvals list, and hiding comments.

A reply is only written here; the scheduler sends approved replies (``scheduler/replies.py``).
Hiding a comment is done during the request through ``publishers.engage``: it is moderation, not
publishing — reversible, safe to repeat, and the monitor needs to see at once that it worked.
"""

from __future__ import annotations

from fastapi import Depends, Form, Request
from fastapi.responses import HTMLResponse, Response

from common.errors import PlatformError, ServiceError
from db.models import Channel, Item, ReplyStatus
from domain import channels as channel_service
from domain import replies
from publishers.engage import ReplyTarget
from web.pages.kit import Viewer, page_router, render, rt, viewer
from web.pages.review import _users, detail_page, done, failed, http_status, label_vi, safe_back, wants_json

router = page_router()


@router.post("/review/{item_id:int}/reply")
def propose(request: Request, item_id: int, text: str = Form(""), v: Viewer = Depends(viewer)) -> Response:
    try:
        reply = replies.propose_reply(v.session, v.user, item_id, text)
        v.session.commit()
    except ServiceError as exc:
        v.session.rollback()
        if wants_json(request):
            return failed(request, v, exc)
        # Keep what the monitor wrote.
        return detail_page(request, v, item_id, error=exc.message_vi, status_code=http_status(exc), reply_text=text)
    message = ("Đã gửi câu trả lời đi duyệt; sau khi được duyệt, hệ thống sẽ đăng trả lời."
               if reply.status == ReplyStatus.pending_approval
               else "Đã lưu câu trả lời; hệ thống sẽ gửi trong giây lát.")
    return done(request, v, message=message, status=reply.status.value, url=f"/review/{item_id}#replies")


def _platform_hide(request: Request):  # noqa: ANN202
    runtime = rt(request)

    def hide(channel: Channel, item: Item, hidden: bool) -> None:
        engager = runtime.clients.engager(channel.platform.value, channel.external_id,
                                          channel_service.credentials_of(channel, runtime.cipher))
        engager.set_hidden(ReplyTarget(external_id=item.external_id, author_key=item.author_hash), hidden)

    return hide


def _hide_route(hidden: bool):  # noqa: ANN202
    def handler(request: Request, item_id: int, v: Viewer = Depends(viewer)) -> Response:
        try:
            replies.set_hidden(v.session, v.user, item_id, hidden=hidden, platform_hide=_platform_hide(request))
            v.session.commit()
        except PlatformError as exc:
            v.session.commit()  # keep "channel needs re-authorisation" and its notifications
            return failed(request, v, exc, item_id=item_id)
        except ServiceError as exc:
            return failed(request, v, exc, item_id=item_id)
        message = "Đã ẩn bình luận trên Facebook." if hidden else "Đã hiện lại bình luận trên Facebook."
        return done(request, v, message=message, status="hidden" if hidden else "visible",
                    url=f"/review/{item_id}")

    handler.__name__ = "hide" if hidden else "unhide"
    return handler


router.add_api_route("/review/{item_id:int}/hide", _hide_route(True), methods=["POST"])
router.add_api_route("/review/{item_id:int}/unhide", _hide_route(False), methods=["POST"])


# --- approvals ------------------------------------------------------------------------------------

@router.get("/review/replies", response_class=HTMLResponse)
def approvals(request: Request, v: Viewer = Depends(viewer)) -> HTMLResponse:
    s = v.session
    pending = replies.pending_for(s, v.user)
    recent = replies.recent_for(s, v.user)
    people = _users(s, {r.author_id for r, _ in pending + recent if r.author_id}
                    | {r.decided_by for r, _ in recent if r.decided_by})
    return render(request, "review_replies.html", v, pending=pending, recent=recent, people=people,
                  label_vi=label_vi, may_approve=lambda org_id: replies.may_approve(s, v.user, org_id))


def _decision(action: str):  # noqa: ANN202
    def handler(request: Request, reply_id: int, reason: str = Form(""), next: str = Form(""),  # noqa: A002
                v: Viewer = Depends(viewer)) -> Response:
        try:
            if action == "approve":
                reply = replies.approve_reply(v.session, v.user, reply_id, reason)
                message = f"Đã duyệt câu trả lời #{reply_id}; hệ thống sẽ gửi trong giây lát."
            elif action == "reject":
                reply = replies.reject_reply(v.session, v.user, reply_id, reason)
                message = f"Đã từ chối câu trả lời #{reply_id}."
            else:
                reply = replies.retry_reply(v.session, v.user, reply_id)
                message = f"Câu trả lời #{reply_id} sẽ được gửi lại."
            v.session.commit()
        except ServiceError as exc:
            return failed(request, v, exc)
        return done(request, v, message=message, status=reply.status.value,
                    url=safe_back(next, "/review/replies"))

    handler.__name__ = f"reply_{action}"
    return handler


for _action in ("approve", "reject", "retry"):
    router.add_api_route(f"/review/replies/{{reply_id:int}}/{_action}", _decision(_action), methods=["POST"])
