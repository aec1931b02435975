// Wirewatch rule playground: fetch the results as the editor types.
// Each keystroke restarts a short timer; when it fires, the request before
// is cancelled and a new one asks /try/results for the typed rule. The
// answer is HTML the server rendered (and escaped); it replaces the
// results. Without this script the form still works (a GET to /try).
(function () {
  "use strict";
  var form = document.getElementById("try");
  var q = document.getElementById("q");
  var against = document.getElementById("against");
  var results = document.getElementById("results");
  var status = document.getElementById("status");
  var start = document.getElementById("start");
  var delay = 250; // ms after the last keystroke
  var timer = null;
  var inflight = null;
  var seq = 0;

  function params() {
    var p = new URLSearchParams();
    p.set("q", q.value);
    if (against && against.value.trim() !== "") {
      p.set("against", against.value);
    }
    return p;
  }

  function run() {
    timer = null;
    if (inflight) {
      inflight.abort();
    }
    var ctl = new AbortController();
    inflight = ctl;
    var mine = ++seq;
    var p = params();
    history.replaceState(null, "", "/try?" + p.toString());
    status.textContent = "searching…";
    form.setAttribute("aria-busy", "true");
    fetch("/try/results?" + p.toString(), { signal: ctl.signal, credentials: "same-origin" })
      .then(function (resp) {
        if (!resp.ok) {
          throw new Error("HTTP " + resp.status);
        }
        return resp.text();
      })
      .then(function (html) {
        if (mine !== seq) {
          return; // a later request owns the page
        }
        results.innerHTML = html;
        status.textContent = "";
        form.removeAttribute("aria-busy");
        results.setAttribute("data-query", q.value);
      })
      .catch(function (err) {
        if (err.name === "AbortError" || mine !== seq) {
          return;
        }
        status.textContent = "could not reach Wirewatch: " + err.message;
        form.removeAttribute("aria-busy");
      });
  }

  function schedule() {
    if (timer !== null) {
      clearTimeout(timer);
    }
    timer = setTimeout(run, delay);
  }

  q.addEventListener("input", schedule);
  if (against) {
    against.addEventListener("input", schedule);
  }
  if (start) {
    start.addEventListener("change", function () {
      if (start.value === "") {
        return;
      }
      q.value = start.value;
      if (against) {
        against.value = start.value; // edit q, compare with the rule in use
        document.getElementById("compare").open = true;
      }
      run();
    });
  }
  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    if (timer !== null) {
      clearTimeout(timer);
    }
    run();
  });
})();
