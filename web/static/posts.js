// Posts, approvals and channels pages: small enhancements; every form works without them.
(function () {
  "use strict";

  // Post page: while something may change (a channel publishing or due soon), ask the server
  // for the status and reload when it changed (unless the person is typing a reason).
  const page = document.getElementById("post-page");
  if (page && page.dataset.poll) {
    let signature = page.dataset.signature;
    const check = function () {
      window.loaFetch(page.dataset.statusUrl).then(function (r) { return r.ok ? r.json() : null; })
        .then(function (data) {
          if (!data) return;
          if (data.signature !== signature) {
            const typing = Array.prototype.some.call(document.querySelectorAll("textarea, input[type=text]"),
              function (el) { return el.value.trim() !== "" && el.closest("form"); });
            if (!typing) { window.location.reload(); return; }
            signature = data.signature;
            const note = document.getElementById("live-note");
            if (note) note.hidden = false;
            const badge = document.getElementById("post-status");
            if (badge) { badge.textContent = data.label; badge.className = "badge big b-" + data.status; }
          }
          if (data.poll) window.setTimeout(check, data.poll * 1000);
        })
        .catch(function () { window.setTimeout(check, 30000); });
    };
    window.setTimeout(check, Number(page.dataset.poll) * 1000);
  }

  // Approvals: "select all" for bulk approval.
  const all = document.getElementById("check-all");
  if (all) {
    all.addEventListener("change", function () {
      document.querySelectorAll('input.pick[form="bulk-approve"]').forEach(function (box) { box.checked = all.checked; });
    });
  }

  // Channels: the refresh token only matters for a Zalo OA.
  const platform = document.getElementById("connect-platform");
  if (platform) {
    const toggle = function () {
      document.querySelectorAll(".zalo-only").forEach(function (el) { el.hidden = platform.value !== "zalo_oa"; });
    };
    platform.addEventListener("change", toggle);
    toggle();
  }

  // Choosing a date and time ticks "at an exact time".
  document.querySelectorAll('input[type="datetime-local"][name="at"]').forEach(function (input) {
    input.addEventListener("input", function () {
      const form = input.closest("form");
      const radio = form && form.querySelector('input[type=radio][name=when][value=exact]');
      if (radio) radio.checked = true;
    });
  });
})();
