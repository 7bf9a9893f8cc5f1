# tests/python: the Python module (pybind/) under pytest, and the notebook executed headless, as a user
# runs them: Debian's /usr/bin/python3 with PYTHONPATH at the build tree's package. A sanitizer build's
# module needs the ASan runtime loaded first: it is preloaded (leak checks off: the interpreter keeps its
# objects until exit by design), with libstdc++, whose __cxa_throw ASan must find when it starts (python3
# itself links no C++ library: without it the first C++ exception aborts in ASan's interceptor).
if(NOT TARGET _metalgate)
  return()
endif()
set(python_env "PYTHONPATH=${METALGATE_PYTHON_DIR}" "METALGATE_SOURCE_DIR=${PROJECT_SOURCE_DIR}"
               "PYTHONDONTWRITEBYTECODE=1")
if(METALGATE_SANITIZE)
  execute_process(COMMAND ${CMAKE_CXX_COMPILER} -print-file-name=libasan.so OUTPUT_VARIABLE asan_runtime
                  OUTPUT_STRIP_TRAILING_WHITESPACE)
  execute_process(COMMAND ${CMAKE_CXX_COMPILER} -print-file-name=libstdc++.so OUTPUT_VARIABLE cxx_runtime
                  OUTPUT_STRIP_TRAILING_WHITESPACE)
  list(APPEND python_env "LD_PRELOAD=${asan_runtime}:${cxx_runtime}" "ASAN_OPTIONS=detect_leaks=0")
endif()
foreach(part model scenario run sweeps)
  add_test(NAME python.${part}
           COMMAND /usr/bin/python3 -m pytest -q -p no:cacheprovider ${CMAKE_CURRENT_SOURCE_DIR}/python/test_${part}.py)
  set_tests_properties(python.${part} PROPERTIES ENVIRONMENT "${python_env}" TIMEOUT 600)
endforeach()
# The sweep starts worker processes on both cores; a live run needs the machine's namespaces to itself.
set_tests_properties(python.sweeps python.run PROPERTIES RUN_SERIAL TRUE)
# docs/notebooks/failover.ipynb, executed as Jupyter does (nbconvert, the Debian python3 kernel); any error in
# a cell fails the test.
add_test(NAME python.notebook_failover
         COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/python/run_notebook.sh
                 ${PROJECT_SOURCE_DIR}/docs/notebooks/failover.ipynb)
set_tests_properties(python.notebook_failover PROPERTIES ENVIRONMENT "${python_env}" TIMEOUT 600 RUN_SERIAL TRUE)
