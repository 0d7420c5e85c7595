"""The journey issue 4 requires, in a real browser against the live stack.

An editor signs in, composes and submits a post; an approver approves it; the scheduler publishes it to the
Facebook Page on the sandbox; a visitor's comment there (the sandbox's emulator control endpoint) reaches the web
app as a signed webhook, is classified by the worker and shows up flagged in the review queue; a monitor opens it
and relabels it. Every page visited is screenshotted to test-artifacts/e2e/ (the review queue and the compose
page also phone-sized), and no page may raise a JavaScript error or a Content-Security-Policy refusal.
"""

from __future__ import annotations

import re
import uuid

import pytest
from sqlalchemy import select

from classifiers.labels import LABEL_NAMES_VI
from db.models import Item, LabelCorrection, Post, PostStatus
from tests.e2e.conftest import wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]

RUMOUR = "Nghe nói từ tháng sau BHXH ngừng chi trả lương hưu, anh em rút hết tiền ra đi kẻo mất trắng"


def test_editor_to_approver_to_sandbox_to_review_queue(live_stack, sign_in, browser):
    stack, world = live_stack, live_stack.world
    marker = uuid.uuid4().hex[:8]
    text = (f"LĐLĐ tỉnh Hà Nam phát động Tháng Công nhân 2027 (mã {marker}): mời đoàn viên, người lao động "
            "tham gia chuỗi hoạt động chăm lo từ ngày 1/5.")

    # --- an editor signs in and composes a post for the province's Facebook Page, to go out on approval
    editor = sign_in("editor")
    stack.screenshot(editor.page, "editor-home")
    editor.goto(stack, "/posts/new")
    page = editor.page
    stack.screenshot(page, "compose-empty")
    phone = editor.phone(browser)
    phone.goto(stack, "/posts/new")
    stack.screenshot(phone.page, "compose-phone")
    phone.context.close()
    page.select_option("select[name=org_id]", str(world.province))
    page.fill("#compose-text", text)
    page.check(f'input[name=channel_ids][value="{world.channel}"]')
    page.check("input[name=schedule_kind][value=now]")
    stack.screenshot(page, "compose-filled")
    page.click("#btn-submit")
    page.wait_for_url(re.compile(r"/posts/\d+$"))
    post_id = int(re.search(r"/posts/(\d+)$", page.url).group(1))
    assert "Chờ duyệt" in page.inner_text("#post-status")
    stack.screenshot(page, "post-submitted")

    # --- an approver approves it from the approvals queue
    approver = sign_in("approver")
    approver.goto(stack, "/approvals")
    card = approver.page.locator(f'[data-post-id="{post_id}"]')
    assert marker in card.inner_text()
    stack.screenshot(approver.page, "approvals")
    approver.page.click(f"#approve-{post_id}")
    approver.page.wait_for_load_state()
    stack.screenshot(approver.page, "approvals-after-approve")

    # --- the scheduler publishes it: the post page shows it as published, with the link
    approver.goto(stack, f"/posts/{post_id}")
    status = approver.page.locator("#post-status")
    wait_until(stack, approver.page, lambda: "Đã đăng" in status.inner_text(), what="the post to be published")
    target = approver.page.locator("tr[data-target-id] .target-status").first
    assert "Đã đăng" in target.inner_text()
    assert approver.page.locator("a.published-link").count() == 1
    stack.screenshot(approver.page, "post-published")
    with stack.factory() as s:
        assert s.get(Post, post_id).status == PostStatus.published

    # --- it is on the sandbox page, exactly once
    on_page = [p for p in stack.sandbox.posts(page_id=world.page["page_id"]) if marker in (p.get("message") or "")]
    assert len(on_page) == 1, on_page

    # --- a visitor comments a rumour under it; it arrives flagged in the review queue
    stack.sandbox.add_comment(on_page[0]["id"], RUMOUR, from_id="200000000000777", from_name="Khách E2E")
    monitor = sign_in("monitor")
    monitor.goto(stack, "/review")
    rows = monitor.page.locator("tr[data-item-id]", has_text="BHXH ngừng chi trả lương hưu")
    wait_until(stack, monitor.page, lambda: rows.count() > 0, what="the comment in the review queue")
    row = rows.first
    assert "BHXH ngừng chi trả lương hưu" in row.locator(".item-text").inner_text()
    first_label = row.locator(".risk-label").inner_text().strip()
    assert first_label in {LABEL_NAMES_VI["sai_lech"], LABEL_NAMES_VI["kich_dong"], LABEL_NAMES_VI["buc_xuc"]}
    item_id = int(row.get_attribute("data-item-id"))
    stack.screenshot(monitor.page, "review-queue")
    phone = monitor.phone(browser)
    phone.goto(stack, "/review")
    stack.screenshot(phone.page, "review-queue-phone")
    phone.context.close()

    # --- the monitor opens it and relabels it
    monitor.goto(stack, f"/review/{item_id}")
    detail = monitor.page
    assert "BHXH ngừng chi trả lương hưu" in detail.inner_text("#item-text")
    stack.screenshot(detail, "review-item")
    risk = detail.locator("#relabel-form select[name=risk]")
    new_risk = "kich_dong" if risk.input_value() != "kich_dong" else "sai_lech"
    risk.select_option(new_risk)
    detail.click("#btn-relabel")
    detail.wait_for_load_state()
    if f"/review/{item_id}" not in detail.url:
        monitor.goto(stack, f"/review/{item_id}")
    assert LABEL_NAMES_VI[new_risk] in detail.inner_text("#item-risk")
    stack.screenshot(detail, "review-item-relabelled")
    with stack.factory() as s:
        item = s.get(Item, item_id)
        assert item.human_labels["risk"] == new_risk
        assert s.scalar(select(LabelCorrection).where(LabelCorrection.item_id == item_id)) is not None

    for person in (editor, approver, monitor):
        assert not person.errors, f"{person.who}'s pages logged errors: {person.errors}"


def test_admin_pages_work_in_the_browser(live_stack, sign_in, browser):
    """The administration pages under the real CSP: create a union, toggle duty, read the audit log."""
    stack, world = live_stack, live_stack.world
    admin = sign_in("admin")
    admin.goto(stack, "/admin")
    page = admin.page
    stack.screenshot(page, "admin")
    page.select_option("form#create-org select[name=parent_id]", str(world.province))
    page.fill("form#create-org input[name=name]", "CĐCS Công ty Điện tử Đồng Văn")
    page.select_option("form#create-org select[name=kind]", "co_so")
    page.click("form#create-org button[type=submit]")
    page.wait_for_load_state()
    assert "Đã tạo tổ chức" in page.inner_text(".flash")
    assert page.locator("tr[data-org-id]", has_text="CĐCS Công ty Điện tử Đồng Văn").count() == 1
    toggle = page.locator(f'tr:has-text("{world.emails["monitor"]}") button.duty-toggle')
    assert "Đang trực" in toggle.inner_text()
    toggle.click()
    page.wait_for_load_state()
    assert "Không trực" in page.locator(f'tr:has-text("{world.emails["monitor"]}") button.duty-toggle').inner_text()
    page.locator(f'tr:has-text("{world.emails["monitor"]}") button.duty-toggle').click()  # back on duty
    page.wait_for_load_state()
    phone = admin.phone(browser)
    phone.goto(stack, "/admin")
    stack.screenshot(phone.page, "admin-phone")
    phone.context.close()
    admin.goto(stack, "/admin/audit?action=duty_off")
    assert page.locator("table#audit-log tr[data-audit-id]").count() == 1
    stack.screenshot(page, "admin-audit")
    assert not admin.errors, admin.errors
