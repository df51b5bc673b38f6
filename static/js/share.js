// The public share page: a lightbox with keyboard, swipe and a slideshow; with proofing on,
// picks without leaving the page (Space), comments (C) and the one-image page's keys. The
// page works without this file: every tile links to its image (or its one-image page), and
// every pick and comment is a plain form.
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
  var lbPick = box.querySelector(".lb-pick");
  var lbComment = box.querySelector(".lb-comment");
  var note = box.querySelector(".lb-note");
  var frame = box.querySelector("figure");
  var spaceLabel = lbPick ? "" : " (space)";
  var current = 0;
  var timer = null;
  var SLIDE_MS = 4000;

  function show(index) {
    current = (index + tiles.length) % tiles.length;
    var tile = tiles[current];
    var thumb = tile.querySelector("img");
    img.src = source(tile);
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
    if (next) new Image().src = source(next);
    if (note) note.textContent = "";
    var button = pickButton(tile);
    if (lbPick) {
      lbPick.hidden = !button;
      if (button) {
        lbPick.setAttribute("aria-pressed", button.getAttribute("aria-pressed"));
        lbPick.disabled = button.disabled;
      }
    }
    if (lbComment) lbComment.href = tile.getAttribute("href") + "#comments";
  }
  function source(tile) {
    return tile.dataset.src || tile.getAttribute("href");
  }
  function pickButton(tile) {
    return tile.parentNode.querySelector("form[data-pick] button");
  }
  function say(text) {
    if (note) note.textContent = text;
  }
  function open(index) {
    show(index);
    if (!box.open) box.showModal();
    // Focus on the image, not a button: Space then picks rather than pressing a button.
    frame.tabIndex = -1;
    frame.focus();
  }
  function pickCurrent() {
    var button = pickButton(tiles[current]);
    if (!button) return;
    if (button.disabled) {
      say(document.getElementById("proof-name")
        ? "Give your name first (at the top of the page), then pick."
        : (document.querySelector("[data-proof-status]") || {}).textContent || "Picking is closed.");
      return;
    }
    send(button.form);
  }
  function stop() {
    if (timer) clearInterval(timer);
    timer = null;
    play.textContent = "▶";
    play.setAttribute("aria-label", "Slideshow" + spaceLabel);
  }
  function start() {
    stop();
    timer = setInterval(function () { show(current + 1); }, SLIDE_MS);
    play.textContent = "❚❚";
    play.setAttribute("aria-label", "Pause slideshow" + spaceLabel);
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
  box.addEventListener("close", function () {
    stop();
    // Back where the viewer was: the tile of the image last shown, focused and in view.
    tiles[current].focus();
  });
  if (lbPick) lbPick.addEventListener("click", pickCurrent);
  box.addEventListener("click", function (e) { if (e.target === box) box.close(); });
  document.addEventListener("keydown", function (e) {
    if (!box.open || e.ctrlKey || e.metaKey || e.altKey) return;
    var onControl = e.target.closest && e.target.closest("button, a, input, textarea");
    if (e.key === "ArrowRight") { stop(); show(current + 1); }
    else if (e.key === "ArrowLeft") { stop(); show(current - 1); }
    else if (e.key === " " && !onControl) {
      e.preventDefault();
      if (lbPick) pickCurrent();
      else if (timer) stop();
      else start();
    }
    else if ((e.key === "c" || e.key === "C") && lbComment) {
      e.preventDefault();
      window.location.assign(lbComment.href);
    }
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

  // A pick posts in the background and the page stays where it is; the answer is the new
  // state (or why not), the same the plain form would have shown.
  // One at a time, in the order pressed: at full speed the last answer is the last state.
  var queue = Promise.resolve();
  function send(form) {
    queue = queue.then(function () { return post(form); });
  }
  function post(form) {
    var button = form.querySelector("button");
    return fetch(form.action, {
      method: "POST",
      body: new FormData(form),
      headers: { Accept: "application/json" },
      credentials: "same-origin",
    }).then(function (response) {
      return response.json().then(function (data) {
        return { ok: response.ok, data: data };
      }, function () {
        // Not our JSON (a proxy's or an error page): the pick may or may not have been
        // made, and posting it again could undo it. Show the page as it stands.
        location.reload();
        return null;
      });
    }).then(function (answer) {
      if (!answer) return;
      var status = document.querySelector("[data-proof-status]");
      if (!answer.ok) {
        say(answer.data.message);
        if (!box.open && status) status.textContent = answer.data.message;
        return;
      }
      button.setAttribute("aria-pressed", answer.data.picked ? "true" : "false");
      if (lbPick && box.open && pickButton(tiles[current]) === button) {
        lbPick.setAttribute("aria-pressed", button.getAttribute("aria-pressed"));
      }
      if (status) status.textContent = answer.data.status;
      say(answer.data.status);
    }).catch(function () {
      // Not sent at all (offline): nothing changed; say so rather than post again.
      var text = "Not sent: check the connection and try again.";
      say(text);
      var status = document.querySelector("[data-proof-status]");
      if (!box.open && status) status.textContent = text;
    });
  }
  grid.addEventListener("submit", function (e) {
    var form = e.target.closest("form[data-pick]");
    if (!form) return;
    e.preventDefault();
    send(form);
  });

  var slideshow = document.querySelector("[data-slideshow]");
  if (slideshow) {
    slideshow.hidden = false;
    slideshow.addEventListener("click", function () { open(0); start(); });
  }
})();

// The one-image page: arrows move, Space picks, C goes to the comment box.
(function () {
  "use strict";
  var pick = document.querySelector(".proof-pick button");
  var steps = document.querySelector(".proof-nav");
  if (!steps) return;
  var comment = document.getElementById("image-comment");
  if (comment && (location.hash === "#comments" || location.hash === "#comment")) {
    // After the load: the browser's own move to the fragment would take the focus back.
    window.addEventListener("load", function () { comment.focus(); });
  }
  document.addEventListener("keydown", function (e) {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    if (e.target.closest && e.target.closest("button, a, input, textarea, select")) return;
    var link = null;
    if (e.key === "ArrowLeft") link = document.querySelector("a[rel=prev]");
    else if (e.key === "ArrowRight") link = document.querySelector("a[rel=next]");
    if (link) { e.preventDefault(); link.click(); }
    else if (e.key === " " && pick && !pick.disabled) { e.preventDefault(); pick.click(); }
    else if ((e.key === "c" || e.key === "C") && comment) { e.preventDefault(); comment.focus(); }
    else if (e.key === "Escape") { e.preventDefault(); document.querySelector("[data-back]").click(); }
  });
})();
