// The public share page: a lightbox with keyboard, swipe and a slideshow. The page works
// without this file: every tile links to its web-size image.
(function () {
  "use strict";
  var grid = document.getElementById("share-grid");
  var box = document.getElementById("share-lightbox");
  if (!grid || !box || typeof box.showModal !== "function") return;
  var tiles = Array.prototype.slice.call(grid.querySelectorAll("a[data-lb]"));
  var img = box.querySelector("img");
  var caption = box.querySelector(".lb-caption");
  var counter = box.querySelector(".lb-count");
  var download = box.querySelector(".lb-download");
  var play = box.querySelector(".lb-play");
  var current = 0;
  var timer = null;
  var SLIDE_MS = 4000;

  function show(index) {
    current = (index + tiles.length) % tiles.length;
    var tile = tiles[current];
    var thumb = tile.querySelector("img");
    img.src = tile.getAttribute("href");
    img.alt = thumb.alt;
    var figcaption = tile.parentNode.querySelector("figcaption");
    caption.textContent = "";
    if (figcaption) {
      figcaption.querySelectorAll("p").forEach(function (p) {
        var line = document.createElement("p");
        line.textContent = p.textContent;
        caption.appendChild(line);
      });
    }
    counter.textContent = (current + 1) + " / " + tiles.length;
    if (tile.dataset.download) {
      download.href = tile.dataset.download;
      download.hidden = false;
    } else {
      download.hidden = true;
    }
    // Fetch the next one ahead, so the slideshow and arrows feel instant.
    var next = tiles[(current + 1) % tiles.length];
    if (next) new Image().src = next.getAttribute("href");
  }
  function open(index) {
    show(index);
    if (!box.open) box.showModal();
  }
  function stop() {
    if (timer) clearInterval(timer);
    timer = null;
    play.textContent = "▶";
    play.setAttribute("aria-label", "Slideshow (space)");
  }
  function start() {
    stop();
    timer = setInterval(function () { show(current + 1); }, SLIDE_MS);
    play.textContent = "❚❚";
    play.setAttribute("aria-label", "Pause slideshow (space)");
  }

  grid.addEventListener("click", function (e) {
    var tile = e.target.closest("a[data-lb]");
    if (!tile || e.ctrlKey || e.metaKey || e.shiftKey) return;
    e.preventDefault();
    open(tiles.indexOf(tile));
  });
  box.querySelector(".lb-prev").addEventListener("click", function () { stop(); show(current - 1); });
  box.querySelector(".lb-next").addEventListener("click", function () { stop(); show(current + 1); });
  box.querySelector(".lb-close").addEventListener("click", function () { box.close(); });
  play.addEventListener("click", function () { if (timer) stop(); else start(); });
  box.addEventListener("close", stop);
  box.addEventListener("click", function (e) { if (e.target === box) box.close(); });
  document.addEventListener("keydown", function (e) {
    if (!box.open) return;
    if (e.key === "ArrowRight") { stop(); show(current + 1); }
    else if (e.key === "ArrowLeft") { stop(); show(current - 1); }
    else if (e.key === " ") { e.preventDefault(); if (timer) stop(); else start(); }
  });

  // Swipe: a mostly horizontal move of 40 px or more turns the page.
  var touchX = null, touchY = null;
  box.addEventListener("touchstart", function (e) {
    touchX = e.touches[0].clientX;
    touchY = e.touches[0].clientY;
  }, { passive: true });
  box.addEventListener("touchend", function (e) {
    if (touchX === null) return;
    var dx = e.changedTouches[0].clientX - touchX;
    var dy = e.changedTouches[0].clientY - touchY;
    touchX = null;
    if (Math.abs(dx) > 40 && Math.abs(dx) > Math.abs(dy)) { stop(); show(current + (dx < 0 ? 1 : -1)); }
  });

  var slideshow = document.querySelector("[data-slideshow]");
  if (slideshow) {
    slideshow.hidden = false;
    slideshow.addEventListener("click", function () { open(0); start(); });
  }
})();
