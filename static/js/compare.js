// Compare (templates/gallery/compare.html): one zoom and one pan for every image at once
// (wheel, pinch, drag, + − 0 and the arrow keys), and for two images a before/after slider
// (a real range input: keyboard and touch work as for any). On a phone the images are shown
// one at a time, at the same zoom and pan: a horizontal swipe (when not zoomed, or past the
// image's edge when zoomed), the Previous/Next buttons or ← → move between them. Without
// this script the page is the images side by side (stacked on a phone) with links to their
// full size.
(function () {
  "use strict";
  var root = document.querySelector("[data-compare]");
  if (!root) return;
  var grid = root.querySelector("[data-compare-grid]");
  var panes = Array.prototype.slice.call(root.querySelectorAll("[data-pane]"));
  var views = Array.prototype.slice.call(root.querySelectorAll("[data-view]"));
  var images = views.map(function (view) { return view.querySelector("img"); });
  var level = root.querySelector("[data-zoom-level]");
  var slider = root.querySelector("#compare-slider");
  var sliderRow = root.querySelector("[data-slider-row]");
  var modeButton = root.querySelector("[data-slider-mode]");
  var nav = root.querySelector("[data-swipe-nav]");
  var at = root.querySelector("[data-swipe-at]");
  var narrow = window.matchMedia("(max-width: 640px)");  // the grid's one-column width
  var MIN = 1, MAX = 8, STEP = 1.25, PAN = 40;
  var state = { scale: 1, x: 0, y: 0 };
  var current = 0;  // the image shown on a phone

  root.querySelector("[data-compare-tools]").hidden = false;

  function clamp(value, low, high) { return Math.min(high, Math.max(low, value)); }

  // One image at a time: on a narrow screen, unless the slider shows two in one place.
  function swiping() { return narrow.matches && !grid.classList.contains("sliding"); }

  function apply() {
    var box = views[swiping() ? current : 0].getBoundingClientRect();
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

  function show() {
    var on = swiping();
    root.classList.toggle("swiping", on);
    nav.hidden = !on;
    panes.forEach(function (pane, n) {
      pane.classList.toggle("current", n === current);
      pane.style.transform = "";
    });
    at.textContent = (current + 1) + " of " + panes.length;
    apply();
  }

  function go(step) {  // round and round: Next on the last image shows the first
    current = (current + step + panes.length) % panes.length;
    show();
  }

  root.addEventListener("click", function (e) {
    var step = e.target.closest("[data-swipe]");
    if (step) go(Number(step.getAttribute("data-swipe")));
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
    else if ((e.key === "ArrowLeft" || e.key === "ArrowRight") && state.scale === 1 && swiping())
      go(e.key === "ArrowLeft" ? -1 : 1);
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

  // Drag pans; two fingers pinch. Pointer events cover mouse, pen and touch alike. On a
  // phone one finger moving sideways also swipes: the whole move when not zoomed (the view's
  // touch-action leaves vertical moves to the page's scrolling), and when zoomed only what
  // the pan cannot take at the image's edge. The slider's own input never reaches here.
  var pointers = {};
  var pinch = 0;
  var swipe = null;  // { id, t, dx }: one finger's sideways travel in this gesture

  function follow(dx) {  // the shown pane follows the finger
    var pane = panes[current];
    pane.classList.toggle("dragging", dx !== 0);
    pane.style.transform = dx ? "translateX(" + dx + "px)" : "";
  }

  function drop() { if (swipe) { swipe = null; follow(0); } }

  function travel(dx, dy) {
    if (state.scale === 1) { swipe.dx += dx; follow(swipe.dx); return; }
    if (swipe.dx && (swipe.dx < 0) !== (dx < 0)) {  // moving back: first the pane, then the pan
      var back = (dx < 0 ? -1 : 1) * Math.min(Math.abs(dx), Math.abs(swipe.dx));
      swipe.dx += back;
      dx -= back;
    }
    var before = state.x;
    state.x += dx;
    state.y += dy;
    apply();
    swipe.dx += dx - (state.x - before);
    follow(swipe.dx);
  }

  function release(e) {
    var dx = swipe.dx, width = views[current].getBoundingClientRect().width;
    var fast = Math.abs(dx) / Math.max(1, e.timeStamp - swipe.t) > 0.5;  // px per ms: a flick
    var far = Math.abs(dx) > width / 4 || (fast && Math.abs(dx) > 30 && state.scale === 1);
    swipe = null;
    if (far) go(dx < 0 ? 1 : -1);
    else follow(0);
  }

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
      if (pinch) drop();
      else if (swiping()) swipe = { id: e.pointerId, t: e.timeStamp, dx: 0 };
    });
    view.addEventListener("pointermove", function (e) {
      var last = pointers[e.pointerId];
      if (!last) return;
      var now = { x: e.clientX, y: e.clientY };
      pointers[e.pointerId] = now;
      if (pinch) {
        var d = distance();
        if (d) { zoom(d / pinch); pinch = d; }
      } else if (swipe && swipe.id === e.pointerId) {
        travel(now.x - last.x, now.y - last.y);
      } else if (state.scale > 1) {
        state.x += now.x - last.x;
        state.y += now.y - last.y;
        apply();
      }
    });
    function lift(e) { delete pointers[e.pointerId]; pinch = distance(); }
    view.addEventListener("pointerup", function (e) {
      lift(e);
      if (swipe && swipe.id === e.pointerId) release(e);
    });
    view.addEventListener("pointercancel", function (e) { lift(e); drop(); });  // the page scrolled
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
      show();
      if (on) slider.focus();
    });
    slider.addEventListener("input", slide);
  }

  if (narrow.addEventListener) narrow.addEventListener("change", show);
  else narrow.addListener(show);  // Safari before 14
  window.addEventListener("resize", apply);
  show();
})();
