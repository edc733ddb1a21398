// SMS simulator: post typed messages, and show traffic live from /sim/events.
(function () {
  "use strict";
  var log = document.getElementById("sim-log");
  var form = document.getElementById("sim-form");
  function add(e) {
    var li = document.createElement("li");
    li.className = "sim-" + e.dir;
    li.dataset.phone = e.phone;
    var meta = document.createElement("span");
    meta.className = "muted";
    meta.textContent = new Date(e.at).toTimeString().slice(0, 8) + " " + e.dir + " " + e.phone + " ";
    li.appendChild(meta);
    li.appendChild(document.createTextNode(e.text ? e.text : e.state + " (" + e.id + ")"));
    log.appendChild(li);
  }
  new EventSource("/sim/events").onmessage = function (m) { add(JSON.parse(m.data)); };
  // Errors go to the form's alert region (read out at once), not a dialog.
  var problem = document.getElementById("sim-error");
  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    problem.textContent = "";
    fetch("/sim/inbound", { method: "POST", body: new URLSearchParams(new FormData(form)) })
      .then(function (r) {
        if (!r.ok) {
          r.text().then(function (t) {
            var msg = t;
            try { var e = JSON.parse(t).error; msg = (e.field ? e.field + ": " : "") + e.message; } catch (_) {}
            problem.textContent = msg;
          });
        }
      });
    document.getElementById("sim-text").value = "";
  });
})();
