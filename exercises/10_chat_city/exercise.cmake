course_exercise(10_chat_city LIBS websocket ipservice httpclient httpserver tool)
