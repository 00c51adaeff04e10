course_exercise(03_two_generators LIBS gen)
