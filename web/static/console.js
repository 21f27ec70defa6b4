// Keeps the organizer dashboard live: the server sends the live panel as
// server-sent events, rendered as HTML, and this script swaps it in. The
// browser reconnects by itself when a stream ends. Without this script the
// page reloads itself through <noscript> meta refresh.
(function () {
  "use strict";
  var live = document.getElementById("live");
  var status = document.getElementById("live-status");
  if (!live || !window.EventSource) { return; }

  var source = new EventSource(live.getAttribute("data-stream-url"));

  function setStatus(text) {
    if (status && status.textContent !== text) { status.textContent = text; }
  }

  source.addEventListener("update", function (e) {
    live.innerHTML = e.data;
    // UTC, like every other time on the console.
    setStatus("Live: updated " + new Date().toISOString().slice(11, 19) + " UTC.");
  });
  // The session ended: reloading shows the sign-in page.
  source.addEventListener("signed-out", function () {
    source.close();
    window.location.reload();
  });
  source.addEventListener("error", function () {
    setStatus("Connection lost: reconnecting. The figures below may be out of date.");
  });
})();
