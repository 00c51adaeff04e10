// Lesson 06's chat page: one WebSocket to the server that served the page. Every event
// the server pushes (someone entered, said something, left) becomes one line of the
// list; the form sends what the user types. When the connection drops (the server
// restarts, the network goes away) the page tries again after 0.5 s, then 1, 2, 4, 8 s,
// and back to 0.5 s once it is in.
'use strict';

const LABELS = {
  en: {
    title: 'Chat room', message: 'Message', placeholder: 'Say something…', send: 'Send',
    messages: 'Messages', connecting: 'connecting…', online: 'online',
    retry: (s) => `reconnecting in ${s} s…`, count: (n) => `${n} in the room`,
  },
  zh: {
    title: '聊天室', message: '消息', placeholder: '说点什么…', send: '发送',
    messages: '消息', connecting: '正在连接…', online: '已连接',
    retry: (s) => `${s} 秒后重新连接…`, count: (n) => `${n} 人在线`,
  },
};
const lang = (navigator.language || '').toLowerCase().startsWith('zh') ? 'zh' : 'en';
const L = LABELS[lang];

// The same host and port the page came from, so the page works wherever it is served
// (behind nginx with TLS too: https gives wss).
const CHAT_URL = (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/chat';
const FIRST_DELAY = 500;
const LAST_DELAY = 8000;
const KEEP = 500;               // lines kept in the list; older ones go

const $ = (id) => document.getElementById(id);
const list = $('messages');
const statusText = $('status');
const online = $('online');
const input = $('text');
const button = $('button');

let socket = null;
let delay = FIRST_DELAY;

function label() {
  document.documentElement.lang = lang;
  document.title = $('title').textContent = L.title;
  $('text-label').textContent = L.message;
  list.setAttribute('aria-label', L.messages);
  input.placeholder = L.placeholder;
  button.textContent = L.send;
}

// One place decides what "connected" looks like: the status, and the form usable or not.
function setState(state, text) {
  statusText.dataset.state = state;
  statusText.textContent = text;
  input.disabled = button.disabled = state !== 'online';
  if (state !== 'online')
    online.textContent = '';
}

// textContent, never innerHTML: a line holds whatever a user typed, and
// "<img src=x onerror=...>" must show as those characters, not run.
function show(event) {
  const item = document.createElement('li');
  item.className = event.type;
  item.textContent = event.line;
  list.append(item);
  while (list.children.length > KEEP)
    list.firstElementChild.remove();
  list.scrollTop = list.scrollHeight;
  if (typeof event.online === 'number')
    online.textContent = L.count(event.online);
}

// With "chat.json" each message is an event object; a server that did not agree to it
// sends the documents' plain lines, which show as they are.
function parse(data) {
  return socket.protocol === 'chat.json' ? JSON.parse(data) : { type: 'line', line: data };
}

function connect() {
  setState('connecting', L.connecting);
  socket = new WebSocket(CHAT_URL, 'chat.json');
  socket.onopen = () => {
    delay = FIRST_DELAY;
    setState('online', L.online);
  };
  socket.onmessage = (message) => show(parse(message.data));
  // Also the end of a connection that never opened: every failure ends up here.
  socket.onclose = () => {
    setState('waiting', L.retry(delay / 1000));
    setTimeout(connect, delay);
    delay = Math.min(delay * 2, LAST_DELAY);
  };
}

// A form: Enter in the input and a click on the button both submit it.
$('send').addEventListener('submit', (e) => {
  e.preventDefault();
  if (input.value.trim() === '' || socket.readyState !== WebSocket.OPEN)
    return;
  socket.send(input.value);
  input.value = '';
  input.focus();
});

label();
connect();
