// claimcheck reviewer workspace: evidence boxes, zoom, keyboard shortcuts. No build step.
(function () {
  "use strict";

  function placeBoxes(img) {
    var w = img.naturalWidth, h = img.naturalHeight;
    if (!w || !h) return;
    img.parentElement.querySelectorAll(".box[data-bbox]").forEach(function (box) {
      var b = box.getAttribute("data-bbox").split(",").map(Number);
      box.style.left = (100 * b[0] / w) + "%";
      box.style.top = (100 * b[1] / h) + "%";
      box.style.width = (100 * (b[2] - b[0]) / w) + "%";
      box.style.height = (100 * (b[3] - b[1]) / h) + "%";
    });
    img.parentElement.setAttribute("data-natural-width", w);
    placeLabels(img.parentElement);
  }

  // Each box's label goes beside the box, never over it (nor over another box, where there is a
  // side with room): right, left, below, above, in that order; the box's title keeps it all.
  var SIDES = ["right", "left", "below", "above"];
  function overlaps(a, b) {
    return a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
  }
  function placeLabels(inner) {
    var boxes = Array.prototype.slice.call(inner.querySelectorAll(".box[data-bbox]"));
    var W = inner.clientWidth, H = inner.clientHeight;
    var rects = boxes.map(function (box) {
      return { left: box.offsetLeft, top: box.offsetTop, right: box.offsetLeft + box.offsetWidth,
               bottom: box.offsetTop + box.offsetHeight };
    });
    var taken = rects.slice();
    boxes.forEach(function (box, i) {
      var label = box.querySelector("span");
      if (!label) return;
      var r = rects[i], lw = label.offsetWidth, lh = label.offsetHeight, gap = 3;  // 6px from the padding edge, 3 past the border
      var at = {
        right: { left: r.right + gap, top: r.top },
        left: { left: r.left - gap - lw, top: r.top },
        below: { left: r.left, top: r.bottom + gap },
        above: { left: r.left, top: r.top - gap - lh }
      };
      function rect(side) {
        var p = at[side];
        return { left: p.left, top: p.top, right: p.left + lw, bottom: p.top + lh };
      }
      function fits(side) {
        var q = rect(side);
        return q.left >= 0 && q.top >= 0 && q.right <= W && q.bottom <= H;
      }
      var side = SIDES.filter(function (s) { return fits(s) && !taken.some(function (t) { return overlaps(rect(s), t); }); })[0]
        || SIDES.filter(fits)[0] || "right";
      SIDES.forEach(function (s) { box.classList.toggle("label-" + s, s === side); });
      taken.push(rect(side));
    });
  }

  var zoom = 0; // 0: fit the column; else a factor of the page's natural size
  function applyZoom() {
    document.querySelectorAll(".page-inner").forEach(function (inner) {
      var w = Number(inner.getAttribute("data-natural-width") || 0);
      inner.style.width = (zoom && w) ? Math.round(w * zoom) + "px" : "100%";
      placeLabels(inner);  // labels keep their size: where they fit changes with the zoom
    });
  }
  function setZoom(how) {
    var current = zoom;
    if (!current) {
      var inner = document.querySelector(".page-inner[data-natural-width]");
      current = inner ? inner.clientWidth / Number(inner.getAttribute("data-natural-width")) : 1;
    }
    if (how === "in") zoom = Math.min(4, current * 1.25);
    else if (how === "out") zoom = Math.max(0.1, current / 1.25);
    else zoom = 0;
    applyZoom();
  }

  function typing(e) {
    var t = e.target;
    return e.ctrlKey || e.metaKey || e.altKey ||
      (t && (t.tagName === "INPUT" || t.tagName === "TEXTAREA" || t.tagName === "SELECT" || t.isContentEditable));
  }

  function go(url) { if (url) window.location.href = url; }

  function queuePage() {
    var rows = Array.prototype.slice.call(document.querySelectorAll("tr.queue-row"));
    var at = -1;
    function select(i) {
      if (!rows.length) return;
      at = Math.max(0, Math.min(rows.length - 1, i));
      rows.forEach(function (r, j) { r.classList.toggle("selected", j === at); });
      rows[at].scrollIntoView({ block: "nearest" });
    }
    rows.forEach(function (r, j) {
      r.addEventListener("click", function (e) { if (e.target.tagName !== "A") go(r.getAttribute("data-href")); });
      r.addEventListener("mouseenter", function () { at = j; });
    });
    document.addEventListener("keydown", function (e) {
      if (typing(e)) return;
      if (e.key === "j") { select(at + 1); e.preventDefault(); }
      else if (e.key === "k") { select(at - 1); e.preventDefault(); }
      else if ((e.key === "Enter" || e.key === "o") && at >= 0) { go(rows[at].getAttribute("data-href")); }
    });
  }

  function claimPage() {
    var head = document.querySelector(".claim-head");
    document.querySelectorAll("img.page-image").forEach(function (img) {
      if (img.complete && img.naturalWidth) placeBoxes(img);
      img.addEventListener("load", function () { placeBoxes(img); applyZoom(); placeLabels(img.parentElement); });
      img.addEventListener("click", function () { setZoom(zoom ? "fit" : "in"); });
    });
    document.querySelectorAll("[data-zoom]").forEach(function (b) {
      b.addEventListener("click", function () { setZoom(b.getAttribute("data-zoom")); });
    });
    document.querySelectorAll("tr[data-box]").forEach(function (tr) {
      var box = document.getElementById(tr.getAttribute("data-box"));
      if (!box) return;
      tr.addEventListener("mouseenter", function () { box.classList.add("highlight"); });
      tr.addEventListener("mouseleave", function () { box.classList.remove("highlight"); });
      tr.addEventListener("click", function () { box.scrollIntoView({ block: "center", behavior: "smooth" }); });
    });
    var reason = document.getElementById("reject-reason");
    var message = document.getElementById("reject-message");
    if (reason && message) {
      reason.addEventListener("change", function () {
        var opt = reason.options[reason.selectedIndex];
        message.value = opt ? opt.getAttribute("data-message") : "";
      });
    }
    var rejectForm = document.getElementById("reject-form");
    if (rejectForm) {
      rejectForm.addEventListener("keydown", function (e) {
        if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) { e.preventDefault(); rejectForm.requestSubmit(); }
      });
    }
    document.addEventListener("keydown", function (e) {
      if (typing(e)) return;
      var k = e.key;
      if (k === "j") go(head && head.getAttribute("data-next"));
      else if (k === "k") go(head && head.getAttribute("data-prev"));
      else if (k === "u") go(head && head.getAttribute("data-queue"));
      else if (k === "a") { var f = document.getElementById("approve-form"); if (f) f.requestSubmit(); }
      else if (k === "r") { if (reason) { reason.focus(); reason.scrollIntoView({ block: "center" }); } }
      else if (k === "i") { var t = document.getElementById("info-message"); if (t) { t.focus(); t.scrollIntoView({ block: "center" }); } }
      else if (k === "+" || k === "=") setZoom("in");
      else if (k === "-") setZoom("out");
      else if (k === "0") setZoom("fit");
      else return;
      e.preventDefault();
    });
  }

  function help() {
    var panel = document.getElementById("help");
    function toggle() { if (panel) panel.hidden = !panel.hidden; }
    document.querySelectorAll("[data-help-toggle]").forEach(function (b) { b.addEventListener("click", toggle); });
    document.addEventListener("keydown", function (e) { if (!typing(e) && e.key === "?") toggle(); });
  }

  document.addEventListener("DOMContentLoaded", function () {
    help();
    if (document.body.classList.contains("page-queue")) queuePage();
    if (document.body.classList.contains("page-claim")) claimPage();
  });
})();
