/* Two reading aids of the book's pages.

   1. Figures that the page shows smaller than they were drawn (the big appendix grids, any figure the
   theme shrinks to the column) open at full size when clicked: an overlay that scrolls, closed by a
   click, the Escape key or the close button. Every such figure also gets a "full size" link, so the
   image can be opened in its own tab. Figures shown at their own size are left alone.
   2. Code and printed output wider than the column scroll sideways; their right edge fades out while
      more text is hidden there (class "scrolls-right"), so a reader knows to scroll. */
(function () {
  "use strict";
  var overlay = null;

  function close() {
    if (overlay) { overlay.remove(); overlay = null; document.body.classList.remove("figure-zoom-open"); }
  }

  function open(img) {
    close();
    overlay = document.createElement("div");
    overlay.className = "figure-zoom-overlay";
    overlay.setAttribute("role", "dialog");
    overlay.setAttribute("aria-label", "Figure at full size (click or press Escape to close)");
    var button = document.createElement("button");
    button.className = "figure-zoom-close";
    button.type = "button";
    button.textContent = "\u00d7";
    button.setAttribute("aria-label", "Close");
    var big = document.createElement("img");
    big.src = img.currentSrc || img.src;
    big.alt = img.alt || "figure at full size";
    overlay.appendChild(button);
    overlay.appendChild(big);
    overlay.addEventListener("click", close);
    document.body.appendChild(overlay);
    document.body.classList.add("figure-zoom-open");
    button.focus();
  }

  function mark(img) {
    if (img.dataset.zoomReady) { return; }
    // only figures shown narrower than drawn (allow a pixel of rounding)
    if (!img.naturalWidth || img.naturalWidth <= img.clientWidth + 1) { return; }
    img.dataset.zoomReady = "1";
    img.classList.add("figure-zoomable");
    img.setAttribute("tabindex", "0");
    img.setAttribute("title", "Click to see the figure at full size");
    img.addEventListener("click", function () { open(img); });
    img.addEventListener("keydown", function (e) { if (e.key === "Enter") { open(img); } });
    var link = document.createElement("a");
    link.className = "figure-zoom-link";
    link.href = img.currentSrc || img.src;
    link.target = "_blank";
    link.rel = "noopener";
    link.textContent = "open the figure at full size";
    img.insertAdjacentElement("afterend", link);
  }

  function scan() {
    Array.prototype.forEach.call(document.querySelectorAll(".cell_output img"), function (img) {
      if (img.complete) { mark(img); } else { img.addEventListener("load", function () { mark(img); }); }
    });
  }

  function edge(pre) {
    var hidden = pre.scrollWidth - pre.clientWidth - pre.scrollLeft > 2;
    pre.classList.toggle("scrolls-right", hidden);
  }

  function scanCode() {
    Array.prototype.forEach.call(document.querySelectorAll("div.highlight pre, .cell_output pre"), function (pre) {
      if (pre.scrollWidth > pre.clientWidth + 2 && !pre.dataset.edgeReady) {
        pre.dataset.edgeReady = "1";
        pre.addEventListener("scroll", function () { edge(pre); }, {passive: true});
      }
      if (pre.dataset.edgeReady) { edge(pre); }
    });
  }

  document.addEventListener("keydown", function (e) { if (e.key === "Escape") { close(); } });
  function start() { scan(); scanCode(); }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
  window.addEventListener("load", start);
  window.addEventListener("resize", scanCode);
})();
