course_exercise(05_semaphore TEST test.c LIBS eventloop)
# oracle.txt is what real Tornado prints for oracle.py's scenario; this proves it still
# is (Python's timers are not sanitized, so the plain build is enough).
if(COURSE_SANITIZE STREQUAL "")
  add_test(NAME exercise/05_semaphore/oracle
           COMMAND sh -c "/usr/bin/python3 -E -B oracle.py | diff -u oracle.txt -"
           WORKING_DIRECTORY ${CMAKE_CURRENT_LIST_DIR})
  set_tests_properties(exercise/05_semaphore/oracle PROPERTIES TIMEOUT 60)
endif()
