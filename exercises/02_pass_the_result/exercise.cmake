course_exercise(02_pass_the_result LIBS lesson)
