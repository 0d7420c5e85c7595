"""Control API for what Pages and OAs answered: replies under comments and Zalo CS messages.

Replies and hiding themselves go through the fake Graph/Zalo hosts (``POST /{comment-id}/comments``,
``POST /{comment-id}`` is_hidden, ``POST /v3.0/oa/message/cs``); these routes let tests and the
sandbox page read the outcome.
"""

from __future__ import annotations

from starlette.routing import Route

from sandbox.control_base import ControlError, endpoint
from sandbox.state import Comment, fb_time


@endpoint
async def comment(emu, body, request):
    """GET /__emu/comment?id=: one comment with its replies (is_hidden, deleted, who wrote each)."""
    c = emu.world.objects.get(request.query_params.get("id") or "")
    if not isinstance(c, Comment):
        raise ControlError("unknown comment id", 404)
    post = emu.world.objects.get(c.post_id)
    replies = [r for r in getattr(post, "comments", []) if r.parent_id == c.id]

    def as_json(x: Comment) -> dict:
        return {"id": x.id, "message": x.message, "from": {"id": x.from_id, "name": x.from_name},
                "parent_id": x.parent_id, "is_hidden": x.is_hidden, "deleted": x.deleted,
                "created_time": fb_time(x.created_time)}

    return {**as_json(c), "replies": [as_json(r) for r in replies]}


@endpoint
async def oa_messages(emu, body, request):
    """GET /__emu/zalo/oa_messages?oa_id=&user_id=: messages the OA sent (CS replies), oldest first."""
    q = request.query_params
    out = []
    for oa in emu.world.oas.values():
        if q.get("oa_id") and oa.oa_id != q["oa_id"]:
            continue
        out += [{"oa_id": oa.oa_id, "message_id": m.message_id, "user_id": m.user_id, "text": m.text,
                 "type": m.type, "time": m.time_ms}
                for m in oa.messages if m.src == 0 and (not q.get("user_id") or m.user_id == q["user_id"])]
    return {"data": out, "count": len(out)}


ROUTES = [
    Route("/__emu/comment", comment, methods=["GET"]),
    Route("/__emu/zalo/oa_messages", oa_messages, methods=["GET"]),
]
