// Counts down the time left on a hold at the checkout page, once a second,
// and reloads the page a second after the hold has expired, so the server
// shows what happened. It counts from the seconds the server rendered,
// because the browser's clock may differ from the server's. Without this
// script the page shows the time left when it was loaded.
(function () {
  "use strict";
  var timer = document.getElementById("time-left");
  if (!timer) { return; }
  var seconds = parseInt(timer.getAttribute("data-seconds"), 10);
  if (isNaN(seconds)) { return; }
  var end = Date.now() + seconds * 1000;

  function plural(n, one, many) { return n + " " + (n === 1 ? one : many); }

  // Repeats timeLeft in web/views/helpers.go.
  function describe(left) {
    var minutes = Math.floor(left / 60), rest = left % 60;
    if (minutes === 0) { return plural(rest, "second", "seconds"); }
    if (rest === 0) { return plural(minutes, "minute", "minutes"); }
    return plural(minutes, "minute", "minutes") + " " + plural(rest, "second", "seconds");
  }

  function tick() {
    var left = Math.max(0, Math.ceil((end - Date.now()) / 1000));
    if (timer.textContent !== describe(left)) { timer.textContent = describe(left); }
    if (left === 0) {
      window.setTimeout(function () { window.location.reload(); }, 1000);
      return;
    }
    window.setTimeout(tick, 1000);
  }
  tick();
})();
