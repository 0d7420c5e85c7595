// Content calendar: drag a post to another day to move it (keeping its time), filters apply on change.
(function () {
  "use strict";
  const status = document.getElementById("cal-status");

  function say(message, isError) {
    if (!status) return;
    status.textContent = message;
    status.className = "cal-status " + (isError ? "alert error" : "flash");
  }

  // Filters: apply as soon as a select changes (the "Lọc" button stays for no-JS use).
  const filters = document.getElementById("cal-filters");
  if (filters) {
    filters.querySelectorAll("select").forEach(function (sel) {
      sel.addEventListener("change", function () {
        if (sel.name === "org") {
          const ch = filters.querySelector('select[name="channel"]');
          if (ch) ch.value = "";
        }
        filters.submit();
      });
    });
  }

  let dragged = null;

  document.addEventListener("dragstart", function (ev) {
    const entry = ev.target.closest && ev.target.closest('a.cal-entry[data-movable="1"]');
    if (!entry) return;
    dragged = entry;
    entry.classList.add("dragging");
    ev.dataTransfer.effectAllowed = "move";
    ev.dataTransfer.setData("text/plain", entry.dataset.targetId);
  });

  document.addEventListener("dragend", function () {
    if (dragged) dragged.classList.remove("dragging");
    document.querySelectorAll(".cal-day.over").forEach(function (d) { d.classList.remove("over"); });
    dragged = null;
  });

  function dayOf(ev) {
    return ev.target.closest ? ev.target.closest(".cal-day[data-date]") : null;
  }

  document.addEventListener("dragover", function (ev) {
    const day = dayOf(ev);
    if (!dragged || !day) return;
    ev.preventDefault();
    ev.dataTransfer.dropEffect = "move";
    document.querySelectorAll(".cal-day.over").forEach(function (d) { if (d !== day) d.classList.remove("over"); });
    day.classList.add("over");
  });

  document.addEventListener("drop", function (ev) {
    const day = dayOf(ev);
    if (!dragged || !day) return;
    ev.preventDefault();
    day.classList.remove("over");
    const entry = dragged;
    const newDate = day.dataset.date;
    if (newDate === entry.dataset.date) return;
    if (entry.dataset.approved === "1" &&
        !window.confirm("Bài này đã được duyệt. Dời lịch sẽ gửi bài đi duyệt lại trước khi đăng. Tiếp tục?")) {
      return;
    }
    entry.classList.add("busy");
    say("Đang dời lịch…", false);
    window.loaFetch("/calendar/reschedule", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ target_id: entry.dataset.targetId, date: newDate })
    }).then(function (resp) {
      return resp.json().catch(function () { return { ok: false, message: "Không dời được lịch (lỗi " + resp.status + ")." }; });
    }).then(function (data) {
      if (data.ok) {
        // Move it at once, then reload so colours, counts and the message are the server's.
        const target = day.querySelector(".cal-more") || null;
        day.insertBefore(entry.parentNode, target);
        say(data.message, false);
        window.location.reload();
      } else {
        entry.classList.remove("busy");
        say(data.message || "Không dời được lịch.", true);
      }
    }).catch(function () {
      entry.classList.remove("busy");
      say("Mất kết nối; lịch chưa được đổi. Hãy thử lại.", true);
    });
  });
})();
