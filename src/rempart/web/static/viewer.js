/* Rempart's picture viewer: greyscale toggle and zoom, by changing classes only (the CSP
   forbids inline styles). Without JavaScript the picture stays blurred or revealed as the
   server sent it, in greyscale, at its fitted size. Nothing here fetches anything. */
"use strict";

(function () {
  const viewer = document.getElementById("viewer");
  if (!viewer) {
    return;
  }
  const levels = ["z1", "z2", "z3", "z4"];
  let level = 0;

  function copy() {
    return document.getElementById("copy");
  }

  function zoom(to) {
    const element = copy();
    if (!element) {
      return;
    }
    level = Math.max(0, Math.min(levels.length - 1, to));
    levels.forEach(function (name) { element.classList.remove(name); });
    element.classList.add(levels[level]);
    viewer.dataset.zoom = String(level + 1);
  }

  viewer.querySelectorAll("button[data-action]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () {
      const action = button.dataset.action;
      if (action === "colour") {
        const grey = viewer.classList.toggle("grey");
        button.textContent = grey ? viewer.dataset.colour : viewer.dataset.grey;
      } else if (action === "zoom-in") {
        zoom(level + 1);
      } else if (action === "zoom-out") {
        zoom(level - 1);
      } else if (action === "fit") {
        zoom(0);
      }
    });
  });
}());
