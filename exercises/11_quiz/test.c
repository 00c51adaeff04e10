/* The quiz's checker: compares each of the student's answers with the key and says, for a
 * wrong one, where to read again. The key is kept as hashes, so that reading this file
 * does not give the answers away. Exit status: 0 when every answer is right, 1 otherwise.
 */
#include <ctype.h>
#include <openssl/evp.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "quiz.h"

struct question {
    const char *key;   /* the first 16 hex digits of SHA-256("11_quiz/N/answer") */
    size_t letters;    /* how many letters the answer has */
    const char *about; /* what the question asks, in a few words */
    const char *read;  /* where to read again after a wrong answer */
};

static const struct question questions[QUIZ_QUESTIONS + 1] = {
    [1] = {"7101676715f7c4ac", 1, "is asynchrony in Tornado coroutines?",
           "tutorial.md §3.6 question 1, and §5.3 (05_fetch_callback: async with no coroutine)"},
    [2] = {"0eb85352631ea0e1", 1, "is every yield asynchronous?",
           "tutorial.md §3.6 question 2, and §4.3 (04_req_ab_blocking)"},
    [3] = {"80189db8ae083177", 1, "what yield does to a generator",
           "tutorial.md §3.1, and §3.6 question 3"},
    [4] = {"a5129a9d5d212c76", 5, "the order of events around yield fetch()",
           "tutorial.md §3.6 question 3, and §5.4 (05_fetch_coroutine)"},
    [5] = {"59bd27f5324011f0", 4, "sync, async, yield, coroutine",
           "tutorial.md chapters 1 (sync), 2 (async with a callback), 3.1 (yield) and 4 (coroutines)"},
    [6] = {"83e26927a65ceba1", 1, "how one process serves thousands of connections",
           "tutorial.md §4.1 (one turn of the loop)"},
    [7] = {"8bd2757274f9510e", 1, "why the final generator version is not strictly a coroutine",
           "tutorial.md §3.5, its last paragraphs, and §4.2"},
    [8] = {"5033605d3cadb70d", 1, "a blocking sleep inside a coroutine",
           "tutorial.md §4.3 (04_req_ab_blocking), and exercise 6"},
    [9] = {"78e113e93e29ae9f", 1, "two 2-second fetches awaited together",
           "tutorial.md §4.6 (04_parallel) and §5.6 (05_parallel)"},
    [10] = {"68043dacddafab42", 1, "what WebSocket gives that polling does not",
            "tutorial.md §6.1 and §6.2"},
};

/* The answer in lower case, without spaces, commas or dots; false if it has anything
 * else but letters. */
static bool normalise(const char *answer, char *out, size_t size)
{
    size_t n = 0;
    for (const char *p = answer; *p; p++) {
        if (isspace((unsigned char)*p) || *p == ',' || *p == '.')
            continue;
        if (!isalpha((unsigned char)*p) || n + 1 >= size)
            return false;
        out[n++] = (char)tolower((unsigned char)*p);
    }
    out[n] = '\0';
    return true;
}

static bool matches(int number, const char *answer)
{
    char text[64], hex[2 * EVP_MAX_MD_SIZE + 1];
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    int n = snprintf(text, sizeof text, "11_quiz/%d/%s", number, answer);
    if (!EVP_Digest(text, (size_t)n, digest, &length, EVP_sha256(), NULL))
        return false;
    for (unsigned int i = 0; i < length; i++)
        sprintf(hex + 2 * i, "%02x", digest[i]);
    return strncmp(hex, questions[number].key, 16) == 0;
}

/* One question's verdict, printed; true when right. */
static bool judge(int number)
{
    const struct question *q = &questions[number];
    const char *given = quiz_answers[number];
    char answer[32];
    printf("Question %2d (%s): ", number, q->about);
    if (!given || strcmp(given, "?") == 0 || !*given) {
        printf("✗ not answered yet\n");
        return false;
    }
    if (!normalise(given, answer, sizeof answer) || strlen(answer) != q->letters) {
        printf("✗ \"%s\" is not an answer: give %zu letter%s\n", given, q->letters,
               q->letters == 1 ? "" : "s, in order");
        return false;
    }
    if (!matches(number, answer)) {
        printf("✗ \"%s\" is not right. Read again: %s\n", given, q->read);
        return false;
    }
    printf("✓\n");
    return true;
}

int main(void)
{
    int right = 0;
    for (int number = 1; number <= QUIZ_QUESTIONS; number++)
        right += judge(number);
    printf("%d of %d right.\n", right, QUIZ_QUESTIONS);
    return right == QUIZ_QUESTIONS ? 0 : 1;
}
