find_package(OpenSSL REQUIRED)
course_exercise(11_quiz TEST test.c LIBS OpenSSL::Crypto)
