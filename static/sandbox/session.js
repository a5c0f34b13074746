/* Sandbox chat: a websocket to ws/sandbox/sessions/<uid>/ that resumes from the last offset this page has,
   reconnects with backoff, streams reply chunks, and inserts each new event as the server-rendered fragment
   of /sandbox/sessions/<uid>/events/<offset>/. Untrusted text is only ever set with textContent. */
(function () {
  "use strict";

  var chat = document.getElementById("chat");
  if (!chat) return;

  var log = document.getElementById("chat-log");
  var stream = document.getElementById("chat-stream");
  var scroller = document.getElementById("chat-scroll");
  var statusBox = document.getElementById("chat-status");
  var statusText = statusBox.querySelector(".chat-status-text");
  var connection = document.getElementById("connection");
  var eventUrlTemplate = chat.dataset.eventUrl; // ends with /events/0/
  var controlsUrl = chat.dataset.controlsUrl;
  var lastOffset = parseInt(chat.dataset.lastOffset || "0", 10) || 0;
  var socket = null;
  var attempts = 0;
  var reconnectTimer = null;
  var finishedMessages = Object.create(null); // message ids whose final event arrived
  var pendingText = { customer: "", operator: "" };

  var STATUS_LABELS = {
    acknowledged: "Received…",
    processing: "Processing…",
    typing: "Typing…",
    ready: "Ready",
    error: "The agent hit an error",
    human_takeover: "Human mode: the agent stays silent",
    handoff_requested: "Waiting for a human: the agent stays silent",
    agent_resumed: "Ready"
  };
  var CHAT_NOTE_STATUSES = { error: true, handoff_requested: true, human_takeover: true, agent_resumed: true };
  var OWNER_STATUSES = { handoff_requested: true, human_takeover: true, agent_resumed: true }; // the owner changed
  var TYPING_EVERY_MS = 2000;
  var typingSentAt = 0;
  var typingTimer = null;

  // ---------------------------------------------------------------- websocket

  function socketUrl() {
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    return scheme + window.location.host + chat.dataset.wsPath;
  }

  function connect() {
    clearTimeout(reconnectTimer);
    setConnection("connecting", "connecting…");
    try {
      socket = new WebSocket(socketUrl());
    } catch (error) {
      scheduleReconnect();
      return;
    }
    socket.addEventListener("open", function () {
      attempts = 0;
      setConnection("live", "live");
      socket.send(JSON.stringify({ type: "resume", after: lastOffset }));
    });
    socket.addEventListener("message", function (message) {
      var frame;
      try {
        frame = JSON.parse(message.data);
      } catch (error) {
        return;
      }
      if (frame.type === "event" && frame.event) onEvent(frame.event);
      else if (frame.type === "chunk") onChunk(frame);
      else if (frame.type === "rewound") onRewound(parseInt(frame.from, 10));
      else if (frame.type === "typing") onTyping(frame);
      else if (frame.type === "error") onError(frame);
    });
    socket.addEventListener("close", function (closed) {
      socket = null;
      if (closed.code === 4401 || closed.code === 4403) {
        setConnection("offline", closed.code === 4401 ? "logged out: reload to log in" : "no access to this session");
        return;
      }
      scheduleReconnect();
    });
  }

  function scheduleReconnect() {
    attempts += 1;
    // 0.5 s, 1 s, 2 s ... up to 15 s, with jitter so many tabs do not reconnect in step.
    var delay = Math.min(15000, 500 * Math.pow(2, attempts - 1)) * (0.8 + Math.random() * 0.4);
    setConnection("reconnecting", "reconnecting in " + Math.ceil(delay / 1000) + " s");
    reconnectTimer = setTimeout(connect, delay);
  }

  function setConnection(state, label) {
    connection.dataset.state = state;
    connection.textContent = label;
    chat.dataset.connection = state;
  }

  function socketOpen() {
    return socket !== null && socket.readyState === WebSocket.OPEN;
  }

  // ---------------------------------------------------------------- events

  function onEvent(event) {
    var offset = parseInt(event.offset, 10);
    if (!(offset > lastOffset)) return; // already shown (a replay after a reconnect)
    lastOffset = offset;
    chat.dataset.lastOffset = String(offset);
    var data = event.data || {};
    if (event.kind === "status") {
      setStatus(data.status);
      // Turns of a session run one at a time: when one ends, any stream still shown is its own or one of a
      // turn superseded before it (which never sends "ready"), so all of them go.
      if (data.status === "ready" || data.status === "error") dropStreams(null);
      if (OWNER_STATUSES[data.status]) refreshControls();
      if (!CHAT_NOTE_STATUSES[data.status]) return;
    }
    if (event.kind === "message" && event.source === "agent") {
      if (data.message_id) finishedMessages[data.message_id] = true;
      dropStreams(event.turn, data.message_id);
    }
    insertEvent(event);
  }

  // Events from `first` on were deleted on the server (a rewind through the API): their offsets come back
  // with the events that follow.
  function onRewound(first) {
    if (!(first >= 1)) return;
    var children = Array.prototype.slice.call(log.children);
    children.forEach(function (child) {
      if (child.dataset.offset && parseInt(child.dataset.offset, 10) >= first) child.remove();
    });
    var bubbles = stream.querySelectorAll(".streaming");
    for (var i = 0; i < bubbles.length; i++) bubbles[i].remove();
    if (lastOffset >= first) {
      lastOffset = first - 1;
      chat.dataset.lastOffset = String(lastOffset);
    }
  }

  function insertEvent(event) {
    var offset = parseInt(event.offset, 10);
    var id = "event-" + offset;
    if (document.getElementById(id)) return;
    var empty = document.getElementById("chat-empty");
    if (empty) empty.remove();
    // A plain-text placeholder right away (textContent only), in offset order; the server fragment replaces it.
    var placeholder = document.createElement("div");
    placeholder.id = id;
    placeholder.className = "event event-" + event.kind + " from-" + event.source + " pending";
    placeholder.dataset.offset = String(offset);
    var text = (event.data && typeof event.data.text === "string") ? event.data.text : "";
    if (text) {
      var bubble = document.createElement("div");
      bubble.className = "bubble";
      var body = document.createElement("div");
      body.className = "bubble-text";
      body.textContent = text;
      bubble.appendChild(body);
      placeholder.appendChild(bubble);
    }
    var before = null;
    var children = log.children;
    for (var i = children.length - 1; i >= 0; i--) {
      var other = parseInt(children[i].dataset.offset || "0", 10);
      if (other > offset) before = children[i];
      else break;
    }
    var stick = nearBottom();
    log.insertBefore(placeholder, before);
    if (stick) scrollToBottom();
    loadFragment(offset, placeholder);
  }

  function loadFragment(offset, placeholder, retry) {
    var url = eventUrlTemplate.replace(/\/0\/$/, "/" + offset + "/");
    fetch(url, { credentials: "same-origin", headers: { "HX-Request": "true" } })
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.text();
      })
      .then(function (html) {
        if (!placeholder.isConnected) return;
        var stick = nearBottom();
        var template = document.createElement("template");
        template.innerHTML = html.trim(); // server-rendered fragment: every value in it is escaped by Django
        var node = template.content.firstElementChild;
        if (!node) {
          placeholder.remove();
          return;
        }
        placeholder.replaceWith(node);
        if (window.htmx) window.htmx.process(node);
        if (stick) scrollToBottom();
      })
      .catch(function () {
        if ((retry || 0) < 3) setTimeout(function () { loadFragment(offset, placeholder, (retry || 0) + 1); }, 1000);
      });
  }

  function onChunk(frame) {
    if (!frame.message_id || finishedMessages[frame.message_id]) return;
    var selector = '[data-stream-id="' + cssEscape(String(frame.message_id)) + '"]';
    var bubble = stream.querySelector(selector);
    if (!bubble) {
      bubble = document.createElement("div");
      bubble.className = "event event-message from-agent streaming";
      bubble.dataset.streamId = String(frame.message_id);
      bubble.dataset.turn = String(frame.turn);
      var inner = document.createElement("div");
      inner.className = "bubble";
      var meta = document.createElement("div");
      meta.className = "bubble-meta";
      meta.textContent = "Agent · streaming…";
      var body = document.createElement("div");
      body.className = "bubble-text";
      inner.appendChild(meta);
      inner.appendChild(body);
      bubble.appendChild(inner);
      stream.appendChild(bubble);
      var empty = document.getElementById("chat-empty");
      if (empty) empty.remove();
    }
    var stick = nearBottom();
    bubble.querySelector(".bubble-text").textContent += String(frame.text || "");
    if (stick) scrollToBottom();
  }

  function dropStreams(turn, messageId) {
    var bubbles = stream.querySelectorAll(".streaming");
    for (var i = 0; i < bubbles.length; i++) {
      var bubble = bubbles[i];
      var sameMessage = messageId && bubble.dataset.streamId === String(messageId);
      var sameTurn = !messageId && turn !== null && turn !== undefined && bubble.dataset.turn === String(turn);
      var every = !messageId && turn === null;
      if (sameMessage || sameTurn || every) bubble.remove();
    }
  }

  function onError(frame) {
    var text = String(frame.message || frame.code || "Something went wrong.");
    var form = document.querySelector(".composer");
    showComposerError(form, text);
    // Give the text back if the server refused it.
    ["customer", "operator"].forEach(function (role) {
      var field = document.querySelector('.composer[data-role="' + role + '"] textarea');
      if (field && !field.value && pendingText[role]) {
        field.value = pendingText[role];
        updateCounter(field);
      }
      pendingText[role] = "";
    });
  }

  // The customer sees "<operator> is typing…" while the operator writes (the server passes it on every 2 s).
  function sendTyping() {
    var now = Date.now();
    if (!socketOpen() || now - typingSentAt < TYPING_EVERY_MS) return;
    typingSentAt = now;
    socket.send(JSON.stringify({ type: "typing" }));
  }

  // Someone else typing: the customer (shown to operators), or an operator (shown on the customer's side).
  function onTyping(frame) {
    if (frame.who === "operator" && Date.now() - typingSentAt < TYPING_EVERY_MS + 500) return; // our own
    var who = frame.who === "customer" ? "The customer" : (String(frame.name || "") || "The operator");
    var previous = statusBox.dataset.state;
    statusBox.dataset.typing = frame.who === "customer" ? "customer" : "operator";
    statusText.textContent = who + " is typing…";
    clearTimeout(typingTimer);
    typingTimer = setTimeout(function () {
      delete statusBox.dataset.typing;
      setStatus(statusBox.dataset.state || previous);
    }, 4000);
  }

  function setStatus(status) {
    if (!status) return;
    statusBox.dataset.state = status;
    statusText.textContent = STATUS_LABELS[status] || status;
  }

  function refreshControls() {
    fetch(controlsUrl, {
      credentials: "same-origin",
      headers: { "HX-Request": "true", "HX-Target": "session-controls" }
    })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        if (!html) return;
        var current = document.getElementById("session-controls");
        var template = document.createElement("template");
        template.innerHTML = html.trim();
        var node = template.content.firstElementChild;
        if (current && node) {
          current.replaceWith(node);
          if (window.htmx) window.htmx.process(node);
        }
      });
  }

  // ---------------------------------------------------------------- composers

  document.addEventListener("submit", function (submitted) {
    var form = submitted.target;
    if (!form.classList || !form.classList.contains("composer")) return;
    var field = form.querySelector("textarea");
    var text = field.value.trim();
    showComposerError(form, "");
    if (!text) {
      submitted.preventDefault();
      showComposerError(form, BLANK_MESSAGE);
      field.focus();
      return;
    }
    var max = maxChars(field);
    var length = charCount(text);
    if (max && length > max) {
      // Never cut the text: it stays in the field, and the customer shortens it.
      submitted.preventDefault();
      updateCounter(field);
      showComposerError(form, tooLongMessage(length, max));
      field.focus();
      return;
    }
    if (!socketOpen()) return; // no websocket: the form posts normally and the page reloads
    submitted.preventDefault();
    var role = form.dataset.role === "operator" ? "operator" : "customer";
    pendingText[role] = text;
    socket.send(JSON.stringify({ type: role === "operator" ? "operator_message" : "message", text: text }));
    field.value = "";
    updateCounter(field);
    var controls = document.getElementById("session-controls");
    var agentReplies = !controls || (controls.dataset.mode !== "human" && controls.dataset.mode !== "waiting");
    if (role === "customer" && agentReplies) setStatus("acknowledged");
  });

  document.addEventListener("keydown", function (pressed) {
    var field = pressed.target;
    if (pressed.key !== "Enter" || pressed.shiftKey || pressed.isComposing) return;
    if (!field.closest || !field.closest(".composer") || field.tagName !== "TEXTAREA") return;
    pressed.preventDefault();
    var form = field.closest("form");
    if (form.requestSubmit) form.requestSubmit();
    else form.submit();
  });

  document.addEventListener("input", function (typed) {
    var field = typed.target;
    if (!field.closest || !field.closest(".composer") || field.tagName !== "TEXTAREA") return;
    updateCounter(field);
    var form = field.closest("form");
    if (form.dataset.role === "operator") sendTyping();
    // A message being fixed loses its refusal once it would be sent.
    var length = charCount(field.value.trim());
    if (length > 0 && !(maxChars(field) && length > maxChars(field))) showComposerError(form, "");
  });

  var BLANK_MESSAGE = "Nothing was sent: the message is empty or only spaces and line breaks. Type a message first.";
  var COUNTER_FROM = 0.8; // the counter appears at 80 % of the limit

  function tooLongMessage(length, max) {
    return "Nothing was sent: the message has " + length + " characters; a message has at most " + max +
      " characters. Shorten it by " + (length - max) + " to send it.";
  }

  function maxChars(field) {
    return parseInt(field.getAttribute("data-max-chars") || "0", 10) || 0;
  }

  // Characters as the server counts them (code points: an emoji is one), of the text it would store (trimmed).
  function charCount(text) {
    return Array.from ? Array.from(text).length : text.length;
  }

  function updateCounter(field) {
    var form = field.closest("form");
    var counter = form && form.querySelector(".counter");
    var max = maxChars(field);
    if (!counter || !max) return;
    var length = charCount(field.value.trim());
    counter.textContent = length + " / " + max;
    counter.hidden = length < max * COUNTER_FROM;
    counter.classList.toggle("near", length <= max);
    counter.classList.toggle("over", length > max);
    if (length > max) counter.setAttribute("data-over", "true");
    else counter.removeAttribute("data-over");
  }

  function showComposerError(form, text) {
    var box = form && form.querySelector(".composer-error");
    if (box) box.textContent = text;
  }

  // ---------------------------------------------------------------- panel and scrolling

  document.addEventListener("click", function (clicked) {
    var why = clicked.target.closest && clicked.target.closest("a.why");
    if (!why) return;
    var selected = log.querySelectorAll(".event.selected");
    for (var i = 0; i < selected.length; i++) selected[i].classList.remove("selected");
    var owner = why.closest(".event");
    if (owner) owner.classList.add("selected");
  });

  function nearBottom() {
    return scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 80;
  }

  function scrollToBottom() {
    scroller.scrollTop = scroller.scrollHeight;
  }

  function cssEscape(value) {
    return window.CSS && CSS.escape ? CSS.escape(value) : value.replace(/["\\]/g, "\\$&");
  }

  scrollToBottom();
  setStatus(statusBox.dataset.state);
  var composerFields = document.querySelectorAll(".composer textarea");
  for (var c = 0; c < composerFields.length; c++) updateCounter(composerFields[c]); // text given back by the server
  connect();
})();
