// Node's ws (Debian's node-ws, 8.x) as the other side of lesson 06's WebSocket.
//
//     NODE_PATH=/usr/share/nodejs node tests/ws_peer.js server
//     NODE_PATH=/usr/share/nodejs node tests/ws_peer.js client URL
//
// server: an echo server on a free port of 127.0.0.1 (messages up to 17 MiB), which
// answers the text "fragmented please" with a reply sent in 5-byte fragments (send with
// fin: false), cutting its UTF-8 sequences in two, with a ping between two of them whose
// pong must come. It prints
// "listening on ws://127.0.0.1:PORT/", serves until SIGTERM and exits 0; a connection
// that ends with a code other than 1000 or 4000, or an error, is reported on stderr.
//
// client: the script of tests/ws_interop_client.c against an echo server at URL (our
// 06_echo_server): text, binary, empty, a message sent in 7-byte fragments with a ping
// among them, 1 MiB and 16 MiB, a ping answered by a pong with its payload, and a close
// 4000 "done" answered with 4000. Prints "ok STEP" for each; the first failure prints "FAIL STEP: why" on stderr
// and exits 1. Every wait is bounded (STEP_TIMEOUT), and so is the whole run.
//
// ws_interop.sh runs both modes (ctest ws/interop/node_*).
'use strict';

const crypto = require('crypto');
const WebSocket = require('ws');

const MAX_SIZE = 17 << 20;
const STEP_TIMEOUT = 30000;
const RUN_TIMEOUT = 100000;

const TEXT = 'héllo, wörld — 你好, 世界 🌍';
const PING = Buffer.from('ping ☺ 42');
const FRAGMENTED_ASK = 'fragmented please';
// ws_interop_client.c expects this (its FRAGMENTED_REPLY).
const FRAGMENTED_REPLY = Buffer.from('fragmented reply in pieces: ünïcödé ✓ 你好');
const QUIET_CODES = [1000, 4000]; // how the client script's connections end

const MID_PING = Buffer.from('between fragments');

// Sends data as frames of at most size bytes: the first text or binary, the rest
// continuations (ws numbers them so while fin is false), with a ping (MID_PING) after
// the first: control frames may come between a message's fragments (RFC 6455 §5.4).
function sendPieces(ws, data, size, binary) {
  for (let off = 0; off < data.length; off += size) {
    const fin = off + size >= data.length;
    ws.send(data.subarray(off, off + size), { binary, fin });
    if (off === 0)
      ws.ping(MID_PING);
  }
}

// ---- server ----------------------------------------------------------------------------

function serve() {
  const wss = new WebSocket.WebSocketServer({ host: '127.0.0.1', port: 0, maxPayload: MAX_SIZE });
  wss.on('listening', () => {
    process.stdout.write(`listening on ws://127.0.0.1:${wss.address().port}/\n`);
  });
  wss.on('connection', (ws) => {
    let pongsDue = 0;
    ws.on('message', (data, isBinary) => {
      if (!isBinary && data.toString() === FRAGMENTED_ASK) {
        sendPieces(ws, FRAGMENTED_REPLY, 5, false);
        pongsDue++;
      } else {
        ws.send(data, { binary: isBinary });
      }
    });
    ws.on('pong', (data) => {
      if (data.equals(MID_PING))
        pongsDue--;
    });
    ws.on('error', (err) => console.error(`ws_peer.js: ${err.message}`));
    ws.on('close', (code, reason) => {
      if (!QUIET_CODES.includes(code))
        console.error(`ws_peer.js: a connection ended with ${code} '${reason}'`);
      if (pongsDue)
        console.error(`ws_peer.js: ${pongsDue} pings between fragments had no pong`);
    });
  });
  process.on('SIGTERM', () => {
    for (const ws of wss.clients)
      ws.terminate();
    wss.close(() => process.exit(0));
  });
}

// ---- client ----------------------------------------------------------------------------

class StepFailed extends Error {}

// Resolves with what the event name gives next (its arguments), within STEP_TIMEOUT.
function next(ws, event) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      ws.off(event, on);
      reject(new StepFailed(`no ${event} within ${STEP_TIMEOUT / 1000} s`));
    }, STEP_TIMEOUT);
    const on = (...args) => {
      clearTimeout(timer);
      resolve(args);
    };
    ws.once(event, on);
  });
}

function compare(back, isBinary, sent, binary) {
  if (isBinary !== binary)
    throw new StepFailed(`a ${isBinary ? 'binary' : 'text'} message came back for a ` +
                         `${binary ? 'binary' : 'text'} one`);
  if (back.length !== sent.length)
    throw new StepFailed(`${back.length} bytes came back for ${sent.length}`);
  const i = back.findIndex((b, k) => b !== sent[k]);
  if (i >= 0)
    throw new StepFailed(`byte ${i} differs: ${back[i]} for ${sent[i]}`);
}

// Sends data and expects it back; with size, as frames of size bytes with a ping
// among them, whose pong must come too.
async function echo(ws, data, binary, size) {
  const reply = next(ws, 'message');
  const pong = size ? next(ws, 'pong') : null;
  if (size)
    sendPieces(ws, data, size, binary);
  else
    ws.send(data, { binary });
  const [back, isBinary] = await reply;
  compare(back, isBinary, data, binary);
  if (pong) {
    const [payload] = await pong;
    if (!payload.equals(MID_PING))
      throw new StepFailed(`the pong carried '${payload}', not '${MID_PING}'`);
  }
}

async function stepPing(ws) {
  const pong = next(ws, 'pong');
  ws.ping(PING);
  const [data] = await pong;
  if (!data.equals(PING))
    throw new StepFailed(`the pong carried '${data}', not '${PING}'`);
}

async function stepClose(ws) {
  const closed = next(ws, 'close');
  ws.close(4000, 'done');
  const [code, reason] = await closed;
  if (code !== 4000)
    throw new StepFailed(`the server answered ${code} '${reason}', not 4000`);
}

async function client(url) {
  const ws = new WebSocket(url, { maxPayload: MAX_SIZE });
  const errors = [];
  ws.on('error', (err) => errors.push(err.message));
  const steps = [
    ['connect', async () => { await next(ws, 'open'); }],
    ['text', () => echo(ws, Buffer.from(TEXT), false)],
    ['binary', () => echo(ws, Buffer.from([...Array(256).keys()]), true)],
    ['empty', () => echo(ws, Buffer.alloc(0), false)],
    ['fragmented send', () => echo(ws, Buffer.from(TEXT.repeat(40)), false, 7)],
    ['1 MiB', () => echo(ws, crypto.randomBytes(1 << 20), true)],
    ['16 MiB', () => echo(ws, crypto.randomBytes(16 << 20), true)],
    ['ping', () => stepPing(ws)],
    ['close 4000', () => stepClose(ws)],
  ];
  for (const [name, run] of steps) {
    try {
      await run();
      if (errors.length)
        throw new StepFailed(errors.join('; '));
    } catch (err) {
      console.error(`FAIL ${name}: ${err.message}${errors.length ? ` (${errors.join('; ')})` : ''}`);
      return 1;
    }
    console.log(`ok ${name}`);
  }
  return 0;
}

function main() {
  const args = process.argv.slice(2);
  if (args.length === 1 && args[0] === 'server')
    return serve();
  if (args.length === 2 && args[0] === 'client') {
    setTimeout(() => {
      console.error(`FAIL: the run took over ${RUN_TIMEOUT / 1000} s`);
      process.exit(1);
    }, RUN_TIMEOUT).unref();
    client(args[1]).then((status) => process.exit(status));
    return undefined;
  }
  console.error('usage: ws_peer.js server | client URL');
  process.exit(2);
  return undefined;
}

main();
