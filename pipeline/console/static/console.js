// The live log tail: new lines arrive by server-sent events and are appended to the list
// the page already shows. Without JavaScript the page still lists the lines (reload).
"use strict";
(function () {
  const note = document.getElementById("tail-state");
  const list = document.getElementById("log-lines");
  if (!note || !list || !window.EventSource) {
    return;
  }
  const source = new EventSource(note.dataset.stream);
  source.addEventListener("open", function () {
    note.textContent = "Live: new lines appear here as they are written.";
    note.classList.add("live");
  });
  source.addEventListener("message", function (event) {
    const line = JSON.parse(event.data);
    const item = document.createElement("li");
    item.className = "lv-" + line.level + " fresh";
    item.textContent = line.text;
    const empty = list.querySelector(".empty-log");
    if (empty) {
      empty.remove();
    }
    list.appendChild(item);
    item.scrollIntoView({ block: "nearest" });
  });
  source.addEventListener("error", function () {
    note.textContent = "Live tail paused; reconnecting…";
    note.classList.remove("live");
  });
})();
