"""Route table of the fake openapi.zalo.me: ("vX.Y/path", method) -> handler."""

from __future__ import annotations

from sandbox import zalo as z
from sandbox import zalo_articles as art

ROUTES = {
    ("v2.0/oa/getoa", "GET"): z.getoa,
    ("v2.0/oa/listrecentchat", "GET"): z.listrecentchat,
    ("v2.0/oa/conversation", "GET"): z.conversation,
    ("v3.0/oa/user/getlist", "GET"): z.user_getlist,
    ("v3.0/oa/user/detail", "GET"): z.user_detail,
    # Legacy v2.0 shapes are close enough to v3.0 for an emulator.
    ("v2.0/oa/getfollowers", "GET"): z.user_getlist,
    ("v2.0/oa/getprofile", "GET"): z.user_detail,
    ("v3.0/oa/message/cs", "POST"): z.send_cs,
    ("v3.0/oa/quota/message", "POST"): z.quota_message,
    ("v2.0/oa/message", "POST"): art.broadcast,
    ("v2.0/oa/upload/image", "POST"): art.upload_image,
    ("v2.0/oa/upload/gif", "POST"): art.upload_gif,
    ("v2.0/oa/upload/file", "POST"): art.upload_file,
    ("v2.0/article/create", "POST"): art.create,
    ("v2.0/article/verify", "POST"): art.verify,
    ("v2.0/article/update", "POST"): art.update,
    ("v2.0/article/remove", "POST"): art.remove,
    ("v2.0/article/getslice", "GET"): art.getslice,
    ("v2.0/article/getdetail", "GET"): art.getdetail,
    ("v2.0/article/upload_video/preparevideo", "POST"): art.prepare_video,
    ("v2.0/article/upload_video/verify", "GET"): art.verify_video,
}
