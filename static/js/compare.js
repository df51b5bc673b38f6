// Compare (templates/gallery/compare.html): one zoom and one pan for every image at once
// (wheel, pinch, drag, + − 0 and the arrow keys), and for two images a before/after slider
// (a real range input: keyboard and touch work as for any). Without this script the page
// is the images side by side with links to their full size.
(function () {
  "use strict";
  var root = document.querySelector("[data-compare]");
  if (!root) return;
  var grid = root.querySelector("[data-compare-grid]");
  var views = Array.prototype.slice.call(root.querySelectorAll("[data-view]"));
  var images = views.map(function (view) { return view.querySelector("img"); });
  var level = root.querySelector("[data-zoom-level]");
  var slider = root.querySelector("#compare-slider");
  var sliderRow = root.querySelector("[data-slider-row]");
  var modeButton = root.querySelector("[data-slider-mode]");
  var MIN = 1, MAX = 8, STEP = 1.25, PAN = 40;
  var state = { scale: 1, x: 0, y: 0 };

  root.querySelector("[data-compare-tools]").hidden = false;

  function clamp(value, low, high) { return Math.min(high, Math.max(low, value)); }

  function apply() {
    var box = views[0].getBoundingClientRect();
    var limitX = (state.scale - 1) * box.width / 2, limitY = (state.scale - 1) * box.height / 2;
    state.x = clamp(state.x, -limitX, limitX);
    state.y = clamp(state.y, -limitY, limitY);
    var transform = "translate(" + state.x + "px, " + state.y + "px) scale(" + state.scale + ")";
    images.forEach(function (img) { img.style.transform = transform; });
    root.classList.toggle("zoomed", state.scale > 1);
    level.textContent = Math.round(state.scale * 100) + "%";
  }

  function zoom(factor) {
    var scale = clamp(state.scale * factor, MIN, MAX);
    var ratio = scale / state.scale;  // keep the same spot in the middle
    state.x *= ratio;
    state.y *= ratio;
    state.scale = scale;
    apply();
  }

  function reset() { state = { scale: 1, x: 0, y: 0 }; apply(); }

  root.addEventListener("click", function (e) {
    var button = e.target.closest("[data-zoom]");
    if (!button) return;
    var what = button.getAttribute("data-zoom");
    if (what === "in") zoom(STEP);
    else if (what === "out") zoom(1 / STEP);
    else reset();
  });

  document.addEventListener("keydown", function (e) {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    if (e.target.closest("input, select, textarea, [contenteditable]")) return;
    var pans = { ArrowLeft: [PAN, 0], ArrowRight: [-PAN, 0], ArrowUp: [0, PAN], ArrowDown: [0, -PAN] };
    if (e.key === "+" || e.key === "=") zoom(STEP);
    else if (e.key === "-" || e.key === "_") zoom(1 / STEP);
    else if (e.key === "0") reset();
    else if (pans[e.key] && state.scale > 1) {
      state.x += pans[e.key][0];
      state.y += pans[e.key][1];
      apply();
    } else return;
    e.preventDefault();
  });

  grid.addEventListener("wheel", function (e) {
    if (!e.target.closest("[data-view]")) return;
    e.preventDefault();
    zoom(e.deltaY < 0 ? STEP : 1 / STEP);
  }, { passive: false });

  // Drag pans; two fingers pinch. Pointer events cover mouse, pen and touch alike.
  var pointers = {};
  var pinch = 0;

  function distance() {
    var p = Object.keys(pointers).map(function (k) { return pointers[k]; });
    return p.length < 2 ? 0 : Math.hypot(p[0].x - p[1].x, p[0].y - p[1].y);
  }

  views.forEach(function (view) {
    view.addEventListener("pointerdown", function (e) {
      if (e.pointerType === "mouse" && e.button !== 0) return;
      try { view.setPointerCapture(e.pointerId); } catch (err) { /* a pointer already gone */ }
      pointers[e.pointerId] = { x: e.clientX, y: e.clientY };
      pinch = distance();
    });
    view.addEventListener("pointermove", function (e) {
      var last = pointers[e.pointerId];
      if (!last) return;
      var now = { x: e.clientX, y: e.clientY };
      pointers[e.pointerId] = now;
      if (pinch) {
        var d = distance();
        if (d) { zoom(d / pinch); pinch = d; }
      } else if (state.scale > 1) {
        state.x += now.x - last.x;
        state.y += now.y - last.y;
        apply();
      }
    });
    function lift(e) { delete pointers[e.pointerId]; pinch = distance(); }
    view.addEventListener("pointerup", lift);
    view.addEventListener("pointercancel", lift);
  });

  // Two images: the slider shows the first left of the handle and the second right of it.
  function slide() {
    var cut = grid.classList.contains("sliding") ? slider.value + "%" : "0";
    views[1].style.clipPath = "inset(0 0 0 " + cut + ")";
  }

  if (slider && modeButton) {
    modeButton.addEventListener("click", function () {
      var on = !grid.classList.contains("sliding");
      grid.classList.toggle("sliding", on);
      sliderRow.hidden = !on;
      modeButton.setAttribute("aria-pressed", on ? "true" : "false");
      slide();
      apply();
      if (on) slider.focus();
    });
    slider.addEventListener("input", slide);
  }

  window.addEventListener("resize", apply);
})();
