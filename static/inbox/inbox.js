/* Inbox: a websocket to ws/inbox/ says when a conversation's place changed; the page then re-fetches its
   lists region (#inbox-lists, the htmx partial of the same page), keeps the waiting count in the title
   ("(2) Inbox"), and on a new waiting conversation plays a short tone and shows a desktop notification when
   the operator switched those on. Without JavaScript the page is a plain list that a reload refreshes. */
(function () {
  "use strict";

  var root = document.getElementById("inbox");
  if (!root) return;

  var tools = document.getElementById("inbox-tools");
  var connection = document.getElementById("inbox-connection");
  var soundButton = document.getElementById("inbox-sound");
  var notifyButton = document.getElementById("inbox-notify");
  var SOUND_KEY = "decorum:inbox:sound";
  var REFRESH_EVERY_MS = 60000; // waiting times move on even when nothing else happens
  var socket = null;
  var attempts = 0;
  var reconnectTimer = null;
  var refreshTimer = null;
  var refreshing = false;
  var refreshAgain = false;
  var audio = null;
  var waitingCount = currentCount();

  tools.hidden = false;

  // ---------------------------------------------------------------- websocket

  function socketUrl() {
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    return scheme + window.location.host + root.dataset.wsPath;
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
      var reconnected = attempts > 0;
      attempts = 0;
      setConnection("live", "live");
      if (reconnected) refreshSoon(false); // changes made while the socket was down
    });
    socket.addEventListener("message", function (message) {
      var frame;
      try {
        frame = JSON.parse(message.data);
      } catch (error) {
        return;
      }
      if (frame.type === "inbox") refreshSoon(frame.change === "waiting");
    });
    socket.addEventListener("close", function (closed) {
      socket = null;
      if (closed.code === 4401 || closed.code === 4403) {
        setConnection("offline", closed.code === 4401 ? "logged out: reload to log in" : "no access to the inbox");
        return;
      }
      scheduleReconnect();
    });
  }

  function scheduleReconnect() {
    attempts += 1;
    var delay = Math.min(15000, 500 * Math.pow(2, attempts - 1)) * (0.8 + Math.random() * 0.4);
    setConnection("reconnecting", "reconnecting in " + Math.ceil(delay / 1000) + " s");
    reconnectTimer = setTimeout(connect, delay);
  }

  function setConnection(state, label) {
    connection.dataset.state = state;
    connection.textContent = label;
    root.dataset.connection = state;
  }

  // ---------------------------------------------------------------- the lists region

  var pendingAlert = false;

  function refreshSoon(alertOnNew) {
    pendingAlert = pendingAlert || alertOnNew;
    clearTimeout(refreshTimer);
    refreshTimer = setTimeout(refresh, 150); // one fetch for a burst of changes
  }

  function refresh() {
    if (refreshing) {
      refreshAgain = true;
      return;
    }
    refreshing = true;
    var alertOnNew = pendingAlert;
    pendingAlert = false;
    fetch(root.dataset.listUrl + window.location.search, {
      credentials: "same-origin",
      headers: { "HX-Request": "true", "HX-Target": "inbox-lists" }
    })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        if (html) swapLists(html, alertOnNew);
      })
      .catch(function () { /* the next change or the periodic refresh tries again */ })
      .then(function () {
        refreshing = false;
        if (refreshAgain) {
          refreshAgain = false;
          refresh();
        }
      });
  }

  function swapLists(html, alertOnNew) {
    var current = document.getElementById("inbox-lists");
    var template = document.createElement("template");
    template.innerHTML = html.trim(); // server-rendered: every value in it is escaped by Django
    var node = template.content.firstElementChild;
    if (!current || !node || node.id !== "inbox-lists") return;
    var focusedId = document.activeElement && document.activeElement.closest && document.activeElement.closest(".inbox-row");
    focusedId = focusedId ? focusedId.id : null;
    current.replaceWith(node);
    if (window.htmx) window.htmx.process(node);
    if (focusedId) {
      var again = document.getElementById(focusedId);
      var link = again && again.querySelector("a");
      if (link) link.focus();
    }
    var count = currentCount();
    if (alertOnNew && count > waitingCount) announce(count);
    waitingCount = count;
    setTitle(count);
  }

  function currentCount() {
    var lists = document.getElementById("inbox-lists");
    return lists ? parseInt(lists.dataset.waitingCount || "0", 10) || 0 : 0;
  }

  function setTitle(count) {
    var base = document.title.replace(/^\(\d+\)\s*/, "");
    document.title = (count > 0 ? "(" + count + ") " : "") + base;
  }

  // ---------------------------------------------------------------- sound and desktop notifications

  function soundOn() {
    try {
      return window.localStorage.getItem(SOUND_KEY) === "on";
    } catch (error) {
      return false;
    }
  }

  function showSound() {
    var on = soundOn();
    soundButton.setAttribute("aria-pressed", on ? "true" : "false");
    soundButton.textContent = on ? "Sound: on" : "Sound: off";
  }

  soundButton.addEventListener("click", function () {
    var on = !soundOn();
    try {
      window.localStorage.setItem(SOUND_KEY, on ? "on" : "off");
    } catch (error) { /* private mode: the choice lasts for this page only */ }
    showSound();
    if (on) beep(); // also unlocks audio, which browsers allow only after a click
  });

  function beep() {
    var Context = window.AudioContext || window.webkitAudioContext;
    if (!Context) return;
    try {
      audio = audio || new Context();
      if (audio.state === "suspended") audio.resume();
      var tone = audio.createOscillator();
      var gain = audio.createGain();
      tone.type = "sine";
      tone.frequency.value = 880;
      gain.gain.setValueAtTime(0.0001, audio.currentTime);
      gain.gain.exponentialRampToValueAtTime(0.2, audio.currentTime + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, audio.currentTime + 0.35);
      tone.connect(gain);
      gain.connect(audio.destination);
      tone.start();
      tone.stop(audio.currentTime + 0.4);
    } catch (error) { /* no audio device */ }
  }

  function showNotify() {
    if (!("Notification" in window)) {
      notifyButton.hidden = true;
      return;
    }
    var permission = window.Notification.permission;
    notifyButton.disabled = permission !== "default";
    notifyButton.textContent =
      permission === "granted" ? "Desktop notifications: on" :
      permission === "denied" ? "Desktop notifications: blocked" : "Desktop notifications";
  }

  notifyButton.addEventListener("click", function () {
    if (!("Notification" in window)) return;
    var asked = window.Notification.requestPermission(showNotify);
    if (asked && asked.then) asked.then(showNotify);
  });

  function announce(count) {
    root.dataset.alerted = String((parseInt(root.dataset.alerted || "0", 10) || 0) + 1);
    if (soundOn()) beep();
    if ("Notification" in window && window.Notification.permission === "granted" && (document.hidden || !document.hasFocus())) {
      try {
        var shown = new window.Notification("A customer is waiting for a human", {
          body: count === 1 ? "1 conversation is waiting." : count + " conversations are waiting.",
          tag: "decorum-inbox"
        });
        shown.onclick = function () {
          window.focus();
          shown.close();
        };
      } catch (error) { /* some browsers only notify from a service worker */ }
    }
  }

  showSound();
  showNotify();
  setTitle(waitingCount);
  setInterval(function () { refreshSoon(false); }, REFRESH_EVERY_MS);
  connect();
})();
