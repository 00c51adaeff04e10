course_exercise(09_prime_sender_only LIBS websocket tool)
