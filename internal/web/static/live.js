// Redraws a campaign page's live panel from the server's event stream, so
// an operator watches a campaign work without reloading. Without script the
// page is still complete; it just does not move.
(function () {
  var panel = document.getElementById("live");
  if (!panel || !window.EventSource) return;
  var es = new EventSource(panel.getAttribute("data-src"));
  es.addEventListener("report", function (e) {
    panel.innerHTML = e.data;
    panel.setAttribute("data-updated", String(Date.now()));
  });
})();
