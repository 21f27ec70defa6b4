// Polls the status API at the interval the server chooses and updates the
// aria-live region in place, so screen readers announce only what changed.
// Without this script the page reloads itself through <noscript> meta refresh.
(function () {
  "use strict";
  var box = document.getElementById("status");
  if (!box || !window.fetch) { return; }
  var url = box.getAttribute("data-status-url");
  var state = box.getAttribute("data-state");
  var roomState = box.getAttribute("data-room-state");

  function setText(id, text) {
    var el = document.getElementById(id);
    if (el && el.textContent !== text) { el.textContent = text; }
  }

  function describeWait(seconds) {
    if (seconds === null || seconds === undefined) { return null; }
    if (seconds < 60) { return "less than a minute"; }
    var minutes = Math.round(seconds / 60);
    if (minutes < 60) { return "about " + minutes + (minutes === 1 ? " minute" : " minutes"); }
    var h = Math.floor(minutes / 60), m = minutes % 60;
    if (m === 0) { return "about " + h + (h === 1 ? " hour" : " hours"); }
    return "about " + h + " h " + m + " min";
  }

  // These repeat placesWords and peopleWord of web/views/helpers.go.
  function placesWords(n) { return n === 1 ? "place remains" : "places remain"; }
  function peopleWord(n) { return n === 1 ? "person" : "people"; }

  function count(id, n) {
    var span = document.createElement("span");
    span.id = id;
    span.textContent = String(n);
    return span;
  }

  // Shows the places line as the server renders it while the places run
  // low for the people ahead, and hides it otherwise. The line is rebuilt
  // only when its text changes, so that an unchanged line does not make
  // screen readers announce the live region again.
  function showPlaces(s) {
    var line = document.getElementById("places");
    if (!line) { return; }
    var left = s.places_remaining, ahead = s.places_ahead;
    if (typeof left !== "number" || typeof ahead !== "number" || !s.places_low) {
      line.hidden = true;
      return;
    }
    var middle = " " + placesWords(left) + " for ";
    var end = " " + peopleWord(ahead) + " ahead of you." + (s.places_short ? " They may be gone before your turn." : "");
    if (line.textContent.replace(/\s+/g, " ").trim() !== "About " + left + middle + ahead + end) {
      line.textContent = "About ";
      line.appendChild(count("places-left", left));
      line.appendChild(document.createTextNode(middle));
      line.appendChild(count("places-ahead", ahead));
      line.appendChild(document.createTextNode(end));
    }
    line.hidden = false;
  }

  function schedule(seconds) {
    window.setTimeout(poll, Math.max(1, seconds) * 1000);
  }

  function poll() {
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (res) {
        var retry = parseInt(res.headers.get("Retry-After") || "10", 10);
        return res.json().then(function (body) { return { ok: res.ok, body: body, retry: retry }; });
      })
      .then(function (r) {
        if (!r.ok) { schedule(r.retry); return; }
        var s = r.body;
        // A change of state shows a different page: let the server render it.
        if (s.state !== state || s.room_state !== roomState) { window.location.reload(); return; }
        if (s.position !== null) { setText("position", String(s.position)); }
        if (s.ahead !== null) {
          setText("ahead", String(s.ahead));
          setText("ahead-words", s.ahead === 1 ? "person is" : "people are");
        }
        var wait = describeWait(s.eta_seconds);
        if (wait) { setText("eta", wait); }
        var bar = document.getElementById("progress");
        if (bar && typeof s.progress === "number") { bar.value = s.progress; bar.textContent = s.progress + "%"; }
        var degraded = document.getElementById("degraded");
        if (degraded) { degraded.hidden = !s.degraded; }
        showPlaces(s);
        schedule(s.refresh_seconds || r.retry);
      })
      .catch(function () { schedule(10); });
  }

  schedule(parseInt(box.getAttribute("data-refresh") || "10", 10));
})();
