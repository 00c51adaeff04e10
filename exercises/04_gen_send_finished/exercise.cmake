course_exercise(04_gen_send_finished TEST test.c LIBS gen)
