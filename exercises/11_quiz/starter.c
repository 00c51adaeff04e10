/* Exercise 11 · the quiz: the documents' questions (思考) and their 练习 1.
 *
 * Replace each "?" with your answer, then run: lessons/run exercise check 11
 * One letter for a choice; for an order or a matching, the letters in order ("dbac").
 * The checker says which answers are right; it does not tell you the right letter.
 */
#include "quiz.h"

const char *const quiz_answers[QUIZ_QUESTIONS + 1] = {
    /* 1. 思考 1: "Tornado里的异步就是协程,这句话对吗?"
     *    "Asynchrony in Tornado is coroutines." Is that right?
     *    a) Yes: without coroutines, Tornado cannot do anything asynchronously.
     *    b) No: asynchrony comes from the event loop (epoll tells one thread which sockets
     *       are ready); fetch(url, callback) is asynchronous with no coroutine at all.
     *       Coroutines are a way to write asynchronous code that reads like synchronous code.
     *    c) No: Tornado's asynchrony is threads; coroutines only make it look otherwise.
     *    d) Yes, and every coroutine runs on a thread of its own. */
    [1] = "?",

    /* 2. 思考 2: "Tornado中出现yield就是异步,这句话对吗?"
     *    "Wherever Tornado code says yield, it is asynchronous." Is that right?
     *    a) Yes: yield always hands the thread back to the event loop.
     *    b) No: yield is asynchronous only inside a RequestHandler's methods.
     *    c) No: yield suspends the generator, but the code is asynchronous only if what
     *       it yields is a Future the loop completes later (an I/O event, a timer). A
     *       blocking call such as time.sleep(5) still stops everything.
     *    d) Yes, provided the function is decorated with @gen.coroutine. */
    [2] = "?",

    /* 3. 思考 3, first half: "怎么理解yield将程序挂起?"
     *    What does yield do to the generator that runs it?
     *    a) It blocks the thread until the yielded value is ready.
     *    b) It starts a thread that runs the rest of the function.
     *    c) It ends the function; the code after it never runs.
     *    d) It keeps the function's place and local variables, and hands the yielded value
     *       to whoever called next() or send(); the function goes on only when someone
     *       calls next() or send() again. */
    [3] = "?",

    /* 4. 思考 3, second half: "在Tornado中又如何理解yield挂起程序实现异步?"
     *    Put in order what happens when a coroutine runs  response = yield client.fetch(url)
     *    a) the coroutine's generator yields the Future that fetch returned
     *    b) fetch sends the request and returns a Future at once, without waiting
     *    c) the coroutine's runner adds a callback to that Future, and the loop goes back
     *       to epoll and serves other requests
     *    d) the response arrives; the loop completes the Future
     *    e) the runner sends the result into the generator: response gets it
     *    Answer with the five letters in the order they happen. */
    [4] = "?",

    /* 5. 练习 1, the words: "请解释清同步、异步、yield、协程几个概念".
     *    Match each word with its meaning; answer with four letters, in this order:
     *    synchronous, asynchronous, yield, coroutine.
     *    a) a function that can stop in the middle and be resumed later with its state;
     *       many of them share one thread, each giving way where it chooses
     *    b) every call finishes its work before the next line runs, so a slow call makes
     *       everything after it wait
     *    c) the keyword that suspends a generator and hands a value out of it
     *    d) a call starts the work and returns at once; the result comes later (through a
     *       callback or a Future) and the caller goes on in the meantime */
    [5] = "?",

    /* 6. 练习 1, the principle: "...和Tornado实现异步的原理".
     *    How does one Tornado process serve thousands of slow connections at once?
     *    a) With a thread per connection and a lock around every handler.
     *    b) One thread runs an event loop: epoll reports which sockets are ready, and the
     *       loop runs their callbacks and resumes the coroutines waiting on them. No
     *       handler ever waits for I/O itself.
     *    c) The kernel runs each handler on a free CPU core.
     *    d) It forks a process for every request. */
    [6] = "?",

    /* 7. Lesson 03: the documents say their final generator version "严格意义上来说不能
     *    算是协程" (is not strictly a coroutine). Why?
     *    a) Because it uses yield rather than async/await.
     *    b) Because the slow I/O runs on another thread and that thread resumes the
     *       generator: it is suspended on one thread and resumed on another, not by one
     *       scheduler on one thread.
     *    c) Because a generator cannot return a value.
     *    d) Because Python's GIL does not allow coroutines. */
    [7] = "?",

    /* 8. Lesson 04: a coroutine on the loop calls time.sleep(5) (in C, a blocking sleep)
     *    instead of  yield gen.sleep(5). What happens?
     *    a) Only that coroutine waits 5 s; the others run on.
     *    b) The loop notices and moves the sleep to a thread.
     *    c) The whole loop stops for 5 s: no other coroutine, callback or timer runs, and
     *       every connection waits.
     *    d) An error is raised: blocking calls are not allowed in coroutines. */
    [8] = "?",

    /* 9. Lessons 04 and 05: two fetches that take 2 s each are started together and
     *    awaited together ( yield [fetch(a), fetch(b)] ). About how long does that take?
     *    a) 4 s     b) 2 s     c) 1 s     d) it depends on the number of CPU cores */
    [9] = "?",

    /* 10. Lesson 06: what does WebSocket give that polling does not?
     *    a) After one HTTP handshake (Upgrade: websocket) the TCP connection stays open,
     *       and either side may send a message at any time: the server pushes without
     *       being asked.
     *    b) The browser still asks every second, but with smaller headers.
     *    c) It runs over its own transport instead of TCP.
     *    d) Only the server may send; the browser only listens. */
    [10] = "?",
};
