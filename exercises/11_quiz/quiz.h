/* quiz.h — exercise 11: the quiz's answers, which the student's file defines.
 *
 * quiz_answers[N] is the answer to question N (1 to QUIZ_QUESTIONS): one letter for a
 * choice ("b"), several letters for an order or a matching ("dcab"). Case, spaces and
 * commas do not matter; "?" is a question not answered yet.
 */
#ifndef QUIZ_H
#define QUIZ_H

#define QUIZ_QUESTIONS 10

extern const char *const quiz_answers[QUIZ_QUESTIONS + 1];

#endif
