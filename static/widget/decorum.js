/* Decorum website widget: one framework-free file a site embeds with
     <script src="{your Decorum origin}/static/widget/decorum.js" data-agent-key="pk_…" async></script>
   It speaks the protocol of docs/widget.md: HTTP under /widget/v1/ and a websocket under /ws/widget/ on the
   script's own origin, falling back to long-polling when no websocket opens.

   Why a shadow root, not an iframe: the widget lives in the host document, so the host page's localStorage
   keeps the customer's token and last offset, focus moves between the page and the panel without crossing a
   frame, and there is no second page load; the shadow root still keeps the page's CSS out of the widget and
   the widget's out of the page. Its stylesheet is a <link> to decorum.css next to this file, and every text is
   set with textContent, so a host page with a strict CSP (script-src and style-src naming our host, no
   'unsafe-inline', no 'unsafe-eval') works: no inline style, no eval, no innerHTML. The theme colour is a CSS
   custom property set through the CSSOM (element.style.setProperty), which CSP allows.

   Runtime API (paste the stub before the script to call it early):
     window.Decorum=window.Decorum||function(){(Decorum.q=Decorum.q||[]).push(arguments)};
     Decorum('open' | 'close' | 'toggle'); Decorum('identify', {externalId, name, email, token});
     Decorum('shutdown'); Decorum('on', 'message' | 'open' | 'close' | 'handoff', fn). */
(function () {
  "use strict";

  if (window.__decorumWidget) return; // loaded twice: the first copy stays
  var script = document.currentScript || document.querySelector("script[data-agent-key][src*='decorum']");
  if (!script || !script.getAttribute("data-agent-key")) return;

  var config = readConfig(script);
  if (!config) return;
  window.__decorumWidget = true;

  var STRINGS = {
    en: {
      title: "Chat with us", greeting: "Hi! How can we help you today?", open: "Open chat", close: "Close chat",
      placeholder: "Type your message…", send: "Send", handoff: "Talk to a person", end: "End chat",
      typing: "{name} is typing…", assistant: "The assistant", support: "Support", you: "You",
      joined: "{name} joined the conversation.", waiting: "Waiting for a person to join. Someone will be with you shortly.",
      resumed: "You are chatting with the assistant again.", closed: "This conversation has ended.",
      unavailable: "This assistant is not available right now. Please come back later.",
      identity: "We could not confirm who you are, so the chat is not available. Please sign in again.",
      blank: "Type a message first: an empty message is not sent.",
      tooLong: "Your message has {count} characters; the limit is {max}. Please shorten it.",
      counter: "{count} / {max}", rateLimited: "You are sending messages too fast. Please wait a moment.",
      sendFailed: "Your message could not be sent. Please try again.", reconnecting: "Reconnecting…",
      agentError: "Sorry, something went wrong. Please try again.", endedError: "This conversation has ended.",
      ratePrompt: "How was this conversation?", good: "Good", bad: "Bad",
      comment: "Anything to add? (optional)", rateSend: "Send feedback", skip: "Skip",
      thanks: "Thank you for your feedback!", newChat: "Start a new conversation", messages: "Messages"
    },
    fr: {
      title: "Discutez avec nous", greeting: "Bonjour ! Comment pouvons-nous vous aider ?", open: "Ouvrir le chat",
      close: "Fermer le chat", placeholder: "Écrivez votre message…", send: "Envoyer",
      handoff: "Parler à une personne", end: "Terminer", typing: "{name} écrit…", assistant: "L’assistant",
      support: "Support", you: "Vous", joined: "{name} a rejoint la conversation.",
      waiting: "En attente d’une personne. Quelqu’un va vous répondre sous peu.",
      resumed: "Vous discutez de nouveau avec l’assistant.", closed: "Cette conversation est terminée.",
      unavailable: "Cet assistant n’est pas disponible pour le moment. Revenez plus tard.",
      identity: "Nous n’avons pas pu confirmer votre identité ; le chat n’est pas disponible. Reconnectez-vous.",
      blank: "Écrivez d’abord un message : un message vide n’est pas envoyé.",
      tooLong: "Votre message compte {count} caractères ; la limite est de {max}. Raccourcissez-le.",
      counter: "{count} / {max}", rateLimited: "Vous envoyez des messages trop vite. Patientez un instant.",
      sendFailed: "Votre message n’a pas pu être envoyé. Réessayez.", reconnecting: "Reconnexion…",
      agentError: "Désolé, une erreur s’est produite. Réessayez.", endedError: "Cette conversation est terminée.",
      ratePrompt: "Comment s’est passée cette conversation ?", good: "Bien", bad: "Pas bien",
      comment: "Un commentaire ? (facultatif)", rateSend: "Envoyer l’avis", skip: "Passer",
      thanks: "Merci pour votre avis !", newChat: "Nouvelle conversation", messages: "Messages"
    },
    de: {
      title: "Chatten Sie mit uns", greeting: "Hallo! Wie können wir Ihnen helfen?", open: "Chat öffnen",
      close: "Chat schließen", placeholder: "Ihre Nachricht…", send: "Senden", handoff: "Mit einem Menschen sprechen",
      end: "Chat beenden", typing: "{name} schreibt…", assistant: "Der Assistent", support: "Support", you: "Sie",
      joined: "{name} ist dem Gespräch beigetreten.",
      waiting: "Warten auf eine Person. Gleich ist jemand für Sie da.",
      resumed: "Sie chatten wieder mit dem Assistenten.", closed: "Dieses Gespräch ist beendet.",
      unavailable: "Dieser Assistent ist gerade nicht verfügbar. Bitte versuchen Sie es später.",
      identity: "Wir konnten Ihre Identität nicht bestätigen; der Chat ist nicht verfügbar. Bitte melden Sie sich neu an.",
      blank: "Schreiben Sie zuerst etwas: Eine leere Nachricht wird nicht gesendet.",
      tooLong: "Ihre Nachricht hat {count} Zeichen; erlaubt sind {max}. Bitte kürzen Sie sie.",
      counter: "{count} / {max}", rateLimited: "Sie senden zu schnell. Bitte warten Sie einen Moment.",
      sendFailed: "Ihre Nachricht konnte nicht gesendet werden. Bitte erneut versuchen.",
      reconnecting: "Verbindung wird wiederhergestellt…",
      agentError: "Entschuldigung, etwas ist schiefgegangen. Bitte erneut versuchen.",
      endedError: "Dieses Gespräch ist beendet.", ratePrompt: "Wie war dieses Gespräch?", good: "Gut",
      bad: "Schlecht", comment: "Möchten Sie etwas ergänzen? (optional)", rateSend: "Bewertung senden",
      skip: "Überspringen", thanks: "Danke für Ihre Bewertung!", newChat: "Neues Gespräch beginnen",
      messages: "Nachrichten"
    },
    es: {
      title: "Chatea con nosotros", greeting: "¡Hola! ¿Cómo podemos ayudarte?", open: "Abrir el chat",
      close: "Cerrar el chat", placeholder: "Escribe tu mensaje…", send: "Enviar", handoff: "Hablar con una persona",
      end: "Terminar", typing: "{name} está escribiendo…", assistant: "El asistente", support: "Soporte", you: "Tú",
      joined: "{name} se unió a la conversación.",
      waiting: "Esperando a una persona. Alguien te atenderá en breve.",
      resumed: "Vuelves a chatear con el asistente.", closed: "Esta conversación ha terminado.",
      unavailable: "Este asistente no está disponible ahora. Vuelve más tarde.",
      identity: "No pudimos confirmar tu identidad; el chat no está disponible. Vuelve a iniciar sesión.",
      blank: "Escribe un mensaje primero: un mensaje vacío no se envía.",
      tooLong: "Tu mensaje tiene {count} caracteres; el límite es {max}. Acórtalo, por favor.",
      counter: "{count} / {max}", rateLimited: "Estás enviando mensajes demasiado rápido. Espera un momento.",
      sendFailed: "No se pudo enviar tu mensaje. Inténtalo de nuevo.", reconnecting: "Reconectando…",
      agentError: "Lo sentimos, algo salió mal. Inténtalo de nuevo.", endedError: "Esta conversación ha terminado.",
      ratePrompt: "¿Qué tal fue esta conversación?", good: "Bien", bad: "Mal",
      comment: "¿Algo más? (opcional)", rateSend: "Enviar opinión", skip: "Omitir",
      thanks: "¡Gracias por tu opinión!", newChat: "Empezar una nueva conversación", messages: "Mensajes"
    }
  };
  var text = STRINGS[config.locale] || STRINGS.en;

  var RECONNECT_BASE_MS = 500;
  var RECONNECT_MAX_MS = 30000;
  var FAILURES_BEFORE_POLLING = 2;
  var POLL_WAIT_SECONDS = 25;
  var PING_EVERY_MS = 25000;
  var TYPING_SEND_EVERY_MS = 3000;
  var TYPING_SHOWN_MS = 5000;
  var COUNTER_FROM = 0.8; // the counter shows from this share of the limit
  var VISITOR_RETRIES_MS = [2000, 8000, 30000];

  // ------------------------------------------------------------------ state

  var storageKey = "decorum:" + config.key;
  var memoryStore = null; // when the page forbids localStorage
  var saved = load();
  var state = {
    epoch: 0, // bumped on shutdown / identity change: answers of an older epoch are ignored
    token: saved.token || null,
    expires: saved.expires || null,
    identity: saved.identity || null, // the externalId the token was issued for, null when anonymous
    identityData: null,
    session: null, // {uid, mode, closed, websocket}
    cursor: 0, // last offset read in this page
    seenBefore: saved.session ? saved.offset || 0 : 0, // events up to here were seen on an earlier page
    seen: Object.create(null), // offsets already shown out of order (a POST's own answer)
    finished: Object.create(null), // message ids whose final message arrived
    limit: 4000,
    available: true,
    agentName: "",
    open: false,
    unread: 0,
    rating: null
  };
  var handlers = { message: [], open: [], close: [], handoff: [] };
  var chain = Promise.resolve(); // server work runs one piece at a time, in call order
  var transport = null;
  var typingTimer = null;
  var lastTypingSent = 0;

  // ------------------------------------------------------------------ DOM

  var host = document.createElement("div");
  host.id = "decorum-widget";
  setHost("state", "loading");
  setHost("connection", "idle");
  setHost("open", "false");
  setHost("mode", "none");
  setHost("session", "");
  if (config.color) {
    host.style.setProperty("--dw-accent", config.color);
    host.style.setProperty("--dw-on-accent", readableOn(config.color));
  }
  var root = host.attachShadow({ mode: "open" });
  var stylesheet = el("link", { rel: "stylesheet", href: config.stylesheet });
  root.appendChild(stylesheet);

  var frame = el("div", { className: "dw-root", hidden: true });
  frame.setAttribute("data-position", config.position);

  var launcher = el("button", { id: "dw-launcher", type: "button", className: "dw-launcher" });
  launcher.setAttribute("aria-expanded", "false");
  launcher.setAttribute("aria-controls", "dw-panel");
  launcher.setAttribute("aria-label", text.open);
  launcher.appendChild(icon("chat"));
  launcher.appendChild(icon("close"));
  var unreadBadge = el("span", { id: "dw-unread", className: "dw-unread", hidden: true });
  launcher.appendChild(unreadBadge);

  var panel = el("div", { id: "dw-panel", className: "dw-panel", hidden: true });
  panel.setAttribute("role", "dialog");
  panel.setAttribute("aria-modal", "true");
  panel.setAttribute("aria-labelledby", "dw-title");

  var header = el("div", { className: "dw-header" });
  var titleNode = el("h2", { id: "dw-title", className: "dw-title", textContent: config.title || text.title });
  var closeButton = el("button", { id: "dw-close", type: "button", className: "dw-icon-button" });
  closeButton.setAttribute("aria-label", text.close);
  closeButton.appendChild(icon("close"));
  var actions = el("div", { className: "dw-actions" });
  var handoffButton = el("button", { id: "dw-handoff", type: "button", className: "dw-action", textContent: text.handoff });
  var endButton = el("button", { id: "dw-end", type: "button", className: "dw-action", textContent: text.end });
  actions.appendChild(handoffButton);
  actions.appendChild(endButton);
  var headerTop = el("div", { className: "dw-header-top" });
  headerTop.appendChild(titleNode);
  headerTop.appendChild(closeButton);
  header.appendChild(headerTop);
  header.appendChild(actions);

  var notice = el("p", { id: "dw-notice", className: "dw-notice", hidden: true });
  notice.setAttribute("role", "status");

  var scroller = el("div", { className: "dw-scroll" });
  var log = el("ol", { id: "dw-log", className: "dw-log" });
  log.setAttribute("role", "log");
  log.setAttribute("aria-live", "polite");
  log.setAttribute("aria-label", text.messages);
  var typing = el("p", { id: "dw-typing", className: "dw-typing", hidden: true });
  typing.setAttribute("aria-live", "polite");
  scroller.appendChild(log);
  scroller.appendChild(typing);

  var composer = el("form", { id: "dw-composer", className: "dw-composer", noValidate: true });
  var input = el("textarea", { id: "dw-input", className: "dw-input", rows: 1, placeholder: text.placeholder });
  input.setAttribute("aria-label", text.placeholder);
  input.setAttribute("aria-describedby", "dw-counter dw-composer-error");
  var sendButton = el("button", { id: "dw-send", type: "submit", className: "dw-send" });
  sendButton.setAttribute("aria-label", text.send);
  sendButton.appendChild(icon("send"));
  var composerRow = el("div", { className: "dw-composer-row" });
  composerRow.appendChild(input);
  composerRow.appendChild(sendButton);
  var counter = el("span", { id: "dw-counter", className: "dw-counter", hidden: true });
  var composerError = el("p", { id: "dw-composer-error", className: "dw-composer-error", hidden: true });
  composerError.setAttribute("role", "alert");
  composer.appendChild(composerError);
  composer.appendChild(composerRow);
  composer.appendChild(counter);

  var rating = buildRating();

  panel.appendChild(header);
  panel.appendChild(notice);
  panel.appendChild(scroller);
  panel.appendChild(composer);
  panel.appendChild(rating.form);
  panel.appendChild(rating.done);
  frame.appendChild(panel);
  frame.appendChild(launcher);
  root.appendChild(frame);

  stylesheet.addEventListener("load", function () {
    frame.setAttribute("data-styled", "true");
    updateVisibility();
  });

  // ------------------------------------------------------------------ the runtime API

  var queued = (window.Decorum && window.Decorum.q) || [];
  var api = function () {
    command(Array.prototype.slice.call(arguments));
  };
  api.q = [];
  window.Decorum = api;

  function command(args) {
    var name = args[0];
    if (name === "open") setOpen(true);
    else if (name === "close") setOpen(false);
    else if (name === "toggle") setOpen(!state.open);
    else if (name === "on") {
      if (handlers[args[1]] && typeof args[2] === "function") handlers[args[1]].push(args[2]);
    } else if (name === "identify") identify(args[1]);
    else if (name === "shutdown") serial(shutdown);
    else warn("unknown command " + String(name));
  }

  function emit(name, detail) {
    var list = handlers[name] || [];
    for (var i = 0; i < list.length; i++) {
      try {
        list[i](detail);
      } catch (error) {
        setTimeout(function () {
          throw error;
        });
      }
    }
  }

  // ------------------------------------------------------------------ start

  var startIdentity = null;
  for (var i = 0; i < queued.length; i++) {
    var args = Array.prototype.slice.call(queued[i]);
    if (args[0] === "identify") startIdentity = identityFrom(args[1]);
    else if (args[0] === "shutdown") {
      startIdentity = null; // a logout queued before the script loaded: start as nobody
      forget();
      dropToken();
      state.identity = null;
    } else command(args);
  }
  if (config.openAtLoad || saved.open) setOpen(true, { keepFocus: true }); // never steal the page's focus at load

  function mount() {
    if (!document.body) return void document.addEventListener("DOMContentLoaded", mount);
    document.body.appendChild(host);
  }
  mount();
  showGreeting();
  wireEvents();
  serial(function () {
    if (startIdentity) return identifyNow(startIdentity);
    return visitorStart(null);
  });

  // ------------------------------------------------------------------ visitor and identity

  function identify(data) {
    var identity = identityFrom(data);
    if (identity) serial(function () {
      return identifyNow(identity);
    });
  }

  function identityFrom(data) {
    if (!data || typeof data.externalId !== "string" || !data.externalId.trim()) {
      warn("identify needs an object with an externalId");
      return null;
    }
    return {
      externalId: data.externalId.trim(),
      name: typeof data.name === "string" ? data.name : "",
      email: typeof data.email === "string" ? data.email : "",
      token: typeof data.token === "string" ? data.token : ""
    };
  }

  function identifyNow(identity) {
    if (state.identity !== identity.externalId) {
      // Someone else (or a first identity): nothing of the previous customer stays in this browser.
      resetAll();
    }
    state.identityData = identity;
    return visitorStart(identity);
  }

  function visitorStart(identity, attempt) {
    var epoch = state.epoch;
    attempt = attempt || 0;
    if (state.expires && Date.parse(state.expires) < Date.now()) dropToken();
    return request("POST", "visitor", { identity: identity || null }).then(function (answer) {
      if (epoch !== state.epoch) return;
      if (answer.status === 200) return visitorStarted(answer.data, identity);
      if (answer.status === 401 && answer.code === "identity_invalid") {
        resetAll();
        setHost("state", "identity-refused");
        updateVisibility();
        setNotice("identity", text.identity);
        setComposerEnabled(false);
        return;
      }
      if (answer.status === 401 || answer.status === 403) {
        // An unknown or rotated key, or a website not on the key's list: show nothing.
        unreachable("the server refused this page (" + (answer.code || answer.status) + ")");
        return;
      }
      if (attempt < VISITOR_RETRIES_MS.length && host.getAttribute("data-state") !== "ready") {
        if (answer.status === 0) setHost("state", "unreachable");
        return wait(VISITOR_RETRIES_MS[attempt]).then(function () {
          if (epoch === state.epoch) return visitorStart(identity, attempt + 1);
        });
      }
      if (host.getAttribute("data-state") !== "ready") unreachable("the server could not be reached");
    });
  }

  function visitorStarted(data, identity) {
    state.token = data.token;
    state.expires = data.token_expires_at || null;
    state.identity = identity ? identity.externalId : null;
    state.limit = (data.limits && data.limits.max_message_chars) || state.limit;
    state.agentName = (data.agent && data.agent.name) || "";
    state.available = !data.agent || data.agent.available !== false;
    if (!config.title && state.agentName) titleNode.textContent = state.agentName;
    setHost("state", state.available ? "ready" : "unavailable");
    updateVisibility();
    if (state.available) {
      clearNotice("unavailable");
      clearNotice("identity");
    } else setNotice("unavailable", localMessage(data.agent && data.agent.message, text.unavailable));
    setComposerEnabled(state.available);
    var session = data.session;
    if (session && !session.closed) attachSession(session);
    else if (state.session) detachSession();
    save();
  }

  function ensureVisitor() {
    if (state.token) return Promise.resolve(true);
    return visitorStart(state.identityData).then(function () {
      return !!state.token;
    });
  }

  function ensureSession() {
    if (state.session) return Promise.resolve(true);
    return ensureVisitor().then(function (ready) {
      if (!ready) return false;
      var epoch = state.epoch;
      return request("POST", "sessions", {}).then(function (answer) {
        if (epoch !== state.epoch) return false;
        if (answer.status === 200 || answer.status === 201) {
          attachSession(answer.data);
          return true;
        }
        if (answer.code === "agent_unavailable") {
          state.available = false;
          setHost("state", "unavailable");
          setNotice("unavailable", localMessage(answer.message, text.unavailable));
          setComposerEnabled(false);
        } else if (answer.code === "token_invalid") {
          dropToken();
        } else showComposerError(answer.status === 429 ? text.rateLimited : text.sendFailed);
        return false;
      });
    });
  }

  function shutdown() {
    resetAll();
    forget();
    state.identityData = null;
    setOpen(false);
    setHost("state", state.available ? "ready" : "unavailable");
    clearNotice("identity");
    setComposerEnabled(state.available);
  }

  function resetAll() {
    state.epoch += 1;
    detachSession();
    dropToken();
    state.identity = null;
    save();
  }

  function dropToken() {
    state.token = null;
    state.expires = null;
  }

  // ------------------------------------------------------------------ session and events

  function attachSession(session) {
    if (state.session && state.session.uid === session.uid) {
      updateSession(session);
      if (!transport) connect();
      return;
    }
    if (state.session) detachSession(); // another conversation was shown: it goes (a first one keeps the greeting)
    if (saved.session !== session.uid) state.seenBefore = 0;
    state.session = { uid: session.uid, mode: session.mode, closed: !!session.closed, websocket: session.websocket };
    setHost("session", session.uid);
    updateSession(session);
    connect();
    save();
  }

  function updateSession(session) {
    if (!state.session) return;
    state.session.mode = session.mode || state.session.mode;
    setHost("mode", state.session.mode);
    handoffButton.hidden = state.session.mode !== "auto";
  }

  function detachSession() {
    disconnect();
    state.session = null;
    state.cursor = 0;
    state.seen = Object.create(null);
    state.finished = Object.create(null);
    state.unread = 0;
    updateUnread();
    setHost("session", "");
    setHost("mode", "none");
    handoffButton.hidden = false;
    clearLog();
    showTyping(null);
    showGreeting();
  }

  function onEvent(event) {
    var offset = parseInt(event.offset, 10);
    if (!(offset > 0)) return;
    if (offset <= state.cursor) return;
    state.cursor = offset;
    if (state.seen[offset]) {
      delete state.seen[offset];
      save();
      return;
    }
    show(event, offset);
    save();
  }

  function show(event, offset) {
    var live = offset > state.seenBefore;
    if (event.kind === "message") {
      showMessage(event, offset);
      if (live) {
        emit("message", {
          text: String(event.text || ""), source: event.source, offset: offset,
          operator: event.operator ? { name: String(event.operator.name || "") } : null
        });
        if (!state.open && event.source !== "customer") {
          state.unread += 1;
          updateUnread();
        }
      }
      if (event.source !== "customer") showTyping(null);
    } else if (event.kind === "status") onStatus(event, live);
  }

  function onStatus(event, live) {
    var status = event.status;
    var operatorName = event.operator && event.operator.name ? String(event.operator.name) : text.support;
    if (status === "processing" || status === "typing") showTyping("agent");
    else if (status === "ready" || status === "error") {
      showTyping(null);
      dropStreams();
      if (status === "error") addNote("error", text.agentError);
    } else if (status === "waiting") {
      setMode("waiting");
      showTyping(null);
      addNote("waiting", text.waiting);
      if (live) emit("handoff", { status: "waiting" });
    } else if (status === "human_joined") {
      setMode("human");
      addNote("joined", format(text.joined, { name: operatorName }));
      if (live) emit("handoff", { status: "human_joined", operator: { name: operatorName } });
    } else if (status === "agent_resumed") {
      setMode("auto");
      addNote("resumed", text.resumed);
    } else if (status === "closed") {
      showTyping(null);
      addNote("closed", text.closed);
      if (state.session) state.session.closed = true;
      disconnect();
      if (hasMessages()) showRating();
    }
  }

  function setMode(mode) {
    if (!state.session) return;
    state.session.mode = mode;
    setHost("mode", mode);
    handoffButton.hidden = mode !== "auto";
  }

  function onChunk(message) {
    var id = String(message.message_id || "");
    if (!id || state.finished[id]) return;
    var bubble = findIn(log, ".dw-streaming", "messageId", id);
    if (!bubble) {
      bubble = messageNode("agent", "", null);
      bubble.classList.add("dw-streaming");
      bubble.dataset.messageId = id;
      bubble.setAttribute("aria-busy", "true");
      log.appendChild(bubble);
    }
    showTyping(null);
    var stick = nearBottom();
    var body = bubble.querySelector(".dw-text");
    body.textContent += String(message.text || "");
    if (stick) scrollToBottom();
  }

  function dropStreams() {
    var streams = log.querySelectorAll(".dw-streaming");
    for (var i = 0; i < streams.length; i++) streams[i].remove();
  }

  function onRewound(first) {
    if (!(first > 0)) return;
    var items = log.querySelectorAll("[data-offset]");
    for (var i = 0; i < items.length; i++) {
      if (parseInt(items[i].dataset.offset, 10) >= first) items[i].remove();
    }
    Object.keys(state.seen).forEach(function (offset) {
      if (+offset >= first) delete state.seen[offset];
    });
    state.cursor = Math.min(state.cursor, first - 1);
    save();
  }

  // ------------------------------------------------------------------ transport: websocket, else long-poll

  function connect() {
    if (!state.session || state.session.closed) return;
    if (typeof window.WebSocket !== "function") startPolling();
    else openSocket({ failures: 0, opened: false, attempts: 0 });
  }

  function disconnect() {
    if (!transport) return;
    var current = transport;
    transport = null;
    current.stopped = true;
    clearTimeout(current.timer);
    clearInterval(current.ping);
    if (current.socket) {
      try {
        current.socket.close(1000);
      } catch (error) {
        /* already closing */
      }
    }
    if (current.abort) current.abort.abort();
    setHost("connection", "idle");
    clearNotice("reconnecting");
  }

  function openSocket(memory) {
    var session = state.session;
    var epoch = state.epoch;
    var current = { kind: "socket", memory: memory, stopped: false };
    transport = current;
    setHost("connection", memory.opened ? "reconnecting" : "connecting");
    var socket;
    try {
      socket = new window.WebSocket(config.socketBase + session.websocket + "?key=" + encodeURIComponent(config.key));
    } catch (error) {
      return socketFailed(current, null);
    }
    current.socket = socket;
    var openedThisTime = false;
    socket.addEventListener("open", function () {
      if (current.stopped) return;
      openedThisTime = true;
      memory.opened = true;
      memory.attempts = 0;
      setHost("connection", "live");
      clearNotice("reconnecting");
      socket.send(JSON.stringify({ type: "resume", token: state.token, after: state.cursor }));
      current.ping = setInterval(function () {
        if (socket.readyState === 1) socket.send(JSON.stringify({ type: "ping" }));
      }, PING_EVERY_MS);
    });
    socket.addEventListener("message", function (message) {
      if (current.stopped || epoch !== state.epoch) return;
      var data;
      try {
        data = JSON.parse(message.data);
      } catch (error) {
        return;
      }
      if (data.type === "event" && data.event) onEvent(data.event);
      else if (data.type === "chunk") onChunk(data);
      else if (data.type === "typing" && data.who === "operator") operatorTyping(data.name);
      else if (data.type === "rewound") onRewound(parseInt(data.from, 10));
    });
    socket.addEventListener("close", function (closed) {
      clearInterval(current.ping);
      if (current.stopped || epoch !== state.epoch) return;
      if (closed.code === 4401) {
        // The token expired or the key was rotated: start again as the same customer.
        transport = null;
        reauthenticate();
        return;
      }
      if (closed.code === 4403) {
        transport = null;
        serial(function () {
          detachSession();
          save();
        });
        return;
      }
      if (closed.code === 4429) {
        transport = null;
        return startPolling();
      }
      socketFailed(current, openedThisTime);
    });
  }

  function socketFailed(current, openedThisTime) {
    if (current.stopped) return;
    var memory = current.memory;
    if (!memory.opened) memory.failures += 1;
    if (!memory.opened && memory.failures >= FAILURES_BEFORE_POLLING) {
      transport = null;
      return startPolling();
    }
    memory.attempts += 1;
    if (openedThisTime !== null) setNotice("reconnecting", text.reconnecting);
    setHost("connection", "reconnecting");
    current.timer = setTimeout(function () {
      if (!current.stopped && transport === current) openSocket(memory);
    }, backoff(memory.attempts));
  }

  function startPolling() {
    if (!state.session || state.session.closed) return;
    var current = { kind: "poll", stopped: false, attempts: 0 };
    transport = current;
    setHost("connection", "polling");
    poll(current, 0);
  }

  function poll(current, waitSeconds) {
    if (current.stopped || !state.session) return;
    var epoch = state.epoch;
    var uid = state.session.uid;
    current.abort = typeof AbortController === "function" ? new AbortController() : null;
    var path = "sessions/" + encodeURIComponent(uid) + "/events?after=" + state.cursor + "&wait=" + waitSeconds;
    request("GET", path, null, current.abort).then(function (answer) {
      if (current.stopped || epoch !== state.epoch) return;
      if (answer.status === 200) {
        current.attempts = 0;
        clearNotice("reconnecting");
        setHost("connection", "polling");
        var events = answer.data.events || [];
        for (var i = 0; i < events.length; i++) onEvent(events[i]);
        var last = parseInt(answer.data.last_offset, 10);
        if (last > state.cursor) {
          state.cursor = last;
          save();
        }
        if (answer.data.session) updateSession(answer.data.session);
        if (state.session && state.session.closed) return;
        return poll(current, POLL_WAIT_SECONDS);
      }
      if (answer.code === "token_invalid") {
        transport = null;
        return reauthenticate();
      }
      if (answer.status === 404) {
        transport = null;
        return serial(function () {
          detachSession();
          save();
        });
      }
      current.attempts += 1;
      setHost("connection", "reconnecting");
      if (current.attempts > 1) setNotice("reconnecting", text.reconnecting);
      current.timer = setTimeout(function () {
        poll(current, POLL_WAIT_SECONDS);
      }, backoff(current.attempts));
    });
  }

  // A token the server no longer takes (expired, key rotated): ask for a fresh one as the same customer, at
  // most every few seconds so a server that keeps refusing is not hammered.
  function reauthenticate() {
    var gap = Date.now() - (state.lastReauth || 0);
    state.lastReauth = Date.now();
    dropToken();
    serial(function () {
      return wait(gap < 5000 ? 5000 : 0).then(function () {
        return visitorStart(state.identityData);
      });
    });
  }

  function backoff(attempt) {
    var ceiling = Math.min(RECONNECT_MAX_MS, RECONNECT_BASE_MS * Math.pow(2, attempt));
    return Math.round(ceiling / 2 + Math.random() * (ceiling / 2)); // "equal jitter"
  }

  // ------------------------------------------------------------------ sending

  function characters(value) {
    return Array.from(value.trim()).length; // code points, as the server counts
  }

  function submit() {
    var value = input.value;
    if (!value.trim()) return showComposerError(text.blank);
    var count = characters(value);
    if (count > state.limit) return showComposerError(format(text.tooLong, { count: count, max: state.limit }));
    if (!state.available) return;
    showComposerError("");
    input.value = "";
    updateCounter();
    resizeInput();
    var pending = messageNode("customer", value.trim(), null);
    pending.classList.add("dw-pending");
    log.appendChild(pending);
    scrollToBottom();
    serial(function () {
      return ensureSession().then(function (ready) {
        if (!ready) return failed(null);
        return post("messages", { text: value }).then(function (answer) {
          if (answer.status === 201 && answer.data.event) return confirmed(answer.data.event);
          if (answer.status === 413) {
            var max = (answer.details && answer.details.limit) || state.limit;
            return failed(format(text.tooLong, { count: count, max: max }));
          }
          if (answer.status === 429) return failed(text.rateLimited);
          if (answer.code === "conversation_closed") {
            detachSession();
            return failed(text.endedError);
          }
          if (answer.code === "token_invalid") dropToken();
          if (answer.status === 422) return failed(text.blank);
          failed(null);
        });
      });
    });

    function confirmed(event) {
      var offset = parseInt(event.offset, 10);
      if (pending.dataset.offset) return; // the socket was faster and adopted this bubble
      pending.classList.remove("dw-pending");
      if (offset > state.cursor) {
        // Shown now; the same event read later from the socket or the poll only moves the cursor.
        pending.dataset.offset = String(offset);
        pending.dataset.messageId = String(event.message_id || "");
        state.seen[offset] = true;
        emit("message", { text: String(event.text || ""), source: "customer", offset: offset, operator: null });
      } else pending.remove(); // already shown from the socket
    }

    function failed(message) {
      pending.remove();
      if (!input.value) input.value = value;
      updateCounter();
      resizeInput();
      showComposerError(message || text.sendFailed);
    }
  }

  function post(action, body) {
    return request("POST", "sessions/" + encodeURIComponent(state.session.uid) + "/" + action, body);
  }

  function sendTyping() {
    var now = Date.now();
    if (!state.session || now - lastTypingSent < TYPING_SEND_EVERY_MS) return;
    lastTypingSent = now;
    if (transport && transport.kind === "socket" && transport.socket && transport.socket.readyState === 1) {
      transport.socket.send(JSON.stringify({ type: "typing" }));
    } else post("typing", {});
  }

  function askForPerson() {
    serial(function () {
      return ensureSession().then(function (ready) {
        if (!ready) return;
        return post("handoff", {}).then(function (answer) {
          if (answer.status === 200) updateSession(answer.data);
          if (root.activeElement === null || root.activeElement === handoffButton) focusInside(); // it hid
          else showComposerError(answer.status === 429 ? text.rateLimited : text.sendFailed);
        });
      });
    });
  }

  function endChat() {
    serial(function () {
      var session = state.session;
      if (!session) {
        showGreetingAgain();
        return;
      }
      var hadMessages = hasMessages();
      disconnect(); // the "closed" status is added here, not raced by the socket
      return post("close", {}).then(function (answer) {
        if (answer.status !== 200 && answer.status !== 404) {
          connect();
          return showComposerError(text.sendFailed);
        }
        session.closed = true;
        if (!log.querySelector(".dw-note[data-kind=closed]")) addNote("closed", text.closed);
        if (hadMessages && answer.status === 200) showRating();
        else startNewConversation();
      });
    });
  }

  // ------------------------------------------------------------------ rating

  function buildRating() {
    var form = el("form", { id: "dw-rating", className: "dw-rating", hidden: true, noValidate: true });
    var prompt = el("p", { className: "dw-rating-prompt", textContent: text.ratePrompt });
    var choices = el("div", { className: "dw-scores" });
    choices.setAttribute("role", "group");
    choices.setAttribute("aria-label", text.ratePrompt);
    [["1", text.good, "up"], ["0", text.bad, "down"]].forEach(function (choice) {
      var button = el("button", { type: "button", className: "dw-score" });
      button.dataset.score = choice[0];
      button.setAttribute("aria-pressed", "false");
      button.appendChild(icon(choice[2]));
      button.appendChild(el("span", { textContent: choice[1] }));
      choices.appendChild(button);
    });
    var comment = el("textarea", { id: "dw-rating-comment", className: "dw-input", rows: 2, maxLength: 2000 });
    comment.placeholder = text.comment;
    comment.setAttribute("aria-label", text.comment);
    var error = el("p", { className: "dw-composer-error", hidden: true });
    error.setAttribute("role", "alert");
    var buttons = el("div", { className: "dw-rating-buttons" });
    var skipButton = el("button", { id: "dw-rating-skip", type: "button", className: "dw-action", textContent: text.skip });
    var submitButton = el("button", { id: "dw-rating-submit", type: "submit", className: "dw-primary", textContent: text.rateSend });
    submitButton.disabled = true;
    buttons.appendChild(skipButton);
    buttons.appendChild(submitButton);
    form.appendChild(prompt);
    form.appendChild(choices);
    form.appendChild(comment);
    form.appendChild(error);
    form.appendChild(buttons);

    var done = el("div", { id: "dw-rating-done", className: "dw-rating", hidden: true });
    var thanks = el("p", { className: "dw-rating-prompt", textContent: text.thanks });
    var again = el("button", { id: "dw-new", type: "button", className: "dw-primary", textContent: text.newChat });
    done.appendChild(thanks);
    done.appendChild(again);

    choices.addEventListener("click", function (click) {
      var button = click.target.closest(".dw-score");
      if (!button) return;
      state.rating = parseInt(button.dataset.score, 10);
      var all = choices.querySelectorAll(".dw-score");
      for (var i = 0; i < all.length; i++) all[i].setAttribute("aria-pressed", String(all[i] === button));
      submitButton.disabled = false;
    });
    form.addEventListener("submit", function (submitted) {
      submitted.preventDefault();
      if (state.rating === null || !state.session) return;
      var session = state.session;
      submitButton.disabled = true;
      serial(function () {
        var body = { scale: "thumbs", score: state.rating, comment: comment.value.trim() };
        return request("POST", "sessions/" + encodeURIComponent(session.uid) + "/rating", body).then(function (answer) {
          submitButton.disabled = false;
          if (answer.status !== 200) {
            error.textContent = localMessage(answer.message, text.sendFailed);
            error.hidden = false;
            return;
          }
          thanks.textContent = text.thanks;
          showRatingDone(true);
        });
      });
    });
    skipButton.addEventListener("click", function () {
      showRatingDone(false);
    });
    again.addEventListener("click", function () {
      startNewConversation();
      input.focus();
    });

    function showRatingDone(rated) {
      form.hidden = true;
      done.hidden = false;
      thanks.hidden = !rated;
      again.focus();
    }

    function reset() {
      state.rating = null;
      comment.value = "";
      error.hidden = true;
      submitButton.disabled = true;
      var all = choices.querySelectorAll(".dw-score");
      for (var i = 0; i < all.length; i++) all[i].setAttribute("aria-pressed", "false");
    }

    return { form: form, done: done, reset: reset };
  }

  function showRating() {
    composer.hidden = true;
    showTyping(null);
    handoffButton.hidden = true;
    endButton.hidden = true;
    rating.reset();
    rating.form.hidden = false;
    rating.done.hidden = true;
    var first = rating.form.querySelector(".dw-score");
    if (state.open && first) first.focus();
    scrollToBottom();
  }

  function startNewConversation() {
    detachSession();
    save();
    rating.form.hidden = true;
    rating.done.hidden = true;
    composer.hidden = false;
    endButton.hidden = false;
  }

  function hasMessages() {
    return !!log.querySelector(".dw-msg[data-offset]");
  }

  function showGreetingAgain() {
    clearLog();
    showGreeting();
  }

  // ------------------------------------------------------------------ rendering

  function showGreeting() {
    if (log.querySelector(".dw-greeting")) return;
    var greeting = messageNode("agent", config.greeting || text.greeting, null);
    greeting.classList.add("dw-greeting");
    log.insertBefore(greeting, log.firstChild);
  }

  function clearLog() {
    while (log.firstChild) log.removeChild(log.firstChild);
  }

  function showMessage(event, offset) {
    var id = String(event.message_id || "");
    if (id) state.finished[id] = true;
    var stream = id ? findIn(log, ".dw-streaming", "messageId", id) : null;
    if (event.source === "customer") {
      var pending = log.querySelector(".dw-pending");
      if (pending && pending.querySelector(".dw-text").textContent === String(event.text || "").trim()) {
        pending.classList.remove("dw-pending"); // our own message, from the socket before the POST answered
        pending.dataset.offset = String(offset);
        pending.dataset.messageId = id;
        return;
      }
    }
    var name = event.source === "human_operator" && event.operator ? String(event.operator.name || "") : null;
    var node = messageNode(event.source, String(event.text || ""), name);
    node.dataset.offset = String(offset);
    node.dataset.messageId = id;
    var stick = nearBottom();
    if (stream) log.replaceChild(node, stream);
    else insertInOrder(node, offset);
    if (stick || event.source === "customer") scrollToBottom();
  }

  function insertInOrder(node, offset) {
    var pending = log.querySelector(".dw-pending, .dw-streaming");
    var items = log.querySelectorAll("[data-offset]");
    for (var i = 0; i < items.length; i++) {
      if (parseInt(items[i].dataset.offset, 10) > offset) return void log.insertBefore(node, items[i]);
    }
    if (pending) log.insertBefore(node, pending);
    else log.appendChild(node);
  }

  function messageNode(source, body, operatorName) {
    var safeSource = source === "customer" || source === "human_operator" ? source : "agent";
    var item = el("li", { className: "dw-msg" });
    item.dataset.source = safeSource;
    if (safeSource === "human_operator") {
      item.appendChild(el("span", { className: "dw-author", textContent: operatorName || text.support }));
    }
    var bubble = el("div", { className: "dw-text" });
    appendLinked(bubble, body);
    item.appendChild(bubble);
    return item;
  }

  // Plain text with http(s) links made clickable; every piece is a text node or an <a> built here.
  function appendLinked(parent, body) {
    var pattern = /\bhttps?:\/\/[^\s<>"']+/g;
    var last = 0;
    var match;
    while ((match = pattern.exec(body)) !== null) {
      var url = match[0].replace(/[.,;:!?)\]]+$/, "");
      if (match.index > last) parent.appendChild(document.createTextNode(body.slice(last, match.index)));
      var link = el("a", { href: url, textContent: url, target: "_blank", rel: "noopener noreferrer nofollow" });
      parent.appendChild(link);
      last = match.index + url.length;
      pattern.lastIndex = last;
    }
    if (last < body.length) parent.appendChild(document.createTextNode(body.slice(last)));
  }

  function addNote(kind, message) {
    var note = el("li", { className: "dw-note", textContent: message });
    note.dataset.kind = kind;
    var stick = nearBottom();
    log.appendChild(note);
    if (stick) scrollToBottom();
  }

  function showTyping(who, name) {
    clearTimeout(typingTimer);
    if (!who) {
      typing.hidden = true;
      typing.removeAttribute("data-who");
      return;
    }
    var label = who === "agent" ? state.agentName || text.assistant : name || text.support;
    typing.textContent = "";
    typing.appendChild(el("span", { className: "dw-dots" }));
    typing.appendChild(document.createTextNode(format(text.typing, { name: label })));
    typing.dataset.who = who;
    typing.hidden = false;
    if (nearBottom(120)) scrollToBottom();
  }

  function operatorTyping(name) {
    if (log.querySelector(".dw-streaming")) return;
    showTyping("operator", String(name || ""));
    typingTimer = setTimeout(function () {
      showTyping(null);
    }, TYPING_SHOWN_MS);
  }

  function setNotice(kind, message) {
    notice.textContent = message;
    notice.dataset.kind = kind;
    notice.hidden = false;
  }

  function clearNotice(kind) {
    if (notice.dataset.kind !== kind) return;
    notice.hidden = true;
    notice.textContent = "";
    notice.removeAttribute("data-kind");
  }

  function showComposerError(message) {
    composerError.textContent = message;
    composerError.hidden = !message;
  }

  function setComposerEnabled(enabled) {
    input.disabled = !enabled;
    sendButton.disabled = !enabled;
    actions.hidden = !enabled; // nothing to hand over or end while the chat cannot be used
  }

  function updateCounter() {
    var count = characters(input.value);
    var over = count > state.limit;
    counter.hidden = count < state.limit * COUNTER_FROM;
    counter.textContent = format(text.counter, { count: count, max: state.limit });
    if (over) counter.dataset.over = "true";
    else counter.removeAttribute("data-over");
    if (!over && composerError.textContent && !composerError.hidden && count > 0) showComposerError("");
  }

  function resizeInput() {
    input.style.height = "auto";
    input.style.height = Math.min(input.scrollHeight, 140) + "px";
  }

  function updateUnread() {
    unreadBadge.textContent = state.unread > 9 ? "9+" : String(state.unread);
    unreadBadge.hidden = state.unread === 0 || state.open;
  }

  function nearBottom(margin) {
    return scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < (margin || 80);
  }

  function scrollToBottom() {
    scroller.scrollTop = scroller.scrollHeight;
  }

  // ------------------------------------------------------------------ open, close, keyboard

  function setOpen(open, options) {
    if (state.open === open) return;
    state.open = open;
    panel.hidden = !open;
    launcher.setAttribute("aria-expanded", String(open));
    launcher.setAttribute("aria-label", open ? text.close : text.open);
    frame.setAttribute("data-open", String(open));
    setHost("open", String(open));
    if (open) {
      state.unread = 0;
      scrollToBottom();
      if (!(options && options.keepFocus)) setTimeout(focusInside, 0);
    }
    updateUnread();
    save();
    emit(open ? "open" : "close", {});
  }

  function focusInside() {
    if (!state.open) return;
    var target = !composer.hidden && !input.disabled ? input : firstFocusable();
    if (target) target.focus();
  }

  function focusables() {
    var all = panel.querySelectorAll("button, textarea, a[href], input, [tabindex]:not([tabindex='-1'])");
    return Array.prototype.filter.call(all, function (node) {
      return !node.disabled && node.getClientRects().length > 0;
    });
  }

  function firstFocusable() {
    return focusables()[0] || null;
  }

  function wireEvents() {
    launcher.addEventListener("click", function () {
      setOpen(!state.open);
    });
    closeButton.addEventListener("click", function () {
      setOpen(false);
      launcher.focus();
    });
    handoffButton.addEventListener("click", askForPerson);
    endButton.addEventListener("click", endChat);
    composer.addEventListener("submit", function (submitted) {
      submitted.preventDefault();
      submit();
    });
    input.addEventListener("keydown", function (key) {
      if (key.key === "Enter" && !key.shiftKey && !key.isComposing && key.keyCode !== 229) {
        key.preventDefault();
        submit();
      }
    });
    input.addEventListener("input", function () {
      updateCounter();
      resizeInput();
      if (input.value.trim()) sendTyping();
    });
    panel.addEventListener("keydown", function (key) {
      if (key.key === "Escape") {
        key.preventDefault();
        setOpen(false);
        launcher.focus();
      } else if (key.key === "Tab") trapFocus(key);
    });
    window.addEventListener("online", function () {
      if (transport && transport.kind === "socket" && !transport.socket) openSocket(transport.memory);
    });
  }

  function trapFocus(key) {
    var items = focusables();
    if (!items.length) return;
    var first = items[0];
    var last = items[items.length - 1];
    var active = root.activeElement;
    if (key.shiftKey && (active === first || !panel.contains(active))) {
      key.preventDefault();
      last.focus();
    } else if (!key.shiftKey && (active === last || !panel.contains(active))) {
      key.preventDefault();
      first.focus();
    }
  }

  // ------------------------------------------------------------------ helpers

  function serial(work) {
    chain = chain.then(work).catch(function (error) {
      warn(error && error.message ? error.message : String(error));
    });
    return chain;
  }

  function request(method, path, body, abort) {
    var headers = { "X-Decorum-Key": config.key };
    if (state.token) headers.Authorization = "Bearer " + state.token;
    if (body !== null) headers["Content-Type"] = "application/json";
    var options = { method: method, headers: headers, mode: "cors", credentials: "omit", cache: "no-store" };
    if (body !== null) options.body = JSON.stringify(body);
    if (abort) options.signal = abort.signal;
    return window.fetch(config.api + path, options).then(
      function (response) {
        return response.text().then(function (raw) {
          var data = {};
          try {
            data = raw ? JSON.parse(raw) : {};
          } catch (error) {
            data = {};
          }
          return { status: response.status, data: data, code: data.code, message: data.message, details: data.details };
        });
      },
      function () {
        return { status: 0, data: {}, code: "network" };
      }
    );
  }

  function wait(milliseconds) {
    return new Promise(function (resolve) {
      setTimeout(resolve, milliseconds);
    });
  }

  // The launcher shows once the stylesheet is in and the server said who the visitor is: a page the server
  // refuses (or cannot reach) shows nothing at all rather than a broken chat.
  function updateVisibility() {
    var shown = { ready: true, unavailable: true, "identity-refused": true };
    frame.hidden = !(frame.hasAttribute("data-styled") && shown[host.getAttribute("data-state")]);
  }

  function unreachable(reason) {
    setHost("state", "unreachable");
    updateVisibility();
    disconnect();
    warn(reason + "; the chat is hidden.");
  }

  function localMessage(serverMessage, fallback) {
    // The server speaks English; a page in another language gets our own translation.
    return config.locale === "en" && serverMessage ? String(serverMessage) : fallback;
  }

  function load() {
    var raw = null;
    try {
      raw = window.localStorage.getItem(storageKey);
    } catch (error) {
      raw = memoryStore;
    }
    try {
      var data = raw ? JSON.parse(raw) : {};
      return data && typeof data === "object" ? data : {};
    } catch (error) {
      return {};
    }
  }

  function save() {
    var data = JSON.stringify({
      token: state.token, expires: state.expires, identity: state.identity,
      session: state.session ? state.session.uid : null, offset: state.session ? Math.max(state.cursor, state.seenBefore) : 0,
      open: state.open
    });
    try {
      window.localStorage.setItem(storageKey, data);
    } catch (error) {
      memoryStore = data;
    }
  }

  function forget() {
    saved = {};
    state.seenBefore = 0;
    try {
      window.localStorage.removeItem(storageKey);
    } catch (error) {
      memoryStore = null;
    }
  }

  function setHost(name, value) {
    host.setAttribute("data-" + name, value);
  }

  function el(tag, properties) {
    var node = document.createElement(tag);
    for (var name in properties) {
      if (Object.prototype.hasOwnProperty.call(properties, name)) node[name] = properties[name];
    }
    return node;
  }

  function findIn(parent, selector, dataName, value) {
    var nodes = parent.querySelectorAll(selector);
    for (var i = 0; i < nodes.length; i++) if (nodes[i].dataset[dataName] === value) return nodes[i];
    return null;
  }

  function format(template, values) {
    return template.replace(/\{(\w+)\}/g, function (whole, name) {
      return name in values ? String(values[name]) : whole;
    });
  }

  function warn(message) {
    if (window.console && console.warn) console.warn("Decorum widget: " + message);
  }

  // Icons are SVG built node by node (no markup parsing).
  function icon(name) {
    var paths = {
      chat: "M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z",
      close: "M6 6l12 12M18 6L6 18",
      send: "M3 11l18-8-8 18-2-8-8-2z",
      up: "M7 11v9H4v-9h3zm2 9h8.5a2 2 0 0 0 2-1.7l1.2-7A2 2 0 0 0 18.7 9H14V5a2 2 0 0 0-2-2l-3 8v9z",
      down: "M17 13V4h3v9h-3zm-2-9H6.5a2 2 0 0 0-2 1.7l-1.2 7A2 2 0 0 0 5.3 15H10v4a2 2 0 0 0 2 2l3-8V4z"
    };
    var ns = "http://www.w3.org/2000/svg";
    var svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    svg.setAttribute("class", "dw-icon dw-icon-" + name);
    var path = document.createElementNS(ns, "path");
    path.setAttribute("d", paths[name]);
    svg.appendChild(path);
    return svg;
  }

  function readableOn(color) {
    var hex = color.slice(1);
    if (hex.length === 3 || hex.length === 4) hex = hex.replace(/(.)/g, "$1$1");
    var channel = function (start) {
      var value = parseInt(hex.slice(start, start + 2), 16) / 255;
      return value <= 0.03928 ? value / 12.92 : Math.pow((value + 0.055) / 1.055, 2.4);
    };
    var luminance = 0.2126 * channel(0) + 0.7152 * channel(2) + 0.0722 * channel(4);
    // White text when it contrasts more than near-black text does (WCAG contrast ratios).
    return 1.05 / (luminance + 0.05) >= (luminance + 0.05) / 0.0625 ? "#ffffff" : "#111827";
  }

  function readConfig(element) {
    var source;
    try {
      source = new URL(element.src, document.baseURI);
    } catch (error) {
      return null;
    }
    var data = function (name) {
      var value = element.getAttribute("data-" + name);
      return value === null ? "" : value.trim();
    };
    var color = data("color");
    var locale = (data("locale") || document.documentElement.lang || "en").toLowerCase().split(/[-_]/)[0];
    var stylesheet = new URL("decorum.css", source);
    stylesheet.search = source.search; // the same cache-busting version as the script
    return {
      key: data("agent-key"),
      api: source.origin + "/widget/v1/",
      socketBase: (source.protocol === "https:" ? "wss://" : "ws://") + source.host,
      stylesheet: stylesheet.href,
      color: /^#([0-9a-f]{3}|[0-9a-f]{4}|[0-9a-f]{6}|[0-9a-f]{8})$/i.test(color) ? color : "",
      position: data("position") === "left" ? "left" : "right",
      greeting: data("greeting").slice(0, 500),
      title: data("title").slice(0, 80),
      locale: locale,
      openAtLoad: data("open") === "true"
    };
  }
})();
