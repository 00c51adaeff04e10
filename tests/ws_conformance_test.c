/* WebSocket conformance of 06_echo_server: the Autobahn TestSuite's case groups 1-7 and
 * 10 (crossbario/autobahn-testsuite, autobahntestsuite/case/case*.py), as our own table.
 *
 * Autobahn needs Python 2, so its cases are restated here, each under its Autobahn
 * number: the frames it sends (payloads, fragmentation, how the bytes are cut into TCP
 * writes, its pauses) and what it calls "OK" — never its "NON-STRICT". They run against
 * the real server over real sockets: one connection per case, raw frames, masked as a
 * client must. tests/wsframe_test.c checks the same ideas on the frame parser alone;
 * this file checks that the server built on it behaves, on the wire.
 *
 * Frames are made by wsframe_build, which refuses nothing (a 126-byte ping, a close of
 * one byte are built as asked); where a frame is illegal by its first byte (RSV bits,
 * which the builder never sets, or a reserved opcode) that byte is written by hand.
 * Replies are read with a wsframe parser in the client role, so a frame the server should
 * not send (masked, bad UTF-8, a forbidden close code) fails the case too.
 *
 * A case ends one of three ways (Autobahn's "closedByMe" and close codes):
 *   ECHO    the server's replies (echoes, pongs) are exactly `want`; then we close with
 *           1000, the server answers 1000 and closes TCP;
 *   ANSWER  our own close is among the frames sent: the server answers it with `code`
 *           (7.x: the code echoed, or 1002 / 1007 for a bad close) and closes TCP, and
 *           whatever we sent after our close is ignored;
 *   FAIL    the server fails the connection: after exactly `want` it sends a close with
 *           `code` (1002, 1007 for bad UTF-8), we echo it, and it closes TCP.
 * Fail-fast (6.4.x): the close must come after the step with the byte that proves the
 * text invalid and before the rest is sent — we wait for it, and never send the rest.
 * Every wait has a deadline; order comes from the protocol, never from a sleep: where
 * Autobahn pauses 1 s for a pong (5.19, 5.20) we wait for the pong itself, and its 1 s
 * pause in 6.4.x, which only has to show that nothing comes, is 100 ms here.
 *
 * One suite per Autobahn group, a tcase per subgroup, a loop test per case; the group is
 * the first argument, the server binary the second (or $WS_ECHO_SERVER). The server is
 * started on port 0 before the cases and stopped with SIGTERM after them (exit 0). */
#include "wsframe.h"
#include "unit.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* First bytes of frames: FIN + opcode, and without FIN for fragments. */
#define TXT 0x81
#define BIN 0x82
#define CLS 0x88
#define PNG 0x89
#define PON 0x8A
#define CNT 0x80
#define TXT_ 0x01
#define CNT_ 0x00
#define PNG_ 0x09
#define PON_ 0x0A
#define RSV(n) ((n) << 4) /* Autobahn's rsv = 1..7, RSV3 its low bit */

#define WAIT_MS 5000  /* for replies to arrive at all: only a guard against a hang */
#define CLOSE_MS 2000 /* for a close frame, and then the end of TCP: the bound we promise */
#define CHOP_MS 1     /* between the writes of a chopped step, so the server reads pieces */

/* A frame to send, or a message or pong the server must send. The payload is p (plen
 * bytes) repeated to len bytes. from < to: only payload bytes [from, to) of the frame are
 * sent, with its header if from is 0 (one frame cut across steps, Autobahn's 6.4.3). */
struct fr {
    uint8_t b0;
    const char *p; /* NULL ends a list */
    size_t plen, len;
    size_t from, to;
};
#define F(b0, s) {b0, s, sizeof(s) - 1, sizeof(s) - 1, 0, 0}
#define FILL(b0, s, n) {b0, s, sizeof(s) - 1, n, 0, 0}
#define PIECE(b0, s, from, to) {b0, s, sizeof(s) - 1, sizeof(s) - 1, from, to}

enum { ONE_WRITE = 0, FRAMEWISE = -1 };
#define MAX_FR 12
#define MAX_STEPS 3
#define MAX_WANT 10

/* A burst of frames, after an optional wait. */
struct step {
    struct fr fr[MAX_FR];
    int chop;     /* ONE_WRITE, FRAMEWISE (Autobahn's sync=True), or n bytes a write */
    size_t frag;  /* > 0: fr[0] is one message, sent in frames of frag payload bytes */
    int pause_ms; /* first wait this long, reading (Autobahn's "wait 1 s") */
    int await;    /* first wait until this many replies came */
};
#define SEND(...) {.fr = {__VA_ARGS__}}
#define CHOPPED(n, ...) {.fr = {__VA_ARGS__}, .chop = n}
#define FRAGMENTED(n, f) {.fr = {f}, .frag = n}

enum end { ECHO, ANSWER, FAIL };

struct ccase {
    const char *id, *what;
    struct step step[MAX_STEPS];
    struct fr want[MAX_WANT]; /* the server's replies before its close, in order */
    enum end end;
    int code;      /* the server's close code; 0 means 1000 */
    int fail_fast; /* n > 0: the close comes right after step n */
};
#define NOTHING {{0}}

#define TEN(b0) F(b0, "payload-0"), F(b0, "payload-1"), F(b0, "payload-2"), F(b0, "payload-3"), \
    F(b0, "payload-4"), F(b0, "payload-5"), F(b0, "payload-6"), F(b0, "payload-7"),           \
    F(b0, "payload-8"), F(b0, "payload-9")
#define HELLO "Hello, world!"
#define BYTES8 "\x00\xff\xfe\xfd\xfc\xfb\x00\xff"
#define KOSME "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5" /* "κόσμε" */
#define UTF8_HELLO "Hello-\xc2\xb5@\xc3\x9f\xc3\xb6\xc3\xa4\xc3\xbc\xc3\xa0\xc3\xa1-UTF-8!!"
/* 6.4.x: valid, then U+110000 (invalid at its 2nd byte, the 13th of the payload), then valid */
#define BAD_UTF8 KOSME "\xf4\x90\x80\x80" "edited"
#define S10 "**********"
#define S123 S10 S10 S10 S10 S10 S10 S10 S10 S10 S10 S10 S10 "***"
/* 7.7, 7.9, 7.13: a close with a code (its two bytes), and the code of the answer */
#define CLOSE_WITH(id, code, bytes, answer) \
    {id, "close with code " #code, {SEND(F(CLS, bytes))}, NOTHING, ANSWER, answer}

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

static const struct ccase cases[] = {
    /* ---- 1 framing: 1.1 text, 1.2 binary, at each length's edge ---- */
    {"1.1.1", "text, 0 bytes", {SEND(F(TXT, ""))}, {F(TXT, "")}},
    {"1.1.2", "text, 125 bytes", {SEND(FILL(TXT, "*", 125))}, {FILL(TXT, "*", 125)}},
    {"1.1.3", "text, 126 bytes", {SEND(FILL(TXT, "*", 126))}, {FILL(TXT, "*", 126)}},
    {"1.1.4", "text, 127 bytes", {SEND(FILL(TXT, "*", 127))}, {FILL(TXT, "*", 127)}},
    {"1.1.5", "text, 128 bytes", {SEND(FILL(TXT, "*", 128))}, {FILL(TXT, "*", 128)}},
    {"1.1.6", "text, 65535 bytes", {SEND(FILL(TXT, "*", 65535))}, {FILL(TXT, "*", 65535)}},
    {"1.1.7", "text, 65536 bytes", {SEND(FILL(TXT, "*", 65536))}, {FILL(TXT, "*", 65536)}},
    {"1.1.8", "text, 65536 bytes, written 997 bytes at a time",
     {CHOPPED(997, FILL(TXT, "*", 65536))}, {FILL(TXT, "*", 65536)}},
    {"1.2.1", "binary, 0 bytes", {SEND(F(BIN, ""))}, {F(BIN, "")}},
    {"1.2.2", "binary, 125 bytes", {SEND(FILL(BIN, "\xfe", 125))}, {FILL(BIN, "\xfe", 125)}},
    {"1.2.3", "binary, 126 bytes", {SEND(FILL(BIN, "\xfe", 126))}, {FILL(BIN, "\xfe", 126)}},
    {"1.2.4", "binary, 127 bytes", {SEND(FILL(BIN, "\xfe", 127))}, {FILL(BIN, "\xfe", 127)}},
    {"1.2.5", "binary, 128 bytes", {SEND(FILL(BIN, "\xfe", 128))}, {FILL(BIN, "\xfe", 128)}},
    {"1.2.6", "binary, 65535 bytes", {SEND(FILL(BIN, "\xfe", 65535))},
     {FILL(BIN, "\xfe", 65535)}},
    {"1.2.7", "binary, 65536 bytes", {SEND(FILL(BIN, "\xfe", 65536))},
     {FILL(BIN, "\xfe", 65536)}},
    {"1.2.8", "binary, 65536 bytes, written 997 bytes at a time",
     {CHOPPED(997, FILL(BIN, "\xfe", 65536))}, {FILL(BIN, "\xfe", 65536)}},

    /* ---- 2 pings and pongs ---- */
    {"2.1", "ping, empty", {SEND(F(PNG, ""))}, {F(PON, "")}},
    {"2.2", "ping, text payload", {SEND(F(PNG, HELLO))}, {F(PON, HELLO)}},
    {"2.3", "ping, binary payload", {SEND(F(PNG, BYTES8))}, {F(PON, BYTES8)}},
    {"2.4", "ping, 125 bytes", {SEND(FILL(PNG, "\xfe", 125))}, {FILL(PON, "\xfe", 125)}},
    {"2.5", "ping, 126 bytes", {SEND(FILL(PNG, "\xfe", 126))}, NOTHING, FAIL, 1002},
    {"2.6", "ping, 125 bytes, written a byte at a time", {CHOPPED(1, FILL(PNG, "\xfe", 125))},
     {FILL(PON, "\xfe", 125)}},
    {"2.7", "unsolicited pong, empty, then close", {SEND(F(PON, ""), F(CLS, "\x03\xe8"))},
     NOTHING, ANSWER, 1000},
    {"2.8", "unsolicited pong, then close",
     {SEND(F(PON, "unsolicited pong payload"), F(CLS, "\x03\xe8"))}, NOTHING, ANSWER, 1000},
    {"2.9", "unsolicited pong, then ping",
     {SEND(F(PON, "unsolicited pong payload"), F(PNG, "ping payload"))},
     {F(PON, "ping payload")}},
    {"2.10", "10 pings", {SEND(TEN(PNG))}, {TEN(PON)}},
    {"2.11", "10 pings, written a byte at a time", {CHOPPED(1, TEN(PNG))}, {TEN(PON)}},

    /* ---- 3 reserved bits, with no extension negotiated ---- */
    {"3.1", "text with RSV = 1", {SEND(F(TXT | RSV(1), HELLO))}, NOTHING, FAIL, 1002},
    {"3.2", "text, text with RSV = 2, ping",
     {SEND(F(TXT, HELLO), F(TXT | RSV(2), HELLO), F(PNG, ""))}, {F(TXT, HELLO)}, FAIL, 1002},
    {"3.3", "text, text with RSV = 3, ping, a write per frame",
     {CHOPPED(FRAMEWISE, F(TXT, HELLO), F(TXT | RSV(3), HELLO), F(PNG, ""))},
     {F(TXT, HELLO)}, FAIL, 1002},
    {"3.4", "text, text with RSV = 4, ping, a write per byte",
     {CHOPPED(1, F(TXT, HELLO), F(TXT | RSV(4), HELLO), F(PNG, ""))}, {F(TXT, HELLO)}, FAIL,
     1002},
    {"3.5", "binary with RSV = 5", {SEND(F(BIN | RSV(5), BYTES8))}, NOTHING, FAIL, 1002},
    /* Autobahn describes a ping but sends this binary frame; we send what it sends. */
    {"3.6", "binary with RSV = 6", {SEND(F(BIN | RSV(6), HELLO))}, NOTHING, FAIL, 1002},
    {"3.7", "close with RSV = 7", {SEND(F(CLS | RSV(7), ""))}, NOTHING, FAIL, 1002},

    /* ---- 4 reserved opcodes: 4.1 data (3-7), 4.2 control (11-15) ---- */
    {"4.1.1", "opcode 3", {SEND(F(0x83, ""))}, NOTHING, FAIL, 1002},
    {"4.1.2", "opcode 4 with payload", {SEND(F(0x84, "reserved opcode payload"))}, NOTHING,
     FAIL, 1002},
    {"4.1.3", "text, opcode 5, ping", {SEND(F(TXT, HELLO), F(0x85, ""), F(PNG, ""))},
     {F(TXT, HELLO)}, FAIL, 1002},
    {"4.1.4", "text, opcode 6 with payload, ping",
     {SEND(F(TXT, HELLO), F(0x86, HELLO), F(PNG, ""))}, {F(TXT, HELLO)}, FAIL, 1002},
    {"4.1.5", "text, opcode 7 with payload, ping, a write per byte",
     {CHOPPED(1, F(TXT, HELLO), F(0x87, HELLO), F(PNG, ""))}, {F(TXT, HELLO)}, FAIL, 1002},
    {"4.2.1", "opcode 11", {SEND(F(0x8B, ""))}, NOTHING, FAIL, 1002},
    {"4.2.2", "opcode 12 with payload", {SEND(F(0x8C, "reserved opcode payload"))}, NOTHING,
     FAIL, 1002},
    {"4.2.3", "text, opcode 13, ping", {SEND(F(TXT, HELLO), F(0x8D, ""), F(PNG, ""))},
     {F(TXT, HELLO)}, FAIL, 1002},
    {"4.2.4", "text, opcode 14 with payload, ping",
     {SEND(F(TXT, HELLO), F(0x8E, HELLO), F(PNG, ""))}, {F(TXT, HELLO)}, FAIL, 1002},
    {"4.2.5", "text, opcode 15 with payload, ping, a write per byte",
     {CHOPPED(1, F(TXT, HELLO), F(0x8F, HELLO), F(PNG, ""))}, {F(TXT, HELLO)}, FAIL, 1002},

    /* ---- 5 fragmentation ---- */
    {"5.1", "ping in 2 fragments", {SEND(F(PNG_, "fragment1"), F(CNT, "fragment2"))}, NOTHING,
     FAIL, 1002},
    {"5.2", "pong in 2 fragments", {SEND(F(PON_, "fragment1"), F(CNT, "fragment2"))}, NOTHING,
     FAIL, 1002},
    {"5.3", "text in 2 fragments", {SEND(F(TXT_, "fragment1"), F(CNT, "fragment2"))},
     {F(TXT, "fragment1fragment2")}},
    {"5.4", "text in 2 fragments, a write per frame",
     {CHOPPED(FRAMEWISE, F(TXT_, "fragment1"), F(CNT, "fragment2"))},
     {F(TXT, "fragment1fragment2")}},
    {"5.5", "text in 2 fragments, a write per byte",
     {CHOPPED(1, F(TXT_, "fragment1"), F(CNT, "fragment2"))}, {F(TXT, "fragment1fragment2")}},
    {"5.6", "text in 2 fragments, a ping between",
     {SEND(F(TXT_, "fragment1"), F(PNG, "ping payload"), F(CNT, "fragment2"))},
     {F(PON, "ping payload"), F(TXT, "fragment1fragment2")}},
    {"5.7", "text in 2 fragments, a ping between, a write per frame",
     {CHOPPED(FRAMEWISE, F(TXT_, "fragment1"), F(PNG, "ping payload"), F(CNT, "fragment2"))},
     {F(PON, "ping payload"), F(TXT, "fragment1fragment2")}},
    {"5.8", "text in 2 fragments, a ping between, a write per byte",
     {CHOPPED(1, F(TXT_, "fragment1"), F(PNG, "ping payload"), F(CNT, "fragment2"))},
     {F(PON, "ping payload"), F(TXT, "fragment1fragment2")}},
    {"5.9", "continuation (FIN) with nothing to continue, then text",
     {SEND(F(CNT, "non-continuation payload"), F(TXT, HELLO))}, NOTHING, FAIL, 1002},
    {"5.10", "continuation (FIN) with nothing to continue, then text, a write per frame",
     {CHOPPED(FRAMEWISE, F(CNT, "non-continuation payload"), F(TXT, HELLO))}, NOTHING, FAIL,
     1002},
    {"5.11", "continuation (FIN) with nothing to continue, then text, a write per byte",
     {CHOPPED(1, F(CNT, "non-continuation payload"), F(TXT, HELLO))}, NOTHING, FAIL, 1002},
    {"5.12", "continuation (no FIN) with nothing to continue, then text",
     {SEND(F(CNT_, "non-continuation payload"), F(TXT, HELLO))}, NOTHING, FAIL, 1002},
    {"5.13", "continuation (no FIN) with nothing to continue, then text, a write per frame",
     {CHOPPED(FRAMEWISE, F(CNT_, "non-continuation payload"), F(TXT, HELLO))}, NOTHING, FAIL,
     1002},
    {"5.14", "continuation (no FIN) with nothing to continue, then text, a write per byte",
     {CHOPPED(1, F(CNT_, "non-continuation payload"), F(TXT, HELLO))}, NOTHING, FAIL, 1002},
    {"5.15", "text in 2 fragments, then a continuation with nothing to continue",
     {SEND(F(TXT_, "fragment1"), F(CNT, "fragment2"), F(CNT_, "fragment3"),
           F(TXT, "fragment4"))},
     {F(TXT, "fragment1fragment2")}, FAIL, 1002},
    {"5.16", "twice: continuation (no FIN) with nothing to continue, text in 2 fragments",
     {SEND(F(CNT_, "fragment1"), F(TXT_, "fragment2"), F(CNT, "fragment3"),
           F(CNT_, "fragment1"), F(TXT_, "fragment2"), F(CNT, "fragment3"))},
     NOTHING, FAIL, 1002},
    {"5.17", "twice: continuation (FIN) with nothing to continue, text in 2 fragments",
     {SEND(F(CNT, "fragment1"), F(TXT_, "fragment2"), F(CNT, "fragment3"), F(CNT, "fragment1"),
           F(TXT_, "fragment2"), F(CNT, "fragment3"))},
     NOTHING, FAIL, 1002},
    {"5.18", "text in 2 fragments, both with opcode text",
     {SEND(F(TXT_, "fragment1"), F(TXT, "fragment2"))}, NOTHING, FAIL, 1002},
    /* The first pong must come before the message is complete: we wait for it (Autobahn
     * waits 1 s), then send the rest. */
    {"5.19", "text in 5 fragments, a ping after the 2nd and before the 5th",
     {SEND(F(TXT_, "fragment1"), F(CNT_, "fragment2"), F(PNG, "pongme 1!")),
      {.fr = {F(CNT_, "fragment3"), F(CNT_, "fragment4"), F(PNG, "pongme 2!"),
              F(CNT, "fragment5")},
       .await = 1}},
     {F(PON, "pongme 1!"), F(PON, "pongme 2!"),
      F(TXT, "fragment1fragment2fragment3fragment4fragment5")}},
    {"5.20", "as 5.19, a write per frame",
     {CHOPPED(FRAMEWISE, F(TXT_, "fragment1"), F(CNT_, "fragment2"), F(PNG, "pongme 1!")),
      {.fr = {F(CNT_, "fragment3"), F(CNT_, "fragment4"), F(PNG, "pongme 2!"),
              F(CNT, "fragment5")},
       .chop = FRAMEWISE,
       .await = 1}},
     {F(PON, "pongme 1!"), F(PON, "pongme 2!"),
      F(TXT, "fragment1fragment2fragment3fragment4fragment5")}},

    /* ---- 6 UTF-8: 6.1-6.4 here, 6.5-6.23 in utf8_cases below ---- */
    {"6.1.1", "text, empty", {SEND(F(TXT, ""))}, {F(TXT, "")}},
    {"6.1.2", "text in 3 empty fragments", {SEND(F(TXT_, ""), F(CNT_, ""), F(CNT, ""))},
     {F(TXT, "")}},
    {"6.1.3", "text in 3 fragments, only the middle one not empty",
     {SEND(F(TXT_, ""), F(CNT_, "middle frame payload"), F(CNT, ""))},
     {F(TXT, "middle frame payload")}},
    {"6.2.1", "valid UTF-8 text", {SEND(F(TXT, UTF8_HELLO))}, {F(TXT, UTF8_HELLO)}},
    {"6.2.2", "valid UTF-8 text in 2 fragments, cut between code points",
     {SEND(F(TXT_, "Hello-\xc2\xb5@\xc3\x9f\xc3\xb6\xc3\xa4"),
           F(CNT, "\xc3\xbc\xc3\xa0\xc3\xa1-UTF-8!!"))},
     {F(TXT, UTF8_HELLO)}},
    {"6.2.3", "valid UTF-8 text in 1-byte fragments", {FRAGMENTED(1, F(TXT, UTF8_HELLO))},
     {F(TXT, UTF8_HELLO)}},
    {"6.2.4", "valid UTF-8 text (kosme) in 1-byte fragments", {FRAGMENTED(1, F(TXT, KOSME))},
     {F(TXT, KOSME)}},
    {"6.3.1", "invalid UTF-8 text (a surrogate)", {SEND(F(TXT, KOSME "\xed\xa0\x80" "edited"))},
     NOTHING, FAIL, 1007},
    {"6.3.2", "invalid UTF-8 text (a surrogate) in 1-byte fragments",
     {FRAGMENTED(1, F(TXT, KOSME "\xed\xa0\x80" "edited"))}, NOTHING, FAIL, 1007},
    {"6.4.1", "fail fast: 3 fragments, the 2nd has U+110000",
     {SEND(F(TXT_, KOSME)), {.fr = {F(CNT_, "\xf4\x90\x80\x80")}, .pause_ms = 100},
      SEND(F(CNT, "edited"))},
     NOTHING, FAIL, 1007, 2},
    {"6.4.2", "fail fast: 3 fragments, the 2nd only the byte that makes U+110000 invalid",
     {SEND(F(TXT_, KOSME "\xf4")), {.fr = {F(CNT_, "\x90")}, .pause_ms = 100},
      SEND(F(CNT, "\x80\x80" "edited"))},
     NOTHING, FAIL, 1007, 2},
    {"6.4.3", "fail fast: one frame in 3 writes, the 2nd has U+110000",
     {SEND(PIECE(TXT, BAD_UTF8, 0, 11)), {.fr = {PIECE(TXT, BAD_UTF8, 11, 15)}, .pause_ms = 100},
      SEND(PIECE(TXT, BAD_UTF8, 15, 21))},
     NOTHING, FAIL, 1007, 2},
    {"6.4.4", "fail fast: one frame in 3 writes, the 2nd only the byte that proves it",
     {SEND(PIECE(TXT, BAD_UTF8, 0, 12)), {.fr = {PIECE(TXT, BAD_UTF8, 12, 13)}, .pause_ms = 100},
      SEND(PIECE(TXT, BAD_UTF8, 13, 21))},
     NOTHING, FAIL, 1007, 2},

    /* ---- 7 close handling ---- */
    {"7.1.1", "text, then close", {SEND(F(TXT, "Hello World!"))}, {F(TXT, "Hello World!")}},
    {"7.1.2", "close twice", {SEND(F(CLS, "\x03\xe8"), F(CLS, ""))}, NOTHING, ANSWER, 1000},
    {"7.1.3", "ping after close", {SEND(F(CLS, "\x03\xe8"), F(PNG, ""))}, NOTHING, ANSWER, 1000},
    {"7.1.4", "text after close", {SEND(F(CLS, "\x03\xe8"), F(TXT, "Hello World!"))}, NOTHING,
     ANSWER, 1000},
    {"7.1.5", "fragment, close, last fragment",
     {SEND(F(TXT_, "fragment1"), F(CLS, "\x03\xe8"), F(CNT, "fragment2"))}, NOTHING, ANSWER,
     1000},
    /* Informational in Autobahn; ours reads frames in order and echoes both first. */
    {"7.1.6", "256 KiB text, text, close, ping",
     {SEND(FILL(TXT, "BAsd7&jh23", 256 * 1024), F(TXT, "Hello World!"), F(CLS, "\x03\xe8"),
           F(PNG, ""))},
     {FILL(TXT, "BAsd7&jh23", 256 * 1024), F(TXT, "Hello World!")}, ANSWER, 1000},
    /* An empty close is answered with an empty one (1005: no code, in the parser's terms). */
    {"7.3.1", "close, empty", {SEND(F(CLS, ""))}, NOTHING, ANSWER, 1005},
    {"7.3.2", "close, 1 byte", {SEND(F(CLS, "a"))}, NOTHING, ANSWER, 1002},
    {"7.3.3", "close 1000", {SEND(F(CLS, "\x03\xe8"))}, NOTHING, ANSWER, 1000},
    {"7.3.4", "close 1000 with a reason", {SEND(F(CLS, "\x03\xe8" "Hello World!"))}, NOTHING,
     ANSWER, 1000},
    {"7.3.5", "close 1000 with a 123-byte reason", {SEND(F(CLS, "\x03\xe8" S123))}, NOTHING,
     ANSWER, 1000},
    {"7.3.6", "close 1000 with a 124-byte reason (126 bytes)", {SEND(F(CLS, "\x03\xe8" S123 "*"))},
     NOTHING, ANSWER, 1002},
    {"7.5.1", "close 1000 with a reason not UTF-8",
     {SEND(F(CLS, "\x03\xe8" KOSME "\xed\xa0\x80" "edited"))}, NOTHING, ANSWER, 1007},
    CLOSE_WITH("7.7.1", 1000, "\x03\xe8", 1000),
    CLOSE_WITH("7.7.2", 1001, "\x03\xe9", 1001),
    CLOSE_WITH("7.7.3", 1002, "\x03\xea", 1002),
    CLOSE_WITH("7.7.4", 1003, "\x03\xeb", 1003),
    CLOSE_WITH("7.7.5", 1007, "\x03\xef", 1007),
    CLOSE_WITH("7.7.6", 1008, "\x03\xf0", 1008),
    CLOSE_WITH("7.7.7", 1009, "\x03\xf1", 1009),
    CLOSE_WITH("7.7.8", 1010, "\x03\xf2", 1010),
    CLOSE_WITH("7.7.9", 1011, "\x03\xf3", 1011),
    CLOSE_WITH("7.7.10", 3000, "\x0b\xb8", 3000),
    CLOSE_WITH("7.7.11", 3999, "\x0f\x9f", 3999),
    CLOSE_WITH("7.7.12", 4000, "\x0f\xa0", 4000),
    CLOSE_WITH("7.7.13", 4999, "\x13\x87", 4999),
    CLOSE_WITH("7.9.1", 0, "\x00\x00", 1002),
    CLOSE_WITH("7.9.2", 999, "\x03\xe7", 1002),
    CLOSE_WITH("7.9.3", 1004, "\x03\xec", 1002),
    CLOSE_WITH("7.9.4", 1005, "\x03\xed", 1002),
    CLOSE_WITH("7.9.5", 1006, "\x03\xee", 1002),
    CLOSE_WITH("7.9.6", 1016, "\x03\xf8", 1002),
    CLOSE_WITH("7.9.7", 1100, "\x04\x4c", 1002),
    CLOSE_WITH("7.9.8", 2000, "\x07\xd0", 1002),
    CLOSE_WITH("7.9.9", 2999, "\x0b\xb7", 1002),
    /* Informational in Autobahn; ours refuses codes outside 1000-4999 like 7.9's. */
    CLOSE_WITH("7.13.1", 5000, "\x13\x88", 1002),
    CLOSE_WITH("7.13.2", 65535, "\xff\xff", 1002),

    /* ---- 10 misc: a message in many frames (Autobahn's autoFragmentSize = 1300) ---- */
    {"10.1.1", "65536-byte text in frames of 1300 bytes",
     {FRAGMENTED(1300, FILL(TXT, "*", 65536))}, {FILL(TXT, "*", 65536)}},
    {"10.1.1 (ours)", "65536-byte text in frames of 1 byte",
     {FRAGMENTED(1, FILL(TXT, "*", 65536))}, {FILL(TXT, "*", 65536)}},
    {"10.1.1 (ours)", "65536-byte text in frames of 125 bytes",
     {FRAGMENTED(125, FILL(TXT, "*", 65536))}, {FILL(TXT, "*", 65536)}},
    {"10.1.1 (ours)", "65536-byte text in frames of 126 bytes",
     {FRAGMENTED(126, FILL(TXT, "*", 65536))}, {FILL(TXT, "*", 65536)}},
    {"10.1.1 (ours)", "65536-byte text in frames of 65535 bytes, written 997 at a time",
     {{.fr = {FILL(TXT, "*", 65536)}, .frag = 65535, .chop = 997}}, {FILL(TXT, "*", 65536)}},
};

#pragma GCC diagnostic pop

/* 6.5-6.23: one text frame each, from Markus Kuhn's UTF-8 decoder test as Autobahn
 * arranges it (case6_x_x.py): valid text is echoed, the rest fails with 1007. */
struct utf8_case {
    const char *id;
    bool valid;
    const char *p;
    size_t len;
};
#define U(id, valid, s) {id, valid, s, sizeof(s) - 1}

static const struct utf8_case utf8_cases[] = {
    /* 6.5 Some valid UTF-8 sequences */
    U("6.5.1", true, "hello$world"),
    U("6.5.2", true, "hello\xc2\xa2world"),
    U("6.5.3", true, "hello\xe2\x82\xacworld"),
    U("6.5.4", true, "hello\xf0\xa4\xad\xa2world"),
    U("6.5.5", true, "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5"),
    /* 6.6 All prefixes of a valid UTF-8 string that contains multi-byte code points */
    U("6.6.1", false, "\xce"),
    U("6.6.2", true, "\xce\xba"),
    U("6.6.3", false, "\xce\xba\xe1"),
    U("6.6.4", false, "\xce\xba\xe1\xbd"),
    U("6.6.5", true, "\xce\xba\xe1\xbd\xb9"),
    U("6.6.6", false, "\xce\xba\xe1\xbd\xb9\xcf"),
    U("6.6.7", true, "\xce\xba\xe1\xbd\xb9\xcf\x83"),
    U("6.6.8", false, "\xce\xba\xe1\xbd\xb9\xcf\x83\xce"),
    U("6.6.9", true, "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc"),
    U("6.6.10", false, "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce"),
    U("6.6.11", true, "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5"),
    /* 6.7 First possible sequence of a certain length */
    U("6.7.1", true, "\x00"),
    U("6.7.2", true, "\xc2\x80"),
    U("6.7.3", true, "\xe0\xa0\x80"),
    U("6.7.4", true, "\xf0\x90\x80\x80"),
    /* 6.8 First possible sequence length 5/6 (invalid codepoints) */
    U("6.8.1", false, "\xf8\x88\x80\x80\x80"),
    U("6.8.2", false, "\xfc\x84\x80\x80\x80\x80"),
    /* 6.9 Last possible sequence of a certain length */
    U("6.9.1", true, "\x7f"),
    U("6.9.2", true, "\xdf\xbf"),
    U("6.9.3", true, "\xef\xbf\xbf"),
    U("6.9.4", true, "\xf4\x8f\xbf\xbf"),
    /* 6.10 Last possible sequence length 4/5/6 (invalid codepoints) */
    U("6.10.1", false, "\xf7\xbf\xbf\xbf"),
    U("6.10.2", false, "\xfb\xbf\xbf\xbf\xbf"),
    U("6.10.3", false, "\xfd\xbf\xbf\xbf\xbf\xbf"),
    /* 6.11 Other boundary conditions */
    U("6.11.1", true, "\xed\x9f\xbf"),
    U("6.11.2", true, "\xee\x80\x80"),
    U("6.11.3", true, "\xef\xbf\xbd"),
    U("6.11.4", true, "\xf4\x8f\xbf\xbf"),
    U("6.11.5", false, "\xf4\x90\x80\x80"),
    /* 6.12 Unexpected continuation bytes */
    U("6.12.1", false, "\x80"),
    U("6.12.2", false, "\xbf"),
    U("6.12.3", false, "\x80\xbf"),
    U("6.12.4", false, "\x80\xbf\x80"),
    U("6.12.5", false, "\x80\xbf\x80\xbf"),
    U("6.12.6", false, "\x80\xbf\x80\xbf\x80"),
    U("6.12.7", false, "\x80\xbf\x80\xbf\x80\xbf"),
    U("6.12.8", false, "\x80\x81\x82\x83\x84\x85\x86\x87\x88\x89\x8a\x8b\x8c\x8d\x8e\x8f"
     "\x90\x91\x92\x93\x94\x95\x96\x97\x98\x99\x9a\x9b\x9c\x9d\x9e\x9f"
     "\xa0\xa1\xa2\xa3\xa4\xa5\xa6\xa7\xa8\xa9\xaa\xab\xac\xad\xae\xaf"
     "\xb0\xb1\xb2\xb3\xb4\xb5\xb6\xb7\xb8\xb9\xba\xbb\xbc\xbd\xbe"),
    /* 6.13 Lonely start characters */
    U("6.13.1", false, "\xc0 \xc1 \xc2 \xc3 \xc4 \xc5 \xc6 \xc7 "
     "\xc8 \xc9 \xca \xcb \xcc \xcd \xce \xcf "
     "\xd0 \xd1 \xd2 \xd3 \xd4 \xd5 \xd6 \xd7 "
     "\xd8 \xd9 \xda \xdb \xdc \xdd \xde "),
    U("6.13.2", false, "\xe0 \xe1 \xe2 \xe3 \xe4 \xe5 \xe6 \xe7 "
     "\xe8 \xe9 \xea \xeb \xec \xed \xee "),
    U("6.13.3", false, "\xf0 \xf1 \xf2 \xf3 \xf4 \xf5 \xf6 "),
    U("6.13.4", false, "\xf8 \xf9 \xfa "),
    U("6.13.5", false, "\xfc "),
    /* 6.14 Sequences with last continuation byte missing */
    U("6.14.1", false, "\xc0"),
    U("6.14.2", false, "\xe0\x80"),
    U("6.14.3", false, "\xf0\x80\x80"),
    U("6.14.4", false, "\xf8\x80\x80\x80"),
    U("6.14.5", false, "\xfc\x80\x80\x80\x80"),
    U("6.14.6", false, "\xdf"),
    U("6.14.7", false, "\xef\xbf"),
    U("6.14.8", false, "\xf7\xbf\xbf"),
    U("6.14.9", false, "\xfb\xbf\xbf\xbf"),
    U("6.14.10", false, "\xfd\xbf\xbf\xbf\xbf"),
    /* 6.15 Concatenation of incomplete sequences */
    U("6.15.1", false, "\xc0\xe0\x80\xf0\x80\x80\xf8\x80\x80\x80\xfc\x80\x80\x80\x80\xdf"
     "\xef\xbf\xf7\xbf\xbf\xfb\xbf\xbf\xbf\xfd\xbf\xbf\xbf\xbf"),
    /* 6.16 Impossible bytes */
    U("6.16.1", false, "\xfe"),
    U("6.16.2", false, "\xff"),
    U("6.16.3", false, "\xfe\xfe\xff\xff"),
    /* 6.17 Examples of an overlong ASCII character */
    U("6.17.1", false, "\xc0\xaf"),
    U("6.17.2", false, "\xe0\x80\xaf"),
    U("6.17.3", false, "\xf0\x80\x80\xaf"),
    U("6.17.4", false, "\xf8\x80\x80\x80\xaf"),
    U("6.17.5", false, "\xfc\x80\x80\x80\x80\xaf"),
    /* 6.18 Maximum overlong sequences */
    U("6.18.1", false, "\xc1\xbf"),
    U("6.18.2", false, "\xe0\x9f\xbf"),
    U("6.18.3", false, "\xf0\x8f\xbf\xbf"),
    U("6.18.4", false, "\xf8\x87\xbf\xbf\xbf"),
    U("6.18.5", false, "\xfc\x83\xbf\xbf\xbf\xbf"),
    /* 6.19 Overlong representation of the NUL character */
    U("6.19.1", false, "\xc0\x80"),
    U("6.19.2", false, "\xe0\x80\x80"),
    U("6.19.3", false, "\xf0\x80\x80\x80"),
    U("6.19.4", false, "\xf8\x80\x80\x80\x80"),
    U("6.19.5", false, "\xfc\x80\x80\x80\x80\x80"),
    /* 6.20 Single UTF-16 surrogates */
    U("6.20.1", false, "\xed\xa0\x80"),
    U("6.20.2", false, "\xed\xad\xbf"),
    U("6.20.3", false, "\xed\xae\x80"),
    U("6.20.4", false, "\xed\xaf\xbf"),
    U("6.20.5", false, "\xed\xb0\x80"),
    U("6.20.6", false, "\xed\xbe\x80"),
    U("6.20.7", false, "\xed\xbf\xbf"),
    /* 6.21 Paired UTF-16 surrogates */
    U("6.21.1", false, "\xed\xa0\x80\xed\xb0\x80"),
    U("6.21.2", false, "\xed\xa0\x80\xed\xbf\xbf"),
    U("6.21.3", false, "\xed\xad\xbf\xed\xb0\x80"),
    U("6.21.4", false, "\xed\xad\xbf\xed\xbf\xbf"),
    U("6.21.5", false, "\xed\xae\x80\xed\xb0\x80"),
    U("6.21.6", false, "\xed\xae\x80\xed\xbf\xbf"),
    U("6.21.7", false, "\xed\xaf\xbf\xed\xb0\x80"),
    U("6.21.8", false, "\xed\xaf\xbf\xed\xbf\xbf"),
    /* 6.22 Non-character code points (valid UTF-8) */
    U("6.22.1", true, "\xef\xbf\xbe"),
    U("6.22.2", true, "\xef\xbf\xbf"),
    U("6.22.3", true, "\xf0\x9f\xbf\xbe"),
    U("6.22.4", true, "\xf0\x9f\xbf\xbf"),
    U("6.22.5", true, "\xf0\xaf\xbf\xbe"),
    U("6.22.6", true, "\xf0\xaf\xbf\xbf"),
    U("6.22.7", true, "\xf0\xbf\xbf\xbe"),
    U("6.22.8", true, "\xf0\xbf\xbf\xbf"),
    U("6.22.9", true, "\xf1\x8f\xbf\xbe"),
    U("6.22.10", true, "\xf1\x8f\xbf\xbf"),
    U("6.22.11", true, "\xf1\x9f\xbf\xbe"),
    U("6.22.12", true, "\xf1\x9f\xbf\xbf"),
    U("6.22.13", true, "\xf1\xaf\xbf\xbe"),
    U("6.22.14", true, "\xf1\xaf\xbf\xbf"),
    U("6.22.15", true, "\xf1\xbf\xbf\xbe"),
    U("6.22.16", true, "\xf1\xbf\xbf\xbf"),
    U("6.22.17", true, "\xf2\x8f\xbf\xbe"),
    U("6.22.18", true, "\xf2\x8f\xbf\xbf"),
    U("6.22.19", true, "\xf2\x9f\xbf\xbe"),
    U("6.22.20", true, "\xf2\x9f\xbf\xbf"),
    U("6.22.21", true, "\xf2\xaf\xbf\xbe"),
    U("6.22.22", true, "\xf2\xaf\xbf\xbf"),
    U("6.22.23", true, "\xf2\xbf\xbf\xbe"),
    U("6.22.24", true, "\xf2\xbf\xbf\xbf"),
    U("6.22.25", true, "\xf3\x8f\xbf\xbe"),
    U("6.22.26", true, "\xf3\x8f\xbf\xbf"),
    U("6.22.27", true, "\xf3\x9f\xbf\xbe"),
    U("6.22.28", true, "\xf3\x9f\xbf\xbf"),
    U("6.22.29", true, "\xf3\xaf\xbf\xbe"),
    U("6.22.30", true, "\xf3\xaf\xbf\xbf"),
    U("6.22.31", true, "\xf3\xbf\xbf\xbe"),
    U("6.22.32", true, "\xf3\xbf\xbf\xbf"),
    U("6.22.33", true, "\xf4\x8f\xbf\xbe"),
    U("6.22.34", true, "\xf4\x8f\xbf\xbf"),
    /* 6.23 Unicode specials (i.e. replacement char) */
    U("6.23.1", true, "\xef\xbf\xb9"),
    U("6.23.2", true, "\xef\xbf\xba"),
    U("6.23.3", true, "\xef\xbf\xbb"),
    U("6.23.4", true, "\xef\xbf\xbc"),
    U("6.23.5", true, "\xef\xbf\xbd"),
    U("6.23.6", true, "\xef\xbf\xbe"),
    U("6.23.7", true, "\xef\xbf\xbf"),
};

/* ---- the server under test ---- */

static const char *server_path;
static pid_t server_pid;
static int server_port;

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static void sleep_ms(int ms)
{
    struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&t, NULL);
}

/* Starts the server on a free port. Its stdout goes to a temporary file, not a pipe, so
 * that whatever it prints later never blocks it; we read its banner from there. */
static void server_start(void)
{
    FILE *out = tmpfile();
    if (!out) {
        perror("tmpfile");
        exit(EXIT_FAILURE);
    }
    server_pid = fork();
    if (server_pid == 0) {
        dup2(fileno(out), STDOUT_FILENO);
        execl(server_path, server_path, "--address", "127.0.0.1", "--port", "0", (char *)NULL);
        perror(server_path);
        _exit(127);
    }
    static const char banner[] = "listening on ws://127.0.0.1:";
    char line[256] = "";
    for (double end = now_ms() + 10000; now_ms() < end; sleep_ms(10)) {
        ssize_t n = pread(fileno(out), line, sizeof line - 1, 0);
        line[n > 0 ? n : 0] = '\0';
        char *at = strstr(line, banner);
        if (at && strchr(at, '\n')) {
            server_port = atoi(at + sizeof banner - 1);
            break;
        }
        if (waitpid(server_pid, NULL, WNOHANG) == server_pid)
            break;
    }
    fclose(out);
    if (server_port <= 0) {
        fprintf(stderr, "%s: no \"%s<port>/\" line on stdout within 10 s (got \"%s\")\n",
                server_path, banner, line);
        kill(server_pid, SIGKILL);
        exit(EXIT_FAILURE);
    }
}

/* Stops the server with SIGTERM; it must exit with status 0 within 5 s. */
static bool server_stop(void)
{
    kill(server_pid, SIGTERM);
    int status;
    for (double end = now_ms() + 5000; now_ms() < end; sleep_ms(10)) {
        if (waitpid(server_pid, &status, WNOHANG) == server_pid) {
            if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
                return true;
            fprintf(stderr, "%s: after SIGTERM: %s %d, want exit 0\n", server_path,
                    WIFEXITED(status) ? "exit" : "signal",
                    WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
            return false;
        }
    }
    fprintf(stderr, "%s: still running 5 s after SIGTERM\n", server_path);
    kill(server_pid, SIGKILL);
    waitpid(server_pid, NULL, 0);
    return false;
}

/* ---- one client connection: writes queued with their pauses, replies parsed ---- */

#define MAX_EV 32

struct event {
    uint8_t opcode;
    uint8_t *data;
    size_t len;
};

struct conn {
    int fd;
    struct wsframe_parser parser;
    uint8_t *out;           /* every byte queued so far */
    size_t out_len, out_cap, sent;
    size_t *chunk_end;      /* out[.., chunk_end[i]) is the i-th write */
    int *chunk_pause;       /* ms to wait before it */
    size_t nchunks, chunk_cap, next_chunk;
    double due;             /* when the next chunk may go */
    bool write_failed;
    size_t our_close_end;   /* 0, or where our first close frame ends in out */
    int step;               /* the step being sent, from 1 */
    uint8_t nkey;           /* varies the mask key from frame to frame */

    struct event ev[MAX_EV];
    int nev;
    bool closed;            /* the server's close frame came */
    int close_code, close_step;
    bool close_after_ours;  /* ... after all of our close frame was written */
    bool after_close;       /* bytes came after it */
    int error;              /* the server sent a frame the parser refuses */
    bool eof, reset;
};

/* A frame's payload, p repeated to len bytes (malloc'd). */
static uint8_t *payload(const struct fr *f)
{
    uint8_t *p = malloc(f->len + 1);
    for (size_t i = 0; i < f->len; i++)
        p[i] = (uint8_t)f->p[i % f->plen];
    return p;
}

static void out_reserve(struct conn *c, size_t more)
{
    if (c->out_len + more > c->out_cap) {
        c->out_cap = (c->out_len + more) * 2;
        c->out = realloc(c->out, c->out_cap);
    }
}

/* Ends a write at the current end of out, to go pause_ms after the one before. */
static void cut(struct conn *c, int pause_ms)
{
    if (c->nchunks && c->chunk_end[c->nchunks - 1] == c->out_len)
        return;
    if (c->nchunks == c->chunk_cap) {
        c->chunk_cap = c->chunk_cap ? 2 * c->chunk_cap : 64;
        c->chunk_end = realloc(c->chunk_end, c->chunk_cap * sizeof *c->chunk_end);
        c->chunk_pause = realloc(c->chunk_pause, c->chunk_cap * sizeof *c->chunk_pause);
    }
    c->chunk_end[c->nchunks] = c->out_len;
    c->chunk_pause[c->nchunks++] = pause_ms;
}

/* Appends a frame (b0 as given, so RSV bits and any opcode), or the piece [from, to) of
 * its payload, masked with a key of its own. */
static void put_frame(struct conn *c, uint8_t b0, const uint8_t *data, size_t len, size_t from,
                      size_t to)
{
    uint8_t key[4] = {0x37, 0xfa, 0x21, 0x3d}; /* RFC 6455 §5.7's; the same for each piece */
    if (from >= to)
        key[3] = (uint8_t)(key[3] + c->nkey++);
    size_t size = wsframe_build(NULL, 0, true, 0, NULL, len, key);
    out_reserve(c, size);
    uint8_t *at = c->out + c->out_len;
    wsframe_build(at, size, b0 & 0x80, b0 & 0x0F, data, len, key);
    at[0] = b0;
    size_t head = size - len, begin = 0, end = size;
    if (from < to) {
        begin = from ? head + from : 0;
        end = head + to;
        memmove(at, at + begin, end - begin);
    }
    c->out_len += end - begin;
    if (b0 == CLS && !c->our_close_end)
        c->our_close_end = c->out_len;
}

/* Queues a step's frames in the writes it asks for. */
static void queue_step(struct conn *c, const struct step *s)
{
    size_t first = c->nchunks;
    int pause = s->chop == ONE_WRITE ? 0 : CHOP_MS;
    for (int i = 0; i < MAX_FR && s->fr[i].p; i++) {
        const struct fr *f = &s->fr[i];
        uint8_t *p = payload(f);
        if (s->frag) {
            for (size_t at = 0; at == 0 || at < f->len; at += s->frag) {
                size_t n = f->len - at < s->frag ? f->len - at : s->frag;
                uint8_t b0 = (uint8_t)((at ? 0 : f->b0 & 0x0F) | (at + n == f->len ? 0x80 : 0));
                put_frame(c, b0, p + at, n, 0, 0);
                if (s->chop == FRAMEWISE)
                    cut(c, pause);
            }
        } else {
            put_frame(c, f->b0, p, f->len, f->from, f->to);
        }
        free(p);
        if (s->chop == FRAMEWISE)
            cut(c, pause);
    }
    if (s->chop > 0) {
        size_t start = c->nchunks ? c->chunk_end[c->nchunks - 1] : 0, end = c->out_len;
        for (size_t at = start + (size_t)s->chop; at < end; at += (size_t)s->chop) {
            c->out_len = at;
            cut(c, pause);
        }
        c->out_len = end;
    }
    cut(c, pause);
    c->chunk_pause[first] = 0; /* the step's own pause was taken before it */
}

/* Once the server's close came, the data not yet written never goes, as a client
 * would stop; only a close of ours may follow. */
static void drop_unsent(struct conn *c)
{
    c->out_len = c->sent;
    c->nchunks = c->next_chunk;
    cut(c, 0);
}

static void record(struct conn *c, const struct wsframe_message *m)
{
    if (c->closed) {
        c->after_close = true;
        return;
    }
    if (m->opcode == WSFRAME_CLOSE) {
        c->closed = true;
        c->close_code = m->close_code;
        c->close_step = c->step;
        c->close_after_ours = c->our_close_end && c->sent >= c->our_close_end;
        drop_unsent(c);
        return;
    }
    if (c->nev < MAX_EV) {
        struct event *e = &c->ev[c->nev];
        e->opcode = m->opcode;
        e->data = malloc(m->len + 1);
        if (m->len)
            memcpy(e->data, m->data, m->len);
        e->len = m->len;
    }
    c->nev++;
}

/* Parses what the server sent. */
static void feed(struct conn *c, uint8_t *buf, size_t len)
{
    if (c->closed && len)
        c->after_close = true;
    for (size_t at = 0; at < len && !c->error && !c->closed;) {
        struct wsframe_message m;
        size_t used;
        int rc = wsframe_next(&c->parser, buf + at, len - at, &used, &m);
        at += used;
        if (rc < 0)
            c->error = rc;
        else if (rc == WSFRAME_MORE)
            break;
        else
            record(c, &m);
        if (c->closed && at < len)
            c->after_close = true;
    }
}

static void conn_read(struct conn *c)
{
    static uint8_t buf[1 << 16];
    ssize_t n = recv(c->fd, buf, sizeof buf, 0);
    if (n > 0)
        feed(c, buf, (size_t)n);
    else if (n == 0)
        c->eof = true;
    else if (errno != EAGAIN && errno != EINTR)
        c->eof = c->reset = true;
}

/* Writes the current chunk if it is due; a write the server refuses ends the writing. */
static void conn_write(struct conn *c)
{
    if (c->next_chunk >= c->nchunks || c->write_failed || now_ms() < c->due)
        return;
    size_t end = c->chunk_end[c->next_chunk];
    ssize_t n = send(c->fd, c->out + c->sent, end - c->sent, MSG_NOSIGNAL);
    if (n < 0) {
        if (errno != EAGAIN && errno != EINTR)
            c->write_failed = true;
        return;
    }
    c->sent += (size_t)n;
    if (c->sent == end && ++c->next_chunk < c->nchunks)
        c->due = now_ms() + c->chunk_pause[c->next_chunk];
}

static bool all_written(const struct conn *c)
{
    return c->next_chunk >= c->nchunks || c->write_failed;
}

typedef bool until_fn(const struct conn *c, int arg);

static bool written(const struct conn *c, int arg)
{
    (void)arg;
    return all_written(c) || c->eof || c->error;
}

static bool got_events(const struct conn *c, int n)
{
    return c->nev >= n || c->closed || c->eof || c->error;
}

static bool got_close(const struct conn *c, int arg)
{
    (void)arg;
    return c->closed || c->eof || c->error;
}

static bool got_eof(const struct conn *c, int arg)
{
    (void)arg;
    return c->eof || c->error;
}

/* Writes and reads until `until` holds or ms pass; returns whether it holds. */
static bool conn_run(struct conn *c, until_fn *until, int arg, int ms)
{
    double deadline = now_ms() + ms;
    for (;;) {
        if (until(c, arg))
            return true;
        double t = now_ms();
        if (t >= deadline)
            return false;
        bool writing = !all_written(c);
        double wake = deadline;
        struct pollfd p = {c->fd, c->eof ? 0 : POLLIN, 0};
        if (writing && t >= c->due)
            p.events |= POLLOUT;
        else if (writing && c->due < wake)
            wake = c->due;
        poll(&p, 1, (int)(wake - t) + 1);
        if (p.revents & (POLLIN | POLLHUP | POLLERR))
            conn_read(c);
        if (p.revents & (POLLOUT | POLLERR))
            conn_write(c);
    }
}

/* Connects and opens the WebSocket with the RFC's sample key (§1.3); bytes after the
 * 101's head are the first frames. */
static void conn_open(struct conn *c, const char *id)
{
    memset(c, 0, sizeof *c);
    wsframe_init(&c->parser, WSFRAME_CLIENT, 64 << 20);
    c->fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)server_port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_msg(connect(c->fd, (struct sockaddr *)&a, sizeof a) == 0, "%s: connect: %s", id,
                  strerror(errno));
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    char req[256];
    int n = snprintf(req, sizeof req,
                     "GET / HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\n"
                     "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                     "Sec-WebSocket-Version: 13\r\n\r\n",
                     server_port);
    ck_assert_msg(send(c->fd, req, (size_t)n, MSG_NOSIGNAL) == n, "%s: handshake: %s", id,
                  strerror(errno));
    fcntl(c->fd, F_SETFL, O_NONBLOCK);
    char head[4096];
    size_t len = 0;
    char *end = NULL;
    for (double deadline = now_ms() + WAIT_MS; !end && len < sizeof head - 1;) {
        struct pollfd p = {c->fd, POLLIN, 0};
        int left = (int)(deadline - now_ms());
        ck_assert_msg(left > 0 && poll(&p, 1, left) == 1, "%s: no handshake answer in %d ms",
                      id, WAIT_MS);
        ssize_t r = recv(c->fd, head + len, sizeof head - 1 - len, 0);
        ck_assert_msg(r > 0 || (r < 0 && errno == EAGAIN), "%s: handshake: connection closed",
                      id);
        len += r > 0 ? (size_t)r : 0;
        head[len] = '\0';
        end = strstr(head, "\r\n\r\n");
    }
    ck_assert_msg(end, "%s: handshake: no end of head in %zu bytes", id, len);
    static const char accept[] = "\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n";
    ck_assert_msg(strncmp(head, "HTTP/1.1 101 ", 13) == 0 && strcasestr(head, accept),
                  "%s: handshake refused: %.*s", id, (int)(end - head), head);
    size_t rest = len - (size_t)(end + 4 - head);
    feed(c, (uint8_t *)end + 4, rest);
}

static void conn_free(struct conn *c)
{
    close(c->fd);
    wsframe_free(&c->parser);
    for (int i = 0; i < c->nev && i < MAX_EV; i++)
        free(c->ev[i].data);
    free(c->out);
    free(c->chunk_end);
    free(c->chunk_pause);
}

/* ---- judging ---- */

/* Appends "T:bytes" (printable as is, else \xHH; past 40 bytes, only the length) if
 * there is room for it. */
static void describe(char *s, size_t cap, uint8_t opcode, const uint8_t *d, size_t len)
{
    static const char *const names[16] = {[1] = "T", [2] = "B", [9] = "PING", [10] = "PONG"};
    size_t at = strlen(s);
    if (at + 200 > cap)
        return;
    at += (size_t)snprintf(s + at, cap - at, "%s%s:", at ? " " : "",
                           names[opcode & 0x0F] ? names[opcode & 0x0F] : "?");
    for (size_t i = 0; i < len && i < 40 && at + 5 < cap; i++)
        at += (size_t)(d[i] >= 0x20 && d[i] < 0x7f ? snprintf(s + at, cap - at, "%c", d[i])
                                                   : snprintf(s + at, cap - at, "\\x%02x", d[i]));
    if (len > 40 && at < cap)
        snprintf(s + at, cap - at, "...(%zu bytes)", len);
}

static int nwant(const struct ccase *k)
{
    int n = 0;
    while (n < MAX_WANT && k->want[n].p)
        n++;
    return n;
}

/* Whether the replies are exactly the wanted ones; describes both if not. */
static bool same_events(const struct ccase *k, const struct conn *c, char *got, char *want,
                        size_t cap)
{
    bool same = c->nev == nwant(k);
    got[0] = want[0] = '\0';
    for (int i = 0; i < nwant(k); i++) {
        uint8_t *p = payload(&k->want[i]);
        describe(want, cap, k->want[i].b0, p, k->want[i].len);
        if (same && (c->ev[i].opcode != (k->want[i].b0 & 0x0F) || c->ev[i].len != k->want[i].len ||
                     memcmp(c->ev[i].data, p, c->ev[i].len) != 0))
            same = false;
        free(p);
    }
    for (int i = 0; i < c->nev && i < MAX_EV; i++)
        describe(got, cap, c->ev[i].opcode, c->ev[i].data, c->ev[i].len);
    return same;
}

static void judge(const struct ccase *k, const struct conn *c)
{
    static char got[4096], want[4096];
    const char *id = k->id;
    int code = k->code ? k->code : 1000;
    ck_assert_msg(!c->error, "%s: the server sent a frame a client must refuse: %s", id,
                  wsframe_strerror(c->error));
    ck_assert_msg(same_events(k, c, got, want, sizeof got),
                  "%s (%s): the server sent [%s], want [%s]%s", id, k->what, got, want,
                  c->closed ? ", then its close" : "");
    ck_assert_msg(c->closed, "%s (%s): no close frame from the server within %d ms%s", id,
                  k->what, CLOSE_MS, c->eof ? " (it closed TCP without one)" : "");
    ck_assert_msg(c->close_code == code, "%s (%s): close code %d, want %d", id, k->what,
                  c->close_code, code);
    if (k->end != FAIL)
        ck_assert_msg(c->close_after_ours, "%s (%s): the server closed (%d) before our close",
                      id, k->what, c->close_code);
    if (k->fail_fast)
        ck_assert_msg(c->close_step == k->fail_fast,
                      "%s (%s): the close came while step %d was sent, want right after step %d",
                      id, k->what, c->close_step, k->fail_fast);
    ck_assert_msg(!c->after_close, "%s (%s): the server sent bytes after its close frame", id,
                  k->what);
    ck_assert_msg(c->eof, "%s (%s): the server did not close TCP within %d ms of the close", id,
                  k->what, CLOSE_MS);
    ck_assert_msg(!c->reset, "%s (%s): the server reset TCP instead of closing it", id, k->what);
}

/* Sends a close frame with `code` (1005: an empty one) at once. */
static void send_close(struct conn *c, int code)
{
    uint8_t frame[WSFRAME_MAX_HEADER + 2], key[4] = {1, 2, 3, 4};
    size_t n = wsframe_build_close(frame, sizeof frame, code == 1005 ? 0 : code, NULL, 0, key);
    out_reserve(c, n);
    memcpy(c->out + c->out_len, frame, n);
    c->out_len += n;
    if (!c->our_close_end)
        c->our_close_end = c->out_len;
    cut(c, 0);
    c->due = 0;
}

static void run_case(const struct ccase *k)
{
    struct conn c;
    conn_open(&c, k->id);
    for (int s = 0; s < MAX_STEPS && k->step[s].fr[0].p && !c.closed && !c.eof; s++) {
        const struct step *st = &k->step[s];
        if (st->await)
            ck_assert_msg(conn_run(&c, got_events, st->await, WAIT_MS),
                          "%s (%s): waited %d ms for %d replies before step %d, got %d", k->id,
                          k->what, WAIT_MS, st->await, s + 1, c.nev);
        if (st->pause_ms)
            conn_run(&c, got_eof, 0, st->pause_ms);
        if (c.closed || c.eof || c.error)
            break;
        c.step = s + 1;
        queue_step(&c, st);
        ck_assert_msg(conn_run(&c, written, 0, WAIT_MS), "%s (%s): step %d not written in %d ms",
                      k->id, k->what, s + 1, WAIT_MS);
        if (k->fail_fast == s + 1)
            ck_assert_msg(conn_run(&c, got_close, 0, CLOSE_MS),
                          "%s (%s): no close within %d ms of the byte that proves the text "
                          "invalid: not fail-fast",
                          k->id, k->what, CLOSE_MS);
    }
    if (k->end == ECHO) {
        conn_run(&c, got_events, nwant(k), WAIT_MS);
        if (!c.closed && !c.eof) {
            send_close(&c, 1000);
            conn_run(&c, written, 0, WAIT_MS);
        }
    }
    conn_run(&c, got_close, 0, CLOSE_MS);
    if (k->end == FAIL && c.closed && !c.eof && !c.write_failed) {
        send_close(&c, c.close_code);
        conn_run(&c, written, 0, WAIT_MS);
    }
    conn_run(&c, got_eof, 0, CLOSE_MS);
    judge(k, &c);
    conn_free(&c);
}

/* ---- the suites ---- */

static struct ccase *all; /* the chosen group's cases, in order */
static int nall;

START_TEST(test_case)
{
    run_case(&all[_i]);
}
END_TEST

/* "6.12" for "6.12.8", "2" for "2.5": the tcase of a case. */
static void subgroup(const char *id, char *out, size_t cap)
{
    const char *dot = strchr(id, '.');
    const char *second = dot ? strchr(dot + 1, '.') : NULL;
    size_t n = second ? (size_t)(second - id) : (size_t)(dot - id);
    snprintf(out, cap, "%.*s", (int)n, id);
}

static void add(const struct ccase *k)
{
    all = realloc(all, (size_t)(nall + 1) * sizeof *all);
    all[nall++] = *k;
}

static void choose(int group)
{
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        if (atoi(cases[i].id) == group)
            add(&cases[i]);
    for (size_t i = 0; group == 6 && i < sizeof utf8_cases / sizeof *utf8_cases; i++) {
        const struct utf8_case *u = &utf8_cases[i];
        struct ccase k = {.id = u->id,
                          .what = u->valid ? "valid UTF-8, echoed" : "invalid UTF-8: 1007",
                          .step = {{.fr = {{TXT, u->p, u->len, u->len, 0, 0}}}},
                          .want = {{TXT, u->p, u->len, u->len, 0, 0}},
                          .end = u->valid ? ECHO : FAIL,
                          .code = u->valid ? 1000 : 1007};
        if (!u->valid)
            k.want[0].p = NULL;
        add(&k);
    }
}

int main(int argc, char **argv)
{
    server_path = argc > 2 ? argv[2] : getenv("WS_ECHO_SERVER");
    int group = argc > 1 ? atoi(argv[1]) : 0;
    if (!server_path || !*server_path || !group) {
        fprintf(stderr, "usage: %s GROUP [06_echo_server] (or $WS_ECHO_SERVER)\n", argv[0]);
        return EXIT_FAILURE;
    }
    choose(group);
    if (!nall) {
        fprintf(stderr, "no Autobahn cases in group %d here (1-7 and 10)\n", group);
        return EXIT_FAILURE;
    }
    char name[32];
    snprintf(name, sizeof name, "autobahn %d", group);
    Suite *s = suite_create(name);
    static char subs[64][16]; /* the tcases' names, which Check keeps */
    for (int i = 0, t = 0; i < nall; t++) {
        char *sub = subs[t], next[16];
        subgroup(all[i].id, sub, sizeof subs[t]);
        int j = i + 1;
        for (; j < nall; j++) {
            subgroup(all[j].id, next, sizeof next);
            if (strcmp(sub, next) != 0)
                break;
        }
        TCase *tc = tcase_create(sub);
        tcase_set_timeout(tc, 60);
        tcase_add_loop_test(tc, test_case, i, j);
        suite_add_tcase(s, tc);
        i = j;
    }
    server_start();
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int run = srunner_ntests_run(sr), failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    bool stopped = server_stop();
    printf("Autobahn group %d: %d cases passed, %d failed\n", group, run - failed, failed);
    free(all);
    return failed || !stopped ? EXIT_FAILURE : EXIT_SUCCESS;
}
