// Loa — small progressive enhancements; every page works without them.
(function () {
  "use strict";
  const meta = document.querySelector('meta[name="csrf-token"]');
  const csrf = meta ? meta.content : "";

  // fetch() wrapper for page endpoints: sends the CSRF header and expects JSON back.
  window.loaFetch = function (url, options) {
    const opts = Object.assign({ credentials: "same-origin" }, options || {});
    opts.headers = Object.assign({ "X-CSRF-Token": csrf, "Accept": "application/json" }, opts.headers || {});
    return fetch(url, opts);
  };

  // <form data-confirm="Bạn chắc chắn?"> asks before submitting.
  document.addEventListener("submit", function (ev) {
    const form = ev.target;
    const question = form.getAttribute && form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) ev.preventDefault();
  });

  // Keyboard shortcuts registered by pages: loaShortcuts({j: fn, k: fn}); ignored while typing.
  window.loaShortcuts = function (map) {
    document.addEventListener("keydown", function (ev) {
      const t = ev.target;
      if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
      if (t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName))) return;
      const fn = map[ev.key];
      if (fn) { ev.preventDefault(); fn(ev); }
    });
  };
})();
