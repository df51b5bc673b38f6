// A collection's page: drag tiles into a new order (the ↑ ↓ buttons do the same without
// JavaScript). The whole order is sent once per drop; the server keeps it as "my order".
(function () {
  "use strict";
  var dragged = null;

  function grid() { return document.querySelector(".jgrid[data-reorder]"); }

  function csrf() {
    var input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function save(list) {
    var body = new URLSearchParams();
    list.querySelectorAll(".jitem").forEach(function (item) { body.append("image", item.dataset.imageId); });
    fetch(list.dataset.reorder, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrf(), "X-Requested-With": "fetch" },
    }).then(function (response) {
      // The ↑ ↓ buttons and the "first"/"last" ends change with the order: fetch them again.
      if (response.ok && window.htmx) {
        htmx.ajax("GET", window.location.pathname, { target: "#collection-grid", swap: "outerHTML" });
      }
    });
  }

  document.addEventListener("dragstart", function (e) {
    var item = e.target.closest && e.target.closest(".jgrid[data-reorder] .jitem");
    if (!item) return;
    dragged = item;
    item.classList.add("dragging");
    e.dataTransfer.effectAllowed = "move";
    e.dataTransfer.setData("text/plain", item.dataset.imageId);
  });
  document.addEventListener("dragover", function (e) {
    var over = dragged && e.target.closest && e.target.closest(".jgrid[data-reorder] .jitem");
    if (!over || over === dragged) return;
    e.preventDefault();
    document.querySelectorAll(".jitem.drop-target").forEach(function (el) { el.classList.remove("drop-target"); });
    over.classList.add("drop-target");
  });
  document.addEventListener("drop", function (e) {
    var over = dragged && e.target.closest && e.target.closest(".jgrid[data-reorder] .jitem");
    if (!over || over === dragged) return;
    e.preventDefault();
    var items = Array.prototype.slice.call(over.parentNode.children);
    var before = items.indexOf(dragged) > items.indexOf(over) ? over : over.nextSibling;
    over.parentNode.insertBefore(dragged, before);
    save(grid());
  });
  document.addEventListener("dragend", function () {
    if (dragged) dragged.classList.remove("dragging");
    document.querySelectorAll(".jitem.drop-target").forEach(function (el) { el.classList.remove("drop-target"); });
    dragged = null;
  });
})();
