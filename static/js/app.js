// Flux2Web's small enhancements. Every page works without this file; it adds the live
// counter, keyboard submit, seed dice, drag-and-drop previews, ticking timers, the
// gallery's lightbox (with its add-to-collection and team tools) and select-all.
// Listeners are delegated so HTMX swaps need no rebinding.
(function () {
  "use strict";

  // ---- Prompt counter against the chosen provider's bounds. ----
  function updateCounter() {
    var prompt = document.getElementById("id_prompt");
    var out = document.getElementById("prompt-counter");
    var opts = document.getElementById("form-caps");
    if (!prompt || !out) return;
    var n = prompt.value.trim().length;
    var min = opts ? parseInt(opts.dataset.promptMin || "1", 10) : 1;
    var max = opts ? parseInt(opts.dataset.promptMax || "5000", 10) : 5000;
    out.textContent = n + " / " + max;
    out.classList.toggle("over", n > max || (n > 0 && n < min));
    out.title = n > max ? "Too long for this provider" : n && n < min ? "Needs at least " + min + " characters" : "";
  }
  document.addEventListener("input", function (e) {
    if (e.target.id === "id_prompt") updateCounter();
    if (e.target.id === "id_count") updateEstimate();
  });

  // ---- The estimate follows Images as it is typed; the server renders it on change. ----
  // Money in ten-thousandths of a dollar, rounded to cents half-even as the server does.
  function cents(units) {
    var whole = Math.floor(units / 100);
    var rest = units - whole * 100;
    return rest > 50 || (rest === 50 && whole % 2) ? whole + 1 : whole;
  }
  function usd(c) {
    return "$" + (c / 100).toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  }
  function updateEstimate() {
    var out = document.getElementById("estimate");
    var count = document.getElementById("id_count");
    if (!out || !count || !out.dataset.each) return;
    var n = Math.max(1, parseInt(count.value, 10) || 1);
    if (count.max) n = Math.min(n, parseInt(count.max, 10));
    var each = Math.round(parseFloat(out.dataset.each) * 10000);
    out.textContent = usd(cents(each * n));
    if (n > 1) {
      var help = document.createElement("span");
      help.className = "help";
      help.textContent = "(" + n + " × " + usd(cents(each)) + ")";
      out.append(" ", help);
    }
  }

  // ---- Ctrl/Cmd + Enter submits the generation form. ----
  document.addEventListener("keydown", function (e) {
    if (e.key !== "Enter" || !(e.ctrlKey || e.metaKey)) return;
    var form = e.target.closest && e.target.closest("form#compose");
    if (form) {
      e.preventDefault();
      var button = generateButton(form);
      if (!(button && button.disabled)) form.requestSubmit();  // not while sending or held
    }
  });

  // ---- Seed dice, confirmations, select-all. ----
  document.addEventListener("click", function (e) {
    var dice = e.target.closest("[data-dice]");
    if (dice) {
      var seed = document.getElementById("id_seed");
      var pick = new Uint32Array(1);
      crypto.getRandomValues(pick);
      seed.value = pick[0];
      return;
    }
    var confirmer = e.target.closest("[data-confirm]");
    if (confirmer && !window.confirm(confirmer.dataset.confirm)) {
      e.preventDefault();
    }
  });
  document.addEventListener("change", function (e) {
    if (e.target.matches("[data-select-all]")) {
      document.querySelectorAll("input.pick").forEach(function (box) { box.checked = e.target.checked; });
    }
    if (e.target.matches("[data-select-all], input.pick")) {
      var n = document.querySelectorAll("input.pick:checked").length;
      var label = document.querySelector("[data-selected-count]");
      if (label) label.textContent = n ? n + " selected" : "";
    }
    if (e.target.id === "id_reference_files") takeFiles(e.target, e.target.files);
  });

  // ---- An address to hand on (a share link, a one-time set-password link): a read-only
  // field, selectable without JS; here it selects itself and its Copy button copies. ----
  document.addEventListener("click", function (e) {
    var button = e.target.closest("[data-copy]");
    if (!button) return;
    var field = document.getElementById(button.dataset.copy);
    field.select();
    var done = function () {
      button.textContent = "Copied";
      setTimeout(function () { button.textContent = "Copy"; }, 1500);
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(field.value).then(done, function () { document.execCommand("copy"); done(); });
    } else {
      document.execCommand("copy");
      done();
    }
  });
  // Tabbed to, or clicked (a click's mouseup would undo a selection made on focus).
  ["focusin", "click"].forEach(function (type) {
    document.addEventListener(type, function (e) {
      if (e.target.matches && e.target.matches("input.copy")) e.target.select();
    });
  });

  // ---- The month picker shows its month. ----
  document.addEventListener("change", function (e) {
    if (e.target.matches("select[data-autosubmit]")) e.target.form.requestSubmit();
  });

  // ---- Reference images: drag-and-drop into the file input, with previews. ----
  // What the server would refuse is named at once, in its words (the field's data-*), and
  // never sent: a 25 MB file is not uploaded to be told "up to 10 MB". The server checks again.
  var KEPT_AS_IS = /^image\/(png|jpeg|webp)$/; // stored byte for byte: the size limit is exact
  var DRAWABLE = /^image\/(png|jpeg|webp|gif)$/; // a browser draws these: one it cannot is broken
  function say(input, words, file) {
    return (input.dataset[words] || "").replace("{name}", file.name).replace("{size}", (file.size / 1048576).toFixed(1));
  }
  function problemWith(input, file) {
    var d = input.dataset;
    if (d.hardMaxBytes && file.size > parseInt(d.hardMaxBytes, 10)) return say(input, "tooLarge", file);
    if (d.maxBytes && KEPT_AS_IS.test(file.type) && file.size > parseInt(d.maxBytes, 10)) return say(input, "tooBig", file);
    if (file.type.indexOf("image/") !== 0 && !/\.hei[cf]$/i.test(file.name)) return say(input, "unreadable", file);
    return null;
  }
  function sayProblems(input, problems, adding) {
    var zone = input.closest(".dropzone");
    var said = zone.parentNode.querySelectorAll("[data-upload-problem]");
    if (!adding) said.forEach(function (p) { p.remove(); });
    var after = adding && said.length ? said[said.length - 1] : zone;
    problems.forEach(function (text) {
      var p = document.createElement("div");
      p.className = "field-error";
      p.setAttribute("role", "alert");
      p.setAttribute("data-upload-problem", "");
      p.textContent = text;
      after.after(p);
      after = p;
    });
  }
  function takeFiles(input, files) {
    var kept = new DataTransfer();
    var problems = [];
    Array.prototype.forEach.call(files, function (file) {
      var problem = problemWith(input, file);
      if (problem) problems.push(problem);
      else kept.items.add(file);
    });
    input.files = kept.files;
    sayProblems(input, problems);
    showPreviews(input);
  }
  function showPreviews(input) {
    var list = input.closest(".dropzone").querySelector(".previews");
    var opts = document.getElementById("form-caps");
    var max = opts ? parseInt(opts.dataset.refMax || "0", 10) : 0;
    var carried = document.querySelectorAll(".previews.carried input:checked").length;
    list.innerHTML = "";
    Array.prototype.forEach.call(input.files, function (file, i) {
      var item = document.createElement("li");
      var img = document.createElement("img");
      // Shown once drawn: a file that only claims to be an image leaves no broken tile.
      item.hidden = true;
      img.addEventListener("load", function () { item.hidden = false; });
      img.addEventListener("error", function () {
        if (DRAWABLE.test(file.type)) {
          dropFile(input, file);
          sayProblems(input, [say(input, "unreadable", file)], true);
        } else {
          // HEIC, TIFF: the server converts what this browser cannot draw; name its kind.
          var kind = document.createElement("span");
          kind.className = "ref-kind";
          kind.title = file.name;
          kind.textContent = (file.name.split(".").pop() || "image").slice(0, 5).toUpperCase();
          img.replaceWith(kind);
          item.hidden = false;
        }
      });
      img.src = URL.createObjectURL(file);
      img.alt = "Reference " + (i + 1) + ": " + file.name;
      var remove = document.createElement("button");
      remove.type = "button";
      remove.className = "remove";
      remove.textContent = "✕";
      remove.setAttribute("aria-label", "Remove " + file.name);
      remove.addEventListener("click", function () { removeFile(input, i); });
      item.append(img, remove);
      if (max && carried + i >= max) item.classList.add("over");
      list.append(item);
    });
  }
  function dropFile(input, dropped) {
    var kept = new DataTransfer();
    Array.prototype.forEach.call(input.files, function (file) { if (file !== dropped) kept.items.add(file); });
    input.files = kept.files;
    showPreviews(input);
  }
  function removeFile(input, index) {
    var kept = new DataTransfer();
    Array.prototype.forEach.call(input.files, function (file, i) { if (i !== index) kept.items.add(file); });
    input.files = kept.files;
    showPreviews(input);
  }
  ["dragenter", "dragover"].forEach(function (type) {
    document.addEventListener(type, function (e) {
      var zone = e.target.closest && e.target.closest(".dropzone");
      if (!zone) return;
      e.preventDefault();
      zone.classList.add("dragging");
    });
  });
  document.addEventListener("dragleave", function (e) {
    var zone = e.target.closest && e.target.closest(".dropzone");
    if (zone) zone.classList.remove("dragging");
  });
  document.addEventListener("drop", function (e) {
    var zone = e.target.closest && e.target.closest(".dropzone");
    if (!zone) return;
    e.preventDefault();
    zone.classList.remove("dragging");
    var input = zone.querySelector("input[type=file]");
    var all = new DataTransfer();
    Array.prototype.forEach.call(input.files, function (file) { all.items.add(file); });
    // Whatever was dropped is checked, and what is not an image is named, not lost silently.
    Array.prototype.forEach.call(e.dataTransfer.files, function (file) { all.items.add(file); });
    takeFiles(input, all.files);
  });

  // ---- Elapsed time and estimated progress tick between server refreshes. ----
  function tick() {
    var now = Date.now() / 1000;
    document.querySelectorAll(".job-card[data-started]").forEach(function (card) {
      var elapsed = Math.max(0, Math.round(now - parseInt(card.dataset.started, 10)));
      var label = card.querySelector("[data-elapsed]");
      if (label) label.textContent = elapsed + " s";
      if (card.dataset.progress || "waiting" in card.dataset) return;
      var bar = card.querySelector(".progress");
      var typical = parseInt(card.dataset.typical || "30", 10);
      var pct = Math.min(95, Math.max(5, Math.round((elapsed * 100) / typical)));
      if (bar) {
        bar.value = pct;
        bar.textContent = pct + "%";
      }
    });
  }
  setInterval(tick, 1000);

  // ---- Gallery lightbox: click a thumbnail, arrows to move, Esc to close. ----
  var current = null;
  function items() { return Array.prototype.slice.call(document.querySelectorAll("[data-lightbox]")); }
  function show(link) {
    var box = document.getElementById("lightbox");
    if (!box || !link) return;
    current = link;
    box.querySelector("img").src = link.dataset.full;
    box.querySelector("img").alt = link.dataset.caption;
    box.querySelector(".lb-caption").textContent = link.dataset.caption;
    var job = box.querySelector(".lb-job");
    job.hidden = !link.dataset.job;
    if (link.dataset.job) job.href = link.dataset.job;
    // The tools (add to a collection, show to the team) act on one's own images only.
    box.querySelectorAll("[data-lb-own]").forEach(function (form) { form.hidden = link.dataset.own !== "1"; });
    box.querySelectorAll("[data-lb-image]").forEach(function (input) { input.value = link.dataset.image || ""; });
    var team = link.dataset.team === "1";
    box.querySelectorAll("[data-lb-team]").forEach(function (input) { input.value = team ? "0" : "1"; });
    box.querySelectorAll("[data-lb-team-label]").forEach(function (b) { b.textContent = team ? "Make private" : "Show to the team"; });
    var download = box.querySelector("[data-lb-download]");
    if (download) download.href = link.dataset.full + (link.dataset.full.indexOf("?") < 0 ? "?" : "&") + "download=1";
    var remix = box.querySelector("[data-lb-remix]");
    if (remix) remix.href = "/?image=" + encodeURIComponent(link.dataset.image || "");
    var fav = box.querySelector("[data-lb-fav]");
    if (fav) {
      var on = link.dataset.fav === "1";
      fav.setAttribute("aria-pressed", on ? "true" : "false");
      fav.textContent = on ? "★ Favourite" : "☆ Favourite";
      fav.hidden = link.dataset.own !== "1" || !link.dataset.job;
    }
    if (!box.open) box.showModal();
    // The address names the open image: it can be linked, and Back closes it.
    var hash = "#image-" + (link.dataset.image || "");
    if (link.dataset.image && location.hash !== hash) {
      if (history.state && history.state.lightbox) history.replaceState({ lightbox: true }, "", hash);
      else history.pushState({ lightbox: true }, "", hash);
    }
  }
  function linkForHash() {
    var m = /^#image-(\d+)$/.exec(location.hash);
    return m ? document.querySelector("[data-lightbox][data-image='" + m[1] + "']") : null;
  }
  window.addEventListener("popstate", function () {
    var box = document.getElementById("lightbox");
    var link = linkForHash();
    if (link) show(link);
    else if (box && box.open) box.close();
  });
  // An address naming an image opens it: on load, and after HTMX brings a page in.
  function openFromHash() {
    var link = linkForHash();
    var box = document.getElementById("lightbox");
    if (link && box && !box.open) show(link);
  }
  document.addEventListener("DOMContentLoaded", openFromHash);
  document.addEventListener("htmx:afterSettle", openFromHash);
  // Delegated from the document (captured: "close" does not bubble), so a lightbox that
  // HTMX swapped in works like the one the page loaded with.
  document.addEventListener("close", function (e) {
    // Open again by the time its "close" event comes (an image was asked for since): the
    // address is that image's now.
    if (e.target.id !== "lightbox" || e.target.open) return;
    // Closed by Esc or the button: leave the image's address the way Back would.
    if (history.state && history.state.lightbox) history.back();
    else if (linkForHash()) history.replaceState(null, "", location.pathname + location.search);
  }, true);
  // Swipe on a phone: left for the next image, right for the previous.
  var startX = null;
  document.addEventListener("touchstart", function (e) {
    startX = e.target.closest && e.target.closest("#lightbox") ? e.touches[0].clientX : null;
  }, { passive: true });
  document.addEventListener("touchend", function (e) {
    if (startX === null) return;
    var dx = e.changedTouches[0].clientX - startX;
    startX = null;
    if (Math.abs(dx) > 50) step(dx < 0 ? 1 : -1);
  });
  function csrfToken() {
    var input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }
  document.addEventListener("click", function (e) {
    var copy = e.target.closest("[data-lb-copy]");
    if (copy && current) {
      var text = current.dataset.prompt || current.dataset.caption || "";
      var done = function () { copy.textContent = "Copied"; setTimeout(function () { copy.textContent = "Copy prompt"; }, 1500); };
      if (navigator.clipboard && window.isSecureContext) navigator.clipboard.writeText(text).then(done, done);
      else {
        var area = document.createElement("textarea");
        area.value = text;
        document.body.append(area);
        area.select();
        try { document.execCommand("copy"); } catch (err) { /* nothing to copy with */ }
        area.remove();
        done();
      }
      return;
    }
    var fav = e.target.closest("[data-lb-fav]");
    if (fav && current && current.dataset.job) {
      var link = current;
      fetch(link.dataset.job + "favourite", {
        method: "POST", headers: { "X-CSRFToken": csrfToken(), "HX-Request": "true" }, credentials: "same-origin",
      }).then(function (r) {
        if (!r.ok) return;
        link.dataset.fav = link.dataset.fav === "1" ? "0" : "1";
        if (current === link) show(link);
      });
    }
  });
  document.addEventListener("htmx:afterRequest", function (e) {
    // A visibility change from the lightbox: remember it on the tile and relabel.
    if (!e.detail.successful || !e.target.matches || !e.target.matches(".lb-team") || !current) return;
    current.dataset.team = current.dataset.team === "1" ? "0" : "1";
    show(current);
  });
  function step(delta) {
    var all = items();
    var i = all.indexOf(current);
    if (i < 0 && current) {
      // The results were swapped under the open lightbox: find the same image again.
      i = all.findIndex(function (link) { return link.dataset.full === current.dataset.full; });
    }
    if (i >= 0 && all[i + delta]) show(all[i + delta]);
  }
  document.addEventListener("click", function (e) {
    var link = e.target.closest("[data-lightbox]");
    if (link) {
      e.preventDefault();
      show(link);
    } else if (e.target.closest(".lb-prev")) {
      step(-1);
    } else if (e.target.closest(".lb-next")) {
      step(1);
    } else if (e.target.id === "lightbox") {
      e.target.close();
    }
  });
  document.addEventListener("keydown", function (e) {
    var box = document.getElementById("lightbox");
    if (!box || !box.open) return;
    if (e.key === "ArrowLeft") step(-1);
    if (e.key === "ArrowRight") step(1);
  });

  // ---- A prompt box the person made taller keeps its height when the form is answered
  // (htmx does not carry style attributes over: the CSP refuses them, base.html). ----
  var promptHeight = "";
  document.addEventListener("htmx:beforeSwap", function (e) {
    var prompt = document.getElementById("id_prompt");
    promptHeight = e.detail.target && e.detail.target.id === "compose" && prompt ? prompt.style.height : "";
  });
  document.addEventListener("htmx:afterSwap", function () {
    var prompt = document.getElementById("id_prompt");
    if (promptHeight && prompt) prompt.style.height = promptHeight;
    promptHeight = "";
  });

  // ---- One press, one job: Generate says it is sending while it is, and the form that
  // comes back with the new cards holds its button a moment (the server renders it held),
  // so a double or triple click that lands after a quick answer queues nothing more. ----
  var HOLD_MS = 1000;
  function generateButton(form) {
    return form && form.querySelector(".generate-bar button[type=submit]");
  }
  document.addEventListener("htmx:beforeRequest", function (e) {
    var button = e.detail.elt.id === "compose" && generateButton(e.detail.elt);
    if (button) button.textContent = "Sending…";
  });
  document.addEventListener("htmx:afterRequest", function (e) {
    var button = e.detail.elt.id === "compose" && generateButton(e.detail.elt);
    if (button && button.isConnected) button.textContent = "Generate";  // nothing came back
  });
  function releaseHeld() {
    var button = document.querySelector("#compose button[data-held]");
    if (!button || button.dataset.releasing) return;
    button.dataset.releasing = "1";
    setTimeout(function () {
      button.removeAttribute("data-held");
      button.disabled = false;
      button.textContent = "Generate";
    }, HOLD_MS);
  }
  document.addEventListener("htmx:afterSettle", releaseHeld);

  // ---- The compare list stays as the person left it: open while they use it, though
  // the list is drawn again as boxes are ticked (its hidden compare_open says so). ----
  document.addEventListener("toggle", function (e) {
    var list = e.target;
    if (!list || list.id !== "compare-providers") return;
    var field = list.querySelector("input[name=compare_open]");
    if (field) field.value = list.open ? "1" : "";
  }, true);

  // ---- No lost input: an answer never undoes what the person did after sending. ----
  // The values of the generation form when a request left (options refresh or Generate)
  // are kept with it; when its answer is swapped in, every field changed since then gets
  // the person's newer value back.
  // Carried reference tiles are several boxes of one name: the answer shows them as sent.
  var KEEP_OUT = { csrfmiddlewaretoken: 1, idempotency_key: 1, reference_ids: 1 };
  function formValues(form) {
    var values = {};
    if (!form) return values;
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || KEEP_OUT[el.name] || el.type === "file" || el.type === "submit") return;
      if (el.type === "checkbox") {
        // Several boxes of one name (the carried references) are told apart by value.
        values[el.value === "on" ? el.name : el.name + "=" + el.value] = el.checked ? "on" : "";
      } else if (el.type === "radio") {
        if (el.checked) values[el.name] = el.value;
      } else {
        values[el.name] = el.value;
      }
    });
    return values;
  }
  function setValue(form, name, value) {
    var at = name.indexOf("=");
    var fields = form.querySelectorAll(at < 0 ? "[name='" + name + "']"
      : "[name='" + name.slice(0, at) + "'][value='" + CSS.escape(name.slice(at + 1)) + "']");
    Array.prototype.forEach.call(fields, function (el) {
      if (el.type === "checkbox") el.checked = value === "on";
      else if (el.type === "radio") el.checked = el.value === value;
      else if (el.tagName === "SELECT") {
        if (Array.prototype.some.call(el.options, function (o) { return o.value === value; })) el.value = value;
      } else el.value = value;
    });
  }
  var restore = null;
  document.addEventListener("htmx:beforeRequest", function (e) {
    var elt = e.detail.elt;
    if (elt.id === "compose" || elt.id === "form-options") {
      e.detail.xhr.__sentValues = formValues(document.getElementById("compose"));
    }
  });
  document.addEventListener("htmx:beforeSwap", function (e) {
    var sent = e.detail.xhr && e.detail.xhr.__sentValues;
    if (!sent) return;
    var now = formValues(document.getElementById("compose"));
    var changed = {};
    var any = false;
    Object.keys(now).forEach(function (name) {
      if (now[name] !== (sent[name] === undefined ? "" : sent[name])) { changed[name] = now[name]; any = true; }
    });
    restore = any ? changed : null;
  });
  document.addEventListener("htmx:afterSwap", function () {
    if (!restore) return;
    var form = document.getElementById("compose");
    var changed = restore;
    restore = null;
    if (!form) return;
    Object.keys(changed).forEach(function (name) { setValue(form, name, changed[name]); });
    updateCounter();
    followChoice();
  });
  // The options shown must be those of the provider and model chosen now: if an answer
  // for an earlier choice was the last to land, ask again.
  function followChoice() {
    var caps = document.getElementById("form-caps");
    var form = document.getElementById("compose");
    if (!caps || !form || !window.htmx) return;
    var provider = form.querySelector("[name=provider]");
    var model = form.querySelector("[name=model]");
    if ((provider && provider.value !== caps.dataset.provider) || (model && model.value !== caps.dataset.model)) {
      window.htmx.trigger(document.getElementById("form-options"), "change");
    }
  }

  // ---- Back never shows the past: a page restored from the back-forward cache reloads. ----
  window.addEventListener("pageshow", function (e) {
    if (e.persisted && document.getElementById("job-list")) window.location.reload();
  });

  // ---- Nothing said about the form hides under the pinned Generate bar: when the options
  // come back (a provider's hint, a new field), the field the person is at, with its help,
  // is scrolled clear of the bar. What Generate answers is said in the bar itself. ----
  function revealAboveBar(el) {
    var bar = document.querySelector("#compose .generate-bar");
    if (!el || !bar) return;
    var panel = el.closest(".studio-compose");
    var inPanel = panel && getComputedStyle(panel).overflowY === "auto";
    var topbar = document.querySelector(".topbar");
    var ceiling = inPanel ? panel.getBoundingClientRect().top : topbar ? topbar.getBoundingClientRect().bottom : 0;
    var box = el.getBoundingClientRect();
    var below = box.bottom - (bar.getBoundingClientRect().top - 8);
    var dy = Math.min(below, box.top - ceiling - 8);  // never past the field's own top
    if (below > 0 && dy > 0) (inPanel ? panel : window).scrollBy(0, dy);
  }
  document.addEventListener("htmx:beforeRequest", function (e) {
    var cause = e.detail.requestConfig && e.detail.requestConfig.triggeringEvent;
    if (e.detail.elt.id === "form-options" && cause && cause.target) e.detail.xhr.__changed = cause.target.name;
  });
  // At the swap itself, not after htmx's settle delay: the hint is never seen covered.
  document.addEventListener("htmx:afterSwap", function (e) {
    if (e.target.id !== "form-options") return;
    var name = e.detail.xhr && e.detail.xhr.__changed;
    var field = name ? e.target.querySelector("[name='" + name + "']") : document.activeElement;
    if (field && e.target.contains(field)) revealAboveBar(field.closest(".field") || field);
  });

  // ---- Back (or a reload) brings back everything typed. The browser puts back only what
  // differs from the page it rendered, and every answer renders the form anew, so the
  // form's values are kept for this tab, per address, and put back when the studio is
  // shown again from history; the options are asked for again until they match. ----
  function draftKey() { return "flux2web:compose:" + location.pathname + location.search; }
  var draft = null;  // values still being put back: not saved over meanwhile
  var draftRounds = 0;
  function saveDraft() {
    var form = document.getElementById("compose");
    if (!form || draft) return;
    try { sessionStorage.setItem(draftKey(), JSON.stringify(formValues(form))); } catch (err) { /* storage off */ }
  }
  ["input", "change"].forEach(function (type) {
    document.addEventListener(type, function (e) {
      if (e.target.closest && e.target.closest("#compose")) saveDraft();
    });
  });
  window.addEventListener("pagehide", saveDraft);
  function applyDraft() {
    var form = document.getElementById("compose");
    var before = JSON.stringify(formValues(form));
    Object.keys(draft).forEach(function (name) { setValue(form, name, draft[name]); });
    updateCounter();
    updateEstimate();
    // Something changed that the options (and the estimate) depend on: ask for them again.
    if (JSON.stringify(formValues(form)) !== before && draftRounds++ < 3 && window.htmx) {
      window.htmx.trigger(document.getElementById("form-options"), "change");
    } else {
      draft = null;
      saveDraft();
    }
  }
  document.addEventListener("DOMContentLoaded", function () {
    var nav = performance.getEntriesByType ? performance.getEntriesByType("navigation")[0] : null;
    if (!nav || (nav.type !== "back_forward" && nav.type !== "reload")) return;
    if (!document.getElementById("compose")) return;
    try { draft = JSON.parse(sessionStorage.getItem(draftKey()) || "null"); } catch (err) { draft = null; }
    if (draft) applyDraft();
  });
  document.addEventListener("htmx:afterSettle", function (e) {
    if (draft && e.target.id === "form-options") applyDraft();
  });

  // ---- A running card counts down to the provider's usual time. ----
  setInterval(function () {
    var now = Date.now() / 1000;
    document.querySelectorAll("[data-eta-end]").forEach(function (line) {
      var left = Math.round(parseInt(line.dataset.etaEnd, 10) - now);
      line.textContent = line.textContent.replace(/about \d+ s left|taking longer than usual/,
        left > 0 ? "about " + left + " s left" : "taking longer than usual");
    });
  }, 1000);

  document.addEventListener("DOMContentLoaded", updateCounter);
  document.addEventListener("htmx:afterSettle", updateCounter);
})();
