// Push (studio home, comparison and job pages): the element that refreshes a page's cards
// (#refresher, a job page's #job-detail) names an event stream in data-push. When the
// stream says one of the person's jobs changed, the element refreshes at once
// ("f2w:changed" in its hx-trigger); it also refreshes each time the stream (re)opens, for
// whatever changed while it was closed, and once when the stream is refused. While the
// stream is open the element's own 2-second refresh runs only every SLOW_MS (for jobs
// started in another tab); while it is closed or failing, after a fetch of the cards
// failed, and without this script, the page refreshes every 2 s as before.
(function () {
  "use strict";
  if (!window.EventSource || !window.htmx) return;
  var SLOW_MS = 10000;
  var source = null;
  var streamPath = null;
  var watched = {};  // the job ids the open stream watches
  var live = false;
  var lastFetch = 0;
  // Changes the stream told, and how many of them had been told when the cards were last
  // asked for: a change told while the cards are being fetched is asked for once that
  // answer is in (htmx drops the request it queued when the answer replaces the element).
  var told = 0;
  var asked = 0;

  function pushing() { return document.querySelector("[data-push]"); }

  function idsOf(address) {
    var cards = address.searchParams.get("cards") || "";
    return cards.split(",").map(function (card) { return card.split(":")[0]; });
  }

  // The cards' fingerprints change with every step a job takes, and a finished job never
  // changes again: only a job the open stream does not watch needs a new one (each open
  // stream holds one of the server's threads until it next writes).
  function needsNew(address) {
    if (!source || source.readyState === EventSource.CLOSED) return true;
    if (address.pathname !== streamPath) return true;
    return idsOf(address).some(function (id) { return !watched[id]; });
  }

  function close() {
    if (source) source.close();
    source = null;
    streamPath = null;
    watched = {};
    live = false;
  }

  function ask() {
    var element = pushing();
    if (element) htmx.trigger(element, "f2w:changed");
  }

  function changed() {
    told += 1;
    ask();
  }

  function follow() {
    var element = pushing();
    if (!element) { close(); return; }
    var url = element.getAttribute("data-push");
    var address = new URL(url, location.href);
    if (!needsNew(address)) return;
    close();
    streamPath = address.pathname;
    idsOf(address).forEach(function (id) { watched[id] = true; });
    var opened = new EventSource(url);
    source = opened;
    opened.onopen = function () {
      if (source !== opened) return;
      live = true;
      changed();
    };
    opened.onmessage = function () { if (source === opened) changed(); };
    // Dropped (the browser tries again by itself) or refused (a 204: nothing it names is
    // in flight any more, or no thread to spare): either way the page's own refresh is
    // back at full speed meanwhile. Refused, what it would have told may have happened
    // already (a job that ended before its stream opened): the cards are asked for now.
    opened.onerror = function () {
      if (source !== opened) return;
      live = false;
      if (opened.readyState === EventSource.CLOSED) changed();
    };
  }

  document.addEventListener("htmx:configRequest", function (event) {
    var element = event.detail.elt;
    if (!element || !element.hasAttribute || !element.hasAttribute("data-push")) return;
    if (acting()) {  // asked for again once the action is answered
      event.preventDefault();
      return;
    }
    var now = Date.now();
    var byTimer = !event.detail.triggeringEvent;
    // A job's pictures are stored one by one while it is mirroring, and only its end is
    // told: while one is, the page refreshes at full speed.
    var storing = document.querySelector('[data-state="mirroring"]');
    if (byTimer && live && !storing && now - lastFetch < SLOW_MS) {
      event.preventDefault();
      return;
    }
    lastFetch = now;
    asked = told;
  });
  // A card's action (Cancel, Retry, Keep…) and a refresh of the cards must not cross:
  // htmx drops an action's answer (its message, a new job's card) when a refresh replaced
  // the card that asked first. While an action waits for its answer the cards are not
  // fetched, a fetch on its way is cut short, and once the action is answered they are
  // fetched if anything was told (or cut short) meanwhile. Actions never wait for refreshes.
  var ACTIONS = ".job-actions form, .compared-keep form";
  var owed = false;
  function isAction(element) { return element && element.matches && element.matches(ACTIONS); }
  function acting() { return !!document.querySelector("form[data-acting]"); }  // only ACTIONS are marked
  // A card's other buttons (a comparison's, whose Keep redraws all its cards) wait while one
  // of its actions does: that answer redraws the card, and one sent from the old card
  // meanwhile would lose its answer.
  // The card is remembered: once the answer has replaced the asking form's card, that form
  // no longer finds the comparison around it.
  function hold(form, held) {
    var card = held ? form.closest(".comparison") || form.closest(".job-card") : form.f2wHeld;
    form.f2wHeld = held ? card : null;
    if (!card) return;
    card.querySelectorAll("form").forEach(function (other) {
      if (!isAction(other)) return;
      other.querySelectorAll("button").forEach(function (button) { button.disabled = held; });
    });
  }
  // Marked as it is sent (no listener can call it off then), so the mark always meets
  // its htmx:afterRequest.
  document.addEventListener("htmx:beforeSend", function (event) {
    if (!isAction(event.detail.elt)) return;
    event.detail.elt.setAttribute("data-acting", "");
    hold(event.detail.elt, true);
    var element = pushing();
    if (element && element.classList.contains(htmx.config.requestClass)) {
      owed = true;
      htmx.trigger(element, "htmx:abort");
    }
  });
  // An answer htmx could not put on the page (a swap that threw) ends in htmx:onLoadError
  // instead of htmx:afterRequest: it ends the action, or the cards' fetch, all the same.
  function answered(event) {
    // The element that asked: when its answer took it off the page, htmx tells an ancestor
    // instead, under that ancestor's name (detail.elt), but the request keeps the asker's.
    var config = event.detail.requestConfig;
    var element = (config && config.elt) || event.detail.elt;
    if (isAction(element)) {
      element.removeAttribute("data-acting");
      hold(element, false);  // still on the page when the answer failed or kept it
      if (!acting() && (owed || asked < told)) {
        owed = false;
        ask();
      }
    } else if (element && element.hasAttribute && element.hasAttribute("data-push") &&
               (!event.detail.successful || event.type === "htmx:onLoadError")) {
      // The cards' fetch failed (a dropped connection, a server error, cut short, a swap
      // that threw): what it was to show is shown at the next 2-second refresh, not held
      // back until the slow one.
      lastFetch = 0;
    }
  }
  document.addEventListener("htmx:afterRequest", answered);
  document.addEventListener("htmx:onLoadError", answered);
  // Cards and refresher are swapped in (often out of band): follow what the page now shows,
  // and ask for the cards again if a change was told since they were last asked for (the
  // new element's refresh is set up by now; a request queued on the old one was dropped).
  function settled() {
    follow();
    if (asked < told) ask();
  }
  document.addEventListener("htmx:load", settled);
  document.addEventListener("htmx:afterSettle", settled);
  window.addEventListener("pagehide", close);
  window.addEventListener("pageshow", follow);
  follow();
})();
