"""Deterministic demo data loaded by `python -m sandbox --demo` (fixed ids and tokens in DEMO)."""

from __future__ import annotations

from sandbox.fb_model import add_comment, create_page, create_post, create_user
from sandbox.state import Article
from sandbox.zalo_model import add_user, create_oa, user_message

HOUR = 3600

DEMO = {
    "facebook": {
        "app_id": "1200000000000001",
        "app_secret": "emu-fb-app-secret",
        "user": {"id": "100090000000001", "name": "Nguyễn Thị Quản Trị", "token": "EAAU-demo-user-token"},
        "pages": [
            {"page_id": "110000000000001", "name": "Liên đoàn Lao động tỉnh Demo",
             "page_token": "EAAP-demo-ldld-tinh"},
            {"page_id": "110000000000002", "name": "Công đoàn các Khu công nghiệp Demo",
             "page_token": "EAAP-demo-cd-kcn"},
            {"page_id": "110000000000003", "name": "Công đoàn Ngành Giáo dục Demo",
             "page_token": "EAAP-demo-cd-giaoduc"},
        ],
    },
    "zalo": {
        "app_id": "3100000000000000001",
        "secret": "demo-zalo-app-secret",
        "oa_secret": "demo-zalo-oa-secret",
        "oas": [
            {"oa_id": "4100000000000000001", "name": "Liên đoàn Lao động tỉnh Demo",
             "access_token": "zat-demo-ldld-tinh", "refresh_token": "zrt-demo-ldld-tinh"},
            {"oa_id": "4100000000000000002", "name": "Công đoàn Viên chức thành phố Demo",
             "access_token": "zat-demo-cdvc-tp", "refresh_token": "zrt-demo-cdvc-tp"},
        ],
    },
}

_FB_POSTS = {
    "110000000000001": [
        (30, "Mời đoàn viên đăng ký giải chạy \"Vì sức khoẻ người lao động\". Hạn cuối nhận đăng ký là ngày 25 "
             "tháng này, mỗi công đoàn cơ sở cử tối đa 20 vận động viên.", "https://ldld-demo.example.vn/giai-chay"),
        (8, "Chúc mừng 25 công đoàn cơ sở đã dẫn đầu phong trào thi đua lao động giỏi trong quý vừa qua!", None),
        (2, "Sáng thứ Bảy này, Liên đoàn Lao động tỉnh mở buổi tư vấn pháp luật miễn phí cho đoàn viên tại "
            "Nhà văn hoá công nhân. Luật sư sẽ giải đáp về hợp đồng lao động, tiền lương và bảo hiểm.", None),
    ],
    "110000000000002": [
        (20, "Lịch khám sức khoẻ định kỳ cho công nhân các doanh nghiệp trong khu đã được gửi tới từng công đoàn "
             "cơ sở. Anh chị em nhớ mang theo căn cước khi đi khám.", None),
        (5, "Chương trình \"Chuyến xe mùa xuân\" năm nay dành 500 vé xe miễn phí cho công nhân có hoàn cảnh khó "
            "khăn về quê đón Tết. Danh sách xét chọn sẽ được công bố công khai.", None),
    ],
    "110000000000003": [
        (12, "Chiều thứ Năm tuần sau có hội thảo chia sẻ kinh nghiệm đổi mới cách dạy dành cho giáo viên trẻ. "
             "Thầy cô quan tâm vui lòng báo về văn phòng công đoàn trường.", None),
    ],
}

_ARTICLES = [
    ("Hướng dẫn đoàn viên tra cứu quyền lợi bảo hiểm xã hội",
     "Các bước đơn giản để tự kiểm tra quá trình đóng bảo hiểm của mình qua điện thoại.",
     "Đoàn viên có thể tự tra cứu thời gian đóng bảo hiểm bằng ứng dụng chính thức. Nếu thấy thiếu tháng nào, "
     "hãy báo ngay cho công đoàn cơ sở để được hỗ trợ làm việc với doanh nghiệp."),
    ("Kết quả đại hội công đoàn cơ sở nhiệm kỳ mới",
     "Tóm tắt những nội dung chính và danh sách ban chấp hành vừa được bầu.",
     "Đại hội đã thông qua phương hướng hoạt động nhiệm kỳ mới, tập trung chăm lo việc làm, thu nhập và nhà ở "
     "cho người lao động."),
]


def load_demo(emu) -> None:
    """Populate the world with the DEMO Pages, posts, comments, OAs, followers, chats and articles."""
    fb, now = DEMO["facebook"], emu.clock.now()
    user = fb["user"]
    create_user(emu, name=user["name"], user_id=user["id"], token=user["token"])
    pages = {}
    for spec in fb["pages"]:
        page, _ = create_page(emu, name=spec["name"], page_id=spec["page_id"], page_token=spec["page_token"],
                              user_token=user["token"], fan_count=1200)
        pages[page.id] = page
        for i, (hours_ago, message, link) in enumerate(_FB_POSTS[page.id]):
            post = create_post(emu, page, message=message, link=link, created_time=now - hours_ago * HOUR)
            post.reactions, post.shares, post.views = 40 + 13 * i, 3 * i, 900 + 250 * i
            post.manual = True
    first = pages["110000000000001"]
    latest = first.posts[-1]
    q = add_comment(emu, latest, message="Cho em hỏi buổi tư vấn có cần đăng ký trước không ạ?",
                    from_id="200000000000101", from_name="Trần Văn An")
    add_comment(emu, latest, message="Chào bạn, bạn chỉ cần mang theo thẻ đoàn viên là được nhé.",
                from_id=first.id, from_name=first.name, parent_id=q.id)
    add_comment(emu, latest, message="Công ty em chậm đóng bảo hiểm mấy tháng rồi, em nên phản ánh ở đâu ạ?",
                from_id="200000000000102", from_name="Lê Thị Bình")

    z = DEMO["zalo"]
    followers = [("5100000000000000001", "Phạm Minh Châu"), ("5100000000000000002", "Hoàng Thị Dung"),
                 ("5100000000000000003", "Vũ Quốc Hưng")]
    for n, spec in enumerate(z["oas"]):
        oa, _, _ = create_oa(emu, name=spec["name"], oa_id=spec["oa_id"], app_id=z["app_id"], secret=z["secret"],
                             oa_secret=z["oa_secret"], access_token=spec["access_token"],
                             refresh_token=spec["refresh_token"],
                             description="Kênh thông tin chính thức dành cho đoàn viên (dữ liệu mẫu).")
        for uid, name in followers:
            add_user(emu, oa, user_id=uid, display_name=name, last_interaction=now - 3 * 86400)
        user_message(emu, oa, oa.users[followers[n][0]],
                     "Cho tôi hỏi thủ tục nhận trợ cấp khi bị tai nạn lao động cần những giấy tờ gì?")
        title, desc, text = _ARTICLES[n]
        w = emu.world
        a = Article(id=w.hex_id(32), oa_id=oa.oa_id, seq=w.next_seq(), type="normal", title=title, author=oa.name,
                    description=desc, cover={"cover_type": "photo", "photo_url": "https://example.vn/bia.jpg",
                                             "status": "show"},
                    body=[{"type": "text", "content": text}], status="show", comment="show",
                    created=now - 6 * HOUR, updated=now - 6 * HOUR, accepted_at=now - 6 * HOUR, processed=True,
                    total_view=350, total_share=12, manual=True)
        oa.articles[a.id] = a
        w.articles[a.id] = a
