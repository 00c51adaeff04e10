course_exercise(08_retry_backoff LIBS ipservice httpserver m)
