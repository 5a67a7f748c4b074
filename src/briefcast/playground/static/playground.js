// The playground page: post what the local user types, poll the feed of what the platforms received.
// Message HTML comes from the server, built from escaped text and a fixed set of tags only.
(function () {
  "use strict";
  var last = 0;
  var statusEl = document.getElementById("status");
  var POLL_MS = 700;

  function say(text, bad) {
    statusEl.textContent = text || "";
    statusEl.className = "status" + (bad ? " bad" : "");
  }

  function post(path, body) {
    return fetch(path, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    }).then(function (r) {
      return r.json().then(function (data) {
        if (!r.ok || !data.ok) throw new Error(data.error || ("HTTP " + r.status));
        return data;
      });
    });
  }

  function buttonRow(item, row) {
    var div = document.createElement("div");
    div.className = "buttons";
    row.forEach(function (b) {
      var el;
      if (b.url) {
        el = document.createElement("a");
        el.href = b.url;
        el.target = "_blank";
        el.rel = "noopener noreferrer";
        el.className = "button link";
      } else {
        el = document.createElement("button");
        el.type = "button";
        el.className = "button" + (b.style ? " " + b.style : "");
        el.addEventListener("click", function () {
          var body = { room: item.room, id: item.id };
          if (b.data !== undefined) { body.data = b.data; } else { body.action_id = b.action_id; body.value = b.value || ""; }
          post("/playground/api/press", body).catch(function (e) { say(e.message, true); });
        });
      }
      el.textContent = b.text;
      div.appendChild(el);
    });
    return div;
  }

  function render(item) {
    var box = document.getElementById("messages-" + item.room);
    if (!box) return;
    var el = document.createElement("div");
    el.className = "message " + item.sender;
    el.dataset.id = item.id;
    var body = document.createElement("div");
    body.className = "body";
    body.innerHTML = item.html; // server-built, escaped (see briefcast.render.preview)
    el.appendChild(body);
    (item.buttons || []).forEach(function (row) { el.appendChild(buttonRow(item, row)); });
    if (item.note) {
      var note = document.createElement("div");
      note.className = "note";
      note.textContent = item.note;
      el.appendChild(note);
    }
    var old = box.querySelector('[data-id="' + CSS.escape(item.id) + '"]');
    if (old) old.remove();
    var atBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 40;
    box.appendChild(el);
    if (atBottom || item.sender === "user") box.scrollTop = box.scrollHeight;
  }

  // The forum room's topic picker: General plus the topics the bot created (/topics).
  function updateTopics(topics) {
    document.querySelectorAll("select[name=topic]").forEach(function (select) {
      var wanted = JSON.stringify(topics.map(function (t) { return [t.id, t.name]; }));
      if (select.dataset.topics === wanted) return;
      select.dataset.topics = wanted;
      var chosen = select.value;
      while (select.options.length > 1) select.remove(1);
      topics.forEach(function (t) {
        var option = document.createElement("option");
        option.value = String(t.id);
        option.textContent = t.name;
        select.appendChild(option);
      });
      select.value = topics.some(function (t) { return String(t.id) === chosen; }) ? chosen : "";
    });
  }

  function poll() {
    fetch("/playground/api/messages?after=" + last)
      .then(function (r) { return r.json(); })
      .then(function (data) {
        (data.messages || []).forEach(render);
        last = Math.max(last, data.last || 0);
        updateTopics(data.topics || []);
      })
      .catch(function () { say("The briefcast server is not answering.", true); })
      .then(function () { setTimeout(poll, POLL_MS); });
  }

  document.querySelectorAll("form.composer").forEach(function (form) {
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var input = form.querySelector("input[name=text]");
      var lang = form.querySelector("select[name=lang]");
      var text = input.value.trim();
      if (!text) return;
      var body = { room: form.dataset.room, text: text };
      if (lang) body.lang = lang.value;
      var topic = form.querySelector("select[name=topic]");
      if (topic && topic.value) body.topic = Number(topic.value);
      input.value = "";
      say("");
      post("/playground/api/send", body).catch(function (e) { say(e.message, true); input.value = text; });
    });
  });

  document.getElementById("advance").addEventListener("click", function () {
    say("Advancing the schedule…");
    post("/playground/api/advance", {})
      .then(function (data) { say(data.message); })
      .catch(function (e) { say(e.message, true); });
  });

  poll();
})();
