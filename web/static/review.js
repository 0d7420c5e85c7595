// Review queue and item page: keyboard shortcuts and in-place actions. Every action also works
// as a plain form without this script.
(function () {
  "use strict";
  const STATUS_VI = { new: "Mới", confirmed: "Đã xác nhận", dismissed: "Bỏ qua", escalated: "Đã báo cáo lên" };
  const live = document.getElementById("review-live");
  const help = document.getElementById("shortcut-help");

  function say(message, isError) {
    if (!live) { if (isError) window.alert(message); return; }
    live.textContent = message;
    live.classList.toggle("err", !!isError);
  }

  function post(url, fields) {
    const body = new URLSearchParams(fields || {});
    return loaFetch(url, { method: "POST", body: body })
      .then(function (resp) {
        return resp.json().catch(function () { return { ok: false, message: "Máy chủ trả lời không hợp lệ (" + resp.status + ")." }; });
      })
      .catch(function () { return { ok: false, message: "Không kết nối được máy chủ; hãy thử lại." }; });
  }

  function toggleHelp() { if (help) help.classList.toggle("hidden"); }

  // --- the queue ----------------------------------------------------------------------------
  const table = document.getElementById("queue");
  if (table) {
    const rows = Array.prototype.slice.call(table.querySelectorAll("tbody tr[data-item-id]"));
    const statusFilter = (document.querySelector('#review-filters select[name="status"]') || {}).value || "";
    let current = -1;

    function select(i) {
      if (!rows.length) return;
      current = Math.max(0, Math.min(rows.length - 1, i));
      rows.forEach(function (r, n) { r.classList.toggle("sel", n === current); });
      rows[current].focus({ preventScroll: true });
      rows[current].scrollIntoView({ block: "nearest" });
    }
    function row() { return current >= 0 ? rows[current] : null; }

    function setStatus(tr, status) {
      tr.dataset.status = status;
      const cell = tr.querySelector(".status-cell");
      if (cell) cell.innerHTML = "";
      const badge = document.createElement("span");
      badge.className = "badge b-" + status;
      badge.textContent = STATUS_VI[status] || status;
      if (cell) cell.appendChild(badge);
      tr.classList.toggle("done", statusFilter !== "all" && statusFilter !== "" && status !== statusFilter);
    }

    function act(tr, action) {
      if (!tr) return;
      const id = tr.dataset.itemId;
      const fields = {};
      if (action === "escalate") {
        const reason = window.prompt("Lý do báo cáo cấp trên (bắt buộc):", "");
        if (!reason || !reason.trim()) { say("Cần ghi lý do khi báo cáo cấp trên.", true); return; }
        fields.reason = reason.trim();
      }
      post("/review/" + id + "/" + action, fields).then(function (res) {
        say(res.message, !res.ok);
        if (res.ok) {
          setStatus(tr, res.status);
          if (rows.indexOf(tr) === current) select(current + 1);
        }
      });
    }

    table.addEventListener("click", function (ev) {
      const btn = ev.target.closest("button.act");
      if (!btn) return;
      ev.preventDefault();
      const tr = btn.closest("tr");
      select(rows.indexOf(tr));
      act(tr, btn.dataset.action);
    });
    table.addEventListener("change", function (ev) {
      const sel = ev.target.closest("select.row-relabel");
      if (!sel) return;
      const tr = sel.closest("tr");
      post("/review/" + tr.dataset.itemId + "/relabel", { risk: sel.value }).then(function (res) {
        say(res.message, !res.ok);
        if (!res.ok) { sel.value = sel.dataset.current; return; }
        sel.dataset.current = sel.value;
        const badge = tr.querySelector(".risk-label");
        if (badge) {
          badge.textContent = sel.options[sel.selectedIndex].text;
          badge.className = "risk-label badge b-" + sel.value;
        }
      });
    });
    table.addEventListener("focusin", function (ev) {
      const tr = ev.target.closest("tr[data-item-id]");
      if (tr && rows.indexOf(tr) !== current) {
        current = rows.indexOf(tr);
        rows.forEach(function (r, n) { r.classList.toggle("sel", n === current); });
      }
    });
    const all = document.getElementById("pick-all");
    if (all) all.addEventListener("change", function () {
      rows.forEach(function (r) { const cb = r.querySelector("input.pick"); if (cb) cb.checked = all.checked; });
    });

    function open() { const r = row(); const a = r && r.querySelector("a.open"); if (a) window.location.href = a.href; }
    loaShortcuts({
      j: function () { select(current + 1); },
      k: function () { select(current < 0 ? 0 : current - 1); },
      o: open,
      c: function () { act(row(), "confirm"); },
      d: function () { act(row(), "dismiss"); },
      e: function () { act(row(), "escalate"); },
      r: function () { const r = row() || (select(0), row()); const s = r && r.querySelector("select.row-relabel"); if (s) s.focus(); },
      x: function () { const r = row(); const cb = r && r.querySelector("input.pick"); if (cb) cb.checked = !cb.checked; },
      "?": toggleHelp,
    });
    // Enter opens the selected row only when the row itself has focus (buttons and links keep Enter).
    document.addEventListener("keydown", function (ev) {
      if (ev.key === "Enter" && ev.target && ev.target.matches && ev.target.matches("tr[data-item-id]")) {
        ev.preventDefault();
        open();
      }
    });
  }

  // --- an item's page -------------------------------------------------------------------------
  const decision = document.getElementById("decision-form");
  if (decision) {
    function press(id) { const b = document.getElementById(id); if (b && !b.disabled) b.click(); }
    loaShortcuts({
      c: function () { press("btn-confirm"); },
      d: function () { press("btn-dismiss"); },
      e: function () {
        const input = decision.querySelector('input[name="reason"]');
        if (input && !input.value.trim()) {
          const reason = window.prompt("Lý do báo cáo cấp trên (bắt buộc):", "");
          if (!reason || !reason.trim()) return;
          input.value = reason.trim();
        }
        press("btn-escalate");
      },
      r: function () { const s = document.querySelector('#relabel-form select[name="risk"]'); if (s) s.focus(); },
      u: function () { window.location.href = "/review"; },
      "?": toggleHelp,
    });
  }
})();
