"""Behaviour knobs of the emulator.

Every behaviour that platform-apis.md marks [conflict] or [unverified] is a knob here, so a test
can flip it through ``POST /__emu/config`` without restarting the server.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields

DAY = 86_400

# Metrics Meta has switched off (A8). One invalid metric fails the whole insights request.
DEFAULT_DEPRECATED_METRICS = [
    "post_impressions", "page_impressions",
    "page_fans", "page_fan_adds", "page_fan_removes", "page_fans_city", "page_fans_country",
    "page_engaged_users", "post_engaged_users",
    # [conflict] cut-off June 2025 vs June 2026: deprecated by default, remove to allow.
    "post_impressions_unique", "page_impressions_unique",
]
DEFAULT_VALID_METRICS = [
    "post_media_view", "post_total_media_view_unique", "page_media_view", "page_total_media_view_unique",
    "page_follows", "page_daily_follows", "page_follows_city", "page_follows_country",
    "page_post_engagements", "post_video_views",
    # [conflict] said to be gone since v13 yet still requested by clients in 2026: valid by default.
    "post_clicks", "post_clicks_by_type", "post_reactions_by_type_total",
]


@dataclass
class EmuConfig:
    """All tunable behaviour; defaults follow the doc's recommendation where sources disagree."""

    # --- Facebook app -------------------------------------------------------------------
    fb_app_id: str = "1200000000000001"
    fb_app_secret: str = "emu-fb-app-secret"
    fb_require_appsecret_proof: bool = False
    fb_short_token_ttl_s: int = 2 * 3600
    fb_long_token_ttl_s: int = 5_184_000
    fb_code_ttl_s: int = 600
    # "missing permission → 200 or 10" (Part C).
    fb_permission_error_code: int = 200
    fb_token_error_http_status: int = 400
    # --- Facebook publishing ------------------------------------------------------------
    fb_message_max_chars: int = 63_206
    fb_duplicate_check: bool = True
    # "previous": only the Page's previous post counts (doc: "twice in a row"); "any": every post.
    fb_duplicate_scope: str = "previous"
    # [conflict] 10 min – 75 days (feed reference) vs 30 days (other clients).
    fb_schedule_min_s: int = 600
    fb_schedule_max_s: int = 75 * DAY
    # [unverified] error for an out-of-window time.
    fb_schedule_error_code: int = 100
    fb_schedule_error_subcode: int | None = None
    # Links containing one of these substrings fail to scrape.
    fb_link_fail_patterns: list = field(default_factory=lambda: ["scrape-fail", ".invalid"])
    # The doc lists 1609005 as a code; set code 100 + subcode 1609005 for the other reading.
    fb_link_error_code: int = 1609005
    fb_link_error_subcode: int | None = None
    fb_photo_max_bytes: int = 4 * 1024 * 1024
    # "accept": trust photo URLs (no internet here); "fetch": download and validate like `source`.
    fb_photo_url_mode: str = "accept"
    fb_photo_url_fail_patterns: list = field(default_factory=lambda: ["broken-image"])
    fb_video_processing_polls: int = 1
    fb_video_fail_patterns: list = field(default_factory=lambda: ["video-fail"])
    fb_policy_block_subcode: int | None = 1390008
    # --- Facebook reading ---------------------------------------------------------------
    fb_default_limit: int = 25
    fb_max_limit: int = 100
    # Insert an empty page that still carries `next` before every real follow-up page.
    fb_inject_empty_page: bool = False
    # [unverified] `shares` omitted when zero.
    fb_shares_omit_zero: bool = True
    # [unverified] commenters' `from` shown only to a Page token of that Page.
    fb_comment_from_requires_page_token: bool = True
    fb_deprecated_metrics: list = field(default_factory=lambda: list(DEFAULT_DEPRECATED_METRICS))
    fb_valid_metrics: list = field(default_factory=lambda: list(DEFAULT_VALID_METRICS))
    fb_messenger_window_s: int = DAY
    # Published posts and articles gain views/reactions/shares over time (sandbox/engagement.py).
    organic_engagement: bool = True
    # --- Facebook rate limits -----------------------------------------------------------
    fb_window_s: int = 3600
    fb_app_budget: int = 200_000
    fb_page_budget: int = 20_000
    fb_page_budgets: dict = field(default_factory=dict)  # page id -> budget overriding fb_page_budget
    # [unverified] 400 vs 403 for throttling errors.
    fb_throttle_http_status: int = 400
    fb_app_throttle_code: int = 4
    fb_page_throttle_code: int = 80001  # BUC, for Page tokens
    fb_user_page_throttle_code: int = 32  # Page limit hit with a user token
    fb_usage_headers_after_calls: int = 1
    # [unverified] whether X-Page-Usage is still sent alongside BUC.
    fb_emit_page_usage: bool = True
    # --- Facebook webhooks --------------------------------------------------------------
    fb_webhooks_require_subscription: bool = True
    fb_webhook_page_posts: bool = True
    fb_webhook_legacy_sha1: bool = True
    # --- Zalo tokens --------------------------------------------------------------------
    zalo_access_token_ttl_s: int = 90_000
    zalo_refresh_token_ttl_s: int = 90 * DAY
    zalo_code_ttl_s: int = 600
    zalo_expires_in_as_string: bool = True
    zalo_require_appsecret_proof: bool = False
    # B2: old code put the token in the query string; the real API wants the header.
    zalo_accept_query_token: bool = False
    # --- Zalo limits --------------------------------------------------------------------
    zalo_rate_limit_per_min: int = 4000
    # OA-level limits depend on the paid package and are unpublished (B9): None = no OA limit.
    zalo_oa_rate_limit_per_min: int | None = None
    # "cap" silently caps `count`, "error" answers -201.
    zalo_count_over_limit: str = "cap"
    zalo_chat_max_count: int = 10
    zalo_user_list_max_count: int = 50
    zalo_user_list_offset_cap: int = 9951
    zalo_article_slice_max: int = 50
    # --- Zalo articles ------------------------------------------------------------------
    # Processing of a created article happens on Zalo's side whether or not anyone polls (B5).
    # Rule: an article becomes processed (listed newest-first by getslice, readable by getdetail,
    # broadcastable, `processed` in /__emu/posts) at the EARLIER of
    #   * `zalo_article_processing_s` emulator seconds after article/create (the value is read at
    #     create time; advance the emulator clock to get there without waiting; None = never by
    #     time, i.e. the old "only verify processes" behaviour), or
    #   * article/verify answering the id for its token.
    # article/verify itself stays deterministic and clock-independent: each token answers -214
    # "Article is being processed" for its first `zalo_article_verify_polls` polls, then the id.
    # So a client that polls late may still get -214 for an article getslice already lists; it
    # just polls again. Nothing runs in the background: the state is computed from the clock on
    # every read.
    zalo_article_processing_s: float | None = 1.0
    zalo_article_verify_polls: int = 1
    # [conflict] "id" (most clients), "article_id" (one client) or "both".
    zalo_verify_id_field: str = "id"
    zalo_title_max: int = 150
    zalo_author_max: int = 50
    zalo_description_max: int = 300
    zalo_article_required: list = field(default_factory=lambda: ["title", "cover", "body"])
    zalo_article_quota: int | None = None  # creates allowed per OA (then -223)
    zalo_broadcast_hidden_article_error: bool = True
    zalo_broadcast_text_error: int = -201
    # --- Zalo messages ------------------------------------------------------------------
    zalo_cs_max_chars: int = 2000
    zalo_cs_free_window_s: int = 2 * DAY
    zalo_cs_max_window_s: int = 7 * DAY
    zalo_cs_window_error: int = -230
    zalo_upload_image_max: int = 1024 * 1024
    zalo_upload_gif_max: int = 5 * 1024 * 1024
    zalo_upload_file_max: int = 5 * 1024 * 1024
    zalo_asset_ttl_s: int = 7 * DAY
    zalo_emit_oa_send_events: bool = False
    # --- Zalo webhooks ------------------------------------------------------------------
    # [conflict] which secret signs X-ZEvent-Signature: "oa_secret" (default) or "app_secret".
    zalo_signature_secret: str = "oa_secret"
    # "sdk" = sha256(app_id+body+timestamp+secret); "hmac_body" and "oa_first" are the variants
    # community handlers use (they contradict the official SDK).
    zalo_signature_mode: str = "sdk"
    # --- Webhook delivery ---------------------------------------------------------------
    webhook_retry_schedule_s: list = field(default_factory=lambda: [0.5, 1.0, 2.0, 4.0])
    webhook_redeliver: bool = True
    webhook_timeout_s: float = 5.0

    def update(self, values: dict) -> list[str]:
        """Apply known keys from ``values``; return the unknown keys."""
        known = {f.name for f in fields(self)}
        unknown = [k for k in values if k not in known]
        for key, value in values.items():
            if key in known:
                setattr(self, key, value)
        return unknown

    def as_dict(self) -> dict:
        """Plain-dict view for the control API."""
        return asdict(self)
