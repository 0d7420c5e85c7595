// Compose page: live per-platform counters and previews, photo checks and thumbnails, channel and
// schedule sections that follow the choices. The server checks everything again; this only helps.
(function () {
  "use strict";
  const form = document.getElementById("compose-form");
  if (!form) return;
  document.documentElement.classList.add("js");
  const $ = function (sel, root) { return (root || form).querySelector(sel); };
  const $$ = function (sel, root) { return Array.prototype.slice.call((root || form).querySelectorAll(sel)); };
  const text = document.getElementById("compose-text");
  const title = document.getElementById("compose-title");
  const link = document.getElementById("compose-link");
  const fmt = function (n) { return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, "."); };
  // Count like the server: NFC code points (an emoji is one character, not two UTF-16 units).
  const count = function (s) { return Array.from((s || "").normalize("NFC")).length; };
  const firstLine = function (s) {
    const line = (s || "").split(/\r?\n/).find(function (l) { return l.trim(); });
    return line ? line.trim().replace(/\s+/g, " ") : "";
  };

  // --- organisation → its channels and campaigns ----------------------------------------------------
  const orgSelect = document.getElementById("compose-org");
  $$('.channel-group input[name="channel_ids"]').forEach(function (el) {
    if (el.disabled) el.setAttribute("data-disabled", "1");
  });
  function showOrg() {
    if (!orgSelect) return;
    $$(".channel-group").forEach(function (g) {
      const mine = g.dataset.org === orgSelect.value;
      g.hidden = !mine;
      $$("input, textarea", g).forEach(function (el) {
        if (!mine) {
          el.disabled = true;
          if (el.type === "checkbox") el.checked = false;
        } else if (!el.hasAttribute("data-disabled")) {
          el.disabled = false;
        }
      });
    });
    const group = $('.channel-group[data-org="' + orgSelect.value + '"]');
    const chain = group ? (group.dataset.chain || "").split(" ") : [];
    const camp = $('select[name="campaign_id"]');
    if (camp) {
      $$("option[data-owner]", camp).forEach(function (o) {
        const ok = chain.indexOf(o.dataset.owner) >= 0;
        o.hidden = !ok;
        o.disabled = !ok;
        if (!ok && o.selected) camp.value = "";
      });
    }
  }
  if (orgSelect) {
    orgSelect.dataset.was = orgSelect.value;
    orgSelect.addEventListener("change", function () {
      // Many organisations: only the chosen one's channels are on the page, so load the new one's.
      if (!$('.channel-group[data-org="' + orgSelect.value + '"]')) {
        if (text.value.trim() && !window.confirm("Đổi tổ chức sẽ tải lại trang và mất nội dung đang soạn. Tiếp tục?")) {
          orgSelect.value = orgSelect.dataset.was;
          return;
        }
        window.location.href = "/posts/new?org=" + encodeURIComponent(orgSelect.value);
        return;
      }
      orgSelect.dataset.was = orgSelect.value;
      showOrg();
      refresh();
    });
  }

  // --- channels ---------------------------------------------------------------------------------------
  function chosen() { return $$('input[name="channel_ids"]:checked'); }
  function platformsChosen() {
    const set = {};
    chosen().forEach(function (c) { if (!set[c.dataset.platform]) set[c.dataset.platform] = c.dataset.name; });
    return set;
  }
  $$('input[name="channel_ids"]').forEach(function (el) { el.addEventListener("change", refresh); });

  function variants() {
    $$(".channel").forEach(function (ch) {
      const box = ch.querySelector('input[name="channel_ids"]');
      ch.classList.toggle("on", !!(box && box.checked));
    });
    const br = document.getElementById("broadcast-row");
    if (br) br.hidden = !platformsChosen().zalo_oa && !br.querySelector("input").checked;
  }

  // --- schedule kind → its inputs ---------------------------------------------------------------------
  function showWhen() {
    const picked = $('input[name="schedule_kind"]:checked');
    const kind = picked ? picked.value : "now";
    $$(".when").forEach(function (w) { w.classList.toggle("on", w.dataset.kind === kind); });
    $$(".slot-hint").forEach(function (h) { h.hidden = kind !== "slot"; });
  }
  $$('input[name="schedule_kind"]').forEach(function (el) { el.addEventListener("change", showWhen); });
  // Typing a date or picking weekdays chooses that kind of schedule.
  $$(".when").forEach(function (w) {
    w.addEventListener("focusin", function () {
      const radio = $('input[name="schedule_kind"][value="' + w.dataset.kind + '"]');
      if (radio && !radio.checked) { radio.checked = true; showWhen(); }
    });
  });

  // --- counters ---------------------------------------------------------------------------------------
  function counters() {
    const platforms = platformsChosen();
    const any = Object.keys(platforms).length > 0;
    $$(".counter").forEach(function (c) {
      const src = document.getElementById(c.dataset.source);
      let value = src ? src.value : "";
      if (!value && c.dataset.fallback) value = (document.getElementById(c.dataset.fallback) || {}).value || "";
      if (c.dataset.firstline && !(src && src.value)) value = firstLine(value);
      const forZalo = /Zalo/.test(c.dataset.label);
      c.classList.toggle("hidden", any && (forZalo ? !platforms.zalo_oa : !platforms.facebook_page));
      if (c.dataset.soft) return;
      const n = count(value);
      const limit = parseInt(c.dataset.limit, 10);
      c.querySelector("b").textContent = fmt(n);
      c.classList.toggle("over", n > limit);
      c.classList.toggle("near", n <= limit && n > limit * 0.9);
    });
  }

  // --- previews (textContent only: what people type is never parsed as HTML) -------------------------
  let photoUrl = null;
  function firstKeptPhoto() {
    const kept = $$('input[name="keep_media"]:checked')[0];
    if (!kept) return null;
    const img = kept.closest(".thumb").querySelector("img");
    return img ? img.src : null;
  }
  function previews() {
    const platforms = platformsChosen();
    const any = Object.keys(platforms).length > 0;
    const body = text.value;
    const url = firstKeptPhoto() || photoUrl;
    const fb = $(".fb-preview");
    if (fb) {
      fb.classList.toggle("off", any && !platforms.facebook_page);
      fb.querySelector(".pv-page").textContent = platforms.facebook_page || "Trang Facebook";
      const pv = fb.querySelector(".pv-text");
      const fold = parseInt(pv.dataset.fold, 10);
      const long = count(body) > fold;
      pv.textContent = long ? Array.from(body).slice(0, fold).join("") + "… " : body;
      if (long) {
        const more = document.createElement("span");
        more.className = "more";
        more.textContent = "Xem thêm";
        pv.appendChild(more);
      }
      fb.querySelector(".pv-link").textContent = link ? link.value : "";
      const img = fb.querySelector(".pv-photo");
      if (url) { img.src = url; img.hidden = false; } else { img.hidden = true; }
    }
    const zalo = $(".zalo-preview");
    if (zalo) {
      zalo.classList.toggle("off", any && !platforms.zalo_oa);
      const limitTitle = parseInt(form.dataset.limitZaloTitle, 10);
      const limitDesc = parseInt(form.dataset.limitZaloDescription, 10);
      const t = (title && title.value.trim()) || firstLine(body);
      zalo.querySelector(".pv-title").textContent = Array.from(t).slice(0, limitTitle).join("");
      const desc = body.replace(/\s+/g, " ").trim();
      zalo.querySelector(".pv-desc").textContent =
        count(desc) > limitDesc ? Array.from(desc).slice(0, limitDesc - 1).join("") + "…" : desc;
      const img = zalo.querySelector(".pv-photo");
      const none = zalo.querySelector(".pv-nocover");
      if (url) { img.src = url; img.hidden = false; none.hidden = true; } else { img.hidden = true; none.hidden = false; }
    }
  }

  // --- photos -----------------------------------------------------------------------------------------
  const photos = document.getElementById("compose-photos");
  const preview = document.getElementById("photo-preview");
  const photoError = document.getElementById("photo-error");
  const OK_TYPES = ["image/jpeg", "image/png", "image/gif"];
  function checkPhotos() {
    if (!photos) return;
    preview.textContent = "";
    if (photoUrl) { URL.revokeObjectURL(photoUrl); photoUrl = null; }
    const problems = [];
    const files = Array.prototype.slice.call(photos.files || []);
    const kept = $$('input[name="keep_media"]:checked').length;
    const max = parseInt(form.dataset.maxPhotos, 10);
    if (files.length + kept > max) problems.push("Mỗi bài tối đa " + max + " ảnh (đang chọn " + (files.length + kept) + ").");
    files.forEach(function (f) {
      const fig = document.createElement("div");
      fig.className = "thumb";
      const img = document.createElement("img");
      img.alt = f.name;
      const cap = document.createElement("span");
      cap.textContent = f.name + " · " + (f.size / 1048576).toFixed(1) + " MB";
      if (OK_TYPES.indexOf(f.type) < 0) {
        fig.classList.add("bad");
        problems.push("“" + f.name + "” không phải ảnh JPG, PNG hoặc GIF.");
      } else {
        const u = URL.createObjectURL(f);
        img.src = u;
        if (!photoUrl) photoUrl = u;
      }
      fig.appendChild(img);
      fig.appendChild(cap);
      preview.appendChild(fig);
    });
    photoError.hidden = problems.length === 0;
    photoError.textContent = problems.join(" ");
    previews();
  }
  if (photos) photos.addEventListener("change", checkPhotos);
  $$('input[name="keep_media"]').forEach(function (el) { el.addEventListener("change", checkPhotos); });

  function refresh() { variants(); counters(); previews(); }
  [text, title, link].forEach(function (el) {
    if (el) el.addEventListener("input", function () { counters(); previews(); });
  });

  // No double submission while the server works (buttons are disabled after the form data is taken).
  form.addEventListener("submit", function (ev) {
    const by = ev.submitter;
    setTimeout(function () {
      $$('button[type="submit"]').forEach(function (b) { b.disabled = true; });
      if (by) { by.dataset.label = by.textContent; by.textContent = "Đang lưu…"; }
    }, 0);
  });
  // Coming back with the browser's Back button shows the page as it was left: usable again.
  window.addEventListener("pageshow", function () {
    $$('button[type="submit"]').forEach(function (b) {
      b.disabled = false;
      if (b.dataset.label) b.textContent = b.dataset.label;
    });
  });

  showOrg();
  showWhen();
  refresh();
})();
